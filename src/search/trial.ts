// The live trial an objective receives: define-by-run suggestions, intermediate reports and the
// pruning question. All state lives in the study; a Trial is a handle on one trial number.
import {
  categoricalDistribution,
  floatDistribution,
  intDistribution,
  parseDistribution,
  type Choice,
  type Distribution,
  type FloatOptions,
  type IntOptions,
  type ParamValue,
} from './distributions.ts';
import type { FrozenTrial } from './trial-record.ts';

/** Throw from an objective (after `trial.shouldPrune()` said so) to end the trial as pruned. */
export class TrialPruned extends Error {
  constructor(message = 'trial pruned') {
    super(message);
    this.name = 'TrialPruned';
  }
}

/** What a Trial needs from its study. */
export interface TrialHost {
  suggest(number: number, name: string, d: Distribution, where: string): ParamValue;
  report(number: number, value: number, step: number): void;
  shouldPrune(number: number): boolean;
  setUserAttr(number: number, key: string, value: unknown): void;
  record(number: number): FrozenTrial;
}

function checkName(where: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new TypeError(`${where}: the parameter name must be a non-empty string, got ${typeof name === 'string' ? "''" : typeof name}`);
  return name;
}

/**
 * One evaluation of the objective. Suggest each parameter where the objective needs it; a name
 * asked twice returns the same value (with the same distribution).
 *
 * @example
 * await study.optimize(async (trial) => {
 *   const lr = trial.suggestFloat('lr', 1e-4, 1e-1, { log: true });
 *   const layers = trial.suggestInt('layers', 1, 3);
 *   for (let epoch = 0; epoch < 20; epoch++) {
 *     const loss = await trainEpoch(lr, layers);
 *     trial.report(loss, epoch);
 *     if (trial.shouldPrune()) throw new TrialPruned();
 *   }
 *   return validationLoss();
 * }, { trials: 50 });
 */
export class Trial {
  readonly number: number;
  #host: TrialHost;

  constructor(host: TrialHost, number: number) {
    this.#host = host;
    this.number = number;
  }

  /** The parameters suggested so far. */
  get params(): Readonly<Record<string, ParamValue>> {
    return this.#host.record(this.number).params;
  }

  /** A frozen copy of everything the study holds about this trial. */
  get record(): FrozenTrial {
    return this.#host.record(this.number);
  }

  /** A float in [low, high]; `log` samples on a log scale (low > 0), `step` on a grid. */
  suggestFloat(name: string, low: number, high: number, options?: FloatOptions): number {
    const where = `suggestFloat('${checkName('suggestFloat', name)}')`;
    return this.#host.suggest(this.number, name, floatDistribution(where, low, high, options), where) as number;
  }

  /** An integer in [low, high]; `step` spaces the values, `log` samples on a log scale. */
  suggestInt(name: string, low: number, high: number, options?: IntOptions): number {
    const where = `suggestInt('${checkName('suggestInt', name)}')`;
    return this.#host.suggest(this.number, name, intDistribution(where, low, high, options), where) as number;
  }

  /** One of `choices` (strings, finite numbers, booleans or null). */
  suggestCategorical<T extends Choice>(name: string, choices: readonly T[]): T {
    const where = `suggestCategorical('${checkName('suggestCategorical', name)}')`;
    return this.#host.suggest(this.number, name, categoricalDistribution(where, choices), where) as T;
  }

  /** A value from any distribution object (the form journals and JSON spaces use). */
  suggest(name: string, distribution: Distribution): ParamValue {
    const where = `suggest('${checkName('suggest', name)}')`;
    return this.#host.suggest(this.number, name, parseDistribution(where, distribution), where);
  }

  /** Records an intermediate value at `step` (an integer >= 0) for pruners; a step reported twice
   *  keeps its first value. */
  report(value: number, step: number): void {
    if (typeof value !== 'number') throw new TypeError(`Trial ${this.number}.report: value must be a number, got ${typeof value}`);
    if (!Number.isSafeInteger(step) || step < 0)
      throw new RangeError(`Trial ${this.number}.report: step must be an integer >= 0, got ${step}`);
    this.#host.report(this.number, value, step);
  }

  /** Whether the study's pruner wants this trial stopped, judged on what it reported so far. */
  shouldPrune(): boolean {
    return this.#host.shouldPrune(this.number);
  }

  /** Attaches a JSON-safe value to the trial (shown in exports; read by constraint functions). */
  setUserAttr(key: string, value: unknown): void {
    if (typeof key !== 'string' || key.length === 0)
      throw new TypeError(`Trial ${this.number}.setUserAttr: key must be a non-empty string`);
    this.#host.setUserAttr(this.number, key, value);
  }
}
