// Parameter distributions: what a trial may suggest for one name. Plain JSON-safe objects, so
// they travel through journals unchanged. Samplers work on an internal number per parameter:
// the value itself for numbers, the choice index for categoricals.
import { log64 } from '../core/scalar-math.ts';

/** A categorical choice: any JSON primitive. */
export type Choice = string | number | boolean | null;
/** A parameter value as the objective sees it. */
export type ParamValue = number | string | boolean | null;

/** Real values in [low, high], optionally log-scaled or on a step grid. */
export interface FloatDistribution {
  readonly kind: 'float';
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  /** Grid spacing: values are low + k·step. null for a continuous range. */
  readonly step: number | null;
}

/** Integers in [low, high], optionally log-scaled or on a step grid. */
export interface IntDistribution {
  readonly kind: 'int';
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  readonly step: number;
}

/** One of a fixed list of choices. */
export interface CategoricalDistribution {
  readonly kind: 'categorical';
  readonly choices: readonly Choice[];
}

/** The range a parameter is sampled from. */
export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;
export type NumericDistribution = FloatDistribution | IntDistribution;

/** Options of `suggestFloat` and `floatDistribution`: log scale or step. */
export interface FloatOptions {
  log?: boolean;
  step?: number | null;
}

/** Options of `suggestInt` and `intDistribution`: log scale or step. */
export interface IntOptions {
  log?: boolean;
  step?: number;
}

export const DISTRIBUTION_KINDS = ['float', 'int', 'categorical'] as const;

function checkBound(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`${where}: ${name} must be a number, got ${value === null ? 'null' : typeof value}`);
  if (!Number.isFinite(value)) throw new RangeError(`${where}: ${name} must be finite, got ${value}`);
  return value;
}

function checkOptionKeys(where: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${where}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`${where}: unknown option '${key}' (known: ${known.join(', ')})`);
  }
}

function checkFlag(where: string, name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`${where}: ${name} must be a boolean, got ${typeof value}`);
  return value;
}

// The number of whole steps in [low, high], tolerating the rounding of decimal steps (0.1 etc.).
function stepCount(low: number, high: number, step: number): number {
  const ratio = (high - low) / step;
  const near = Math.round(ratio);
  return Math.abs(ratio - near) <= 1e-9 * Math.max(1, Math.abs(ratio)) ? near : Math.floor(ratio);
}

/**
 * A float range. With `log`, samplers work on log(value) (low must be > 0); with `step`, values lie
 * on low + k·step and high is lowered to the last grid point at or below it (as Optuna does).
 */
export function floatDistribution(where: string, low: unknown, high: unknown, options?: FloatOptions): FloatDistribution {
  checkOptionKeys(where, options, ['log', 'step']);
  const lo = checkBound(where, 'low', low);
  const hi = checkBound(where, 'high', high);
  const log = checkFlag(where, 'log', options?.log);
  const rawStep = options?.step ?? null;
  if (lo > hi) throw new RangeError(`${where}: low must be <= high, got low=${lo} high=${hi}`);
  if (log && lo <= 0) throw new RangeError(`${where}: a log range needs low > 0, got low=${lo}`);
  if (rawStep === null) return { kind: 'float', low: lo, high: hi, log, step: null };
  const step = checkBound(where, 'step', rawStep);
  if (!(step > 0)) throw new RangeError(`${where}: step must be > 0, got ${step}`);
  if (log) throw new RangeError(`${where}: step and log cannot be combined (a log range has no even grid), got step=${step}`);
  return { kind: 'float', low: lo, high: lo + stepCount(lo, hi, step) * step, log, step };
}

/** An integer range; `step` (default 1) spaces the values, `log` needs step 1 and low >= 1. */
export function intDistribution(where: string, low: unknown, high: unknown, options?: IntOptions): IntDistribution {
  checkOptionKeys(where, options, ['log', 'step']);
  const lo = checkBound(where, 'low', low);
  const hi = checkBound(where, 'high', high);
  const log = checkFlag(where, 'log', options?.log);
  const step = checkBound(where, 'step', options?.step ?? 1);
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi))
    throw new RangeError(`${where}: low and high must be integers, got low=${lo} high=${hi}`);
  if (!Number.isSafeInteger(step) || step < 1) throw new RangeError(`${where}: step must be an integer >= 1, got ${step}`);
  if (lo > hi) throw new RangeError(`${where}: low must be <= high, got low=${lo} high=${hi}`);
  if (log && lo < 1) throw new RangeError(`${where}: a log range needs low >= 1, got low=${lo}`);
  if (log && step !== 1) throw new RangeError(`${where}: a log range needs step 1, got step=${step}`);
  return { kind: 'int', low: lo, high: lo + Math.floor((hi - lo) / step) * step, log, step };
}

const isChoice = (c: unknown): c is Choice =>
  c === null || typeof c === 'string' || typeof c === 'boolean' || (typeof c === 'number' && Number.isFinite(c));

