// The pruner interface: whether a running trial should stop early, from its intermediate values
// and those of the other trials.
import type { Direction, FrozenTrial } from '../trial-record.ts';

/** What a pruner sees of the study: the live trials, and a place to keep its bookkeeping. */
export interface PrunerContext {
  readonly studyName: string;
  readonly directions: readonly Direction[];
  /** Every trial of the study as it is now, in number order (the one being judged included). */
  readonly trials: readonly FrozenTrial[];
  /** Stores a value in a trial's `systemAttrs` (persisted with the study). */
  setSystemAttr(trialNumber: number, key: string, value: unknown): void;
}

/**
 * Decides early stopping. Called by `trial.shouldPrune()` after the trial has reported.
 *
 * @example
 * const study = await createStudy({ pruner: new MedianPruner({ nWarmupSteps: 5 }) });
 */
export interface Pruner {
  prune(ctx: PrunerContext, trial: FrozenTrial): boolean;
}

/** Never prunes. */
export class NopPruner implements Pruner {
  prune(): boolean {
    return false;
  }
}
