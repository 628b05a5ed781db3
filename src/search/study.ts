// A study: the trials of one optimisation, the sampler that proposes parameters, the pruner that
// stops hopeless trials, and the storage that keeps it all. ask/tell is the core; optimize is a
// loop over it.
import { checkInteger, checkKnownKeys, checkNumber } from '../core/errors.ts';
import { contains, describeDistribution, sameDistribution, type Distribution, type ParamValue } from './distributions.ts';
import type { StudyEvent } from './events.ts';
import { paretoFront } from './pareto.ts';
import { MedianPruner } from './pruners/median.ts';
import type { Pruner, PrunerContext } from './pruners/pruner.ts';
import type { Sampler, SamplerContext } from './samplers/sampler.ts';
import { TpeSampler } from './samplers/tpe.ts';
import { sampleSpace, type SpaceSpec } from './space.ts';
import { freeze, StudyState, type MutableTrial } from './study-state.ts';
import { InMemoryStorage, isShared, type SharedStudyStorage, type StudyStorage } from './storage/storage.ts';
import { processIsGone, writerToken, type WriterToken } from './writer.ts';
import { Trial, TrialPruned, type TrialHost } from './trial.ts';
import { directionSign, isFeasible, lastStep, type Direction, type FrozenTrial, type TrialState } from './trial-record.ts';
import { trialsToCsv, studyToJson, type StudyJson } from './export.ts';
import { parameterImportances, type ImportanceOptions } from './importance.ts';

/** Options of `createStudy`: directions, sampler, pruner, storage, seed and constraints. */
export interface StudyOptions {
  /** Name under which the storage keeps the study (default 'study'). */
  name?: string;
  /** One objective's direction (default 'minimize'); give `directions` for several objectives. */
  direction?: Direction;
  directions?: Direction[];
  /** Default: a TpeSampler using the study's seed. */
  sampler?: Sampler;
  /** Default: a MedianPruner (it acts only when objectives report and ask `shouldPrune`). */
  pruner?: Pruner;
  /** Default: an InMemoryStorage. */
  storage?: StudyStorage;
  /** Seed for samplers built without their own (default 0: runs are reproducible by default). */
  seed?: number;
  /** Reopen the study when the storage already holds one of this name (default false: error). */
  loadIfExists?: boolean;
  /** Constraint values of a complete trial (<= 0 means satisfied, as Optuna's constraints_func).
   *  Feasible trials rank above infeasible ones everywhere: best trial, Pareto front, TPE. */
  constraints?: (trial: FrozenTrial) => number[];
  /** Shared storages: how often running trials beat (default 10 000 ms). */
  heartbeatMs?: number;
  /** Shared storages: a running trial whose last beat is older than this is failed by the reaper
   *  (default 60 000 ms; at least twice heartbeatMs). */
  graceMs?: number;
  /** Shared storages: put the parameters of reaped trials back on the queue (default false). */
  requeue?: boolean;
}

/** What `tell` accepts: the objective's value(s), or an explicit outcome. */
export type TellResult =
  | number
  | readonly number[]
  | { values?: readonly number[]; value?: number; constraints?: readonly number[]; state?: 'complete' }
  | { state: 'pruned' }
  | { state: 'failed'; error?: string };

/** Options of `Study.optimize`: trial count, time budget, error handling, abort and callbacks. */
export interface OptimizeOptions {
  /** Number of trials to run in this call. */
  trials?: number;
  /** Stop asking for new trials after this many milliseconds (running ones finish). */
  timeBudgetMs?: number;
  /** Keep going when the objective throws (the trial is marked failed either way); a function
   *  decides per error. Default false: the error ends `optimize` after the trial is recorded. */
  catch?: boolean | ((error: unknown) => boolean);
  /** Stops asking for new trials once aborted. */
  signal?: AbortSignal;
  /** Called after each trial is recorded. */
  callbacks?: ((study: Study, trial: FrozenTrial) => void)[];
}

/** What `Study.optimize` calls per trial: returns the objective value(s). */
export type Objective = (trial: Trial) => number | readonly number[] | Promise<number | readonly number[]>;

const STUDY_KEYS = [
  'name',
  'direction',
  'directions',
  'sampler',
  'pruner',
  'storage',
  'seed',
  'loadIfExists',
  'constraints',
  'heartbeatMs',
  'graceMs',
  'requeue',
];

function checkDirections(where: string, options: StudyOptions): Direction[] | undefined {
  if (options.direction !== undefined && options.directions !== undefined)
    throw new TypeError(`${where}: give direction or directions, not both`);
  const list = options.directions ?? (options.direction !== undefined ? [options.direction] : undefined);
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.length === 0) throw new RangeError(`${where}: directions must be a non-empty array`);
  list.forEach((d, i) => {
    if (d !== 'minimize' && d !== 'maximize')
      throw new TypeError(`${where}: directions[${i}] must be 'minimize' or 'maximize', got ${JSON.stringify(d)}`);
  });
  return list.slice();
}

