// Gaussian-process Bayesian optimisation, after Optuna's GPSampler: a Matérn 5/2 ARD GP on the
// parameters scaled to [0, 1] (log ranges in log space), fitted by maximum a posteriori on the
// kernel hyperparameters, and log expected improvement maximised by random search followed by
// L-BFGS from the best candidates and the best trial so far.
// see: Jones et al., "Efficient Global Optimization of Expensive Black-Box Functions", 1998;
//      Ament et al., "Unexpected Improvements to Expected Improvement", NeurIPS 2023;
//      Knowles, "ParEGO", IEEE TEVC 10(1), 2006 (several objectives)
import type { Seed } from '../../../core/ops/random.ts';
import { exp64, log64 } from '../../../core/scalar-math.ts';
import { logArray, logEi } from '../../../core/ops/search-math.ts';
import {
  contains,
  numericScale,
  snap,
  toInternal,
  type Distribution,
  type NumericDistribution,
  type ParamValue,
} from '../../distributions.ts';
import { withDraws, type Draws } from '../../random.ts';
import { intersectionSpace } from '../../search-space.ts';
import { directionSign, isFeasible, type FrozenTrial } from '../../trial-record.ts';
import { sampleUniform } from '../random.ts';
import type { Sampler, SamplerContext } from '../sampler.ts';
import { checkSamplerOptions, optionalBoolean, optionalInteger } from '../options.ts';
import { fitKernel, Posterior, type GpData } from './gp-model.ts';
import { lbfgs } from './lbfgs.ts';

/** Options of `GpSampler`. */
export interface GpSamplerOptions {
  seed?: Seed;
  /** Trials sampled at random before the GP starts (default 10). */
  nStartupTrials?: number;
  /** The objective gives the same value for the same parameters: fix the noise at its floor (default false). */
  deterministicObjective?: boolean;
  /** Most trials the GP conditions on (default 200): beyond it, the best half and the most recent rest. */
  maxObservations?: number;
  /** Random candidates scored before local search (default 2048). */
  nPreliminarySamples?: number;
  /** Local searches from the best candidates (default 10, one of them from the best trial). */
  nLocalSearch?: number;
  /** Treat running trials as observed at the worst value so far, so batches spread out (default true). */
  constantLiar?: boolean;
}

interface Dim {
  readonly name: string;
  readonly dist: Distribution;
  readonly categorical: boolean;
}

const unitOf = (d: NumericDistribution, v: number): number => {
  const s = numericScale(d);
  return s.hi === s.lo ? 0.5 : ((s.log ? log64(v) : v) - s.lo) / (s.hi - s.lo);
};

const valueOf = (d: NumericDistribution, u: number): number => {
  const s = numericScale(d);
  const y = s.lo + Math.min(1, Math.max(0, u)) * (s.hi - s.lo);
  return snap(d, s.log ? exp64(y) : y);
};

/**
 * Bayesian optimisation with a Gaussian process (single objective; several objectives are
 * scalarised per trial with a random augmented Chebyshev weighting, as ParEGO). Parameters outside
 * the space all complete trials share, spaces of categoricals only, and the first
 * `nStartupTrials` trials are sampled at random. Integer and stepped parameters are modelled as
 * continuous and rounded; categoricals enter the kernel by Hamming distance. With constraints,
 * infeasible trials count as the worst value seen.
 *
 * @example
 * const study = await createStudy({ sampler: new GpSampler({ seed: 0, deterministicObjective: true }) });
 */
export class GpSampler implements Sampler {
  readonly seed: Seed | undefined;
  readonly nStartupTrials: number;
  readonly deterministicObjective: boolean;
  readonly maxObservations: number;
  readonly nPreliminarySamples: number;
  readonly nLocalSearch: number;
  readonly constantLiar: boolean;

  constructor(options: GpSamplerOptions = {}) {
    const where = 'GpSampler';
    checkSamplerOptions(where, options, [
      'seed',
      'nStartupTrials',
      'deterministicObjective',
      'maxObservations',
      'nPreliminarySamples',
      'nLocalSearch',
      'constantLiar',
    ]);
    this.seed = options.seed;
    this.nStartupTrials = optionalInteger(where, 'nStartupTrials', options.nStartupTrials, 10, 0);
    this.deterministicObjective = optionalBoolean(where, 'deterministicObjective', options.deterministicObjective, false);
    this.maxObservations = optionalInteger(where, 'maxObservations', options.maxObservations, 200, 2, 5000);
    this.nPreliminarySamples = optionalInteger(where, 'nPreliminarySamples', options.nPreliminarySamples, 2048, 1);
    this.nLocalSearch = optionalInteger(where, 'nLocalSearch', options.nLocalSearch, 10, 0);
    this.constantLiar = optionalBoolean(where, 'constantLiar', options.constantLiar, true);
  }

