// Limited-memory BFGS with an Armijo backtracking line search, optionally inside a box (the
// search direction is cut where it would leave the box at an active bound, and trial points are
// projected onto it). Small and deterministic: only +, ×, ÷ and comparisons.
// see: Nocedal & Wright, Numerical Optimization, 2nd ed., algorithms 7.4 and 7.5

export interface LbfgsOptions {
  maxIterations?: number;
  /** Memory pairs (default 10). */
  memory?: number;
  /** Stop when the largest projected gradient component is below this (default 1e-5). */
  gradTol?: number;
  /** Stop when f improves by less than this relative amount (default 1e-10). */
  fTol?: number;
  lower?: Float64Array;
  upper?: Float64Array;
}

/** f and its gradient written into `grad`; may return Infinity for points to avoid. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Minimises `f` from `x0` (not modified). */
export function lbfgs(f: Objective, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const n = x0.length;
  const { maxIterations = 100, memory = 10, gradTol = 1e-5, fTol = 1e-10, lower, upper } = options;
  const project = (x: Float64Array): void => {
    if (!lower || !upper) return;
    for (let i = 0; i < n; i++) x[i] = Math.min(upper[i]!, Math.max(lower[i]!, x[i]!));
  };
  // Gradient components that could still move x: zero where x sits on a bound and the descent
  // direction would push through it.
  const free = (x: Float64Array, g: Float64Array, out: Float64Array): void => {
    for (let i = 0; i < n; i++) {
      const atLow = lower && x[i]! <= lower[i]! && g[i]! > 0;
      const atHigh = upper && x[i]! >= upper[i]! && g[i]! < 0;
      out[i] = atLow || atHigh ? 0 : g[i]!;
    }
  };
  let x = x0.slice();
  project(x);
  let g = new Float64Array(n);
  let fx = f(x, g);
  if (!Number.isFinite(fx)) return { x, f: fx, iterations: 0 };
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const pg = new Float64Array(n);
  const alpha = new Float64Array(memory);
  let it = 0;
  for (; it < maxIterations; it++) {
    free(x, g, pg);
    let gmax = 0;
    for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(pg[i]!));
    if (gmax < gradTol) break;
    // Two-loop recursion on the free gradient.
    const p = pg.slice();
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k]! * dot(S[k]!, p);
      for (let i = 0; i < n; i++) p[i]! -= alpha[k]! * Y[k]![i]!;
    }
    const gamma = S.length > 0 ? dot(S.at(-1)!, Y.at(-1)!) / dot(Y.at(-1)!, Y.at(-1)!) : 1 / Math.max(1, Math.sqrt(dot(pg, pg)));
    for (let i = 0; i < n; i++) p[i]! *= gamma;
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k]! * dot(Y[k]!, p);
      for (let i = 0; i < n; i++) p[i]! += S[k]![i]! * (alpha[k]! - beta);
    }
    for (let i = 0; i < n; i++) {
      p[i] = -p[i]!;
      if (pg[i] === 0) p[i] = 0;
    }
    let slope = dot(p, g);
    if (!(slope < 0)) {
      // Curvature pairs lost descent (possible with bounds): restart from steepest descent.
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < n; i++) p[i] = -pg[i]! / Math.max(1, Math.sqrt(dot(pg, pg)));
      slope = dot(p, g);
      if (!(slope < 0)) break;
    }
    let step = 1;
    const xNew = new Float64Array(n);
    const gNew = new Float64Array(n);
    let fNew = Infinity;
    for (let tries = 0; tries < 40; tries++, step *= 0.5) {
      for (let i = 0; i < n; i++) xNew[i] = x[i]! + step * p[i]!;
      project(xNew);
      let moved = 0;
      for (let i = 0; i < n; i++) moved += (xNew[i]! - x[i]!) * g[i]!;
      fNew = f(xNew, gNew);
      if (Number.isFinite(fNew) && fNew <= fx + 1e-4 * Math.min(moved, step * slope)) break;
      fNew = Infinity;
    }
    if (!Number.isFinite(fNew)) break;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (S.length === memory) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    const improvement = fx - fNew;
    x = xNew;
    g = gNew;
    fx = fNew;
    if (improvement <= fTol * Math.max(1, Math.abs(fx))) {
      it++;
      break;
    }
  }
  return { x, f: fx, iterations: it };
}
