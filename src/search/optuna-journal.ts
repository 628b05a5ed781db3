// Optuna's journal file format (optuna.storages.JournalStorage with JournalFileBackend): one JSON
// object per line, each an operation with an op_code. Exporting a kiln study to it opens the study
// in optuna-dashboard (and in Optuna itself); importing one lets an Optuna study warm-start kiln.
// Trial and study ids are positions: the n-th CREATE_TRIAL line is trial id n across all studies
// in the file, its number the count of earlier trials of its study.
// see: optuna/storages/journal/_storage.py (JournalOperation, replay of each op)
import { parseDistribution, type Distribution, type ParamValue } from './distributions.ts';
import type { StudyEvent } from './events.ts';
import { StudyState } from './study-state.ts';
import type { Direction, TrialState } from './trial-record.ts';

const OP = {
  CREATE_STUDY: 0,
  DELETE_STUDY: 1,
  SET_STUDY_USER_ATTR: 2,
  SET_STUDY_SYSTEM_ATTR: 3,
  CREATE_TRIAL: 4,
  SET_TRIAL_PARAM: 5,
  SET_TRIAL_STATE_VALUES: 6,
  SET_TRIAL_INTERMEDIATE_VALUE: 7,
  SET_TRIAL_USER_ATTR: 8,
  SET_TRIAL_SYSTEM_ATTR: 9,
} as const;
// optuna.trial.TrialState and optuna.study.StudyDirection as integers.
const STATE_CODE: Readonly<Record<TrialState | 'waiting', number>> = { running: 0, complete: 1, pruned: 2, failed: 3, waiting: 4 };
const CODE_STATE = ['running', 'complete', 'pruned', 'failed', 'waiting'] as const;
const DIRECTION_CODE: Readonly<Record<Direction, number>> = { minimize: 1, maximize: 2 };
const WORKER = 'kiln-export-0';

// Optuna writes datetimes with isoformat(timespec="microseconds"), naive; Python before 3.11
// reads no trailing Z.
const isoTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000');
const fromIso = (where: string, text: unknown): number => {
  const ms = typeof text === 'string' ? Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text.slice(0, 23)}Z`) : NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`${where}: bad datetime ${JSON.stringify(text)}`);
  return ms;
};

// Python's json writes NaN and ±Infinity as bare words; JSON.stringify would write null.
function pyJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? `\u0000${v}\u0000` : v)).replace(
    /"\\u0000(NaN|Infinity|-Infinity)\\u0000"/g,
    '$1',
  );
}

function parsePyJson(where: string, line: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    try {
      const mark = '@kiln-nonfinite:';
      raw = JSON.parse(line.replace(/(?<=[:,[]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g, `"${mark}$1"`), (_k, v) =>
        typeof v === 'string' && v.startsWith(mark) ? Number(v.slice(mark.length)) : v,
      );
    } catch (error) {
      throw new TypeError(`${where} is not valid JSON (${(error as Error).message})`);
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new TypeError(`${where}: an operation must be an object`);
  return raw as Record<string, unknown>;
}

/** Optuna's distribution JSON (distribution_to_json) for a kiln distribution. */
export function optunaDistribution(d: Distribution): string {
  if (d.kind === 'float')
    return JSON.stringify({ name: 'FloatDistribution', attributes: { step: d.step, low: d.low, high: d.high, log: d.log } });
  if (d.kind === 'int')
    return JSON.stringify({ name: 'IntDistribution', attributes: { log: d.log, step: d.step, low: d.low, high: d.high } });
  return JSON.stringify({ name: 'CategoricalDistribution', attributes: { choices: d.choices } });
}

function kilnDistribution(where: string, text: unknown): Distribution {
  let raw: { name?: unknown; attributes?: Record<string, unknown> };
  try {
    raw = typeof text === 'string' ? JSON.parse(text) : (text as typeof raw);
  } catch {
    throw new TypeError(`${where}: distribution is not JSON: ${JSON.stringify(text)}`);
  }
  const a = raw?.attributes ?? {};
  switch (raw?.name) {
    case 'FloatDistribution':
      return parseDistribution(where, { kind: 'float', low: a.low, high: a.high, log: a.log ?? false, step: a.step ?? null });
    case 'IntDistribution':
      return parseDistribution(where, { kind: 'int', low: a.low, high: a.high, log: a.log ?? false, step: a.step ?? 1 });
    case 'CategoricalDistribution':
      return parseDistribution(where, { kind: 'categorical', choices: a.choices });
    // The distributions Optuna 2 wrote, still read by Optuna 3.
    case 'UniformDistribution':
      return parseDistribution(where, { kind: 'float', low: a.low, high: a.high, log: false, step: null });
    case 'LogUniformDistribution':
      return parseDistribution(where, { kind: 'float', low: a.low, high: a.high, log: true, step: null });
    case 'DiscreteUniformDistribution':
      return parseDistribution(where, { kind: 'float', low: a.low, high: a.high, log: false, step: a.q });
    case 'IntUniformDistribution':
      return parseDistribution(where, { kind: 'int', low: a.low, high: a.high, log: false, step: a.step ?? 1 });
    case 'IntLogUniformDistribution':
      return parseDistribution(where, { kind: 'int', low: a.low, high: a.high, log: true, step: 1 });
    default:
      throw new TypeError(
        `${where}: unknown distribution ${JSON.stringify(raw?.name)} (known: FloatDistribution, IntDistribution, CategoricalDistribution and Optuna 2's)`,
      );
  }
}

