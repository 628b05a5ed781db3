// Small SVG charts for the report: x/y plots (lines, markers, staircases) and horizontal bars.
// Each returns one <figure> with an inline <svg>: axes with round ticks, light grid lines, a
// legend, and a <title> on every mark so hovering shows its values. No script, no fonts or
// images fetched: the page draws offline.
import { escapeHtml } from './escape.ts';
import { formatNumber, linearScale, logScale, niceDomain, type Scale } from './scale.ts';
import { robustDomain } from './stats.ts';

export interface ChartPoint {
  x: number;
  y: number;
  /** Tooltip text. */
  title?: string;
}

export type Marker = 'circle' | 'cross' | 'square' | 'diamond';

export interface ChartSeries {
  name: string;
  points: readonly ChartPoint[];
  /** 'step' holds each value until the next point (a best-so-far line). */
  style: 'line' | 'points' | 'line+points' | 'step';
  marker?: Marker;
  color?: string;
  dashed?: boolean;
  /** Drawn lighter; for many similar series behind the ones that matter. */
  faint?: boolean;
  /** Listed in the legend (default true); similar series list one of them. */
  legend?: boolean;
}

export interface PlotOptions {
  /** Becomes the figure's id and the svg's data-chart attribute. */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  xLog?: boolean;
  yLog?: boolean;
  /** Fixed y interval (otherwise rounded around the data). */
  yDomain?: [number, number];
  /** The y interval leaves out far outliers (see robustDomain): they are drawn on the axis edge,
   *  hollow, and the note says how many. */
  robustY?: boolean;
  /** Names for the x values 0, 1, 2, … (a categorical parameter): ticks at whole numbers. */
  xCategories?: readonly string[];
  width?: number;
  height?: number;
  /** A sentence under the chart. */
  note?: string;
}

/** Okabe–Ito colours: distinguishable with the common colour-vision deficiencies. */
const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#d55e00', '#cc79a7', '#56b4e9', '#8c6d1f', '#000000'];

const MARGIN = { left: 64, right: 18, top: 12, bottom: 46 };
const LEGEND_ROW = 20;
/** A coordinate with one decimal: enough for a screen, and short. */
export const px = (v: number): string => String(Math.round(v * 10) / 10);
// Width of a label in the 12 px sans-serif the page uses, near enough to lay out the legend.
const textWidth = (s: string): number => s.length * 6.8;

function markerSvg(marker: Marker, x: number, y: number, color: string, title: string | undefined, hollow = false): string {
  const tip = title === undefined ? '' : `<title>${escapeHtml(title)}</title>`;
  const r = 3.6;
  if (hollow)
    return `<circle class="outside" cx="${px(x)}" cy="${px(y)}" r="${r}" fill="#fff" stroke="${color}" stroke-width="1.5">${tip}</circle>`;
  if (marker === 'circle') return `<circle cx="${px(x)}" cy="${px(y)}" r="${r}" fill="${color}">${tip}</circle>`;
  if (marker === 'square')
    return `<rect x="${px(x - r)}" y="${px(y - r)}" width="${px(2 * r)}" height="${px(2 * r)}" fill="${color}">${tip}</rect>`;
  if (marker === 'diamond') {
    const d = r * 1.5;
    return `<path d="M${px(x)} ${px(y - d)}L${px(x + d)} ${px(y)}L${px(x)} ${px(y + d)}L${px(x - d)} ${px(y)}Z" fill="${color}" stroke="#fff" stroke-width="1">${tip}</path>`;
  }
  return `<path d="M${px(x - r)} ${px(y - r)}L${px(x + r)} ${px(y + r)}M${px(x - r)} ${px(y + r)}L${px(x + r)} ${px(y - r)}" stroke="${color}" stroke-width="2" fill="none">${tip}</path>`;
}

