// A study is stored as the list of things that happened to it. Replaying the events rebuilds
// every trial, so any store that can append and read back in order can hold studies.
import { contains, describeDistribution, parseDistribution, type Distribution, type ParamValue } from './distributions.ts';
import { TRIAL_STATES, type Direction, type TrialState } from './trial-record.ts';

/** One entry of a study's event log; storages keep these and replay them to rebuild a study. */
export type StudyEvent =
  | { op: 'study'; study: string; directions: Direction[]; seed: number; at: number }
  // In a shared log (several writers) a trial event carries `claim`, a token unique to its writer,
  // instead of a number: the trial's number is its position among the study's trial events, so
  // numbers are dense and unique whatever order the writers' appends land in.
  | { op: 'trial'; study: string; number?: number; claim?: string; at: number; fixed?: Record<string, ParamValue>; queued?: boolean }
  | { op: 'param'; study: string; number: number; name: string; distribution: Distribution; value: ParamValue }
  | { op: 'report'; study: string; number: number; step: number; value: number }
  | { op: 'attr'; study: string; number: number; key: string; value: unknown; system: boolean }
  // `requeue`: the trial's parameters go back on the queue if this finish is the one that counts
  // (the reaper's, for a trial whose worker stopped beating).
  | {
      op: 'finish';
      study: string;
      number: number;
      at: number;
      state: TrialState;
      values: number[] | null;
      constraints: number[] | null;
      error: string | null;
      requeue?: boolean;
    }
  | { op: 'enqueue'; study: string; params: Record<string, ParamValue> }
  // A running trial's worker is alive (for storages without a heartbeat table of their own).
  | { op: 'beat'; study: string; number: number; at: number };

export const EVENT_OPS = ['study', 'trial', 'param', 'report', 'attr', 'finish', 'enqueue', 'beat'] as const;

// JSON has no NaN or Infinity: intermediate values may be NaN (a diverged epoch) and constraint
// values may be infinite, so non-finite numbers are written as strings and read back.
export const encodeNumber = (v: number): number | string => (Number.isFinite(v) ? v : String(v));

export function decodeNumber(where: string, v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new TypeError(`${where} must be a number, got ${JSON.stringify(v)}`);
}

function need(cond: boolean, where: string, what: string): void {
  if (!cond) throw new TypeError(`${where}: ${what}`);
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const numberList = (where: string, v: unknown): number[] | null => {
  if (v === null || v === undefined) return null;
  need(Array.isArray(v), where, `expected an array of numbers, got ${JSON.stringify(v)}`);
  return (v as unknown[]).map((x, i) => decodeNumber(`${where}[${i}]`, x));
};

/** Checks one decoded event (from a journal line or a database row) and returns it typed, with
 *  encoded non-finite numbers restored. Throws TypeError naming the problem. */
export function parseEvent(where: string, raw: unknown): StudyEvent {
  need(raw !== null && typeof raw === 'object' && !Array.isArray(raw), where, `an event must be an object, got ${JSON.stringify(raw)}`);
  const e = raw as Record<string, unknown>;
  need(typeof e.study === 'string', where, `event has no study name`);
  const study = e.study as string;
  const claimed = e.op === 'trial' && typeof e.claim === 'string' && e.number === undefined;
  if (e.op !== 'study' && e.op !== 'enqueue' && !claimed) need(isInt(e.number), where, `event '${String(e.op)}' has no valid trial number`);
  const number = e.number as number;
  switch (e.op) {
    case 'study': {
      need(
        Array.isArray(e.directions) && e.directions.length > 0 && e.directions.every((d) => d === 'minimize' || d === 'maximize'),
        where,
        `bad directions ${JSON.stringify(e.directions)}`,
      );
      need(typeof e.seed === 'number', where, 'study event has no seed');
      return { op: 'study', study, directions: e.directions as Direction[], seed: e.seed as number, at: Number(e.at) };
    }
    case 'trial':
      need(
        e.claim === undefined || (typeof e.claim === 'string' && e.claim.length > 0),
        where,
        `trial event has bad claim ${JSON.stringify(e.claim)}`,
      );
      return {
        op: 'trial',
        study,
        ...(claimed ? { claim: e.claim as string } : { number }),
        at: Number(e.at),
        ...(e.fixed ? { fixed: e.fixed as Record<string, ParamValue> } : {}),
        ...(e.queued === true ? { queued: true } : {}),
      };
    case 'param': {
      need(typeof e.name === 'string', where, 'param event has no name');
      const distribution = parseDistribution(where, e.distribution);
      // A value its own distribution cannot produce would reach samplers as if it had been sampled.
      need(
        contains(distribution, e.value),
        where,
        `param '${e.name as string}' has value ${JSON.stringify(e.value)}, outside ${describeDistribution(distribution)}`,
      );
      return { op: 'param', study, number, name: e.name as string, distribution, value: e.value as ParamValue };
    }
    case 'report':
      need(isInt(e.step), where, `report event has bad step ${JSON.stringify(e.step)}`);
      return { op: 'report', study, number, step: e.step as number, value: decodeNumber(`${where}: report value`, e.value) };
    case 'attr':
      need(typeof e.key === 'string', where, 'attr event has no key');
      return { op: 'attr', study, number, key: e.key as string, value: e.value, system: e.system === true };
    case 'finish':
      need(
        TRIAL_STATES.includes(e.state as TrialState) && e.state !== 'running',
        where,
        `finish event has bad state ${JSON.stringify(e.state)}`,
      );
      return {
        op: 'finish',
        study,
        number,
        at: Number(e.at),
        state: e.state as TrialState,
        values: numberList(`${where}: values`, e.values),
        constraints: numberList(`${where}: constraints`, e.constraints),
        error: typeof e.error === 'string' ? e.error : null,
        ...(e.requeue === true ? { requeue: true } : {}),
      };
    case 'beat':
      return { op: 'beat', study, number, at: Number(e.at) };
    case 'enqueue':
      need(e.params !== null && typeof e.params === 'object', where, 'enqueue event has no params');
      return { op: 'enqueue', study, params: e.params as Record<string, ParamValue> };
    default:
      throw new TypeError(`${where}: unknown event '${String(e.op)}' (known: ${EVENT_OPS.join(', ')})`);
  }
}

/** The event as JSON-safe data (non-finite numbers as strings). */
export function encodeEvent(e: StudyEvent): unknown {
  if (e.op === 'report') return { ...e, value: encodeNumber(e.value) };
  if (e.op === 'finish')
    return { ...e, values: e.values?.map(encodeNumber) ?? null, constraints: e.constraints?.map(encodeNumber) ?? null };
  return e;
}
