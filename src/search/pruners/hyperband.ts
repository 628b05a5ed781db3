// Hyperband as Optuna runs it: several successive-halving brackets with different first rungs,
// each trial assigned to one bracket by a hash of the study name and its number, each bracket
// judging its trials against its own trials only.
// see: Li et al., "Hyperband", JMLR 18 (2018); Optuna's HyperbandPruner
import { checkKnownKeys } from '../../core/errors.ts';
import { crc32 } from '../random.ts';
import { lastStep, type FrozenTrial } from '../trial-record.ts';
import { optionalInteger } from '../samplers/options.ts';
import type { Pruner, PrunerContext } from './pruner.ts';
import { intPow, SuccessiveHalvingPruner } from './successive-halving.ts';

/** Options of `HyperbandPruner`. */
export interface HyperbandPrunerOptions {
  /** Steps before the first rung of the most aggressive bracket (default 1). */
  minResource?: number;
  /** The most steps a trial runs; 'auto' (default) takes the last step of the first complete trial + 1. */
  maxResource?: number | 'auto';
  /** η (default 3). */
  reductionFactor?: number;
  bootstrapCount?: number;
}

/**
 * Hyperband pruning. There are ⌊log_η(maxResource / minResource)⌋ + 1 brackets (computed in
 * integers: the largest s with minResource·η^s <= maxResource, so exact powers never lose a
 * bracket to rounding); bracket b is successive halving with minEarlyStoppingRate b and takes
 * ⌈n·η^(n−1−b)/(n−b)⌉ shares of the trials. Trial k goes to the bracket where
 * crc32(`${studyName}_${k}`) mod (total shares) falls.
 *
 * @example
 * const study = await createStudy({ pruner: new HyperbandPruner({ minResource: 1, maxResource: 81 }) });
 */
export class HyperbandPruner implements Pruner {
  readonly minResource: number;
  maxResource: number | null;
  readonly reductionFactor: number;
  readonly bootstrapCount: number;
  #pruners: SuccessiveHalvingPruner[] = [];
  #budgets: number[] = [];
  #total = 0;

  constructor(options: HyperbandPrunerOptions = {}) {
    const where = 'HyperbandPruner';
    checkKnownKeys(where, options, ['minResource', 'maxResource', 'reductionFactor', 'bootstrapCount']);
    this.minResource = optionalInteger(where, 'minResource', options.minResource, 1, 1);
    this.maxResource =
      options.maxResource === undefined || options.maxResource === 'auto'
        ? null
        : optionalInteger(where, 'maxResource', options.maxResource, 1, 1);
    this.reductionFactor = optionalInteger(where, 'reductionFactor', options.reductionFactor, 3, 2);
    this.bootstrapCount = optionalInteger(where, 'bootstrapCount', options.bootstrapCount, 0, 0);
    if (this.bootstrapCount > 0 && this.maxResource === null)
      throw new RangeError(`${where}: bootstrapCount > 0 needs an explicit maxResource, got 'auto'`);
    if (this.maxResource !== null && this.maxResource < this.minResource)
      throw new RangeError(`${where}: maxResource must be >= minResource, got ${this.maxResource} < ${this.minResource}`);
    if (this.maxResource !== null) this.#init(this.maxResource);
  }

  /** Number of brackets (0 until maxResource is known). */
  get brackets(): number {
    return this.#pruners.length;
  }

  #init(maxResource: number): void {
    this.maxResource = maxResource;
    let n = 1;
    for (let r = this.minResource * this.reductionFactor; r <= maxResource; r *= this.reductionFactor) n++;
    for (let b = 0; b < n; b++) {
      const s = n - 1 - b;
      const budget = Math.ceil((n * intPow(this.reductionFactor, s)) / (s + 1));
      this.#budgets.push(budget);
      this.#total += budget;
      this.#pruners.push(
        new SuccessiveHalvingPruner({
          minResource: this.minResource,
          reductionFactor: this.reductionFactor,
          minEarlyStoppingRate: b,
          bootstrapCount: this.bootstrapCount,
        }),
      );
    }
  }

  /** The bracket of trial `number` in study `studyName`. */
  bracketOf(studyName: string, number: number): number {
    if (this.#pruners.length === 0) return 0;
    let n = crc32(`${studyName}_${number}`) % this.#total;
    for (let b = 0; b < this.#budgets.length; b++) {
      n -= this.#budgets[b]!;
      if (n < 0) return b;
    }
    return this.#budgets.length - 1;
  }

  prune(ctx: PrunerContext, trial: FrozenTrial): boolean {
    if (this.#pruners.length === 0) {
      const steps = ctx.trials
        .filter((t) => t.state === 'complete')
        .map(lastStep)
        .filter((s): s is number => s !== null);
      if (steps.length === 0) return false;
      this.#init(Math.max(this.minResource, Math.max(...steps) + 1));
    }
    const bracket = this.bracketOf(ctx.studyName, trial.number);
    const inBracket: PrunerContext = {
      studyName: ctx.studyName,
      directions: ctx.directions,
      trials: ctx.trials.filter((t) => this.bracketOf(ctx.studyName, t.number) === bracket),
      setSystemAttr: ctx.setSystemAttr,
    };
    return this.#pruners[bracket]!.prune(inBracket, trial);
  }
}
