// Studies out to CSV (one row per trial, Optuna's trials_dataframe columns) and JSON.
import type { Direction, FrozenTrial } from './trial-record.ts';
import type { ParamValue } from './distributions.ts';
import type { StudyEvent } from './events.ts';
import { StudyState } from './study-state.ts';

/** A trial as plain data: the frozen record itself. */
export type TrialJson = FrozenTrial;

/** A study as JSON: its settings and every trial. */
export interface StudyJson {
  name: string;
  directions: Direction[];
  seed: number;
  trials: TrialJson[];
}

/** The study as plain data (the trials are the frozen records; JSON.stringify turns non-finite
 *  numbers into null). */
export function studyToJson(name: string, directions: readonly Direction[], seed: number, trials: readonly FrozenTrial[]): StudyJson {
  return {
    name,
    directions: directions.slice(),
    seed,
    trials: trials.slice(),
  };
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const text = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const iso = (ms: number | null): string => (ms === null ? '' : new Date(ms).toISOString());

/**
 * One row per trial: number, state, value (or values_0 … for several objectives), datetime_start,
 * datetime_complete (ISO 8601), duration_ms, params_<name> for every parameter any trial has
 * (sorted; empty where a trial lacks it), user_attrs_<key>, constraints_<i>, error.
 */
export function trialsToCsv(trials: readonly FrozenTrial[], directions: readonly Direction[]): string {
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.params)))].sort();
  const attrs = [...new Set(trials.flatMap((t) => Object.keys(t.userAttrs)))].sort();
  const nConstraints = Math.max(0, ...trials.map((t) => t.constraints?.length ?? 0));
  const valueCols = directions.length === 1 ? ['value'] : directions.map((_, i) => `values_${i}`);
  const header = [
    'number',
    'state',
    ...valueCols,
    'datetime_start',
    'datetime_complete',
    'duration_ms',
    ...names.map((n) => `params_${n}`),
    ...attrs.map((a) => `user_attrs_${a}`),
    ...Array.from({ length: nConstraints }, (_, i) => `constraints_${i}`),
    'error',
  ];
  const rows = trials.map((t) =>
    [
      t.number,
      t.state,
      ...directions.map((_, i) => t.values?.[i] ?? null),
      iso(t.startedAt),
      iso(t.finishedAt),
      t.durationMs,
      ...names.map((n) => (Object.hasOwn(t.params, n) ? t.params[n] : null)),
      ...attrs.map((a) => t.userAttrs[a]),
      ...Array.from({ length: nConstraints }, (_, i) => t.constraints?.[i] ?? null),
      t.error,
    ]
      .map(cell)
      .join(','),
  );
  return [header.map(cell).join(','), ...rows].join('\n') + '\n';
}

/** What `summarizeStudy` returns: counts, the best trial (one objective) and every trial. */
export interface StudySummary {
  study: string;
  directions: Direction[];
  seed: number;
  trials: number;
  complete: number;
  pruned: number;
  failed: number;
  running: number;
  queued: number;
  ignoredTells: number;
  best: { number: number; value: number; params: Record<string, ParamValue> } | null;
  trialList: {
    number: number;
    state: string;
    values: number[] | null;
    params: Record<string, ParamValue>;
    error: string | null;
    durationMs: number | null;
  }[];
}

/** A study replayed from its events, as `kiln study show` and `kiln serve` report it; undefined
 *  when the events hold no study. */
export function summarizeStudy(name: string, events: readonly StudyEvent[]): StudySummary | undefined {
  const state = new StudyState();
  for (const e of events) state.apply(e);
  if (!state.created) return undefined;
  const count = (s: string) => state.trials.filter((t) => t.state === s).length;
  const sign = state.directions[0] === 'maximize' ? -1 : 1;
  const best =
    state.directions.length === 1
      ? state.trials.filter((t) => t.state === 'complete').sort((a, b) => (a.values![0]! - b.values![0]!) * sign || a.number - b.number)[0]
      : undefined;
  return {
    study: name,
    directions: state.directions.slice(),
    seed: state.seed,
    trials: state.trials.length,
    complete: count('complete'),
    pruned: count('pruned'),
    failed: count('failed'),
    running: count('running'),
    queued: state.queue.length,
    ignoredTells: state.ignoredFinishes,
    best: best ? { number: best.number, value: best.values![0]!, params: { ...best.params } } : null,
    trialList: state.trials.map((t) => ({
      number: t.number,
      state: t.state,
      values: t.values,
      params: { ...t.params },
      error: t.error,
      durationMs: t.durationMs,
    })),
  };
}
