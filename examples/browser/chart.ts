// A small SVG chart drawn by hand (no library): lines and markers over nice-numbered axes, with a
// legend. Points arrive one at a time while a run goes on; drawing waits for the next frame, so a
// burst of points costs one redraw.
const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 420,
  HEIGHT = 250;
// The legend sits in the top band, above the plot, so it never covers a curve.
const PAD = { left: 50, right: 10, top: 28, bottom: 38 };

export interface SeriesStyle {
  color: string;
  /** Joined by a line (default true). */
  line?: boolean;
  markers?: boolean;
  /** Thin and pale: many of these go under the highlighted ones. */
  faint?: boolean;
  /** Legend text; series sharing one get one entry. Default: the series name. */
  label?: string;
}

interface Series extends SeriesStyle {
  name: string;
  xs: number[];
  ys: number[];
}

function node<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  parent: Element,
  text?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  parent.append(e);
  return e;
}

/** Round steps (1, 2 or 5 times a power of ten) covering [lo, hi] in about `count` intervals. */
function ticks(lo: number, hi: number, count: number, integer: boolean): { values: number[]; decimals: number } {
  const raw = (hi - lo) / count;
  // The power of ten at or below raw, found by stepping (no logarithm on the UI thread).
  let power = 1,
    decimals = 0;
  while (power > raw) {
    power /= 10;
    decimals++;
  }
  while (power * 10 <= raw) {
    power *= 10;
    decimals = Math.max(0, decimals - 1);
  }
  let step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  if (integer) step = Math.max(1, Math.round(step));
  const values: number[] = [];
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) values.push(i * step);
  return { values, decimals: integer ? 0 : decimals };
}

function extent(values: number[], integer: boolean): [number, number] {
  let lo = Math.min(...values),
    hi = Math.max(...values);
  if (hi - lo < 1e-12) {
    const pad = integer ? 1 : Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  return [lo, hi];
}

export class Chart {
  readonly #svg: SVGSVGElement;
  readonly #labels: { x: string; y: string };
  readonly #series = new Map<string, Series>();
  #queued = false;

  constructor(svg: SVGSVGElement, labels: { x: string; y: string }) {
    this.#svg = svg;
    this.#labels = labels;
    svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    this.#draw();
  }

  add(name: string, x: number, y: number, style: SeriesStyle): void {
    if (!Number.isFinite(y)) return;
    let s = this.#series.get(name);
    if (!s) this.#series.set(name, (s = { ...style, name, xs: [], ys: [] }));
    s.xs.push(x);
    s.ys.push(y);
    if (!this.#queued) {
      this.#queued = true;
      requestAnimationFrame(() => {
        this.#queued = false;
        this.#draw();
      });
    }
  }

  clear(): void {
    this.#series.clear();
    this.#draw();
  }

  #draw(): void {
    const svg = this.#svg;
    svg.replaceChildren();
    const all = [...this.#series.values()];
    const xs = all.flatMap((s) => s.xs),
      ys = all.flatMap((s) => s.ys);
    const left = PAD.left,
      right = WIDTH - PAD.right,
      top = PAD.top,
      bottom = HEIGHT - PAD.bottom;
    node('text', { x: (left + right) / 2, y: HEIGHT - 6, class: 'axis-label', 'text-anchor': 'middle' }, svg, this.#labels.x);
    node(
      'text',
      { x: 14, y: (top + bottom) / 2, class: 'axis-label', 'text-anchor': 'middle', transform: `rotate(-90 14 ${(top + bottom) / 2})` },
      svg,
      this.#labels.y,
    );
    node('rect', { x: left, y: top, width: right - left, height: bottom - top, class: 'frame' }, svg);
    if (ys.length === 0) {
      node('text', { x: (left + right) / 2, y: (top + bottom) / 2, class: 'empty', 'text-anchor': 'middle' }, svg, 'waiting for data');
      return;
    }
    const [x0, x1] = extent(xs, true),
      [lo, hi] = extent(ys, false);
    // A margin above and below, so no curve runs along the frame.
    const y0 = lo - 0.05 * (hi - lo),
      y1 = hi + 0.05 * (hi - lo);
    const sx = (x: number) => left + ((x - x0) / (x1 - x0)) * (right - left);
    const sy = (y: number) => bottom - ((y - y0) / (y1 - y0)) * (bottom - top);
    const xt = ticks(x0, x1, 6, true),
      yt = ticks(y0, y1, 4, false);
    for (const v of yt.values) {
      node('line', { x1: left, x2: right, y1: sy(v), y2: sy(v), class: 'grid' }, svg);
      node('text', { x: left - 6, y: sy(v) + 4, class: 'tick', 'text-anchor': 'end' }, svg, v.toFixed(yt.decimals));
    }
    for (const v of xt.values) node('text', { x: sx(v), y: bottom + 16, class: 'tick', 'text-anchor': 'middle' }, svg, v.toFixed(0));

    // Faint series first and markers last, so nothing highlighted is hidden under a pale line.
    const rank = (s: Series) => (s.faint ? 0 : s.markers ? 2 : 1);
    const ordered = all.slice().sort((a, b) => rank(a) - rank(b));
    for (const s of ordered) {
      const opacity = s.faint ? 0.35 : 1;
      if (s.line ?? true) {
        const d = s.xs.map((x, i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(s.ys[i]!).toFixed(1)}`).join('');
        node(
          'path',
          { d, fill: 'none', stroke: s.color, 'stroke-width': s.faint ? 1.2 : 2.2, 'stroke-opacity': opacity, 'stroke-linejoin': 'round' },
          svg,
        );
      }
      if (s.markers)
        s.xs.forEach((x, i) => node('circle', { cx: sx(x), cy: sy(s.ys[i]!), r: 3.5, fill: s.color, 'fill-opacity': opacity }, svg));
    }

    const legend = new Map<string, string>();
    for (const s of all) legend.set(s.label ?? s.name, s.color);
    let x = left;
    for (const [text, color] of legend) {
      node('rect', { x, y: 8, width: 10, height: 10, rx: 2, fill: color }, svg);
      node('text', { x: x + 14, y: 17, class: 'legend' }, svg, text);
      // Text is not measured before it is drawn; 6.5 units per character of the 11 px legend font.
      x += 30 + text.length * 6.5;
    }
  }
}