/**
 * Creates a study, or reopens one kept in `storage` (with `loadIfExists`). Trials a killed
 * process left running are marked failed with error 'interrupted' when the study reopens; their
 * parameters are not re-queued (use `enqueueTrial` to retry them). In a shared storage (journal
 * file, PostgreSQL, Redis) other processes may be running trials: those are failed only once
 * their heartbeat is older than `graceMs`, or at once when their process, on this host, is gone.
 *
 * @example
 * const study = await createStudy({ name: 'branin', sampler: new TpeSampler({ seed: 1 }) });
 * await study.optimize((t) => branin(t.suggestFloat('x', -5, 10), t.suggestFloat('y', 0, 15)), { trials: 100 });
 * console.log(study.bestValue, study.bestParams);
 */
export async function createStudy(options: StudyOptions = {}): Promise<Study> {
  const where = 'createStudy';
  checkKnownKeys(where, options, STUDY_KEYS);
  const name = options.name ?? 'study';
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`${where}: name must be a non-empty string`);
  const directions = checkDirections(where, options);
  if (options.seed !== undefined) checkInteger(where, 'seed', options.seed);
  if (options.constraints !== undefined && typeof options.constraints !== 'function')
    throw new TypeError(`${where}: constraints must be a function returning an array of numbers`);
  if (options.sampler !== undefined && typeof options.sampler?.sampleIndependent !== 'function')
    throw new TypeError(`${where}: sampler must implement sampleIndependent`);
  if (options.pruner !== undefined && typeof options.pruner?.prune !== 'function')
    throw new TypeError(`${where}: pruner must implement prune`);
  const heartbeatMs = options.heartbeatMs === undefined ? 10_000 : checkNumber(where, 'heartbeatMs', options.heartbeatMs, 1);
  const graceMs =
    options.graceMs === undefined ? Math.max(60_000, 2 * heartbeatMs) : checkNumber(where, 'graceMs', options.graceMs, 2 * heartbeatMs);
  if (options.requeue !== undefined && typeof options.requeue !== 'boolean')
    throw new TypeError(`${where}: requeue must be a boolean, got ${typeof options.requeue}`);
  const storage = options.storage ?? new InMemoryStorage();
  const state = new StudyState();
  const shared = isShared(storage);
  const writer = shared ? await writerToken() : null;
  const study = new Study(name, storage, state, options, { writer, heartbeatMs, graceMs, requeue: options.requeue ?? false });
  let existed: boolean;
  if (shared) {
    await study.sync();
    existed = state.created;
  } else {
    const events = (await storage.load()).filter((e) => e.study === name);
    existed = events.length > 0;
    if (existed && events[0]!.op !== 'study')
      throw new RangeError(`${where}: the stored events of '${name}' do not start with the study itself`);
    for (const e of events) state.apply(e);
  }
  if (existed && !options.loadIfExists)
    throw new Error(
      `${where}: the storage already holds a study named '${name}'; pass loadIfExists: true to resume it, or choose another name`,
    );
  if (!existed) {
    study._emit({ op: 'study', study: name, directions: directions ?? ['minimize'], seed: options.seed ?? 0, at: Date.now() });
    await study.flush();
    // Another process may have created it at the same moment: the first study event wins.
    await study.sync();
  }
  if (existed || shared) {
    if (directions && directions.join() !== state.directions.join()) {
      throw new RangeError(
        `${where}: study '${name}' was created with directions [${state.directions.join(', ')}], got [${directions.join(', ')}]`,
      );
    }
    if (options.seed !== undefined && options.seed !== state.seed)
      throw new RangeError(`${where}: study '${name}' was created with seed ${state.seed}, got ${options.seed}`);
  }
  if (shared) await study.reap();
  else {
    for (const t of state.trials) {
      if (t.state === 'running')
        study._emit({
          op: 'finish',
          study: name,
          number: t.number,
          at: Date.now(),
          state: 'failed',
          values: null,
          constraints: null,
          error: INTERRUPTED,
        });
    }
  }
  await study.flush();
  return study;
}

const INTERRUPTED = 'interrupted: the process running this trial ended before it finished';

/** How a study in a shared storage keeps its trials alive and fails those of dead workers. */
interface SharedSettings {
  writer: WriterToken | null;
  heartbeatMs: number;
  graceMs: number;
  requeue: boolean;
}

/** The trials of one optimisation with its sampler, pruner and storage; made by `createStudy`. */
export class Study {
  readonly name: string;
  readonly sampler: Sampler;
  readonly pruner: Pruner;
  readonly storage: StudyStorage;
  #state: StudyState;
  #constraints: ((trial: FrozenTrial) => number[]) | undefined;
  #contexts = new Map<number, { ctx: SamplerContext; relative: Record<string, ParamValue> }>();
  #tail: Promise<void> | null = null;
  // The append #pump has on its way (shared storages), which a combined append and read waits for.
  #appending: Promise<void> | null = null;
  #writeError: unknown = undefined;
  #host: TrialHost;
  // Shared storages: the log position read so far, the events waiting to be appended, this
  // process's own running trials (they beat) and the outcomes it told, to recognise its own
  // finish events when they come back from the log.
  #shared: SharedSettings | null;
  #cursor = 0;
  #syncing: Promise<void> = Promise.resolve();
  #pending: StudyEvent[] = [];
  #asked = 0;
  #beating = new Set<number>();
  // Trials this process asked for a client that beats them itself (`release`).
  #released = new Set<number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #told = new Map<number, string>();
  #lost = new Set<number>();
  #unbeaten = new Map<number, number>();
  #lastReap = -Infinity;

