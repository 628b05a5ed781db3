// Parzen estimators for TPE: a weighted mixture with one kernel per observation plus a prior
// kernel, each kernel a product over the parameters of a truncated normal (numeric, in log space
// for log ranges, integrated over the grid cell for stepped and integer ranges) or a smoothed
// categorical. Follows Optuna's _ParzenEstimator (bandwidths, magic clip, prior, endpoints).
// see: Bergstra et al., "Algorithms for Hyper-Parameter Optimization", NeurIPS 2011;
//      Watanabe, "Tree-Structured Parzen Estimator: Understanding Its Algorithm Components", 2023
import { pow64 } from '../../core/scalar-math.ts';
import { argsort, erfcArray, expArray, logArray, logGaussMass, MixtureScores, ndtriArray } from '../../core/ops/search-math.ts';
import { numericScale, snap, type Distribution, type NumericDistribution, type NumericScale } from '../distributions.ts';
import type { Draws } from '../random.ts';

const EPS = 1e-12;
const LOG_SQRT_2PI = 0.9189385332046728;
const INV_SQRT2 = 0.7071067811865476;

export interface ParzenOptions {
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  multivariate: boolean;
}

interface NumericKernels {
  readonly kind: 'numeric';
  readonly dist: NumericDistribution;
  readonly scale: NumericScale;
  readonly mu: Float64Array;
  readonly sigma: Float64Array;
  /** log σ_k + log of the kernel's mass inside the range (its truncation). */
  readonly logNorm: Float64Array;
}

interface CategoricalKernels {
  readonly kind: 'categorical';
  readonly choices: number;
  /** Row k: kernel k's probabilities over the choices (row-major [K, C]). */
  readonly prob: Float64Array;
  readonly logProb: Float64Array;
}

type Kernels = NumericKernels | CategoricalKernels;

// Optuna's bandwidths: each kernel as wide as the larger gap to its neighbours (the range ends
// and the prior's centre count as neighbours), or a Scott-like constant in multivariate mode;
// then clipped to [range / min(100, 1 + K), range] ("magic clip").
function bandwidths(mus: Float64Array, lo: number, hi: number, dims: number, o: ParzenOptions): Float64Array {
  const n = mus.length;
  let sigmas: Float64Array;
  if (o.multivariate) {
    sigmas = new Float64Array(n).fill(0.2 * pow64(Math.max(n, 1), -1 / (dims + 4)) * (hi - lo));
  } else {
    // Sorted with the prior's centre and the range ends as neighbours; ties keep index order,
    // the prior (index n) after the observations.
    const withPrior = new Float64Array(n + 1);
    withPrior.set(mus);
    withPrior[n] = 0.5 * (lo + hi);
    const order = argsort(withPrior);
    const ends = new Float64Array(n + 3);
    ends[0] = lo;
    for (let j = 0; j <= n; j++) ends[j + 1] = withPrior[order[j]!]!;
    ends[n + 2] = hi;
    sigmas = new Float64Array(n);
    for (let j = 0; j <= n; j++) {
      let gap = Math.max(ends[j + 1]! - ends[j]!, ends[j + 2]! - ends[j + 1]!);
      if (!o.considerEndpoints && n >= 1 && j === 0) gap = ends[2]! - ends[1]!;
      if (!o.considerEndpoints && n >= 1 && j === n) gap = ends[n + 1]! - ends[n]!;
      if (order[j]! < n) sigmas[order[j]!] = gap;
    }
  }
  const maxSigma = hi - lo;
  const minSigma = o.considerMagicClip ? (hi - lo) / Math.min(100, 1 + (n + 1)) : EPS;
  for (let i = 0; i < n; i++) sigmas[i] = Math.min(maxSigma, Math.max(minSigma, sigmas[i]!));
  return sigmas;
}

function numericKernels(obs: Float64Array, d: NumericDistribution, dims: number, o: ParzenOptions): NumericKernels {
  const scale = numericScale(d);
  const { lo, hi } = scale;
  const ys = scale.log ? logArray(obs) : obs;
  const sig = bandwidths(ys, lo, hi, dims, o);
  const K = obs.length + 1;
  const mu = new Float64Array(K);
  const sigma = new Float64Array(K);
  mu.set(ys);
  sigma.set(sig);
  mu[K - 1] = 0.5 * (lo + hi);
  sigma[K - 1] = hi - lo;
  const a = new Float64Array(K);
  const b = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    a[k] = (lo - mu[k]!) / sigma[k]!;
    b[k] = (hi - mu[k]!) / sigma[k]!;
  }
  const logNorm = logGaussMass(a, b);
  if (!scale.halfStep) {
    const logSigma = logArray(sigma);
    for (let k = 0; k < K; k++) logNorm[k]! += logSigma[k]!;
  }
  return { kind: 'numeric', dist: d, scale, mu, sigma, logNorm };
}

function categoricalKernels(obs: Float64Array, choices: number, priorWeight: number): CategoricalKernels {
  const K = obs.length + 1;
  const prob = new Float64Array(K * choices).fill(priorWeight / K);
  for (let k = 0; k < obs.length; k++) prob[k * choices + obs[k]!]! += 1;
  for (let k = 0; k < K; k++) {
    let sum = 0;
    for (let c = 0; c < choices; c++) sum += prob[k * choices + c]!;
    for (let c = 0; c < choices; c++) prob[k * choices + c]! /= sum || 1;
  }
  return { kind: 'categorical', choices, prob, logProb: logArray(prob) };
}