function legendSvg(
  items: { name: string; color: string; marker?: Marker; line: boolean; dashed?: boolean }[],
  width: number,
): { svg: string; height: number } {
  let x = MARGIN.left,
    row = 0;
  const parts: string[] = [];
  for (const item of items) {
    const w = 26 + textWidth(item.name) + 16;
    if (x + w > width - MARGIN.right && x > MARGIN.left) {
      x = MARGIN.left;
      row++;
    }
    const y = MARGIN.top + row * LEGEND_ROW + 8;
    const swatch = item.line
      ? `<line x1="${px(x)}" y1="${px(y)}" x2="${px(x + 20)}" y2="${px(y)}" stroke="${item.color}" stroke-width="2"${item.dashed ? ' stroke-dasharray="5 3"' : ''}/>`
      : '';
    const mark = item.marker ? markerSvg(item.marker, x + 10, y, item.color, undefined) : '';
    parts.push(`<g class="legend-item">${swatch}${mark}<text x="${px(x + 26)}" y="${px(y + 4)}">${escapeHtml(item.name)}</text></g>`);
    x += w;
  }
  return { svg: `<g class="legend">${parts.join('')}</g>`, height: items.length === 0 ? 0 : (row + 1) * LEGEND_ROW };
}

function axes(
  x: Scale,
  y: Scale,
  xLabel: string,
  yLabel: string,
  plotTop: number,
  plotBottom: number,
  width: number,
  xInteger: boolean,
  xLabelOf: (v: number) => string = formatNumber,
): string {
  const out: string[] = ['<g class="grid">'];
  const yTicks = y.ticks(5);
  let xTicks = x.ticks(Math.max(2, Math.floor((width - MARGIN.left - MARGIN.right) / 80)));
  if (xInteger) xTicks = xTicks.filter((t) => Number.isInteger(t));
  for (const t of yTicks)
    out.push(`<line x1="${px(MARGIN.left)}" x2="${px(width - MARGIN.right)}" y1="${px(y.map(t))}" y2="${px(y.map(t))}"/>`);
  for (const t of xTicks) out.push(`<line x1="${px(x.map(t))}" x2="${px(x.map(t))}" y1="${px(plotTop)}" y2="${px(plotBottom)}"/>`);
  out.push('</g><g class="axis">');
  out.push(`<line x1="${px(MARGIN.left)}" x2="${px(width - MARGIN.right)}" y1="${px(plotBottom)}" y2="${px(plotBottom)}"/>`);
  out.push(`<line x1="${px(MARGIN.left)}" x2="${px(MARGIN.left)}" y1="${px(plotTop)}" y2="${px(plotBottom)}"/>`);
  for (const t of xTicks) {
    const at = px(x.map(t));
    out.push(
      `<line x1="${at}" x2="${at}" y1="${px(plotBottom)}" y2="${px(plotBottom + 5)}"/><text x="${at}" y="${px(plotBottom + 18)}" text-anchor="middle">${escapeHtml(xLabelOf(t))}</text>`,
    );
  }
  for (const t of yTicks) {
    const at = px(y.map(t));
    out.push(
      `<line x1="${px(MARGIN.left - 5)}" x2="${px(MARGIN.left)}" y1="${at}" y2="${at}"/><text x="${px(MARGIN.left - 8)}" y="${px(y.map(t) + 4)}" text-anchor="end">${escapeHtml(formatNumber(t))}</text>`,
    );
  }
  out.push(
    `<text class="label" x="${px((MARGIN.left + width - MARGIN.right) / 2)}" y="${px(plotBottom + 38)}" text-anchor="middle">${escapeHtml(xLabel)}</text>`,
  );
  const mid = (plotTop + plotBottom) / 2;
  out.push(
    `<text class="label" x="14" y="${px(mid)}" text-anchor="middle" transform="rotate(-90 14 ${px(mid)})">${escapeHtml(yLabel)}</text>`,
  );
  out.push('</g>');
  return out.join('');
}

// x spans the data exactly (a value axis of trials or epochs needs no padding); y is rounded
// out to whole ticks. A log axis gets a little room so the end marks are not cut.
function scaleFor(values: number[], axis: 'x' | 'y', log: boolean, range: [number, number], fixed?: [number, number]): Scale {
  if (log) {
    const positive = values.filter((v) => v > 0);
    const lo = positive.length ? Math.min(...positive) : 1;
    const hi = positive.length ? Math.max(...positive) : 10;
    return logScale([lo / 1.25, hi * 1.25], range);
  }
  if (fixed) return linearScale(fixed, range);
  const lo = Math.min(...values),
    hi = Math.max(...values);
  return linearScale(axis === 'x' && lo !== hi ? [lo, hi] : niceDomain(lo, hi), range);
}

