// The pipeline report: one self-contained HTML page (inline CSS and SVG, no script, nothing
// fetched) with the stage table, the search history, parameter importances, the accuracy/bytes
// Pareto front and the training curves of every stage.
import type { PipelineResult, StageRow, TrialSummary } from '../pipeline/types.ts';
import { barChart, plot, type ChartPoint, type ChartSeries } from './chart.ts';
import { escapeHtml } from './escape.ts';
import { parallelCoordinates, type AxisValue } from './parallel.ts';
import { formatNumber } from './scale.ts';
import { compressionSection } from './compression.ts';

/** Options of `renderReport`. */
export interface RenderReportOptions {
  /** Page title; default 'kiln pipeline report'. */
  title?: string;
}

const OBJECTIVE_LABEL: Readonly<Record<string, string>> = {
  accuracy: 'validation accuracy',
  loss: 'validation loss',
  parameters: 'parameters',
  bytes: 'file bytes',
};
const STATE_COLOR = { complete: '#0072b2', pruned: '#d55e00', best: '#009e73', failed: '#000000' };

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b; margin: 0 auto; padding: 24px; max-width: 1360px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.summary { color: #444; margin: 0 0 8px; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
th { background: #f5f5f5; font-weight: 600; }
td.num, th.num { text-align: right; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 24px; }
figure.chart { margin: 0; }
figcaption { font-weight: 600; margin: 4px 0; }
svg { display: block; max-width: 100%; height: auto; font: 12px system-ui, sans-serif; fill: #333; }
svg .grid line { stroke: #ececec; }
svg .axis line { stroke: #888; }
svg .label { font-weight: 600; }
svg path.line { fill: none; stroke-width: 2; }
svg .faint path.line { stroke-width: 1.2; opacity: 0.45; }
svg .faint circle, svg .faint path:not(.line) { opacity: 0.45; }
svg .empty { fill: #888; }
svg .tick { font-size: 11px; }
.note { color: #555; font-size: 12.5px; margin: 4px 0 0; max-width: 640px; }
details { margin: 8px 0; }
code { font-size: 12.5px; }
`;

const fixed = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const percent = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : '-');

function bytesText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

function paramsText(params: Readonly<Record<string, unknown>>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(3)) : String(v)}`)
    .join(' ');
}

function tableHtml(header: readonly { text: string; num?: boolean }[], rows: readonly (readonly string[])[], id: string): string {
  const head = header.map((h) => `<th${h.num ? ' class="num"' : ''}>${escapeHtml(h.text)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map((c, j) => `<td${header[j]?.num ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('');
  return `<table id="${escapeHtml(id)}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function stageTable(stages: readonly StageRow[]): string {
  const first = stages[0];
  const header = [
    { text: 'stage' },
    { text: 'model' },
    { text: 'test accuracy', num: true },
    { text: 'parameters', num: true },
    { text: 'non-zeros', num: true },
    { text: 'file bytes', num: true },
    { text: 'smaller', num: true },
    { text: 'batch-1 latency (µs)', num: true },
    { text: 'speedup', num: true },
    { text: 'stage time (s)', num: true },
  ];
  const rows = stages.map((r) => [
    r.stage,
    r.model,
    percent(r.accuracy),
    String(r.parameters),
    String(r.nonZeros),
    `${r.bytes} (${bytesText(r.bytes)})`,
    first ? `${fixed(first.bytes / r.bytes, 2)}×` : '-',
    fixed(r.latencyUs, 1),
    `${fixed(r.speedup, 2)}×`,
    fixed(r.seconds, 1),
  ]);
  return tableHtml(header, rows, 'stage-table');
}

function trialTitle(t: TrialSummary, objective: string): string {
  const value = t.values?.[0];
  const head = `trial ${t.number} (${t.state})${value === undefined ? '' : `: ${objective} ${formatNumber(value)}`}`;
  const size = t.bytes === null ? '' : `\n${t.parameters} parameters, ${t.bytes} bytes`;
  return `${head}${size}\n${paramsText(t.params)}`;
}

function searchHistory(r: PipelineResult): string {
  const objective = OBJECTIVE_LABEL[r.objectives[0]!] ?? r.objectives[0]!;
  const maximize = r.directions[0] === 'maximize';
  const point = (t: TrialSummary): ChartPoint => ({ x: t.number, y: t.values![0]!, title: trialTitle(t, objective) });
  const complete = r.trials.filter((t) => t.state === 'complete' && t.values);
  const pruned = r.trials.filter((t) => t.state === 'pruned' && t.values);
  const best: ChartPoint[] = [];
  let running = NaN;
  for (const t of complete) {
    const v = t.values![0]!;
    if (Number.isNaN(running) || (maximize ? v > running : v < running)) running = v;
    best.push({ x: t.number, y: running, title: `best after trial ${t.number}: ${formatNumber(running)}` });
  }
  const last = r.trials.at(-1);
  if (last && best.length > 0 && best.at(-1)!.x !== last.number)
    best.push({ x: last.number, y: running, title: `best: ${formatNumber(running)}` });
  const chosen = r.trials.filter((t) => t.number === r.bestTrial && t.values);
  const failed = r.trials.filter((t) => t.state === 'failed').length;
  const series: ChartSeries[] = [
    { name: 'complete', points: complete.map(point), style: 'points', marker: 'circle', color: STATE_COLOR.complete },
    { name: 'pruned (last reported value)', points: pruned.map(point), style: 'points', marker: 'cross', color: STATE_COLOR.pruned },
    { name: 'best so far', points: best, style: 'step', color: STATE_COLOR.best },
    { name: 'chosen trial', points: chosen.map(point), style: 'points', marker: 'diamond', color: STATE_COLOR.best },
  ];
  return plot({
    id: 'search-history',
    title: 'Search history',
    xLabel: 'trial',
    yLabel: objective,
    series,
    note: `${r.trials.length} trials: ${complete.length} complete, ${pruned.length} pruned${failed ? `, ${failed} failed (not drawn)` : ''}. Hover a mark for its parameters.`,
  });
}

function trialCurves(r: PipelineResult): string {
  const objective = OBJECTIVE_LABEL[r.objectives[0]!] ?? r.objectives[0]!;
  const colorOf = (t: TrialSummary) =>
    t.number === r.bestTrial ? STATE_COLOR.best : t.state === 'pruned' ? STATE_COLOR.pruned : STATE_COLOR.complete;
  const trials: ChartSeries[] = r.trials
    .filter((t) => t.intermediate.length > 0)
    .map((t) => ({
      name: `trial ${t.number}`,
      legend: false,
      faint: t.number !== r.bestTrial,
      points: t.intermediate.map(([step, v]) => ({
        x: step + 1,
        y: v,
        title: `trial ${t.number} (${t.state}), epoch ${step + 1}: ${formatNumber(v)}`,
      })),
      style: 'line+points',
      marker: t.state === 'pruned' ? 'cross' : 'circle',
      color: colorOf(t),
    }));
  // Legend entries only: one per kind of trial, not one per trial.
  const key = (name: string, color: string, marker: 'circle' | 'cross'): ChartSeries => ({
    name,
    points: [],
    style: 'line+points',
    marker,
    color,
  });
  const series = [
    key('complete trials', STATE_COLOR.complete, 'circle'),
    key('pruned trials', STATE_COLOR.pruned, 'cross'),
    key('chosen trial', STATE_COLOR.best, 'circle'),
    ...trials,
  ];
  return plot({
    id: 'trial-curves',
    title: 'Trial learning curves',
    xLabel: 'epoch',
    yLabel: objective,
    series,
    note: 'What each trial reported after every epoch; the pruner stopped the ones that end early.',
  });
}

function importancesChart(r: PipelineResult): string {
  if (!r.importances || Object.keys(r.importances).length === 0) {
    return `<figure class="chart" id="importances"><figcaption>Parameter importances</figcaption><p class="note">Not enough complete trials with varying parameters to rate them.</p></figure>`;
  }
  const bars = Object.entries(r.importances).map(([label, value]) => ({ label, value }));
  return barChart({
    id: 'importances',
    title: 'Parameter importances',
    xLabel: 'share of explained variance',
    bars,
    note: 'Mean decrease in impurity of a random forest fitted from parameters to the objective (complete trials).',
  });
}

function paretoChart(r: PipelineResult): string {
  const front = new Set(r.paretoFront.map((p) => p.trial));
  const complete = r.trials.filter((t) => t.state === 'complete' && t.accuracy !== null && t.bytes !== null);
  const trialPoint = (t: TrialSummary): ChartPoint => ({ x: t.bytes!, y: t.accuracy!, title: trialTitle(t, 'validation accuracy') });
  const series: ChartSeries[] = [
    {
      name: 'trials (validation)',
      points: complete.filter((t) => !front.has(t.number)).map(trialPoint),
      style: 'points',
      marker: 'circle',
      color: STATE_COLOR.complete,
      faint: true,
    },
    {
      name: 'Pareto front (validation)',
      points: complete
        .filter((t) => front.has(t.number))
        .sort((a, b) => a.bytes! - b.bytes!)
        .map(trialPoint),
      style: 'line+points',
      marker: 'circle',
      color: STATE_COLOR.best,
    },
    {
      name: 'pipeline stages (test)',
      points: r.stages.map((s) => ({
        x: s.bytes,
        y: s.accuracy,
        title: `${s.stage}: ${s.model}\ntest accuracy ${percent(s.accuracy)}, ${s.bytes} bytes`,
      })),
      style: 'line+points',
      marker: 'diamond',
      color: STATE_COLOR.pruned,
      dashed: true,
    },
  ];
  return plot({
    id: 'pareto',
    title: 'Accuracy against model size',
    xLabel: 'file bytes (log scale)',
    yLabel: 'accuracy',
    xLog: true,
    series,
    note: 'Trials no other trial beats on both validation accuracy and file size form the Pareto front; the diamonds follow the chosen model through the compression stages, measured on the test rows.',
  });
}

function parallelChart(r: PipelineResult): string {
  const complete = r.trials.filter((t) => t.state === 'complete' && t.values && Number.isFinite(t.values[0]));
  // Parameters every complete trial has (units_1 exists only in two-layer trials), in the order suggested.
  const names = complete.length === 0 ? [] : Object.keys(complete[0]!.params).filter((n) => complete.every((t) => n in t.params));
  const objective = OBJECTIVE_LABEL[r.objectives[0]!] ?? r.objectives[0]!;
  const values = complete.map((t) => t.values![0]!);
  // Shade by rank, not by value: one diverged trial would otherwise make all the others look alike.
  const sign = r.directions[0] === 'maximize' ? 1 : -1;
  const rank = values.map((v) => values.filter((w) => w * sign < v * sign).length);
  const lines = complete.map((t, i) => ({
    values: [...names.map((n) => t.params[n] as AxisValue), values[i]!],
    quality: complete.length > 1 ? rank[i]! / (complete.length - 1) : 1,
    title: trialTitle(t, objective),
    highlight: t.number === r.bestTrial,
  }));
  return parallelCoordinates({
    id: 'parallel',
    title: 'Parameters of the complete trials',
    axes: [...names, objective],
    lines,
    width: 1300,
    height: 300,
    note: 'One line per complete trial through its parameter values and its objective; darker lines scored better, the chosen trial is green.',
  });
}

function stageCurves(r: PipelineResult, key: 'valAccuracy' | 'valLoss', id: string, title: string, label: string): string {
  let offset = 0;
  const series: ChartSeries[] = r.curves.map((c) => {
    const points = c.points
      .filter((p) => p[key] !== undefined)
      .map((p) => ({ x: offset + p.epoch, y: p[key]!, title: `${c.stage}, epoch ${p.epoch}: ${label} ${formatNumber(p[key]!)}` }));
    offset += c.points.length;
    return { name: c.stage, points, style: 'line+points', marker: 'circle' };
  });
  return plot({
    id,
    title,
    xLabel: 'epoch (stages one after another)',
    yLabel: label,
    series,
    note: 'On the validation rows; the prune stage shows its fine-tuning epochs after each pruning step.',
  });
}

function trialsTable(r: PipelineResult): string {
  const header = [
    { text: 'trial', num: true },
    { text: 'state' },
    ...r.objectives.map((o) => ({ text: OBJECTIVE_LABEL[o] ?? o, num: true })),
    { text: 'epochs', num: true },
    { text: 'parameters', num: true },
    { text: 'bytes', num: true },
    { text: 'seconds', num: true },
    { text: 'settings' },
  ];
  const rows = r.trials.map((t) => [
    String(t.number),
    t.state + (t.number === r.bestTrial ? ' (chosen)' : ''),
    ...r.objectives.map((_, i) => (t.values?.[i] === undefined ? '-' : formatNumber(t.values[i]!))),
    String(t.intermediate.length),
    t.parameters === null ? '-' : String(t.parameters),
    t.bytes === null ? '-' : String(t.bytes),
    t.durationMs === null ? '-' : fixed(t.durationMs / 1000, 1),
    paramsText(t.params),
  ]);
  return `<details><summary>All ${r.trials.length} trials</summary>${tableHtml(header, rows, 'trial-table')}</details>`;
}

/**
 * The report of a pipeline run as one HTML page that works offline.
 *
 * @example
 * await writeFileAtomic('report.html', new TextEncoder().encode(renderReport(result)));
 */
export function renderReport(result: PipelineResult, options: RenderReportOptions = {}): string {
  const title = options.title ?? 'kiln pipeline report';
  const r = result;
  const final = r.stages.at(-1);
  const rows = r.data.rows;
  const summary = `${rows.train + rows.validation + rows.test} rows (${rows.train} train, ${rows.validation} validation, ${rows.test} test), ${r.data.features} features, ${r.data.classes.length} classes; seed ${r.seed}; ${fixed(r.seconds, 1)} s in all.`;
  const finalText = final
    ? `Final model: ${final.model}, ${r.model.format}, ${bytesText(r.model.bytes.length)}, test accuracy ${percent(final.accuracy)}, ${fixed(final.speedup, 2)}× the first stage's batch-1 speed.`
    : '';
  const sections: string[] = [
    `<h2>Stages</h2>${stageTable(r.stages)}<p class="note">Every stage is measured on the same ${rows.test} test rows. Latency is the median of one-row predictions, every stage's model timed in turn within the same rounds so that machine load affects all alike.</p>`,
  ];
  if (r.trials.length > 0) {
    sections.push(
      `<h2>Model search</h2><p class="summary">Objective${r.objectives.length > 1 ? 's' : ''}: ${escapeHtml(r.objectives.map((o, i) => `${r.directions[i]} ${OBJECTIVE_LABEL[o] ?? o}`).join(', '))}. Chosen trial ${escapeHtml(r.bestTrial ?? '-')}: <code>${escapeHtml(paramsText(r.trials.find((t) => t.number === r.bestTrial)?.params ?? {}))}</code></p>`,
    );
    sections.push(
      `<div class="charts">${searchHistory(r)}${trialCurves(r)}${paretoChart(r)}${importancesChart(r)}${parallelChart(r)}</div>${trialsTable(r)}`,
    );
  }
  if (r.compression) sections.push(compressionSection(r));
  if (r.curves.length > 0) {
    sections.push(
      `<h2>Training curves</h2><div class="charts">${stageCurves(r, 'valAccuracy', 'curves-accuracy', 'Validation accuracy by epoch', 'validation accuracy')}${stageCurves(r, 'valLoss', 'curves-loss', 'Validation loss by epoch', 'validation loss')}</div>`,
    );
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1><p class="summary">${escapeHtml(summary)}</p><p class="summary">${escapeHtml(finalText)}</p>
${sections.join('\n')}
</body></html>
`;
}
