// Parallel coordinates: one vertical axis per parameter (and the objective last), one polyline
// per trial through its values, darker for better trials, so it shows at a glance which regions
// of each parameter the good trials come from.
import { figure, px, svgOpen } from './chart.ts';
import { escapeHtml } from './escape.ts';
import { formatNumber, linearScale, logScale, niceDomain, type Scale } from './scale.ts';

export type AxisValue = number | string | boolean | null;

export interface ParallelLine {
  values: readonly AxisValue[];
  /** In [0, 1]: 1 for the best line, 0 for the worst; sets its shade. */
  quality: number;
  title: string;
  highlight?: boolean;
}

const MARGIN = { left: 40, right: 40, top: 30, bottom: 24 };

interface Axis {
  name: string;
  position(v: AxisValue): number;
  ticks: { at: number; label: string }[];
}

// Numbers spanning more than a factor of 20 (learning rates, widths) read better on a log axis.
function axisFor(name: string, values: readonly AxisValue[], top: number, bottom: number): Axis {
  const numeric = values.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!numeric) {
    const categories = [...new Set(values.map((v) => String(v)))].sort();
    const step = categories.length > 1 ? (bottom - top) / (categories.length - 1) : 0;
    const at = (v: AxisValue) => (categories.length > 1 ? bottom - categories.indexOf(String(v)) * step : (top + bottom) / 2);
    return { name, position: at, ticks: categories.map((c) => ({ at: at(c), label: c })) };
  }
  const nums = values as number[];
  const lo = Math.min(...nums),
    hi = Math.max(...nums);
  const scale: Scale = lo > 0 && hi / lo > 20 ? logScale([lo, hi], [bottom, top]) : linearScale(niceDomain(lo, hi, 4), [bottom, top]);
  const ticks = scale.ticks(4);
  return {
    name,
    position: (v) => scale.map(v as number),
    ticks: (ticks.length > 6 ? ticks.filter((_, i) => i % 2 === 0) : ticks).map((t) => ({ at: scale.map(t), label: formatNumber(t) })),
  };
}

// From light blue-grey (worst) to dark blue (best).
function shade(q: number): string {
  const mix = (a: number, b: number) => Math.round(a + (b - a) * Math.min(1, Math.max(0, q)));
  return `rgb(${mix(198, 0)},${mix(212, 70)},${mix(226, 140)})`;
}

/** A parallel-coordinates chart of `lines` over the named axes. */
export function parallelCoordinates(o: {
  id: string;
  title: string;
  axes: readonly string[];
  lines: readonly ParallelLine[];
  width?: number;
  height?: number;
  note?: string;
}): string {
  const width = o.width ?? 640;
  const height = o.height ?? 320;
  const top = MARGIN.top,
    bottom = height - MARGIN.bottom;
  const step = o.axes.length > 1 ? (width - MARGIN.left - MARGIN.right) / (o.axes.length - 1) : 0;
  const axes = o.axes.map((name, j) =>
    axisFor(
      name,
      o.lines.map((l) => l.values[j] ?? null),
      top,
      bottom,
    ),
  );
  const xOf = (j: number) => MARGIN.left + j * step;
  const parts: string[] = ['<g class="axis">'];
  axes.forEach((a, j) => {
    const x = xOf(j);
    parts.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${px(top)}" y2="${px(bottom)}"/>`);
    // The outer names lean inwards so the svg's edges do not cut them.
    const anchor = j === 0 && axes.length > 1 ? 'start' : j === axes.length - 1 && axes.length > 1 ? 'end' : 'middle';
    parts.push(`<text class="label" x="${px(x)}" y="${px(top - 12)}" text-anchor="${anchor}">${escapeHtml(a.name)}</text>`);
    for (const t of a.ticks)
      parts.push(
        `<line x1="${px(x - 3)}" x2="${px(x + 3)}" y1="${px(t.at)}" y2="${px(t.at)}"/><text x="${px(x + 5)}" y="${px(t.at + 4)}" class="tick">${escapeHtml(t.label)}</text>`,
      );
  });
  parts.push('</g><g class="series">');
  // Worst first, so the best lines are drawn on top.
  for (const line of [...o.lines].sort((a, b) => Number(a.highlight ?? false) - Number(b.highlight ?? false) || a.quality - b.quality)) {
    const d = axes.map((a, j) => `${j === 0 ? 'M' : 'L'}${px(xOf(j))} ${px(a.position(line.values[j] ?? null))}`).join('');
    const color = line.highlight ? '#009e73' : shade(line.quality);
    parts.push(
      `<path class="line" d="${d}" stroke="${color}"${line.highlight ? ' stroke-width="3"' : ''}><title>${escapeHtml(line.title)}</title></path>`,
    );
  }
  parts.push('</g>');
  return figure(o.id, o.title, `${svgOpen(o.id, o.title, width, height)}${parts.join('')}</svg>`, o.note);
}