  sampleIndependent(ctx: SamplerContext, trial: FrozenTrial, name: string, d: Distribution): ParamValue {
    return withDraws(this.seed ?? ctx.seed, trial.number, `random:${name}`, (draws) => sampleUniform(d, draws));
  }

  sampleRelative(ctx: SamplerContext, trial: FrozenTrial): Record<string, ParamValue> {
    const space = intersectionSpace(ctx.trials);
    const dims: Dim[] = Object.entries(space).map(([name, dist]) => ({ name, dist, categorical: dist.kind === 'categorical' }));
    if (dims.length === 0 || dims.every((d) => d.categorical)) return {};
    const holds = (t: FrozenTrial): boolean => dims.every((d) => Object.hasOwn(t.params, d.name) && contains(d.dist, t.params[d.name]));
    const complete = ctx.trials.filter((t) => t.state === 'complete' && holds(t));
    if (complete.length < Math.max(2, this.nStartupTrials)) return {};
    return withDraws(this.seed ?? ctx.seed, trial.number, 'gp', (draws) => {
      const losses = this.#losses(ctx, complete, draws);
      const chosen = this.#observations(complete, losses);
      const running = this.constantLiar ? ctx.trials.filter((t) => t.state === 'running' && holds(t)) : [];
      const worst = Math.max(...losses);
      const rows = [...chosen.map((i) => complete[i]!), ...running];
      const loss = [...chosen.map((i) => losses[i]!), ...running.map(() => worst)];
      const data = this.#data(dims, rows, loss);
      const params = fitKernel(data, this.deterministicObjective);
      const posterior = new Posterior(data, params);
      let f0 = -Infinity;
      let bestRow = 0;
      for (let i = 0; i < chosen.length; i++) if (data.y[i]! > f0) ((f0 = data.y[i]!), (bestRow = i));
      const x = this.#maximise(posterior, dims, f0, data.x.slice(bestRow * dims.length, (bestRow + 1) * dims.length), draws);
      const out: Record<string, ParamValue> = {};
      dims.forEach((d, k) => {
        out[d.name] = d.dist.kind === 'categorical' ? d.dist.choices[x[k]!]! : valueOf(d.dist, x[k]!);
      });
      return out;
    });
  }

