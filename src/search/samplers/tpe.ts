// Tree-structured Parzen Estimator, following Optuna's TPESampler: split the finished trials into
// a good group (the best γ(n)) and the rest, fit a Parzen estimator l(x) to the good and g(x) to
// the rest, draw candidates from l and keep the one maximising l(x)/g(x).
// see: Bergstra et al., "Algorithms for Hyper-Parameter Optimization", NeurIPS 2011;
//      Ozaki et al., "Multiobjective TPE" (MOTPE), GECCO 2020
import type { Seed } from '../../core/ops/random.ts';
import { argsort } from '../../core/ops/search-math.ts';
import { toInternal, contains, type Distribution, type ParamValue, toExternal } from '../distributions.ts';
import { crowdingDistance, minimizedValues, nonDominatedRanks } from '../pareto.ts';
import { withDraws } from '../random.ts';
import { intersectionSpace } from '../search-space.ts';
import { directionSign, isFeasible, lastStep, violation, type Direction, type FrozenTrial } from '../trial-record.ts';
import { defaultWeights, Parzen, type ParzenOptions } from './parzen.ts';
import { sampleUniform } from './random.ts';
import type { Sampler, SamplerContext } from './sampler.ts';
import { checkSamplerOptions, optionalBoolean, optionalInteger, optionalNumber } from './options.ts';

/** Options of `TpeSampler`. */
export interface TpeSamplerOptions {
  seed?: Seed;
  /** Trials sampled at random before TPE starts (default 10). */
  nStartupTrials?: number;
  /** Candidates drawn from l(x) per decision (default 24). */
  nEiCandidates?: number;
  /** Size of the good group for n trials (default min(⌈0.1·n⌉, 25)). */
  gamma?: (n: number) => number;
  /** Observation weights for a group of n trials, oldest first (default: Optuna's ramp). */
  weights?: (n: number) => number[];
  /** Weight of the prior kernel (default 1). */
  priorWeight?: number;
  /** Lower-bound the bandwidths by range / min(100, 1 + K) (default true). */
  considerMagicClip?: boolean;
  /** Let the range ends widen the outermost kernels (default false). */
  considerEndpoints?: boolean;
  /** Sample the parameters all trials share jointly, with one product kernel per trial (default false). */
  multivariate?: boolean;
  /** Count running trials among the bad group, so workers asking at once spread out (default false). */
  constantLiar?: boolean;
}

/** Optuna's default γ: the best 10 % of the trials, at most 25. */
export const defaultGamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

export interface Split {
  /** The good group, in trial order. */
  below: FrozenTrial[];
  /** The rest (and running trials with a constant liar), in trial order. */
  above: FrozenTrial[];
  /** Trials taken into account: complete, pruned, and running with a constant liar. */
  n: number;
}

const byNumber = (a: FrozenTrial, b: FrozenTrial): number => a.number - b.number;

// Good-first order of complete feasible trials: by value, or for several objectives by
// non-domination rank with ties broken by crowding distance (MOTPE ranks ties by hypervolume
// contribution instead; crowding needs no reference point and keeps the front spread).
function orderComplete(trials: FrozenTrial[], directions: readonly Direction[]): FrozenTrial[] {
  if (directions.length === 1) {
    const sign = directionSign(directions[0]!);
    const keys = new Float64Array(trials.length);
    for (let i = 0; i < trials.length; i++) keys[i] = trials[i]!.values![0]! * sign;
    return Array.from(argsort(keys), (i) => trials[i]!);
  }
  const points = trials.map((t) => minimizedValues(t, directions));
  const ranks = nonDominatedRanks(points);
  const crowd = new Float64Array(trials.length);
  for (let r = 0; r <= Math.max(-1, ...ranks); r++) {
    const members = trials.map((_, i) => i).filter((i) => ranks[i] === r);
    const d = crowdingDistance(members.map((i) => points[i]!));
    members.forEach((i, j) => (crowd[i] = d[j]!));
  }
  return trials
    .map((_, i) => i)
    .sort((i, j) => ranks[i]! - ranks[j]! || crowd[j]! - crowd[i]! || trials[i]!.number - trials[j]!.number)
    .map((i) => trials[i]!);
}