/** A choice among JSON primitives (strings, finite numbers, booleans, null), all distinct. */
export function categoricalDistribution(where: string, choices: unknown): CategoricalDistribution {
  if (!Array.isArray(choices)) throw new TypeError(`${where}: choices must be an array, got ${choices === null ? 'null' : typeof choices}`);
  if (choices.length === 0) throw new RangeError(`${where}: choices must not be empty`);
  choices.forEach((c, i) => {
    if (!isChoice(c))
      throw new TypeError(
        `${where}: choices[${i}] must be a string, finite number, boolean or null, got ${typeof c === 'number' ? c : typeof c}`,
      );
    if (choices.indexOf(c) !== i) throw new RangeError(`${where}: choices must be distinct, ${JSON.stringify(c)} appears twice`);
  });
  return { kind: 'categorical', choices: choices.slice() };
}

/** Checks a distribution read from JSON (a journal, a space file) and returns a clean copy. */
export function parseDistribution(where: string, raw: unknown): Distribution {
  if (raw === null || typeof raw !== 'object')
    throw new TypeError(`${where}: a distribution must be an object, got ${raw === null ? 'null' : typeof raw}`);
  const d = raw as Record<string, unknown>;
  switch (d.kind) {
    case 'float':
      return floatDistribution(where, d.low, d.high, { log: d.log as boolean, step: d.step as number | null });
    case 'int':
      return intDistribution(where, d.low, d.high, { log: d.log as boolean, step: d.step as number });
    case 'categorical':
      return categoricalDistribution(where, d.choices);
    default:
      throw new TypeError(`${where}: unknown distribution kind '${String(d.kind)}' (known: ${DISTRIBUTION_KINDS.join(', ')})`);
  }
}

export function sameDistribution(a: Distribution, b: Distribution): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'categorical') {
    const bc = (b as CategoricalDistribution).choices;
    return a.choices.length === bc.length && a.choices.every((c, i) => c === bc[i]);
  }
  const bn = b as NumericDistribution;
  return a.low === bn.low && a.high === bn.high && a.log === bn.log && a.step === bn.step;
}

/** True when the distribution allows one value only; samplers leave such parameters out. */
export function isSingle(d: Distribution): boolean {
  return d.kind === 'categorical' ? d.choices.length === 1 : d.low === d.high;
}

export function describeDistribution(d: Distribution): string {
  if (d.kind === 'categorical') return `categorical ${JSON.stringify(d.choices)}`;
  const extra = [d.log ? 'log' : '', d.step !== null && !(d.kind === 'int' && d.step === 1) ? `step ${d.step}` : '']
    .filter(Boolean)
    .join(', ');
  return `${d.kind} [${d.low}, ${d.high}]${extra ? ` (${extra})` : ''}`;
}

/** Whether `value` is a value this distribution can produce (on its grid, inside its range). */
export function contains(d: Distribution, value: unknown): boolean {
  if (d.kind === 'categorical') return d.choices.includes(value as Choice);
  if (typeof value !== 'number' || !(value >= d.low && value <= d.high)) return false;
  if (d.kind === 'int') return Number.isInteger(value) && (value - d.low) % d.step === 0;
  if (d.step === null) return true;
  const k = (value - d.low) / d.step;
  return Math.abs(k - Math.round(k)) <= 1e-9 * Math.max(1, Math.abs(k));
}

/** The internal number for a value: the value itself, or the index of the choice. */
export function toInternal(d: Distribution, value: ParamValue): number {
  return d.kind === 'categorical' ? d.choices.indexOf(value as Choice) : (value as number);
}

export function toExternal(d: Distribution, internal: number): ParamValue {
  return d.kind === 'categorical' ? d.choices[internal]! : internal;
}

/** Number of grid points of a stepped or integer range (Infinity for a continuous one). */
export function gridSize(d: NumericDistribution): number {
  if (d.step === null) return d.low === d.high ? 1 : Infinity;
  return Math.round((d.high - d.low) / d.step) + 1;
}

/** Snaps a number onto the distribution: the nearest grid point for stepped and integer ranges,
 *  clipped into [low, high]. */
export function snap(d: NumericDistribution, v: number): number {
  if (d.step !== null) {
    const k = Math.round((v - d.low) / d.step);
    v = d.low + k * d.step;
    if (d.kind === 'int') v = Math.round(v);
  }
  return Math.min(d.high, Math.max(d.low, v));
}

/** The space samplers model a numeric parameter in: log(value) for log ranges, the value
 *  otherwise, padded by half a step for grids so every grid point owns an equal-width cell. */
export interface NumericScale {
  readonly lo: number;
  readonly hi: number;
  readonly log: boolean;
  /** Half a step in value units (0 for continuous ranges). */
  readonly halfStep: number;
}

export function numericScale(d: NumericDistribution): NumericScale {
  const halfStep = d.step === null ? 0 : d.step / 2;
  const lo = d.low - halfStep;
  const hi = d.high + halfStep;
  return d.log ? { lo: log64(lo), hi: log64(hi), log: true, halfStep } : { lo, hi, log: false, halfStep };
}

export const toScale = (s: NumericScale, v: number): number => (s.log ? log64(v) : v);