const internal = (d: Distribution, v: ParamValue): ParamValue => (d.kind === 'categorical' ? d.choices.indexOf(v) : v);

/**
 * A study's events as an Optuna journal file (one study, id 0): every trial with its parameters,
 * intermediate values, attributes and outcome; enqueued trials as WAITING trials.
 *
 * @example
 * const { events } = await storage.readSince('mlp', 0);
 * writeFileSync('mlp.optuna.log', toOptunaJournal('mlp', events));   // optuna-dashboard mlp.optuna.log
 */
export function toOptunaJournal(study: string, events: readonly StudyEvent[]): string {
  const state = new StudyState();
  for (const e of events) if (e.study === study) state.apply(e);
  if (!state.created) throw new RangeError(`toOptunaJournal: the events hold no study named '${study}'`);
  const lines: string[] = [];
  const op = (code: number, body: Record<string, unknown>) => lines.push(pyJson({ op_code: code, worker_id: WORKER, ...body }));
  op(OP.CREATE_STUDY, { study_name: study, directions: state.directions.map((d) => DIRECTION_CODE[d]) });
  let id = 0;
  for (const t of state.trials) {
    const trialId = id++;
    op(OP.CREATE_TRIAL, { study_id: 0, datetime_start: isoTime(t.startedAt) });
    for (const [name, value] of Object.entries(t.params)) {
      const d = t.distributions[name]!;
      op(OP.SET_TRIAL_PARAM, {
        trial_id: trialId,
        param_name: name,
        param_value_internal: internal(d, value),
        distribution: optunaDistribution(d),
      });
    }
    for (const [step, value] of Object.entries(t.intermediate))
      op(OP.SET_TRIAL_INTERMEDIATE_VALUE, { trial_id: trialId, step: Number(step), intermediate_value: value });
    for (const [key, value] of Object.entries(t.userAttrs)) op(OP.SET_TRIAL_USER_ATTR, { trial_id: trialId, user_attr: { [key]: value } });
    const system = {
      ...t.systemAttrs,
      ...(t.constraints ? { constraints: t.constraints } : {}),
      ...(t.error ? { 'kiln:error': t.error } : {}),
    };
    for (const [key, value] of Object.entries(system)) op(OP.SET_TRIAL_SYSTEM_ATTR, { trial_id: trialId, system_attr: { [key]: value } });
    if (t.state !== 'running')
      op(OP.SET_TRIAL_STATE_VALUES, {
        trial_id: trialId,
        state: STATE_CODE[t.state],
        values: t.values,
        datetime_complete: isoTime(t.finishedAt ?? t.startedAt),
      });
  }
  for (const fixed of state.queue) {
    op(OP.CREATE_TRIAL, {
      study_id: 0,
      state: STATE_CODE.waiting,
      datetime_start: null,
      system_attrs: { fixed_params: fixed },
      params: {},
      distributions: {},
      user_attrs: {},
      intermediate_values: {},
      value: null,
      values: null,
    });
    id++;
  }
  return lines.map((l) => `${l}\n`).join('');
}