  /** Use `createStudy`. */
  constructor(name: string, storage: StudyStorage, state: StudyState, options: StudyOptions, shared?: SharedSettings) {
    this.name = name;
    this.storage = storage;
    this.#state = state;
    this.sampler = options.sampler ?? new TpeSampler();
    this.pruner = options.pruner ?? new MedianPruner();
    this.#constraints = options.constraints;
    this.#shared = shared?.writer ? shared : null;
    this.#host = {
      suggest: (number, n, d, where) => this.#suggest(number, n, d, where),
      report: (number, value, step) => {
        const t = this.#running(number, 'report');
        if (!(step in t.intermediate)) this._emit({ op: 'report', study: this.name, number, step, value });
      },
      shouldPrune: (number) => this.#shouldPrune(number),
      setUserAttr: (number, key, value) => {
        this.#running(number, 'setUserAttr');
        this._emit({ op: 'attr', study: this.name, number, key, value: JSON.parse(JSON.stringify(value ?? null)), system: false });
      },
      record: (number) => freeze(this.#state.trials[number]!),
    };
  }

  get directions(): readonly Direction[] {
    return this.#state.directions;
  }

  get seed(): number {
    return this.#state.seed;
  }

  /** Every trial, in number order, as frozen copies. */
  get trials(): readonly FrozenTrial[] {
    return this.#state.trials.map(freeze);
  }

  /** The best complete, feasible trial of a single-objective study (lowest number among ties). */
  get bestTrial(): FrozenTrial {
    if (this.directions.length !== 1)
      throw new RangeError(
        `Study '${this.name}': bestTrial is for single-objective studies; this one has ${this.directions.length} objectives, use paretoFront`,
      );
    const sign = directionSign(this.directions[0]!);
    let best: FrozenTrial | undefined;
    for (const t of this.trials) {
      if (t.state !== 'complete' || !isFeasible(t)) continue;
      if (!best || t.values![0]! * sign < best.values![0]! * sign) best = t;
    }
    if (!best) throw new RangeError(`Study '${this.name}': no complete${this.#constraints ? ', feasible' : ''} trial yet`);
    return best;
  }

  /** The best trial's value, parameters and record together (single objective). */
  get best(): { value: number; params: Readonly<Record<string, ParamValue>>; trial: FrozenTrial } {
    const trial = this.bestTrial;
    return { value: trial.values![0]!, params: trial.params, trial };
  }

  get bestValue(): number {
    return this.bestTrial.values![0]!;
  }

  get bestParams(): Readonly<Record<string, ParamValue>> {
    return this.bestTrial.params;
  }

  /** The complete, feasible trials no other dominates (all objectives), in number order. */
  get paretoFront(): FrozenTrial[] {
    return paretoFront(this.trials, this.directions);
  }

  /** Finish events ignored because their trial had already finished (a zombie worker's late tell,
   *  a second reaper): the first terminal event of a trial wins. */
  get ignoredTells(): number {
    return this.#state.ignoredFinishes;
  }

  /** Whether other processes may share this study (its storage is a shared one). */
  get shared(): boolean {
    return this.#shared !== null;
  }

  /** Fixes the parameters of a future trial (asked in order; names it does not cover are sampled). */
  enqueueTrial(params: Record<string, ParamValue>): void {
    if (params === null || typeof params !== 'object' || Array.isArray(params))
      throw new TypeError(`Study '${this.name}'.enqueueTrial: params must be an object`);
    this._emit({ op: 'enqueue', study: this.name, params: JSON.parse(JSON.stringify(params)) });
  }

