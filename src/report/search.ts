// The model search as it ran: objective per trial with the best so far, the learning curve of
// every trial, accuracy against file size with its Pareto front, parameter importances, parallel
// coordinates and the table of all trials.
import type { PipelineResult, TrialSummary } from '../pipeline/types.ts';
import { barChart, plot, type ChartPoint, type ChartSeries } from './chart.ts';
import { escapeHtml } from './escape.ts';
import { fixed, objectiveLabel, paramsText, percent, STATE_COLOR, tableHtml, trialTitle } from './format.ts';
import { parallelCoordinates, type AxisValue } from './parallel.ts';
import { formatNumber } from './scale.ts';

/** How the importances are computed, as the report states it. */
export const IMPORTANCE_METHOD =
  'Mean decrease in impurity (as Optuna’s MeanDecreaseImpurityImportanceEvaluator): a seeded random forest of 64 regression trees fitted from the parameters to the objective of the complete trials; each parameter is credited with the variance its splits remove, normalised to sum to 1.';

function searchHistory(r: PipelineResult): string {
  const objective = objectiveLabel(r.objectives[0]);
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
    robustY: true,
    note: `${r.trials.length} trials: ${complete.length} complete, ${pruned.length} pruned${failed ? `, ${failed} failed (not drawn)` : ''}. Hover a mark for its parameters.`,
  });
}

function trialCurves(r: PipelineResult): string {
  const objective = objectiveLabel(r.objectives[0]);
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
    robustY: true,
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
    note: IMPORTANCE_METHOD,
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
    robustY: true,
    note: 'Trials no other trial beats on both validation accuracy and file size form the Pareto front; the diamonds follow the chosen model through the compression stages, measured on the test rows.',
  });
}

/** Parameters every complete trial has (units_1 exists only in two-layer trials), in the order
 *  suggested. */
export function sharedParams(trials: readonly TrialSummary[]): string[] {
  return trials.length === 0 ? [] : Object.keys(trials[0]!.params).filter((n) => trials.every((t) => n in t.params));
}

export const completeTrials = (r: PipelineResult): TrialSummary[] =>
  r.trials.filter((t) => t.state === 'complete' && t.values && Number.isFinite(t.values[0]));

function parallelChart(r: PipelineResult): string {
  const complete = completeTrials(r);
  const names = sharedParams(complete);
  const objective = objectiveLabel(r.objectives[0]);
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

function trialsTable(r: PipelineResult): string {
  const header = [
    { text: 'trial', num: true },
    { text: 'state' },
    ...r.objectives.map((o) => ({ text: objectiveLabel(o), num: true })),
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

export function searchSection(r: PipelineResult): string | null {
  if (r.trials.length === 0) return null;
  const objectives = r.objectives.map((o, i) => `${r.directions[i]} ${objectiveLabel(o)}`).join(', ');
  const chosen = paramsText(r.trials.find((t) => t.number === r.bestTrial)?.params ?? {});
  return `<section id="search"><h2>Model search</h2><p class="summary">Objective${r.objectives.length > 1 ? 's' : ''}: ${escapeHtml(objectives)}. Chosen trial ${escapeHtml(r.bestTrial ?? '-')}: <code>${escapeHtml(chosen)}</code></p><div class="charts">${searchHistory(r)}${trialCurves(r)}${paretoChart(r)}${importancesChart(r)}${parallelChart(r)}</div>${trialsTable(r)}</section>`;
}
