// Scales for charts: a data interval mapped onto pixels, linearly or logarithmically, with tick
// values at round numbers (1, 2 or 5 times a power of ten). Logarithms come from the core so the
// same result draws the same SVG in every runtime.
import { log64, pow64 } from '../core/scalar-math.ts';

export interface Scale {
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
  readonly log: boolean;
  /** Pixel position of a data value. */
  map(value: number): number;
  /** Round values inside the domain to label. */
  ticks(count?: number): number[];
}

// Computed on first use, not at import: importing kiln must not start the core.
const log10 = (v: number): number => log64(v) / log64(10);
// Products of a step and an integer pick up binary noise (0.1 · 3 = 0.30000000000000004).
const clean = (v: number): number => Number(v.toPrecision(12));

/** A round step (1, 2 or 5 · 10^k) giving about `count` intervals over `span`. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const magnitude = pow64(10, Math.floor(log10(raw)));
  const f = raw / magnitude;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
}

/** The smallest interval of whole steps holding [lo, hi]; a single value gets room around it. */
export function niceDomain(lo: number, hi: number, count = 5): [number, number] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return [0, 1];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return niceDomain(lo - pad, hi + pad, count);
  }
  const step = niceStep(hi - lo, count);
  return [clean(Math.floor(lo / step) * step), clean(Math.ceil(hi / step) * step)];
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return {
    domain: [d0, d1],
    range: [r0, r1],
    log: false,
    map: (v) => r0 + (v - d0) * k,
    ticks: (count = 5) => {
      if (d0 === d1) return [d0];
      const step = niceStep(d1 - d0, count);
      const out: number[] = [];
      for (let i = Math.ceil(d0 / step - 1e-9); i <= Math.floor(d1 / step + 1e-9); i++) out.push(clean(i * step));
      return out;
    },
  };
}

/** Log scale over a positive domain; ticks at 1, 2 and 5 times powers of ten (every mantissa
 *  when the domain spans less than that). */
export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const d0 = Math.max(domain[0], Number.MIN_VALUE);
  const d1 = domain[1] > d0 ? domain[1] : d0 * 10;
  const l0 = log10(d0),
    l1 = log10(d1);
  const [r0, r1] = range;
  const k = (r1 - r0) / (l1 - l0);
  const within = (mantissas: number[]) => {
    const out: number[] = [];
    for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) {
      for (const m of mantissas) {
        const v = clean(m * pow64(10, e));
        if (v >= d0 && v <= d1) out.push(v);
      }
    }
    return out;
  };
  return {
    domain: [d0, d1],
    range: [r0, r1],
    log: true,
    map: (v) => r0 + (log10(v) - l0) * k,
    ticks: () => {
      const decades = l1 - l0;
      const ticks = within(decades > 3 ? [1] : [1, 2, 5]);
      return ticks.length >= 3 ? ticks : within([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    },
  };
}

/** A tick or value label: up to 4 significant digits, k and M for thousands and millions. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6) return `${clean(Number((v / 1e6).toPrecision(3)))}M`;
  if (a >= 1e4) return `${clean(Number((v / 1e3).toPrecision(3)))}k`;
  if (Number.isInteger(v)) return String(v);
  if (a !== 0 && a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}