interface OptunaTrial {
  study: number;
  state: (typeof CODE_STATE)[number];
  startedAt: number;
  finishedAt: number | null;
  params: Record<string, ParamValue>;
  distributions: Record<string, Distribution>;
  values: number[] | null;
  intermediate: Record<number, number>;
  userAttrs: Record<string, unknown>;
  systemAttrs: Record<string, unknown>;
}

/** Options of `fromOptunaJournal`. */
export interface FromOptunaJournalOptions {
  /** The study to read (default: the only one in the file). */
  study?: string;
  /** The name it gets in kiln (default: its Optuna name). */
  as?: string;
  /** The kiln study's seed (default 0). */
  seed?: number;
}

/**
 * Reads an Optuna journal file into kiln study events, for `storage.append`. Trials that were
 * running become failed trials; WAITING (enqueued) trials become enqueued parameters. Errors name
 * the line.
 *
 * @example
 * await storage.append(fromOptunaJournal(readFileSync('optuna.log', 'utf8'), { study: 'mlp' }));
 */
export function fromOptunaJournal(text: string, options: FromOptunaJournalOptions = {}): StudyEvent[] {
  const studies: { name: string; directions: Direction[]; deleted: boolean }[] = [];
  const trials: OptunaTrial[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `Optuna journal line ${i + 1}`;
    const o = parsePyJson(where, line);
    const trial = (): OptunaTrial => {
      const t = trials[o.trial_id as number];
      if (!t) throw new RangeError(`${where}: trial_id ${JSON.stringify(o.trial_id)} was never created`);
      return t;
    };
    switch (o.op_code) {
      case OP.CREATE_STUDY: {
        if (typeof o.study_name !== 'string') throw new TypeError(`${where}: CREATE_STUDY has no study_name`);
        const dirs = Array.isArray(o.directions) ? o.directions : [];
        if (dirs.length === 0 || dirs.some((d) => d !== 1 && d !== 2))
          throw new TypeError(`${where}: directions must be a list of 1 (minimize) or 2 (maximize), got ${JSON.stringify(o.directions)}`);
        studies.push({ name: o.study_name, directions: dirs.map((d) => (d === 1 ? 'minimize' : 'maximize')), deleted: false });
        return;
      }
      case OP.DELETE_STUDY: {
        const s = studies[o.study_id as number];
        if (s) s.deleted = true;
        return;
      }
      case OP.CREATE_TRIAL: {
        if (!studies[o.study_id as number]) throw new RangeError(`${where}: study_id ${JSON.stringify(o.study_id)} was never created`);
        const code = typeof o.state === 'number' ? o.state : 0;
        if (!CODE_STATE[code]) throw new RangeError(`${where}: unknown trial state ${code}`);
        const distributions: Record<string, Distribution> = {};
        const params: Record<string, ParamValue> = {};
        for (const [name, d] of Object.entries((o.distributions as Record<string, unknown>) ?? {}))
          distributions[name] = kilnDistribution(`${where}: ${name}`, d);
        for (const [name, v] of Object.entries((o.params as Record<string, ParamValue>) ?? {}))
          params[name] =
            distributions[name]?.kind === 'categorical'
              ? (distributions[name] as { choices: readonly ParamValue[] }).choices[v as number]!
              : v;
        const values = Array.isArray(o.values) ? (o.values as number[]) : typeof o.value === 'number' ? [o.value] : null;
        trials.push({
          study: o.study_id as number,
          state: CODE_STATE[code]!,
          startedAt: o.datetime_start ? fromIso(where, o.datetime_start) : Date.now(),
          finishedAt: o.datetime_complete ? fromIso(where, o.datetime_complete) : null,
          params,
          distributions,
          values,
          intermediate: Object.fromEntries(
            Object.entries((o.intermediate_values as Record<string, number>) ?? {}).map(([k, v]) => [Number(k), v]),
          ),
          userAttrs: { ...((o.user_attrs as object) ?? {}) },
          systemAttrs: { ...((o.system_attrs as object) ?? {}) },
        });
        return;
      }
      case OP.SET_TRIAL_PARAM: {
        const t = trial();
        if (typeof o.param_name !== 'string') throw new TypeError(`${where}: SET_TRIAL_PARAM has no param_name`);
        const d = kilnDistribution(`${where}: ${o.param_name}`, o.distribution);
        const v = o.param_value_internal as number;
        const value = d.kind === 'categorical' ? d.choices[v] : v;
        if (value === undefined)
          throw new RangeError(`${where}: categorical index ${v} outside the ${d.kind === 'categorical' ? d.choices.length : 0} choices`);
        t.params[o.param_name] = value;
        t.distributions[o.param_name] = d;
        return;
      }
      case OP.SET_TRIAL_STATE_VALUES: {
        const t = trial();
        const s = CODE_STATE[o.state as number];
        if (!s) throw new RangeError(`${where}: unknown trial state ${JSON.stringify(o.state)}`);
        t.state = s;
        if (s === 'running' && o.datetime_start) t.startedAt = fromIso(where, o.datetime_start);
        if (o.datetime_complete) t.finishedAt = fromIso(where, o.datetime_complete);
        if (o.values !== undefined && o.values !== null) t.values = o.values as number[];
        return;
      }
      case OP.SET_TRIAL_INTERMEDIATE_VALUE:
        trial().intermediate[o.step as number] = o.intermediate_value as number;
        return;
      case OP.SET_TRIAL_USER_ATTR:
        Object.assign(trial().userAttrs, o.user_attr);
        return;
      case OP.SET_TRIAL_SYSTEM_ATTR:
        Object.assign(trial().systemAttrs, o.system_attr);
        return;
      case OP.SET_STUDY_USER_ATTR:
      case OP.SET_STUDY_SYSTEM_ATTR:
        return;
      default:
        throw new TypeError(`${where}: unknown op_code ${JSON.stringify(o.op_code)} (known: 0 … 9)`);
    }
  });
  const live = studies.map((s, id) => ({ ...s, id })).filter((s) => !s.deleted);
  const chosen = options.study === undefined ? (live.length === 1 ? live[0] : undefined) : live.find((s) => s.name === options.study);
  if (!chosen)
    throw new RangeError(
      `fromOptunaJournal: ${options.study === undefined ? `the file holds ${live.length} studies (${live.map((s) => s.name).join(', ')}); name one` : `no study named '${options.study}' (found: ${live.map((s) => s.name).join(', ') || 'none'})`}`,
    );
  const name = options.as ?? chosen.name;
  const events: StudyEvent[] = [{ op: 'study', study: name, directions: chosen.directions, seed: options.seed ?? 0, at: Date.now() }];
  const queue: Record<string, ParamValue>[] = [];
  let number = 0;
  for (const t of trials.filter((x) => x.study === chosen.id)) {
    if (t.state === 'waiting') {
      queue.push({ ...((t.systemAttrs.fixed_params as Record<string, ParamValue>) ?? {}) });
      continue;
    }
    const n = number++;
    events.push({ op: 'trial', study: name, number: n, at: t.startedAt });
    for (const [param, value] of Object.entries(t.params))
      events.push({ op: 'param', study: name, number: n, name: param, distribution: t.distributions[param]!, value });
    for (const [step, value] of Object.entries(t.intermediate))
      events.push({ op: 'report', study: name, number: n, step: Number(step), value });
    for (const [key, value] of Object.entries(t.userAttrs)) events.push({ op: 'attr', study: name, number: n, key, value, system: false });
    const { constraints, 'kiln:error': error, ...system } = t.systemAttrs;
    for (const [key, value] of Object.entries(system)) events.push({ op: 'attr', study: name, number: n, key, value, system: true });
    const running = t.state === 'running';
    events.push({
      op: 'finish',
      study: name,
      number: n,
      at: t.finishedAt ?? t.startedAt,
      state: running ? 'failed' : t.state,
      values: running ? null : t.values,
      constraints: Array.isArray(constraints) ? (constraints as number[]) : null,
      error: running
        ? 'running when the Optuna journal was imported'
        : typeof error === 'string'
          ? error
          : t.state === 'failed'
            ? 'failed (in Optuna)'
            : null,
    });
  }
  for (const params of queue) events.push({ op: 'enqueue', study: name, params });
  return events;
}
