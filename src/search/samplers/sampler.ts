// The sampler interface: how a study asks for parameter values. Kept to Optuna's shape, minus its
// lifecycle hooks: relative (joint) sampling once per trial, independent sampling per parameter.
import type { Distribution, ParamValue } from '../distributions.ts';
import type { Direction, FrozenTrial } from '../trial-record.ts';

/** What a sampler sees of the study: the trials as they were when the trial was asked. */
export interface SamplerContext {
  readonly studyName: string;
  readonly directions: readonly Direction[];
  /** Every other trial at the moment this trial was asked, in number order (running trials with
   *  the parameters they had then). Sampling from this snapshot, not the live study, makes a
   *  batch of trials asked together independent of the order the batch later runs in. */
  readonly trials: readonly FrozenTrial[];
  /** The study's seed, for samplers built without one. */
  readonly seed: number;
  /** True when other processes may be running trials of this study at the same time (a shared
   *  storage): samplers should treat running trials as pending results (constant liar). */
  readonly shared?: boolean;
}

/**
 * Chooses parameter values. Every random draw must come from streams keyed by the seed and the
 * trial number (see `Draws`), so a trial's values depend on its history alone.
 *
 * @example
 * const study = await createStudy({ sampler: new TpeSampler({ seed: 1 }) });
 */
export interface Sampler {
  /** Joint sampling, called once when a trial is asked: values for any parameters the sampler
   *  wants to choose together. A value is used when the objective later suggests that name with
   *  a distribution containing it; other names go to `sampleIndependent`. */
  sampleRelative?(ctx: SamplerContext, trial: FrozenTrial): Record<string, ParamValue>;
  /** One value for `name` from `distribution`. */
  sampleIndependent(ctx: SamplerContext, trial: FrozenTrial, name: string, distribution: Distribution): ParamValue;
  /** True when the sampler has nothing new to offer (a finished grid); `optimize` then stops. */
  isExhausted?(ctx: SamplerContext): boolean;
}