  // One loss per complete trial, to minimise: the value, or a random augmented Chebyshev
  // scalarisation of the normalised values for several objectives. Infeasible trials get the
  // worst loss of the feasible ones.
  #losses(ctx: SamplerContext, trials: FrozenTrial[], draws: Draws): number[] {
    const m = ctx.directions.length;
    let losses: number[];
    if (m === 1) losses = trials.map((t) => t.values![0]! * directionSign(ctx.directions[0]!));
    else {
      const weights = logArray(Float64Array.from({ length: m }, () => 1 - draws.uniform()));
      let sum = 0;
      for (let i = 0; i < m; i++) sum += weights[i] = -weights[i]!;
      const lo = new Array<number>(m).fill(Infinity);
      const hi = new Array<number>(m).fill(-Infinity);
      const vals = trials.map((t) => t.values!.map((v, i) => v * directionSign(ctx.directions[i]!)));
      for (const v of vals) v.forEach((x, i) => ((lo[i] = Math.min(lo[i]!, x)), (hi[i] = Math.max(hi[i]!, x))));
      losses = vals.map((v) => {
        let max = -Infinity;
        let total = 0;
        v.forEach((x, i) => {
          const term = ((weights[i]! / sum) * (x - lo[i]!)) / (hi[i]! - lo[i]! || 1);
          max = Math.max(max, term);
          total += term;
        });
        return max + 0.05 * total;
      });
    }
    const feasible = trials.map(isFeasible);
    const worst = Math.max(...losses.filter((_, i) => feasible[i]));
    return losses.map((l, i) => (feasible[i] ? l : Number.isFinite(worst) ? worst : l));
  }

  // Indices of the trials to condition on: all of them, or the best half of the cap and the most
  // recent others, in trial order.
  #observations(trials: FrozenTrial[], losses: number[]): number[] {
    const all = trials.map((_, i) => i);
    if (trials.length <= this.maxObservations) return all;
    const best = all
      .slice()
      .sort((a, b) => losses[a]! - losses[b]! || a - b)
      .slice(0, Math.floor(this.maxObservations / 2));
    const keep = new Set(best);
    for (let i = trials.length - 1; keep.size < this.maxObservations; i--) keep.add(i);
    return [...keep].sort((a, b) => a - b);
  }

  #data(dims: Dim[], rows: FrozenTrial[], loss: number[]): GpData {
    const D = dims.length;
    const n = rows.length;
    const x = new Float64Array(n * D);
    rows.forEach((t, i) =>
      dims.forEach((d, k) => {
        const v = t.params[d.name]!;
        x[i * D + k] = d.dist.kind === 'categorical' ? toInternal(d.dist, v) : unitOf(d.dist, v as number);
      }),
    );
    let mean = 0;
    for (const l of loss) mean += l;
    mean /= n;
    let variance = 0;
    for (const l of loss) variance += (l - mean) * (l - mean);
    const std = Math.max(Math.sqrt(variance / n), 1e-10);
    // The GP maximises: y is the standardised negative loss.
    const y = Float64Array.from(loss, (l) => -(l - mean) / std);
    return { x, y, n, dims: D, categorical: Uint8Array.from(dims, (d) => (d.categorical ? 1 : 0)) };
  }

  // Puts a point on the grid: numeric grids at their cell centres, categories as indices.
  #snap(dims: Dim[], x: Float64Array): void {
    dims.forEach((d, k) => {
      if (d.dist.kind === 'categorical') x[k] = Math.min(d.dist.choices.length - 1, Math.max(0, Math.round(x[k]!)));
      else if (d.dist.step !== null) x[k] = unitOf(d.dist, valueOf(d.dist, x[k]!));
      else x[k] = Math.min(1, Math.max(0, x[k]!));
    });
  }

  #maximise(posterior: Posterior, dims: Dim[], f0: number, bestX: Float64Array, draws: Draws): Float64Array {
    const D = dims.length;
    const m = this.nPreliminarySamples;
    const xs = new Float64Array(m * D);
    for (let i = 0; i < m; i++) {
      const row = xs.subarray(i * D, (i + 1) * D);
      dims.forEach((d, k) => (row[k] = d.dist.kind === 'categorical' ? draws.int(d.dist.choices.length) : draws.uniform()));
      this.#snap(dims, row);
    }
    const scores = acquisition(posterior, xs, m, f0);
    const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
    const starts = [bestX.slice(), ...order.slice(0, Math.max(0, this.nLocalSearch - 1)).map((i) => xs.slice(i * D, (i + 1) * D))];
    let best: Float64Array = xs.slice(order[0]! * D, (order[0]! + 1) * D);
    let bestScore = scores[order[0]!]!;
    const lower = new Float64Array(D);
    const upper = new Float64Array(D).fill(1);
    dims.forEach((d, k) => {
      if (d.categorical) lower[k] = upper[k] = NaN;
    });
    for (const start of this.nLocalSearch > 0 ? starts : []) {
      const fixed = start.slice();
      const objective = (x: Float64Array, grad: Float64Array): number => {
        dims.forEach((d, k) => {
          if (d.categorical) x[k] = fixed[k]!;
        });
        const [v, g] = acquisitionWithGradient(posterior, x, f0);
        for (let k = 0; k < D; k++) grad[k] = dims[k]!.categorical ? 0 : -g[k]!;
        return -v;
      };
      const bounds = {
        lower: lower.map((v) => (Number.isNaN(v) ? -Infinity : v)),
        upper: upper.map((v) => (Number.isNaN(v) ? Infinity : v)),
      };
      const x = lbfgs(objective, start, { maxIterations: 50, gradTol: 1e-6, fTol: 1e-10, ...bounds }).x;
      this.#snap(dims, x);
      // Categories: try every choice of each categorical dimension in turn.
      dims.forEach((d, k) => {
        if (d.dist.kind !== 'categorical') return;
        const c = d.dist.choices.length;
        const tries = new Float64Array(c * D);
        for (let j = 0; j < c; j++) {
          tries.set(x, j * D);
          tries[j * D + k] = j;
        }
        const s = acquisition(posterior, tries, c, f0);
        let arg = 0;
        for (let j = 1; j < c; j++) if (s[j]! > s[arg]!) arg = j;
        x[k] = arg;
      });
      const score = acquisition(posterior, x, 1, f0)[0]!;
      if (score > bestScore) ((bestScore = score), (best = x));
    }
    return best;
  }
}

/** log EI of the posterior at m points over the incumbent f0. */
export function acquisition(posterior: Posterior, xs: Float64Array, m: number, f0: number): Float64Array {
  const { mean, variance } = posterior.predict(xs, m);
  const sigma = new Float64Array(m);
  const z = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    sigma[i] = Math.sqrt(variance[i]!);
    z[i] = (mean[i]! - f0) / sigma[i]!;
  }
  const lh = logEi(z);
  const logSigma = logArray(sigma);
  for (let i = 0; i < m; i++) lh[i]! += logSigma[i]!;
  return lh;
}

/** log EI at one point and its gradient. */
export function acquisitionWithGradient(posterior: Posterior, x: Float64Array, f0: number): [number, Float64Array] {
  const p = posterior.predictWithGradient(x);
  const sigma = Math.sqrt(p.variance);
  const z = (p.mean - f0) / sigma;
  const dlh = new Float64Array(1);
  const lh = logEi(Float64Array.of(z), new Float64Array(1), dlh)[0]!;
  const value = lh + log64(sigma);
  const grad = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const dSigma = p.dVariance[k]! / (2 * sigma);
    grad[k] = dlh[0]! * ((p.dMean[k]! - z * dSigma) / sigma) + dSigma / sigma;
  }
  return [value, grad];
}