// Pruned trials rank by how far they got, then by their last value (Optuna's order).
function orderPruned(trials: FrozenTrial[], directions: readonly Direction[]): FrozenTrial[] {
  const sign = directionSign(directions[0]!);
  const key = (t: FrozenTrial): [number, number] => {
    const step = lastStep(t);
    if (step === null || directions.length > 1) return [1, 0];
    const v = t.intermediate[step]!;
    return [-step, Number.isNaN(v) ? Infinity : v * sign];
  };
  return trials.slice().sort((a, b) => {
    const [sa, va] = key(a);
    const [sb, vb] = key(b);
    return sa - sb || va - vb || a.number - b.number;
  });
}

/**
 * Optuna's split: the best γ(n) trials form the good group, taken from the complete feasible
 * trials in value order (rank order for several objectives), then the pruned ones (furthest step
 * first, then best last value), then the infeasible ones (least total violation first).
 */
export function splitTrials(
  trials: readonly FrozenTrial[],
  directions: readonly Direction[],
  gamma: (n: number) => number,
  constantLiar: boolean,
): Split {
  const used = trials.filter((t) => t.state === 'complete' || t.state === 'pruned' || (constantLiar && t.state === 'running'));
  const n = used.length;
  const nBelow = gamma(n);
  if (!Number.isInteger(nBelow) || nBelow < 0) throw new RangeError(`TpeSampler: gamma(${n}) must return an integer >= 0, got ${nBelow}`);
  const complete = used.filter((t) => t.state === 'complete' && isFeasible(t));
  const infeasible = used
    .filter((t) => t.state === 'complete' && !isFeasible(t))
    .sort((a, b) => violation(a) - violation(b) || a.number - b.number);
  const ordered = [
    ...orderComplete(complete, directions),
    ...orderPruned(
      used.filter((t) => t.state === 'pruned'),
      directions,
    ),
    ...infeasible,
  ];
  return {
    below: ordered.slice(0, nBelow).sort(byNumber),
    above: [...ordered.slice(nBelow), ...used.filter((t) => t.state === 'running')].sort(byNumber),
    n,
  };
}

/**
 * TPE sampling. Parameters a trial lacks are left out of that trial's observations, so
 * conditional parameters are modelled only from the trials where they were active. With
 * `multivariate`, the parameters every trial shares are sampled jointly; other parameters, and
 * all of them without `multivariate`, are sampled one at a time. Several objectives use a
 * non-domination rank split (ties by crowding distance) with Optuna's default weights.
 *
 * @example
 * const study = await createStudy({ sampler: new TpeSampler({ seed: 3, multivariate: true }) });
 */
export class TpeSampler implements Sampler {
  readonly seed: Seed | undefined;
  readonly nStartupTrials: number;
  readonly nEiCandidates: number;
  readonly gamma: (n: number) => number;
  readonly weights: (n: number) => number[];
  readonly multivariate: boolean;
  /** Unset: on in studies several processes share (the running trials of other workers count
   *  as bad), off otherwise. */
  readonly constantLiar: boolean | undefined;
  readonly #parzen: ParzenOptions;
  #splits = new WeakMap<readonly FrozenTrial[], Split>();

