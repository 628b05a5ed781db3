// Percentile and median pruning, as Optuna's PercentilePruner: stop a trial whose best
// intermediate value so far is worse than the given percentile of the complete trials' values at
// the same step.
import { checkKnownKeys } from '../../core/errors.ts';
import { lastStep, type FrozenTrial } from '../trial-record.ts';
import { optionalInteger, optionalNumber } from '../samplers/options.ts';
import type { Pruner, PrunerContext } from './pruner.ts';

/** Options of `PercentilePruner`. */
export interface PercentilePrunerOptions {
  /** Percentile in [0, 100] of the other trials' values to compare with (median: 50). */
  percentile?: number;
  /** No pruning until this many trials are complete (default 5). */
  nStartupTrials?: number;
  /** No pruning before this step (default 0). */
  nWarmupSteps?: number;
  /** Judge only at steps nWarmupSteps + k·intervalSteps (default 1). */
  intervalSteps?: number;
  /** No pruning at a step fewer than this many complete trials reported (default 1). */
  nMinTrials?: number;
}

// Linear interpolation between order statistics, numpy's default; NaNs are left out.
function percentileOf(values: readonly number[], q: number): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const pos = (q / 100) * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo]! + (pos - lo) * (v[hi]! - v[lo]!);
}

// Whether `step` is the first reported step at or after the latest judging point, so a trial
// reporting every step is judged once per interval.
function firstInInterval(step: number, steps: readonly number[], warmup: number, interval: number): boolean {
  const judgingPoint = Math.floor((step - warmup) / interval) * interval + warmup;
  let previous = -1;
  for (const s of steps) if (s > previous && s !== step) previous = s;
  return previous < judgingPoint;
}

/**
 * Prunes a trial whose best intermediate value is worse than the `percentile` of the complete
 * trials' values at its latest step.
 *
 * @example
 * const pruner = new PercentilePruner({ percentile: 25, nWarmupSteps: 3 });
 */
export class PercentilePruner implements Pruner {
  readonly percentile: number;
  readonly nStartupTrials: number;
  readonly nWarmupSteps: number;
  readonly intervalSteps: number;
  readonly nMinTrials: number;

  constructor(options: PercentilePrunerOptions = {}, where = 'PercentilePruner') {
    checkKnownKeys(where, options, ['percentile', 'nStartupTrials', 'nWarmupSteps', 'intervalSteps', 'nMinTrials']);
    if (where === 'PercentilePruner' && options.percentile === undefined) throw new TypeError('PercentilePruner: percentile is required');
    this.percentile = optionalNumber(where, 'percentile', options.percentile, 50, 0, 100);
    this.nStartupTrials = optionalInteger(where, 'nStartupTrials', options.nStartupTrials, 5, 0);
    this.nWarmupSteps = optionalInteger(where, 'nWarmupSteps', options.nWarmupSteps, 0, 0);
    this.intervalSteps = optionalInteger(where, 'intervalSteps', options.intervalSteps, 1, 1);
    this.nMinTrials = optionalInteger(where, 'nMinTrials', options.nMinTrials, 1, 1);
  }

  prune(ctx: PrunerContext, trial: FrozenTrial): boolean {
    const complete = ctx.trials.filter((t) => t.state === 'complete');
    if (complete.length === 0 || complete.length < this.nStartupTrials) return false;
    const step = lastStep(trial);
    if (step === null || step < this.nWarmupSteps) return false;
    const steps = Object.keys(trial.intermediate).map(Number);
    if (!firstInInterval(step, steps, this.nWarmupSteps, this.intervalSteps)) return false;
    const maximize = ctx.directions[0] === 'maximize';
    let best = NaN;
    for (const s of steps) {
      const v = trial.intermediate[s]!;
      if (Number.isNaN(v)) continue;
      if (Number.isNaN(best) || (maximize ? v > best : v < best)) best = v;
    }
    if (Number.isNaN(best)) return true;
    const atStep = complete.filter((t) => step in t.intermediate).map((t) => t.intermediate[step]!);
    if (atStep.length < this.nMinTrials) return false;
    const threshold = percentileOf(atStep, maximize ? 100 - this.percentile : this.percentile);
    if (Number.isNaN(threshold)) return false;
    return maximize ? best < threshold : best > threshold;
  }
}

/** Options of `MedianPruner`. */
export type MedianPrunerOptions = Omit<PercentilePrunerOptions, 'percentile'>;

/**
 * Prunes a trial whose best intermediate value is worse than the median of the complete trials'
 * values at the same step (Optuna's default pruner).
 *
 * @example
 * const study = await createStudy({ pruner: new MedianPruner({ nStartupTrials: 5, nWarmupSteps: 2 }) });
 */
export class MedianPruner extends PercentilePruner {
  constructor(options: MedianPrunerOptions = {}) {
    if (options !== null && typeof options === 'object' && 'percentile' in options)
      throw new TypeError("MedianPruner: unknown option 'percentile' (use PercentilePruner)");
    super({ ...options, percentile: 50 }, 'MedianPruner');
  }
}
