// The views Optuna users look at, drawn from the pipeline's trials: slice plots (objective against
// each parameter), a contour plot of the two most important parameters, the empirical
// distribution of trial values, and a timeline of when each trial ran.
import type { PipelineResult, TrialSummary } from '../pipeline/types.ts';
import { figure, plot, px, svgOpen, type ChartSeries } from './chart.ts';
import { escapeHtml } from './escape.ts';
import { objectiveLabel, STATE_COLOR, trialTitle } from './format.ts';
import { formatNumber, linearScale, logScale, niceDomain, type Scale } from './scale.ts';
import { completeTrials, IMPORTANCE_METHOD, sharedParams } from './search.ts';
import { empiricalDistribution, idwGrid } from './stats.ts';

type ParamValue = TrialSummary['params'][string];

/** How a parameter's values lie along an axis: numbers (on a log axis when positive and
 *  spanning more than a factor of 20, as learning rates do) or named categories. */
export type ParamAxis = { kind: 'number'; log: boolean; lo: number; hi: number } | { kind: 'category'; names: string[] };

export function paramAxis(values: readonly ParamValue[]): ParamAxis {
  if (values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    const nums = values as number[];
    const lo = Math.min(...nums),
      hi = Math.max(...nums);
    return { kind: 'number', log: lo > 0 && hi / lo > 20, lo, hi };
  }
  return { kind: 'category', names: [...new Set(values.map(String))].sort() };
}

/** Parameters ordered by importance (most important first), then the rest as suggested. */
function rankedParams(r: PipelineResult, names: readonly string[]): string[] {
  const ranked = Object.keys(r.importances ?? {}).filter((n) => names.includes(n));
  return [...ranked, ...names.filter((n) => !ranked.includes(n))];
}

function slicePlots(r: PipelineResult): string {
  const complete = completeTrials(r);
  const names = rankedParams(r, sharedParams(complete));
  if (names.length === 0) return '<p class="note">No parameter is shared by the complete trials.</p>';
  const objective = objectiveLabel(r.objectives[0]);
  const plots = names.map((name) => {
    const axis = paramAxis(complete.map((t) => t.params[name]!));
    const xOf = (t: TrialSummary) => (axis.kind === 'number' ? (t.params[name] as number) : axis.names.indexOf(String(t.params[name])));
    const point = (t: TrialSummary) => ({ x: xOf(t), y: t.values![0]!, title: trialTitle(t, objective) });
    const series: ChartSeries[] = [
      {
        name: 'complete',
        points: complete.filter((t) => t.number !== r.bestTrial).map(point),
        style: 'points',
        marker: 'circle',
        color: STATE_COLOR.complete,
      },
      {
        name: 'chosen',
        points: complete.filter((t) => t.number === r.bestTrial).map(point),
        style: 'points',
        marker: 'diamond',
        color: STATE_COLOR.best,
      },
    ];
    return plot({
      id: `slice-${name}`,
      title: name,
      xLabel: `${name}${axis.kind === 'number' && axis.log ? ' (log scale)' : ''}`,
      yLabel: objective,
      series,
      width: 360,
      height: 260,
      robustY: true,
      ...(axis.kind === 'number' ? { xLog: axis.log } : { xCategories: axis.names }),
    });
  });
  return `<div class="charts small" id="slices">${plots.join('')}</div><p class="note">Slice plots: the objective of every complete trial against one parameter at a time, most important parameter first; the chosen trial is the green diamond.</p>`;
}

// Viridis, sampled at five stops: ordered in lightness and readable with colour-vision deficiencies.
const VIRIDIS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
] as const;

