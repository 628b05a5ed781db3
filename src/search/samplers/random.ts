// Independent uniform sampling: the baseline, and the start-up phase of TPE and GP.
import { exp64 } from '../../core/scalar-math.ts';
import type { Seed } from '../../core/ops/random.ts';
import { gridSize, numericScale, snap, type Distribution, type ParamValue } from '../distributions.ts';
import { withDraws, type Draws } from '../random.ts';
import type { FrozenTrial } from '../trial-record.ts';
import type { Sampler, SamplerContext } from './sampler.ts';
import { checkSamplerOptions } from './options.ts';

/** One value drawn uniformly: over the range for floats (over log(value) for log ranges), over
 *  the grid points for stepped and integer ranges (log-integers uniformly in log space, then
 *  rounded, as Optuna does), over the choices for categoricals. */
export function sampleUniform(d: Distribution, draws: Draws): ParamValue {
  if (d.kind === 'categorical') return d.choices[draws.int(d.choices.length)]!;
  if (d.log) {
    const s = numericScale(d);
    return snap(d, exp64(s.lo + draws.uniform() * (s.hi - s.lo)));
  }
  if (d.step === null) return d.low + draws.uniform() * (d.high - d.low);
  return snap(d, d.low + draws.int(gridSize(d)) * d.step);
}

/** Options of `RandomSampler`. */
export interface RandomSamplerOptions {
  /** Seed of the sampler's streams (default: the study's seed). */
  seed?: Seed;
}

/**
 * Samples every parameter independently and uniformly.
 *
 * @example
 * const study = await createStudy({ sampler: new RandomSampler({ seed: 7 }) });
 */
export class RandomSampler implements Sampler {
  readonly seed: Seed | undefined;

  constructor(options: RandomSamplerOptions = {}) {
    this.seed = checkSamplerOptions('RandomSampler', options, ['seed']).seed;
  }

  sampleIndependent(ctx: SamplerContext, trial: FrozenTrial, name: string, d: Distribution): ParamValue {
    return withDraws(this.seed ?? ctx.seed, trial.number, `random:${name}`, (draws) => sampleUniform(d, draws));
  }
}