  constructor(options: TpeSamplerOptions = {}) {
    const where = 'TpeSampler';
    checkSamplerOptions(where, options, [
      'seed',
      'nStartupTrials',
      'nEiCandidates',
      'gamma',
      'weights',
      'priorWeight',
      'considerMagicClip',
      'considerEndpoints',
      'multivariate',
      'constantLiar',
    ]);
    this.seed = options.seed;
    this.nStartupTrials = optionalInteger(where, 'nStartupTrials', options.nStartupTrials, 10, 0);
    this.nEiCandidates = optionalInteger(where, 'nEiCandidates', options.nEiCandidates, 24, 1);
    for (const key of ['gamma', 'weights'] as const) {
      if (options[key] !== undefined && typeof options[key] !== 'function')
        throw new TypeError(`${where}: ${key} must be a function of the trial count`);
    }
    this.gamma = options.gamma ?? defaultGamma;
    this.weights = options.weights ?? defaultWeights;
    this.multivariate = optionalBoolean(where, 'multivariate', options.multivariate, false);
    this.constantLiar =
      options.constantLiar === undefined ? undefined : optionalBoolean(where, 'constantLiar', options.constantLiar, false);
    this.#parzen = {
      priorWeight: optionalNumber(where, 'priorWeight', options.priorWeight, 1, 0),
      considerMagicClip: optionalBoolean(where, 'considerMagicClip', options.considerMagicClip, true),
      considerEndpoints: optionalBoolean(where, 'considerEndpoints', options.considerEndpoints, false),
      multivariate: this.multivariate,
    };
  }

  #split(ctx: SamplerContext): Split {
    const cached = this.#splits.get(ctx.trials);
    if (cached) return cached;
    const split = splitTrials(ctx.trials, ctx.directions, this.gamma, this.constantLiar ?? ctx.shared === true);
    this.#splits.set(ctx.trials, split);
    return split;
  }

  // Internal values of the trials holding every parameter of `space` (inside its distribution).
  #observations(trials: FrozenTrial[], names: readonly string[], dists: readonly Distribution[]): Float64Array[] {
    const usable: FrozenTrial[] = [];
    for (const t of trials) {
      let ok = true;
      for (let j = 0; j < names.length && ok; j++) ok = Object.hasOwn(t.params, names[j]!) && contains(dists[j]!, t.params[names[j]!]);
      if (ok) usable.push(t);
    }
    return names.map((name, j) => {
      const out = new Float64Array(usable.length);
      for (let i = 0; i < usable.length; i++) out[i] = toInternal(dists[j]!, usable[i]!.params[name]!);
      return out;
    });
  }

  #estimator(trials: FrozenTrial[], names: readonly string[], dists: readonly Distribution[]): Parzen {
    const obs = this.#observations(trials, names, dists);
    const n = obs[0]!.length;
    const w = this.weights(n);
    if (!Array.isArray(w) || w.length < n || w.slice(0, n).some((x) => !(x >= 0) || !Number.isFinite(x))) {
      throw new RangeError(`TpeSampler: weights(${n}) must return ${n} finite numbers >= 0`);
    }
    return new Parzen(obs, dists, w, this.#parzen);
  }

  // Draws candidates from l(x) and returns the one with the largest log l(x) − log g(x).
  #choose(
    ctx: SamplerContext,
    trial: FrozenTrial,
    purpose: string,
    names: readonly string[],
    dists: readonly Distribution[],
  ): Record<string, ParamValue> {
    const { below, above } = this.#split(ctx);
    const l = this.#estimator(below, names, dists);
    const g = this.#estimator(above, names, dists);
    const candidates = withDraws(this.seed ?? ctx.seed, trial.number, purpose, (draws) => l.sample(draws, this.nEiCandidates));
    const ll = l.logPdf(candidates);
    const lg = g.logPdf(candidates);
    let best = 0;
    for (let i = 1; i < this.nEiCandidates; i++) if (ll[i]! - lg[i]! > ll[best]! - lg[best]!) best = i;
    const out: Record<string, ParamValue> = {};
    names.forEach((name, j) => (out[name] = toExternal(dists[j]!, candidates[j]![best]!)));
    return out;
  }

  sampleRelative(ctx: SamplerContext, trial: FrozenTrial): Record<string, ParamValue> {
    if (!this.multivariate) return {};
    const space = intersectionSpace(ctx.trials, true);
    const names = Object.keys(space);
    if (names.length === 0 || this.#split(ctx).n < this.nStartupTrials) return {};
    return this.#choose(
      ctx,
      trial,
      'tpe:relative',
      names,
      names.map((n) => space[n]!),
    );
  }

  sampleIndependent(ctx: SamplerContext, trial: FrozenTrial, name: string, d: Distribution): ParamValue {
    if (this.#split(ctx).n < this.nStartupTrials)
      return withDraws(this.seed ?? ctx.seed, trial.number, `random:${name}`, (draws) => sampleUniform(d, draws));
    return this.#choose(ctx, trial, `tpe:${name}`, [name], [d])[name]!;
  }
}