export function viridis(q: number): string {
  const t = Math.min(1, Math.max(0, q)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(t));
  const f = t - i;
  const c = VIRIDIS[i]!.map((a, k) => Math.round(a + (VIRIDIS[i + 1]![k]! - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

interface Positioned {
  /** Position in [0, 1] of a parameter value. */
  at(v: ParamValue): number;
  ticks: { at: number; label: string }[];
  log: boolean;
}

function positioned(axis: ParamAxis): Positioned {
  if (axis.kind === 'category') {
    const n = axis.names.length;
    const at = (v: ParamValue) => (axis.names.indexOf(String(v)) + 0.5) / n;
    return { at, ticks: axis.names.map((name) => ({ at: at(name), label: name })), log: false };
  }
  const scale: Scale = axis.log
    ? logScale([axis.lo, axis.hi], [0, 1])
    : linearScale(axis.lo === axis.hi ? niceDomain(axis.lo, axis.hi) : [axis.lo, axis.hi], [0, 1]);
  const ticks = scale.ticks(4);
  return {
    at: (v) => scale.map(v as number),
    ticks: (ticks.length > 6 ? ticks.filter((_, i) => i % 2 === 0) : ticks).map((t) => ({ at: scale.map(t), label: formatNumber(t) })),
    log: axis.log,
  };
}

const GRID = 24;

function contourPlot(r: PipelineResult): string {
  const complete = completeTrials(r);
  const names = rankedParams(r, sharedParams(complete)).filter((n) => new Set(complete.map((t) => String(t.params[n]))).size > 1);
  const title = 'Contour of the two most important parameters';
  if (names.length < 2 || complete.length < 3)
    return `<figure class="chart" id="contour"><figcaption>${escapeHtml(title)}</figcaption><p class="note">Needs at least 3 complete trials and two parameters that vary.</p></figure>`;
  const [nx, ny] = [names[0]!, names[1]!];
  const ax = positioned(paramAxis(complete.map((t) => t.params[nx]!)));
  const ay = positioned(paramAxis(complete.map((t) => t.params[ny]!)));
  const values = complete.map((t) => t.values![0]!);
  const samples = complete.map((t, i) => ({ u: ax.at(t.params[nx]!), v: ay.at(t.params[ny]!), value: values[i]! }));
  const grid = idwGrid(samples, GRID, GRID);
  const lo = Math.min(...values),
    hi = Math.max(...values);
  const shade = (v: number) => viridis(hi > lo ? (v - lo) / (hi - lo) : 0.5);
  const left = 64,
    top = 12,
    size = 300,
    width = left + size + 90,
    height = top + size + 50;
  const X = (u: number) => left + u * size;
  const Y = (v: number) => top + (1 - v) * size;
  const cell = size / GRID;
  const parts: string[] = ['<g class="surface">'];
  for (let j = 0; j < GRID; j++)
    for (let i = 0; i < GRID; i++)
      parts.push(
        `<rect x="${px(X(i / GRID))}" y="${px(Y((j + 1) / GRID))}" width="${px(cell + 0.3)}" height="${px(cell + 0.3)}" fill="${shade(grid[j * GRID + i]!)}"/>`,
      );
  parts.push('</g><g class="axis">');
  parts.push(`<rect x="${left}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#888"/>`);
  for (const t of ax.ticks)
    parts.push(
      `<line x1="${px(X(t.at))}" x2="${px(X(t.at))}" y1="${top + size}" y2="${top + size + 5}"/><text x="${px(X(t.at))}" y="${top + size + 18}" text-anchor="middle">${escapeHtml(t.label)}</text>`,
    );
  for (const t of ay.ticks)
    parts.push(
      `<line x1="${left - 5}" x2="${left}" y1="${px(Y(t.at))}" y2="${px(Y(t.at))}"/><text x="${left - 8}" y="${px(Y(t.at) + 4)}" text-anchor="end">${escapeHtml(t.label)}</text>`,
    );
  parts.push(
    `<text class="label" x="${px(left + size / 2)}" y="${top + size + 38}" text-anchor="middle">${escapeHtml(`${nx}${ax.log ? ' (log)' : ''}`)}</text>`,
  );
  const mid = top + size / 2;
  parts.push(
    `<text class="label" x="14" y="${px(mid)}" text-anchor="middle" transform="rotate(-90 14 ${px(mid)})">${escapeHtml(`${ny}${ay.log ? ' (log)' : ''}`)}</text>`,
  );
  // The colour key: the objective from its lowest (bottom) to its highest value.
  const keyX = left + size + 24;
  for (let k = 0; k < 20; k++)
    parts.push(
      `<rect x="${keyX}" y="${px(top + size - ((k + 1) * size) / 20)}" width="14" height="${px(size / 20 + 0.3)}" fill="${viridis(k / 19)}"/>`,
    );
  parts.push(`<text x="${keyX + 18}" y="${top + 10}">${escapeHtml(formatNumber(hi))}</text>`);
  parts.push(`<text x="${keyX + 18}" y="${top + size}">${escapeHtml(formatNumber(lo))}</text>`);
  parts.push('</g><g class="series">');
  const objective = objectiveLabel(r.objectives[0]);
  complete.forEach((t, i) => {
    const best = t.number === r.bestTrial;
    parts.push(
      `<circle cx="${px(X(samples[i]!.u))}" cy="${px(Y(samples[i]!.v))}" r="${best ? 5 : 3.6}" fill="${best ? STATE_COLOR.best : '#fff'}" stroke="#1b1b1b" stroke-width="1"><title>${escapeHtml(trialTitle(t, objective))}</title></circle>`,
    );
  });
  parts.push('</g>');
  const svg = `${svgOpen('contour', `${title}: ${objective} over ${nx} and ${ny}`, width, height)}${parts.join('')}</svg>`;
  return figure(
    'contour',
    `${title}: ${nx} and ${ny}`,
    svg,
    `The ${objective} between the complete trials (dots; the chosen one green), interpolated by inverse-distance weighting (weights 1/d² in the plot's unit square); brighter is higher. The two parameters rank first by importance (${IMPORTANCE_METHOD.split(':')[0]!.toLowerCase()}).`,
  );
}

function edfPlot(r: PipelineResult): string {
  const values = completeTrials(r).map((t) => t.values![0]!);
  const edf = empiricalDistribution(values);
  const objective = objectiveLabel(r.objectives[0]);
  // A step from 0 before the smallest value up to 1 at the largest.
  const points =
    edf.length === 0
      ? []
      : [{ x: edf[0]![0], y: 0 }, ...edf.map(([x, y]) => ({ x, y, title: `${formatNumber(y * 100)}% of trials ≤ ${formatNumber(x)}` }))];
  return plot({
    id: 'edf',
    title: 'Empirical distribution of trial values',
    xLabel: objective,
    yLabel: 'share of complete trials ≤ x',
    yDomain: [0, 1],
    series: [{ name: 'complete trials', points, style: 'step', color: STATE_COLOR.complete }],
    note: `The share of the ${values.length} complete trials whose ${objective} is at most x: a curve that rises late (maximising) or early (minimising) means most trials did well.`,
  });
}

function timeline(r: PipelineResult): string {
  const timed = r.trials.filter((t) => t.startedAt !== undefined && Number.isFinite(t.startedAt));
  const title = 'Timeline of trials';
  if (timed.length === 0)
    return `<figure class="chart" id="timeline"><figcaption>${title}</figcaption><p class="note">This result does not record when trials started.</p></figure>`;
  const t0 = Math.min(...timed.map((t) => t.startedAt!));
  const end = (t: TrialSummary) => (t.startedAt! - t0 + (t.durationMs ?? 0)) / 1000;
  const span = Math.max(...timed.map(end), 1e-3);
  const rowH = Math.max(5, Math.min(16, Math.floor(320 / timed.length)));
  const left = 64,
    right = 18,
    top = 34,
    width = 640;
  const height = top + timed.length * rowH + 46;
  const x = linearScale(niceDomain(0, span), [left, width - right]);
  const parts: string[] = ['<g class="grid">'];
  for (const t of x.ticks(6)) parts.push(`<line x1="${px(x.map(t))}" x2="${px(x.map(t))}" y1="${top}" y2="${top + timed.length * rowH}"/>`);
  parts.push('</g><g class="legend">');
  const states = ['complete', 'pruned', 'failed', 'running'] as const;
  states.forEach((s, i) =>
    parts.push(
      `<rect x="${left + i * 110}" y="8" width="12" height="12" fill="${STATE_COLOR[s]}"/><text x="${left + i * 110 + 18}" y="18">${s}</text>`,
    ),
  );
  parts.push('</g><g class="axis">');
  const bottom = top + timed.length * rowH;
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${bottom}" y2="${bottom}"/>`);
  for (const t of x.ticks(6))
    parts.push(`<text x="${px(x.map(t))}" y="${bottom + 18}" text-anchor="middle">${escapeHtml(formatNumber(t))}</text>`);
  parts.push(
    `<text class="label" x="${px((left + width - right) / 2)}" y="${bottom + 38}" text-anchor="middle">seconds since the first trial started</text>`,
  );
  const every = Math.ceil(timed.length / Math.floor((timed.length * rowH) / 14));
  const sorted = [...timed].sort((a, b) => a.number - b.number);
  sorted.forEach((t, i) => {
    if (i % every === 0)
      parts.push(`<text class="tick" x="${left - 6}" y="${px(top + i * rowH + rowH / 2 + 4)}" text-anchor="end">${t.number}</text>`);
  });
  parts.push(
    `<text class="label" x="14" y="${px((top + bottom) / 2)}" text-anchor="middle" transform="rotate(-90 14 ${px((top + bottom) / 2)})">trial</text>`,
  );
  parts.push('</g><g class="series">');
  sorted.forEach((t, i) => {
    const start = (t.startedAt! - t0) / 1000;
    const x0 = x.map(start),
      x1 = Math.max(x.map(end(t)), x0 + 1.5);
    const color = t.number === r.bestTrial ? STATE_COLOR.best : STATE_COLOR[t.state];
    const tip = `trial ${t.number} (${t.state}${t.number === r.bestTrial ? ', chosen' : ''}): from ${formatNumber(start)} s for ${t.durationMs === null ? '?' : formatNumber(t.durationMs / 1000)} s`;
    parts.push(
      `<rect x="${px(x0)}" y="${px(top + i * rowH + 1)}" width="${px(x1 - x0)}" height="${px(rowH - 2)}" fill="${color}"><title>${escapeHtml(tip)}</title></rect>`,
    );
  });
  parts.push('</g>');
  return figure(
    'timeline',
    title,
    `${svgOpen('timeline', `${title}: start and duration of each trial`, width, height)}${parts.join('')}</svg>`,
    'When each trial ran and for how long, coloured by how it ended (the chosen trial green); pruned trials are the short bars the pruner stopped.',
  );
}

export function searchViewsSection(r: PipelineResult): string | null {
  if (r.trials.length === 0) return null;
  return `<section id="search-views"><h2>Search views</h2><h3>Slice plots</h3>${slicePlots(r)}<div class="charts">${contourPlot(r)}${edfPlot(r)}${timeline(r)}</div></section>`;
}
