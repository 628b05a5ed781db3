// The numbers behind the search views, kept apart from drawing so tests can check them against
// hand-worked values: an axis range that one outlying trial cannot squeeze flat, the empirical
// distribution of trial values, and the interpolated surface of the contour plot. Plain f64
// arithmetic (no Math.exp/log/pow), so every runtime draws the same page.
import { quantile } from '../metrics/measure.ts';
import { niceDomain } from './scale.ts';

/** Tukey's far-out fences: values outside [Q1 − k·IQR, Q3 + k·IQR] (k = 3) are outliers; the
 *  quartiles are the measurement module's nearest-rank quantiles. */
export function outlierFences(values: readonly number[], k = 3): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [-Infinity, Infinity];
  const q1 = quantile(finite, 0.25),
    q3 = quantile(finite, 0.75);
  const iqr = q3 - q1;
  return [q1 - k * iqr, q3 + k * iqr];
}

/**
 * A y range rounded to whole ticks around the values inside Tukey's far-out fences, and which
 * values fall outside it. One diverged or failed trial (accuracy 0.1 among 0.95s) is drawn at the
 * axis edge instead of stretching the axis so far that the others lie on one line. With fewer than
 * 4 values nothing is called an outlier.
 */
export function robustDomain(values: readonly number[]): { domain: [number, number]; outside: number } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { domain: [0, 1], outside: 0 };
  const [lo, hi] = finite.length < 4 ? [-Infinity, Infinity] : outlierFences(finite);
  const inside = finite.filter((v) => v >= lo && v <= hi);
  const domain = niceDomain(Math.min(...inside), Math.max(...inside));
  return { domain, outside: finite.filter((v) => v < domain[0] || v > domain[1]).length };
}

/**
 * The empirical distribution function of `values`: for each distinct value x (ascending), the
 * share of values ≤ x. Non-finite values are left out.
 *
 * @example
 * empiricalDistribution([3, 1, 2, 2]); // [[1, 0.25], [2, 0.75], [3, 1]]
 */
export function empiricalDistribution(values: readonly number[]): [number, number][] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const out: [number, number][] = [];
  sorted.forEach((v, i) => {
    if (i + 1 < sorted.length && sorted[i + 1] === v) return;
    out.push([v, (i + 1) / sorted.length]);
  });
  return out;
}

/** A sample of the surface: position in [0, 1]² and value. */
export interface SurfacePoint {
  u: number;
  v: number;
  value: number;
}

/**
 * Values on an nu × nv grid of cell centres over [0, 1]², by inverse-distance weighting of the
 * samples (Shepard's method, weights 1/d²); a cell centre on a sample takes its value. Row-major,
 * row 0 at v's low end. Deterministic and exact at the samples; smoother than nearest neighbour,
 * and unlike a triangulation it fills the whole square.
 * see: D. Shepard, "A two-dimensional interpolation function for irregularly-spaced data" (1968)
 */
export function idwGrid(samples: readonly SurfacePoint[], nu: number, nv: number): Float64Array {
  const out = new Float64Array(nu * nv).fill(NaN);
  if (samples.length === 0) return out;
  for (let j = 0; j < nv; j++) {
    const v = (j + 0.5) / nv;
    for (let i = 0; i < nu; i++) {
      const u = (i + 0.5) / nu;
      let num = 0,
        den = 0,
        exact = NaN;
      for (const s of samples) {
        const d2 = (s.u - u) * (s.u - u) + (s.v - v) * (s.v - v);
        if (d2 === 0) {
          exact = s.value;
          break;
        }
        num += s.value / d2;
        den += 1 / d2;
      }
      out[j * nu + i] = Number.isNaN(exact) ? num / den : exact;
    }
  }
  return out;
}