/** Optuna's default observation weights: older observations ramp up linearly once there are
 *  more than 25, the newest 25 weigh 1. */
export function defaultWeights(n: number): number[] {
  if (n === 0) return [];
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  const out: number[] = [];
  for (let i = 0; i < ramp; i++) out.push(ramp === 1 ? 1 / n : 1 / n + (i * (1 - 1 / n)) / (ramp - 1));
  if (ramp > 1) out[ramp - 1] = 1;
  for (let i = 0; i < 25; i++) out.push(1);
  return out;
}

/**
 * A mixture over observations (internal values, one array per parameter, the same trials in each)
 * and a prior kernel; `weights` has one entry per observation.
 */
export class Parzen {
  readonly components: number;
  readonly logWeights: Float64Array;
  readonly #cumulative: Float64Array;
  readonly #kernels: Kernels[];

  constructor(observations: readonly Float64Array[], dists: readonly Distribution[], weights: readonly number[], o: ParzenOptions) {
    const n = observations[0]?.length ?? 0;
    this.components = n + 1;
    const w = new Float64Array(n + 1);
    if (n === 0) w[0] = 1;
    else {
      w.set(weights.slice(0, n));
      w[n] = o.priorWeight;
    }
    let total = 0;
    for (const x of w) total += x;
    let acc = 0;
    this.#cumulative = new Float64Array(n + 1);
    for (let k = 0; k <= n; k++) {
      w[k]! /= total;
      acc += w[k]!;
      this.#cumulative[k] = acc;
    }
    this.logWeights = logArray(w);
    this.#kernels = dists.map((d, j) =>
      d.kind === 'categorical'
        ? categoricalKernels(observations[j]!, d.choices.length, o.priorWeight)
        : numericKernels(observations[j]!, d, dists.length, o),
    );
  }

  /** `n` draws: one array of internal values per parameter. */
  sample(draws: Draws, n: number): Float64Array[] {
    const active = new Int32Array(n);
    const last = this.components - 1;
    for (let i = 0; i < n; i++) {
      const u = draws.uniform() * this.#cumulative[last]!;
      let k = 0;
      while (k < last && this.#cumulative[k]! <= u) k++;
      active[i] = k;
    }
    return this.#kernels.map((kern) =>
      kern.kind === 'categorical' ? sampleCategorical(kern, active, draws) : sampleNumeric(kern, active, draws),
    );
  }

  /** log density (mass for grids and categoricals) of each point; `x` as `sample` returns. */
  logPdf(x: readonly Float64Array[]): Float64Array {
    const scores = new MixtureScores(x[0]!.length, this.logWeights);
    try {
      this.#kernels.forEach((kern, j) => {
        if (kern.kind === 'categorical') scores.addTable(x[j]!, kern.logProb, kern.choices);
        else addNumeric(scores, kern, x[j]!);
      });
      return scores.logSumExp();
    } finally {
      scores.dispose();
    }
  }
}

function sampleCategorical(kern: CategoricalKernels, active: Int32Array, draws: Draws): Float64Array {
  const out = new Float64Array(active.length);
  const C = kern.choices;
  for (let i = 0; i < active.length; i++) {
    const u = draws.uniform();
    const row = active[i]! * C;
    let acc = 0;
    let c = 0;
    for (; c < C - 1; c++) {
      acc += kern.prob[row + c]!;
      if (u < acc) break;
    }
    out[i] = c;
  }
  return out;
}

// Inverse-CDF draws from each active kernel truncated to the range. Every kernel's centre lies
// inside the range, so the range holds at least a third of its mass and Φ never saturates.
function sampleNumeric(kern: NumericKernels, active: Int32Array, draws: Draws): Float64Array {
  const n = active.length;
  const { lo, hi } = kern.scale;
  const args = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const k = active[i]!;
    args[i] = -((lo - kern.mu[k]!) / kern.sigma[k]!) * INV_SQRT2;
    args[n + i] = -((hi - kern.mu[k]!) / kern.sigma[k]!) * INV_SQRT2;
  }
  const cdf = erfcArray(args);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const pa = 0.5 * cdf[i]!;
    const pb = 0.5 * cdf[n + i]!;
    p[i] = pa + draws.uniform() * (pb - pa);
  }
  const z = ndtriArray(p);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = active[i]!;
    y[i] = Math.min(hi, Math.max(lo, kern.mu[k]! + kern.sigma[k]! * z[i]!));
  }
  const v = kern.scale.log ? expArray(y) : y;
  for (let i = 0; i < n; i++) v[i] = snap(kern.dist, v[i]!);
  return v;
}

function addNumeric(scores: MixtureScores, kern: NumericKernels, x: Float64Array): void {
  const n = x.length;
  const { mu, sigma, logNorm, scale } = kern;
  const K = mu.length;
  const inv = new Float64Array(K);
  for (let k = 0; k < K; k++) inv[k] = 1 / sigma[k]!;
  if (!scale.halfStep) {
    const c = new Float64Array(K);
    for (let k = 0; k < K; k++) c[k] = LOG_SQRT_2PI + logNorm[k]!;
    scores.addGauss(scale.log ? logArray(x) : x, mu, inv, c);
    return;
  }
  // Grid points own the cell [v − step/2, v + step/2] (in log space for log-integers).
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    lo[i] = x[i]! - scale.halfStep;
    hi[i] = x[i]! + scale.halfStep;
  }
  scores.addCells(scale.log ? logArray(lo) : lo, scale.log ? logArray(hi) : hi, mu, inv, logNorm);
}
