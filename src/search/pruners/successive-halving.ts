// Asynchronous successive halving (ASHA), as Optuna's SuccessiveHalvingPruner. Rung r sits at
// step minResource·η^(minEarlyStoppingRate + r); a trial reaching a rung records its value there
// and continues only if it is in the top 1/η of the values recorded at that rung so far.
// see: Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020
import { checkKnownKeys } from '../../core/errors.ts';
import { lastStep, type FrozenTrial } from '../trial-record.ts';
import { optionalInteger } from '../samplers/options.ts';
import type { Pruner, PrunerContext } from './pruner.ts';

/** Options of `SuccessiveHalvingPruner`. */
export interface SuccessiveHalvingPrunerOptions {
  /** Steps before the first rung; 'auto' (default) takes max(1, ⌊last step of the first complete trials / 100⌋). */
  minResource?: number | 'auto';
  /** η: a trial must rank in the top 1/η at a rung to continue (default 4). */
  reductionFactor?: number;
  /** s: shifts the first rung to minResource·η^s (default 0). */
  minEarlyStoppingRate?: number;
  /** Trials that must have reached a rung before it prunes anyone (default 0). */
  bootstrapCount?: number;
}

const rungKey = (rung: number): string => `completed_rung_${rung}`;

/** base^exponent for small whole numbers by repeated multiplication (exact, in every engine). */
export function intPow(base: number, exponent: number): number {
  let out = 1;
  for (let i = 0; i < exponent; i++) out *= base;
  return out;
}

/** Optuna's `min_resource='auto'`: a hundredth of the longest complete trial, at least 1. */
function estimateMinResource(trials: readonly FrozenTrial[]): number | null {
  let longest: number | null = null;
  for (const t of trials) {
    if (t.state !== 'complete') continue;
    const step = lastStep(t);
    if (step !== null && (longest === null || step > longest)) longest = step;
  }
  return longest === null ? null : Math.max(Math.floor(longest / 100), 1);
}

// Top 1/η of the competing values (which include the trial's own); the first η − 1 trials at a
// rung have no top 1/η, so they continue only if they are the best so far.
function promotable(value: number, competing: number[], eta: number, maximize: boolean): boolean {
  let idx = Math.floor(competing.length / eta) - 1;
  if (idx === -1) idx = 0;
  competing.sort((a, b) => a - b);
  return maximize ? value >= competing[competing.length - 1 - idx]! : value <= competing[idx]!;
}

/**
 * Asynchronous successive halving.
 *
 * @example
 * const study = await createStudy({ pruner: new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 3 }) });
 */
export class SuccessiveHalvingPruner implements Pruner {
  minResource: number | null;
  readonly reductionFactor: number;
  readonly minEarlyStoppingRate: number;
  readonly bootstrapCount: number;

  constructor(options: SuccessiveHalvingPrunerOptions = {}) {
    const where = 'SuccessiveHalvingPruner';
    checkKnownKeys(where, options, ['minResource', 'reductionFactor', 'minEarlyStoppingRate', 'bootstrapCount']);
    this.minResource =
      options.minResource === undefined || options.minResource === 'auto'
        ? null
        : optionalInteger(where, 'minResource', options.minResource, 1, 1);
    this.reductionFactor = optionalInteger(where, 'reductionFactor', options.reductionFactor, 4, 2);
    this.minEarlyStoppingRate = optionalInteger(where, 'minEarlyStoppingRate', options.minEarlyStoppingRate, 0, 0);
    this.bootstrapCount = optionalInteger(where, 'bootstrapCount', options.bootstrapCount, 0, 0);
    if (this.bootstrapCount > 0 && this.minResource === null)
      throw new RangeError(`${where}: bootstrapCount > 0 needs an explicit minResource, got 'auto'`);
  }

  prune(ctx: PrunerContext, trial: FrozenTrial): boolean {
    const step = lastStep(trial);
    if (step === null) return false;
    let rung = 0;
    while (rungKey(rung) in trial.systemAttrs) rung++;
    const value = trial.intermediate[step]!;
    const trials = ctx.trials;
    const maximize = ctx.directions[0] === 'maximize';
    for (;;) {
      this.minResource ??= estimateMinResource(trials);
      if (this.minResource === null) return false;
      const promotionStep = this.minResource * intPow(this.reductionFactor, this.minEarlyStoppingRate + rung);
      if (step < promotionStep) return false;
      if (Number.isNaN(value)) return true;
      const key = rungKey(rung);
      ctx.setSystemAttr(trial.number, key, value);
      const competing = trials.filter((t) => t.number !== trial.number && key in t.systemAttrs).map((t) => t.systemAttrs[key] as number);
      competing.push(value);
      if (competing.length <= this.bootstrapCount) return true;
      if (!promotable(value, competing, this.reductionFactor, maximize)) return true;
      rung++;
    }
  }
}
