// What a study remembers about one trial. Records are plain JSON-safe objects; the study hands
// out frozen copies, and samplers and pruners only read them.
import type { Distribution, ParamValue } from './distributions.ts';

/** Where a trial is in its life. */
export type TrialState = 'running' | 'complete' | 'pruned' | 'failed';
export const TRIAL_STATES: readonly TrialState[] = ['running', 'complete', 'pruned', 'failed'];

/** Whether an objective is minimised or maximised. */
export type Direction = 'minimize' | 'maximize';

export interface TrialRecord {
  /** 0, 1, 2, … in the order trials were asked. */
  readonly number: number;
  readonly state: TrialState;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly distributions: Readonly<Record<string, Distribution>>;
  /** One value per objective for complete trials; for pruned trials of a single-objective study,
   *  the last reported intermediate value (as Optuna records it); otherwise null. */
  readonly values: readonly number[] | null;
  /** Intermediate values by step, from `trial.report(value, step)`. */
  readonly intermediate: Readonly<Record<number, number>>;
  /** Constraint values (<= 0 means satisfied), when the study has constraints. */
  readonly constraints: readonly number[] | null;
  readonly userAttrs: Readonly<Record<string, unknown>>;
  /** Bookkeeping of samplers and pruners (e.g. successive-halving rungs). */
  readonly systemAttrs: Readonly<Record<string, unknown>>;
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly durationMs: number | null;
  /** Why a failed trial failed. */
  readonly error: string | null;
}

/** A read-only snapshot of a trial: parameters, values, state, reports and timing. */
export type FrozenTrial = TrialRecord;

/** The largest step with an intermediate value, or null when none was reported. */
export function lastStep(t: TrialRecord): number | null {
  let last: number | null = null;
  for (const key of Object.keys(t.intermediate)) {
    const step = Number(key);
    if (last === null || step > last) last = step;
  }
  return last;
}

/** Sign that turns every objective into one to minimise. */
export const directionSign = (d: Direction): number => (d === 'minimize' ? 1 : -1);

/** Sum of the positive constraint values: 0 for a feasible trial (or one without constraints). */
export function violation(t: TrialRecord): number {
  if (!t.constraints) return 0;
  let sum = 0;
  for (const c of t.constraints) if (c > 0) sum += c;
  return sum;
}

export const isFeasible = (t: TrialRecord): boolean => violation(t) === 0;