/** The opening tag every chart's svg shares. */
export function svgOpen(id: string, label: string, width: number, height: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(label)}" data-chart="${escapeHtml(id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`;
}

/** A captioned figure holding one chart. */
export function figure(id: string, title: string, svg: string, note: string | undefined): string {
  return `<figure class="chart" id="${escapeHtml(id)}"><figcaption>${escapeHtml(title)}</figcaption>${svg}${note ? `<p class="note">${escapeHtml(note)}</p>` : ''}</figure>`;
}

/** An x/y chart of one or more series. */
export function plot(o: PlotOptions): string {
  const width = o.width ?? 640;
  const height = o.height ?? 320;
  const usable = (p: ChartPoint) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!o.xLog || p.x > 0) && (!o.yLog || p.y > 0);
  const series = o.series.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length]!, points: s.points.filter(usable) }));
  const all = series.flatMap((s) => s.points);
  const legend = legendSvg(
    series
      .filter((s) => s.legend !== false)
      .map((s) => ({
        name: s.name,
        color: s.color,
        line: s.style !== 'points',
        dashed: s.dashed,
        ...(s.style === 'points' || s.style === 'line+points' ? { marker: s.marker ?? 'circle' } : {}),
      })),
    width,
  );
  const plotTop = MARGIN.top + legend.height + 6;
  const plotBottom = height - MARGIN.bottom;
  const aria = `${o.title}: ${o.yLabel} against ${o.xLabel}`;
  let note = o.note;
  let yDomain = o.yDomain;
  if (o.robustY && !yDomain && !o.yLog && all.length > 0) {
    const robust = robustDomain(all.map((p) => p.y));
    yDomain = robust.domain;
    if (robust.outside > 0)
      note = `${note ? `${note} ` : ''}${robust.outside} far outlying value${robust.outside > 1 ? 's' : ''} (hollow) ${robust.outside > 1 ? 'are' : 'is'} drawn at the edge so that ${robust.outside > 1 ? 'they do' : 'it does'} not squeeze the rest flat.`;
  }
  if (all.length === 0) {
    const svg = `${svgOpen(o.id, aria, width, height)}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="empty">no data</text></svg>`;
    return figure(o.id, o.title, svg, note);
  }
  const categories = o.xCategories;
  const x = scaleFor(categories ? [...all.map((p) => p.x), -0.5, categories.length - 0.5] : all.map((p) => p.x), 'x', o.xLog ?? false, [
    MARGIN.left + 8,
    width - MARGIN.right - 8,
  ]);
  const y = scaleFor(
    all.map((p) => p.y),
    'y',
    o.yLog ?? false,
    [plotBottom - 6, plotTop + 4],
    yDomain,
  );
  const [y0, y1] = y.domain;
  // Values outside a fixed or robust y interval sit on its edge.
  const yAt = (v: number) => y.map(Math.min(Math.max(v, Math.min(y0, y1)), Math.max(y0, y1)));
  const outside = (v: number) => v < Math.min(y0, y1) || v > Math.max(y0, y1);
  const xInteger = !o.xLog && all.every((p) => Number.isInteger(p.x));
  const xLabelOf = categories ? (v: number) => categories[v] ?? '' : formatNumber;
  const body: string[] = [];
  // Faint series first, so the ones that matter are drawn over them.
  for (const s of [...series.filter((s) => s.faint), ...series.filter((s) => !s.faint)]) {
    const pts = s.points.map((p) => ({ ...p, sx: x.map(p.x), sy: yAt(p.y), out: outside(p.y) }));
    const parts: string[] = [];
    if (s.style !== 'points' && pts.length > 1) {
      let d = `M${px(pts[0]!.sx)} ${px(pts[0]!.sy)}`;
      for (let i = 1; i < pts.length; i++)
        d += s.style === 'step' ? `H${px(pts[i]!.sx)}V${px(pts[i]!.sy)}` : `L${px(pts[i]!.sx)} ${px(pts[i]!.sy)}`;
      parts.push(
        `<path class="line" d="${d}" stroke="${s.color}"${s.dashed ? ' stroke-dasharray="5 3"' : ''}><title>${escapeHtml(s.name)}</title></path>`,
      );
    }
    if (s.style === 'points' || s.style === 'line+points')
      for (const p of pts)
        parts.push(
          markerSvg(
            s.marker ?? 'circle',
            p.sx,
            p.sy,
            s.color,
            `${p.out ? 'off the axis: ' : ''}${p.title ?? `${s.name}: ${formatNumber(p.x)}, ${formatNumber(p.y)}`}`,
            p.out,
          ),
        );
    body.push(`<g class="series${s.faint ? ' faint' : ''}" data-series="${escapeHtml(s.name)}">${parts.join('')}</g>`);
  }
  const svg = `${svgOpen(o.id, aria, width, height)}${legend.svg}${axes(x, y, o.xLabel, o.yLabel, plotTop, plotBottom, width, xInteger || categories !== undefined, xLabelOf)}${body.join('')}</svg>`;
  return figure(o.id, o.title, svg, note);
}

export interface Bar {
  label: string;
  value: number;
  title?: string;
}

/** Horizontal bars from 0, largest first as given, each labelled with its value. */
export function barChart(o: { id: string; title: string; xLabel: string; bars: readonly Bar[]; width?: number; note?: string }): string {
  const width = o.width ?? 640;
  const rowHeight = 24;
  const labelWidth = Math.min(220, Math.max(60, ...o.bars.map((b) => textWidth(b.label) + 12)));
  const plotTop = MARGIN.top;
  const plotBottom = plotTop + Math.max(1, o.bars.length) * rowHeight;
  const height = plotBottom + MARGIN.bottom;
  const max = Math.max(0, ...o.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)));
  const x = linearScale(niceDomain(0, max > 0 ? max : 1), [labelWidth, width - MARGIN.right - 40]);
  const ticks = x.ticks(4);
  const parts: string[] = ['<g class="grid">'];
  for (const t of ticks) parts.push(`<line x1="${px(x.map(t))}" x2="${px(x.map(t))}" y1="${px(plotTop)}" y2="${px(plotBottom)}"/>`);
  parts.push('</g><g class="axis">');
  parts.push(`<line x1="${px(labelWidth)}" x2="${px(width - MARGIN.right - 40)}" y1="${px(plotBottom)}" y2="${px(plotBottom)}"/>`);
  for (const t of ticks)
    parts.push(`<text x="${px(x.map(t))}" y="${px(plotBottom + 18)}" text-anchor="middle">${escapeHtml(formatNumber(t))}</text>`);
  parts.push(
    `<text class="label" x="${px((labelWidth + width - MARGIN.right) / 2)}" y="${px(plotBottom + 38)}" text-anchor="middle">${escapeHtml(o.xLabel)}</text></g><g class="series">`,
  );
  o.bars.forEach((b, i) => {
    const top = plotTop + i * rowHeight + 4;
    const value = Number.isFinite(b.value) ? Math.max(0, b.value) : 0;
    const w = Math.max(1, x.map(value) - labelWidth);
    parts.push(`<text x="${px(labelWidth - 8)}" y="${px(top + 12)}" text-anchor="end">${escapeHtml(b.label)}</text>`);
    parts.push(
      `<rect x="${px(labelWidth)}" y="${px(top)}" width="${px(w)}" height="${rowHeight - 8}" fill="${PALETTE[0]}"><title>${escapeHtml(b.title ?? `${b.label}: ${formatNumber(b.value)}`)}</title></rect>`,
    );
    parts.push(`<text x="${px(labelWidth + w + 6)}" y="${px(top + 12)}">${escapeHtml(formatNumber(b.value))}</text>`);
  });
  parts.push('</g>');
  return figure(o.id, o.title, `${svgOpen(o.id, o.title, width, height)}${parts.join('')}</svg>`, o.note);
}