  /**
   * Starts a trial. Joint (relative) sampling happens now, against the study as it is; the
   * objective then suggests its parameters on the returned trial and hands the result to `tell`.
   */
  ask(fixedParams?: Record<string, ParamValue>): Trial {
    if (this.#shared)
      throw new TypeError(
        `Study '${this.name}'.ask: the study is in a shared storage, where a trial's number comes from the storage; use await study.askAsync()`,
      );
    this.#checkWrites();
    const number = this.#state.trials.length;
    const queued = fixedParams === undefined && this.#state.queue.length > 0;
    const fixed = fixedParams ?? this.#state.queue[0];
    if (fixed !== undefined && (fixed === null || typeof fixed !== 'object'))
      throw new TypeError(`Study '${this.name}'.ask: fixedParams must be an object`);
    const snapshot = this.#samplerView();
    this._emit({
      op: 'trial',
      study: this.name,
      number,
      at: Date.now(),
      ...(fixed ? { fixed: { ...fixed } } : {}),
      ...(queued ? { queued: true } : {}),
    });
    return this.#start(number, snapshot);
  }

  /**
   * Starts a trial in any storage. In a shared one the trial is claimed in the storage's log
   * (its number, and the enqueued parameters it takes, follow from the log's order, so two
   * processes never get the same), sampled from the log as it stands, and kept alive by
   * heartbeats until it is told.
   *
   * @example
   * const trial = await study.askAsync();
   * await study.tell(trial, objective(trial));
   */
  async askAsync(fixedParams?: Record<string, ParamValue>): Promise<Trial> {
    const shared = this.#shared;
    if (!shared) {
      await this.flush();
      return this.ask(fixedParams);
    }
    this.#checkWrites();
    if (fixedParams !== undefined && (fixedParams === null || typeof fixedParams !== 'object'))
      throw new TypeError(`Study '${this.name}'.askAsync: fixedParams must be an object`);
    const claim = `${shared.writer!.token}/${++this.#asked}`;
    this._emit({
      op: 'trial',
      study: this.name,
      claim,
      at: Date.now(),
      ...(fixedParams ? { fixed: { ...fixedParams } } : { queued: true }),
    });
    await this.#flushAndSync();
    const number = this.#state.claims.get(claim);
    if (number === undefined)
      throw new Error(`Study '${this.name}'.askAsync: trial claim '${claim}' is not in the storage after it was appended`);
    this.#startBeating(number);
    const snapshot = this.#samplerView().filter((t) => t.number !== number);
    // Enough to replay this ask: the log position it sampled from (and the seed of its streams).
    this._emit({ op: 'attr', study: this.name, number, key: 'kiln:ask', value: { position: this.#cursor, seed: this.seed }, system: true });
    return this.#start(number, snapshot);
  }

  #start(number: number, snapshot: FrozenTrial[]): Trial {
    const ctx: SamplerContext = {
      studyName: this.name,
      directions: this.directions,
      trials: snapshot,
      seed: this.seed,
      ...(this.#shared ? { shared: true } : {}),
    };
    const record = freeze(this.#state.trials[number]!);
    let relative: Record<string, ParamValue>;
    try {
      relative = this.sampler.sampleRelative?.(ctx, record) ?? {};
    } catch (err) {
      this._emit({
        op: 'finish',
        study: this.name,
        number,
        at: Date.now(),
        state: 'failed',
        values: null,
        constraints: null,
        error: `sampler: ${(err as Error)?.message ?? String(err)}`,
      });
      throw err;
    }
    this.#contexts.set(number, { ctx, relative });
    return new Trial(this.#host, number);
  }

  /** `askBatch` for any storage (see `askAsync`). */
  async askBatchAsync(n: number, space?: SpaceSpec): Promise<Trial[]> {
    if (!this.#shared) return this.askBatch(n, space);
    checkInteger(`Study '${this.name}'.askBatchAsync`, 'n', n, 0, 1e6);
    const out: Trial[] = [];
    for (let i = 0; i < n; i++) {
      const trial = await this.askAsync();
      if (space !== undefined) sampleSpace(trial, space);
      out.push(trial);
    }
    return out;
  }

  /**
   * Asks `n` trials at once, each sampled knowing the ones before it in the batch (running
   * trials count as pending results: TPE with `constantLiar` puts them among the worse trials,
   * GP imputes the worst value seen). With a `space`, every parameter is suggested now, so the
   * batch is fixed before any worker starts and the results do not depend on the order the
   * workers run in.
   */
  askBatch(n: number, space?: SpaceSpec): Trial[] {
    checkInteger(`Study '${this.name}'.askBatch`, 'n', n, 0, 1e6);
    const out: Trial[] = [];
    for (let i = 0; i < n; i++) {
      const trial = this.ask();
      if (space !== undefined) sampleSpace(trial, space);
      out.push(trial);
    }
    return out;
  }

  /** Ends a trial with the objective's value(s) or an explicit outcome; resolves once stored. A
   *  NaN value marks the trial failed, as Optuna does. */
  async tell(trial: Trial | number, result: TellResult): Promise<FrozenTrial> {
    const number = typeof trial === 'number' ? trial : trial?.number;
    const where = `Study '${this.name}'.tell(trial ${number})`;
    if (typeof number !== 'number') throw new TypeError(`Study '${this.name}'.tell: trial must be a Trial or a trial number`);
    // A trial reaped while this process ran it may still be told: the finish goes into the log,
    // where it is ignored and counted (the first terminal event wins).
    const t = this.#lost.has(number) ? this.#state.trials[number]! : this.#running(number, 'tell');
    const outcome = this.#outcome(where, t, result);
    this.#contexts.delete(number);
    if (this.#shared) this.#told.set(number, JSON.stringify([outcome.state, outcome.values]));
    this._emit({ op: 'finish', study: this.name, number, at: Date.now(), ...outcome });
    if (this.#shared) await this.#flushAndSync();
    else await this.flush();
    if (this.#shared) {
      this.#stopBeating(number);
      this.#told.delete(number);
      if (t.state === 'running')
        throw new Error(`Study '${this.name}'.tell(trial ${number}): the finish was appended but the storage does not show it`);
    }
    return freeze(t);
  }

  /** Whether `trial` was finished by another process (the reaper) while this one ran it. */
  isLost(trial: Trial | number): boolean {
    return this.#lost.has(typeof trial === 'number' ? trial : trial.number);
  }

  #outcome(
    where: string,
    t: MutableTrial,
    result: TellResult,
  ): { state: TrialState; values: number[] | null; constraints: number[] | null; error: string | null } {
    let values: number[];
    let constraints: number[] | null = null;
    if (typeof result === 'number') values = [result];
    else if (Array.isArray(result)) values = result.slice();
    else if (result !== null && typeof result === 'object') {
      const r = result as Record<string, unknown>;
      if (r.state === 'pruned') {
        const step = lastStep(freeze(t));
        return {
          state: 'pruned',
          values: this.directions.length === 1 && step !== null ? [t.intermediate[step]!] : null,
          constraints: null,
          error: null,
        };
      }
      if (r.state === 'failed')
        return { state: 'failed', values: null, constraints: null, error: typeof r.error === 'string' ? r.error : 'failed' };
      if (r.state !== undefined && r.state !== 'complete')
        throw new TypeError(`${where}: state must be 'complete', 'pruned' or 'failed', got ${JSON.stringify(r.state)}`);
      if (r.values !== undefined) {
        if (!Array.isArray(r.values)) throw new TypeError(`${where}: values must be an array of numbers, got ${typeof r.values}`);
        values = r.values.slice();
      } else if (r.value !== undefined) values = [r.value as number];
      else throw new TypeError(`${where}: a result object needs values, value or state`);
      if (r.constraints !== undefined) constraints = this.#checkConstraints(where, r.constraints);
    } else
      throw new TypeError(
        `${where}: the result must be a number, an array of numbers or an object, got ${result === null ? 'null' : typeof result}`,
      );
    values.forEach((v, i) => {
      if (typeof v !== 'number') throw new TypeError(`${where}: value ${i} must be a number, got ${typeof v}`);
    });
    if (values.length !== this.directions.length)
      throw new RangeError(`${where}: got ${values.length} value(s) for a study with ${this.directions.length} objective(s)`);
    if (values.some((v) => Number.isNaN(v)))
      return { state: 'failed', values: null, constraints: null, error: 'the objective returned NaN' };
    if (constraints === null && this.#constraints) {
      const probe = freeze({ ...t, state: 'complete', values, frozen: null });
      constraints = this.#checkConstraints(`${where}: constraints function`, this.#constraints(probe));
    }
    return { state: 'complete', values, constraints, error: null };
  }

  #checkConstraints(where: string, c: unknown): number[] {
    if (!Array.isArray(c) || c.some((v) => typeof v !== 'number' || Number.isNaN(v)))
      throw new TypeError(`${where}: constraints must be an array of numbers (not NaN), got ${JSON.stringify(c)}`);
    return c.slice();
  }

  /**
   * Runs the objective on new trials until `trials` have run, `timeBudgetMs` has passed, the signal
   * aborts or the sampler is exhausted. Throwing `TrialPruned` ends a trial as pruned; any other
   * error marks it failed and, unless `catch` allows it, ends `optimize` with that error.
   */
  async optimize(objective: Objective, options: OptimizeOptions = {}): Promise<void> {
    const where = `Study '${this.name}'.optimize`;
    if (typeof objective !== 'function') throw new TypeError(`${where}: objective must be a function`);
    checkKnownKeys(where, options, ['trials', 'timeBudgetMs', 'catch', 'signal', 'callbacks']);
    const limit = options.trials === undefined ? Infinity : checkInteger(where, 'trials', options.trials);
    const timeBudgetMs = options.timeBudgetMs === undefined ? Infinity : checkNumber(where, 'timeBudgetMs', options.timeBudgetMs, 0);
    if (limit === Infinity && timeBudgetMs === Infinity && !options.signal && !this.sampler.isExhausted) {
      throw new TypeError(`${where}: give trials, timeBudgetMs or signal, or the loop would never end`);
    }
    const catches = options.catch ?? false;
    if (this.#shared) return this.#optimizeShared(objective, options, limit, timeBudgetMs);
    const start = Date.now();
    let yielded = start;
    for (let run = 0; run < limit; run++) {
      // Trials that never wait would keep timers and signal handlers (Ctrl-C) from ever running:
      // with a signal, let them in between trials, at most every 20 ms (a timer costs ~1 ms).
      if (options.signal && Date.now() - yielded > 20) {
        await new Promise((r) => setTimeout(r, 0));
        yielded = Date.now();
      }
      if (Date.now() - start >= timeBudgetMs || options.signal?.aborted) break;
      if (this.sampler.isExhausted?.({ studyName: this.name, directions: this.directions, trials: this.trials, seed: this.seed })) break;
      const trial = await this.askAsync();
      let record: FrozenTrial;
      try {
        record = await this.tell(trial, (await objective(trial)) as TellResult);
      } catch (err) {
        if (this.#lost.has(trial.number)) {
          // Reaped while it ran (this process stalled past the grace period): its outcome is
          // another process's business now.
          this.#stopBeating(trial.number);
          continue;
        }
        if (this.#state.trials[trial.number]!.state !== 'running') throw err;
        const pruned = err instanceof TrialPruned;
        record = await this.tell(
          trial,
          pruned ? { state: 'pruned' } : { state: 'failed', error: err instanceof Error ? err.message : String(err) },
        );
        if (!pruned && !(typeof catches === 'function' ? catches(err) : catches)) throw err;
      }
      for (const cb of options.callbacks ?? []) cb(this, record);
    }
  }

  // optimize in a shared storage. A trial's finish goes out in one append with the next trial's
  // claim (one write, one read per trial instead of two each); it is emitted as soon as the
  // objective returns, so it reaches the storage as early as a separate tell would.
  async #optimizeShared(objective: Objective, options: OptimizeOptions, limit: number, timeBudgetMs: number): Promise<void> {
    const where = `Study '${this.name}'.optimize`;
    const catches = options.catch ?? false;
    const start = Date.now();
    let told: number | undefined;
    const settle = async (readBack: boolean) => {
      if (told === undefined) return;
      const number = told;
      told = undefined;
      if (readBack) await this.#flushAndSync();
      this.#stopBeating(number);
      this.#told.delete(number);
      const t = this.#state.trials[number]!;
      if (t.state === 'running') throw new Error(`${where}: the finish of trial ${number} was appended but the storage does not show it`);
      for (const cb of options.callbacks ?? []) cb(this, freeze(t));
    };
    try {
      let yielded = start;
      for (let run = 0; run < limit; run++) {
        if (options.signal && Date.now() - yielded > 20) {
          await new Promise((r) => setTimeout(r, 0));
          yielded = Date.now();
        }
        if (Date.now() - start >= timeBudgetMs || options.signal?.aborted) break;
        if (Date.now() - this.#lastReap >= this.#shared!.heartbeatMs) await this.reap();
        if (this.sampler.isExhausted?.({ studyName: this.name, directions: this.directions, trials: this.trials, seed: this.seed })) break;
        const trial = await this.askAsync();
        await settle(false);
        const t = this.#state.trials[trial.number]!;
        let outcome: { state: TrialState; values: number[] | null; constraints: number[] | null; error: string | null };
        let failure: unknown;
        try {
          outcome = this.#outcome(`Study '${this.name}'.tell(trial ${trial.number})`, t, (await objective(trial)) as TellResult);
        } catch (err) {
          if (this.#lost.has(trial.number)) {
            // Reaped while it ran (this process stalled past the grace period): its outcome is
            // another process's business now.
            this.#stopBeating(trial.number);
            continue;
          }
          const pruned = err instanceof TrialPruned;
          outcome = this.#outcome(
            where,
            t,
            pruned ? { state: 'pruned' } : { state: 'failed', error: err instanceof Error ? err.message : String(err) },
          );
          if (!pruned && !(typeof catches === 'function' ? catches(err) : catches)) failure = err;
        }
        this.#contexts.delete(trial.number);
        this.#told.set(trial.number, JSON.stringify([outcome.state, outcome.values]));
        this._emit({ op: 'finish', study: this.name, number: trial.number, at: Date.now(), ...outcome });
        told = trial.number;
        if (failure !== undefined) {
          await settle(true);
          throw failure;
        }
      }
    } finally {
      await settle(true);
    }
  }

  /**
   * Reads what other processes appended since the last read (shared storages; a no-op
   * otherwise). Asks, tells, heartbeats and the reaper sync by themselves.
   */
  sync(): Promise<void> {
    if (!this.#shared) return Promise.resolve();
    // One read at a time: two reads from the same position would apply events twice.
    const next = this.#syncing.then(() => this.#syncOnce());
    this.#syncing = next.catch(() => undefined);
    return next;
  }

  async #syncOnce(): Promise<void> {
    const storage = this.storage as SharedStudyStorage;
    this.#applyRead(await storage.readSince(this.name, this.#cursor));
  }

  #applyRead({ events, cursor }: { events: StudyEvent[]; cursor: number }): void {
    for (const e of events) {
      if (e.op === 'finish') this.#noteFinish(e);
      this.#state.apply(e);
    }
    this.#cursor = cursor;
  }

  // flush() then sync() in one round trip where the storage appends and reads at once: what is
  // pending goes out with the read (after any append already on its way, so order is kept).
  async #flushAndSync(): Promise<void> {
    const storage = this.storage as SharedStudyStorage;
    if (!storage.appendAndRead) {
      await this.flush();
      return this.sync();
    }
    while (this.#appending) await this.#appending;
    this.#checkWrites();
    const batch = this.#pending.splice(0);
    if (batch.length === 0) return this.sync();
    const next = this.#syncing.then(async () => this.#applyRead(await storage.appendAndRead!(this.name, batch, this.#cursor)));
    this.#syncing = next.catch(() => undefined);
    const appending = next.then(
      () => undefined,
      (err) => {
        this.#writeError ??= err;
        this.#pending.length = 0;
      },
    );
    this.#appending = appending;
    await appending;
    if (this.#appending === appending) this.#appending = null;
    this.#checkWrites();
  }

  // A finish for one of this process's running trials that is not the outcome it told: another
  // process (the reaper) ended the trial, and this process's work on it no longer counts.
  #noteFinish(e: Extract<StudyEvent, { op: 'finish' }>): void {
    const t = this.#state.trials[e.number];
    if (!t || t.state !== 'running' || !(this.#beating.has(e.number) || this.#released.has(e.number))) return;
    if (this.#told.get(e.number) === JSON.stringify([e.state, e.values])) return;
    this.#lost.add(e.number);
    this.#stopBeating(e.number);
  }

  /**
   * Fails running trials of other processes whose heartbeat is older than `graceMs` by the
   * storage's clock, or whose process on this host is gone, and (with `requeue`) puts their
   * parameters back on the queue. Returns the numbers it failed. Shared storages only; asks,
   * heartbeats and `optimize` call it by themselves.
   */
  async reap(): Promise<number[]> {
    const shared = this.#shared;
    if (!shared) return [];
    this.#lastReap = Date.now();
    await this.sync();
    const others = this.#state.trials.filter(
      (t) =>
        t.state === 'running' &&
        !this.#beating.has(t.number) &&
        (this.#released.has(t.number) || !(t.claim !== null && shared.writer!.owns(t.claim))),
    );
    if (others.length === 0) return [];
    const storage = this.storage as SharedStudyStorage;
    const { now, beats } = storage.heartbeats ? await storage.heartbeats(this.name) : { now: Date.now(), beats: this.#state.beats };
    const reaped: number[] = [];
    for (const t of others) {
      let error: string | undefined;
      if (t.claim === null || processIsGone(shared.writer!, t.claim))
        error = `${INTERRUPTED}${t.claim === null ? '' : ` (${t.claim.split('/').slice(0, 2).join(' pid ')})`}`;
      else {
        // A trial with no beat yet (its worker died right after asking) is timed from when this
        // process first saw it, by the same clock.
        const last = beats.get(t.number) ?? this.#unbeaten.get(t.number) ?? now;
        if (!beats.has(t.number)) this.#unbeaten.set(t.number, last);
        if (now - last > shared.graceMs)
          error = `stale: no heartbeat for ${((now - last) / 1000).toFixed(1)} s (grace ${shared.graceMs / 1000} s)`;
      }
      if (error === undefined) continue;
      reaped.push(t.number);
      this._emit({
        op: 'finish',
        study: this.name,
        number: t.number,
        at: Date.now(),
        state: 'failed',
        values: null,
        constraints: null,
        error,
        ...(shared.requeue ? { requeue: true } : {}),
      });
    }
    if (reaped.length > 0) await this.#flushAndSync();
    return reaped;
  }

  /**
   * Resolves once the study has events this process has not read, or after `timeoutMs` (shared
   * storages; PostgreSQL wakes waiters with LISTEN/NOTIFY). Workers wait here while every
   * remaining trial of a budget runs elsewhere.
   */
  async waitForChange(timeoutMs: number): Promise<void> {
    checkNumber(`Study '${this.name}'.waitForChange`, 'timeoutMs', timeoutMs, 0);
    const storage = this.storage as Partial<SharedStudyStorage>;
    if (this.#shared && storage.waitForEvents) await storage.waitForEvents(this.name, this.#cursor, timeoutMs);
    else await new Promise((r) => setTimeout(r, timeoutMs));
    await this.sync();
  }

  /** Stops heartbeats and waits for pending writes; the storage stays open (close it yourself). */
  async close(): Promise<void> {
    for (const n of [...this.#beating, ...this.#released]) this.#stopBeating(n);
    await this.flush();
  }

  /**
   * Hands a running trial's heartbeats to whoever runs it elsewhere (`kiln serve` asks trials for
   * HTTP clients, which beat their own): this process stops beating it, and its reaper fails the
   * trial like another process's once its beats stop. Shared storages only.
   */
  release(trial: Trial | number): void {
    const number = typeof trial === 'number' ? trial : trial.number;
    if (!this.#shared) throw new TypeError(`Study '${this.name}'.release: only trials in a shared storage beat`);
    this.#running(number, 'release');
    this.#beating.delete(number);
    this.#released.add(number);
    this.#startTimer();
  }

  #startBeating(number: number): void {
    // The first beat comes with the next tick: until then the reaper times the trial from when
    // it first saw it, which saves every trial a write.
    this.#beating.add(number);
    this.#startTimer();
  }

  #startTimer(): void {
    const shared = this.#shared!;
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#tick(), shared.heartbeatMs);
      // Heartbeats must not keep a finished process alive.
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  #stopBeating(number: number): void {
    this.#beating.delete(number);
    this.#released.delete(number);
    if (this.#beating.size === 0 && this.#released.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  // The timer runs on this thread's event loop, so trials training on worker threads beat too;
  // each tick also reads the log (pruners see other workers' reports) and reaps.
  async #tick(): Promise<void> {
    try {
      await this.#beat([...this.#beating]);
      await this.reap();
    } catch {
      // A missed beat is retried on the next tick; the reaper's grace covers several.
    }
  }

  async #beat(numbers: number[]): Promise<void> {
    if (numbers.length === 0) return;
    const storage = this.storage as SharedStudyStorage;
    try {
      if (storage.heartbeat) await storage.heartbeat(this.name, numbers);
      else for (const number of numbers) this._emit({ op: 'beat', study: this.name, number, at: Date.now() });
    } catch {
      // As in #tick: the next beat may get through.
    }
  }

  /** Resolves when every event emitted so far is stored; rejects if a write failed. */
  async flush(): Promise<void> {
    if (this.#tail) await this.#tail;
    while (this.#appending) await this.#appending;
    this.#checkWrites();
  }

  /** Parameter importances of the complete trials (see `parameterImportances`). */
  importances(options?: ImportanceOptions): Record<string, number> {
    return parameterImportances(this.trials, this.directions, options);
  }

  /** Trials as CSV, one row per trial (see `trialsToCsv`). */
  toCSV(): string {
    return trialsToCsv(this.trials, this.directions);
  }

  toJSON(): StudyJson {
    return studyToJson(this.name, this.directions, this.seed, this.trials);
  }

  // The trials as samplers see them: running trials also show the values their joint sample
  // chose and the objective has not suggested yet, so a batch asked at once can spread out.
  #samplerView(): FrozenTrial[] {
    return this.#state.trials.map((t) => {
      const pending = t.state === 'running' ? this.#contexts.get(t.number)?.relative : undefined;
      if (!pending || Object.keys(pending).every((name) => Object.hasOwn(t.params, name))) return freeze(t);
      return Object.freeze({ ...freeze(t), params: Object.freeze({ ...pending, ...t.params }) });
    });
  }

  #checkWrites(): void {
    if (this.#writeError !== undefined)
      throw new Error(
        `Study '${this.name}': writing to the storage failed: ${(this.#writeError as Error)?.message ?? String(this.#writeError)}`,
      );
  }

  #running(number: number, what: string): MutableTrial {
    const t = this.#state.trials[number];
    if (!t) throw new RangeError(`Study '${this.name}'.${what}: there is no trial ${number}`);
    if (t.state !== 'running') throw new Error(`Study '${this.name}'.${what}: trial ${number} is already ${t.state}`);
    return t;
  }

  #suggest(number: number, name: string, d: Distribution, where: string): ParamValue {
    const t = this.#running(number, where);
    // Own keys only: a parameter may be called 'constructor' or 'toString'.
    const had = Object.hasOwn(t.distributions, name) ? t.distributions[name] : undefined;
    if (had) {
      if (!sameDistribution(had, d))
        throw new RangeError(
          `${where}: trial ${number} already suggested '${name}' from ${describeDistribution(had)}; it cannot be suggested again from ${describeDistribution(d)}`,
        );
      return t.params[name]!;
    }
    const first = this.#state.firstSeen.get(name);
    if (first && (first.kind !== d.kind || (d.kind === 'categorical' && !sameDistribution(first, d)))) {
      throw new RangeError(
        `${where}: '${name}' was ${describeDistribution(first)} in earlier trials; a parameter keeps its ${first.kind !== d.kind ? 'kind' : 'choices'} across trials, got ${describeDistribution(d)}`,
      );
    }
    const { ctx, relative } = this.#contexts.get(number) ?? {
      ctx: {
        studyName: this.name,
        directions: this.directions,
        trials: this.#samplerView().filter((x) => x.number !== number),
        seed: this.seed,
      },
      relative: {},
    };
    let value: ParamValue;
    if (Object.hasOwn(t.fixed, name)) {
      value = t.fixed[name]!;
      if (!contains(d, value))
        throw new RangeError(`${where}: the fixed value ${JSON.stringify(value)} of trial ${number} is outside ${describeDistribution(d)}`);
    } else if (Object.hasOwn(relative, name) && contains(d, relative[name])) value = relative[name]!;
    else {
      value = this.sampler.sampleIndependent(ctx, freeze(t), name, d);
      if (!contains(d, value))
        throw new RangeError(`${where}: the sampler returned ${JSON.stringify(value)}, outside ${describeDistribution(d)}`);
    }
    this._emit({ op: 'param', study: this.name, number, name, distribution: d, value });
    return value;
  }

  #shouldPrune(number: number): boolean {
    const t = this.#running(number, 'shouldPrune');
    if (this.directions.length !== 1)
      throw new RangeError(
        `Study '${this.name}': pruning is for single-objective studies; this one has ${this.directions.length} objectives`,
      );
    const ctx: PrunerContext = {
      studyName: this.name,
      directions: this.directions,
      trials: this.trials,
      setSystemAttr: (n, key, value) => {
        if (!this.#state.trials[n]) throw new RangeError(`PrunerContext.setSystemAttr: there is no trial ${n}`);
        this._emit({ op: 'attr', study: this.name, number: n, key, value, system: true });
      },
    };
    return this.pruner.prune(ctx, freeze(t));
  }

  /** @internal Applies an event and stores it: the study's only way to change. */
  _emit(e: StudyEvent): void {
    if (this.#shared) {
      // Trials, finishes and the queue take effect in log order, so they are applied when read
      // back; a trial's own params, reports and attributes are applied now (reading them back
      // changes nothing).
      if (e.op === 'param' || e.op === 'report' || e.op === 'attr') this.#state.apply(e);
      this.#pending.push(e);
      this.#tail ??= this.#pump();
      return;
    }
    this.#state.apply(e);
    if (this.#tail) {
      this.#track(this.#tail.then(() => this.storage.append([e])));
      return;
    }
    const pending = this.storage.append([e]);
    if (pending) this.#track(Promise.resolve(pending));
  }

  // Appends what was emitted in batches: events emitted while one append is on its way go out
  // together in the next, in order.
  async #pump(): Promise<void> {
    // One macrotask's wait: an objective that suggests, reports and returns at once costs a
    // single append with its finish.
    await new Promise((r) => setTimeout(r, 0));
    for (;;) {
      // One append at a time (a combined append and read may be on its way), so order is kept.
      while (this.#appending) await this.#appending;
      if (this.#pending.length === 0) break;
      const batch = this.#pending.splice(0);
      const appending = Promise.resolve(this.storage.append(batch)).then(
        () => undefined,
        (err) => {
          this.#writeError ??= err;
          this.#pending.length = 0;
        },
      );
      this.#appending = appending;
      await appending;
      if (this.#appending === appending) this.#appending = null;
    }
    this.#tail = null;
  }

  #track(p: Promise<void>): void {
    const tracked: Promise<void> = p.then(
      () => {
        if (this.#tail === tracked) this.#tail = null;
      },
      (err) => {
        this.#writeError ??= err;
        if (this.#tail === tracked) this.#tail = null;
      },
    );
    this.#tail = tracked;
  }
}
