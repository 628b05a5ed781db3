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
import { InMemoryStorage, type StudyStorage } from './storage/storage.ts';
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
}

/** What `tell` accepts: the objective's value(s), or an explicit outcome. */
export type TellResult =
  | number
  | readonly number[]
  | { values?: readonly number[]; value?: number; constraints?: readonly number[]; state?: 'complete' }
  | { state: 'pruned' }
  | { state: 'failed'; error?: string };

/** Options of `Study.optimize`: trial count, timeout, error handling, abort and callbacks. */
export interface OptimizeOptions {
  /** Number of trials to run in this call. */
  trials?: number;
  /** Stop asking for new trials after this many milliseconds (running ones finish). */
  timeoutMs?: number;
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

const STUDY_KEYS = ['name', 'direction', 'directions', 'sampler', 'pruner', 'storage', 'seed', 'loadIfExists', 'constraints'];

function checkDirections(where: string, options: StudyOptions): Direction[] | undefined {
  if (options.direction !== undefined && options.directions !== undefined) throw new TypeError(`${where}: give direction or directions, not both`);
  const list = options.directions ?? (options.direction !== undefined ? [options.direction] : undefined);
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.length === 0) throw new RangeError(`${where}: directions must be a non-empty array`);
  list.forEach((d, i) => {
    if (d !== 'minimize' && d !== 'maximize') throw new TypeError(`${where}: directions[${i}] must be 'minimize' or 'maximize', got ${JSON.stringify(d)}`);
  });
  return list.slice();
}

/**
 * Creates a study, or reopens one kept in `storage` (with `loadIfExists`). Trials a killed
 * process left running are marked failed with error 'interrupted' when the study reopens; their
 * parameters are not re-queued (use `enqueueTrial` to retry them).
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
  if (options.constraints !== undefined && typeof options.constraints !== 'function') throw new TypeError(`${where}: constraints must be a function returning an array of numbers`);
  if (options.sampler !== undefined && typeof options.sampler?.sampleIndependent !== 'function') throw new TypeError(`${where}: sampler must implement sampleIndependent`);
  if (options.pruner !== undefined && typeof options.pruner?.prune !== 'function') throw new TypeError(`${where}: pruner must implement prune`);
  const storage = options.storage ?? new InMemoryStorage();
  const events = (await storage.load()).filter((e) => e.study === name);
  const state = new StudyState();
  if (events.length > 0) {
    if (!options.loadIfExists) throw new Error(`${where}: the storage already holds a study named '${name}'; pass loadIfExists: true to resume it, or choose another name`);
    if (events[0]!.op !== 'study') throw new RangeError(`${where}: the stored events of '${name}' do not start with the study itself`);
    for (const e of events) state.apply(e);
    if (directions && directions.join() !== state.directions.join()) {
      throw new RangeError(`${where}: study '${name}' was created with directions [${state.directions.join(', ')}], got [${directions.join(', ')}]`);
    }
    if (options.seed !== undefined && options.seed !== state.seed) throw new RangeError(`${where}: study '${name}' was created with seed ${state.seed}, got ${options.seed}`);
  }
  const study = new Study(name, storage, state, options);
  if (events.length === 0) study._emit({ op: 'study', study: name, directions: directions ?? ['minimize'], seed: options.seed ?? 0, at: Date.now() });
  for (const t of state.trials) {
    if (t.state === 'running') study._emit({ op: 'finish', study: name, number: t.number, at: Date.now(), state: 'failed', values: null, constraints: null, error: 'interrupted: the process running this trial ended before it finished' });
  }
  await study.flush();
  return study;
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
  #firstSeen = new Map<string, Distribution>();
  #tail: Promise<void> | null = null;
  #writeError: unknown = undefined;
  #host: TrialHost;

  /** Use `createStudy`. */
  constructor(name: string, storage: StudyStorage, state: StudyState, options: StudyOptions) {
    this.name = name;
    this.storage = storage;
    this.#state = state;
    this.sampler = options.sampler ?? new TpeSampler();
    this.pruner = options.pruner ?? new MedianPruner();
    this.#constraints = options.constraints;
    for (const t of state.trials) for (const [n, d] of Object.entries(t.distributions)) if (!this.#firstSeen.has(n)) this.#firstSeen.set(n, d);
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
    if (this.directions.length !== 1) throw new RangeError(`Study '${this.name}': bestTrial is for single-objective studies; this one has ${this.directions.length} objectives, use paretoFront`);
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

  /** Fixes the parameters of a future trial (asked in order; names it does not cover are sampled). */
  enqueueTrial(params: Record<string, ParamValue>): void {
    if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new TypeError(`Study '${this.name}'.enqueueTrial: params must be an object`);
    this._emit({ op: 'enqueue', study: this.name, params: JSON.parse(JSON.stringify(params)) });
  }

  /**
   * Starts a trial. Joint (relative) sampling happens now, against the study as it is; the
   * objective then suggests its parameters on the returned trial and hands the result to `tell`.
   */
  ask(fixedParams?: Record<string, ParamValue>): Trial {
    this.#checkWrites();
    const number = this.#state.trials.length;
    const queued = fixedParams === undefined && this.#state.queue.length > 0;
    const fixed = fixedParams ?? this.#state.queue[0];
    if (fixed !== undefined && (fixed === null || typeof fixed !== 'object')) throw new TypeError(`Study '${this.name}'.ask: fixedParams must be an object`);
    const snapshot = this.#samplerView();
    this._emit({ op: 'trial', study: this.name, number, at: Date.now(), ...(fixed ? { fixed: { ...fixed } } : {}), ...(queued ? { queued: true } : {}) });
    const ctx: SamplerContext = { studyName: this.name, directions: this.directions, trials: snapshot, seed: this.seed };
    const record = freeze(this.#state.trials[number]!);
    let relative: Record<string, ParamValue>;
    try {
      relative = this.sampler.sampleRelative?.(ctx, record) ?? {};
    } catch (err) {
      this._emit({ op: 'finish', study: this.name, number, at: Date.now(), state: 'failed', values: null, constraints: null, error: `sampler: ${(err as Error)?.message ?? String(err)}` });
      throw err;
    }
    this.#contexts.set(number, { ctx, relative });
    return new Trial(this.#host, number);
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
    const t = this.#running(number, 'tell');
    const outcome = this.#outcome(where, t, result);
    this.#contexts.delete(number);
    this._emit({ op: 'finish', study: this.name, number, at: Date.now(), ...outcome });
    await this.flush();
    return freeze(t);
  }

  #outcome(where: string, t: MutableTrial, result: TellResult): { state: TrialState; values: number[] | null; constraints: number[] | null; error: string | null } {
    let values: number[];
    let constraints: number[] | null = null;
    if (typeof result === 'number') values = [result];
    else if (Array.isArray(result)) values = result.slice();
    else if (result !== null && typeof result === 'object') {
      const r = result as Record<string, unknown>;
      if (r.state === 'pruned') {
        const step = lastStep(freeze(t));
        return { state: 'pruned', values: this.directions.length === 1 && step !== null ? [t.intermediate[step]!] : null, constraints: null, error: null };
      }
      if (r.state === 'failed') return { state: 'failed', values: null, constraints: null, error: typeof r.error === 'string' ? r.error : 'failed' };
      if (r.state !== undefined && r.state !== 'complete') throw new TypeError(`${where}: state must be 'complete', 'pruned' or 'failed', got ${JSON.stringify(r.state)}`);
      if (r.values !== undefined) {
        if (!Array.isArray(r.values)) throw new TypeError(`${where}: values must be an array of numbers, got ${typeof r.values}`);
        values = r.values.slice();
      }
      else if (r.value !== undefined) values = [r.value as number];
      else throw new TypeError(`${where}: a result object needs values, value or state`);
      if (r.constraints !== undefined) constraints = this.#checkConstraints(where, r.constraints);
    } else throw new TypeError(`${where}: the result must be a number, an array of numbers or an object, got ${result === null ? 'null' : typeof result}`);
    values.forEach((v, i) => {
      if (typeof v !== 'number') throw new TypeError(`${where}: value ${i} must be a number, got ${typeof v}`);
    });
    if (values.length !== this.directions.length) throw new RangeError(`${where}: got ${values.length} value(s) for a study with ${this.directions.length} objective(s)`);
    if (values.some((v) => Number.isNaN(v))) return { state: 'failed', values: null, constraints: null, error: 'the objective returned NaN' };
    if (constraints === null && this.#constraints) {
      const probe = freeze({ ...t, state: 'complete', values, frozen: null });
      constraints = this.#checkConstraints(`${where}: constraints function`, this.#constraints(probe));
    }
    return { state: 'complete', values, constraints, error: null };
  }

  #checkConstraints(where: string, c: unknown): number[] {
    if (!Array.isArray(c) || c.some((v) => typeof v !== 'number' || Number.isNaN(v))) throw new TypeError(`${where}: constraints must be an array of numbers (not NaN), got ${JSON.stringify(c)}`);
    return c.slice();
  }

  /**
   * Runs the objective on new trials until `trials` have run, `timeoutMs` has passed, the signal
   * aborts or the sampler is exhausted. Throwing `TrialPruned` ends a trial as pruned; any other
   * error marks it failed and, unless `catch` allows it, ends `optimize` with that error.
   */
  async optimize(objective: Objective, options: OptimizeOptions = {}): Promise<void> {
    const where = `Study '${this.name}'.optimize`;
    if (typeof objective !== 'function') throw new TypeError(`${where}: objective must be a function`);
    checkKnownKeys(where, options, ['trials', 'timeoutMs', 'catch', 'signal', 'callbacks']);
    const limit = options.trials === undefined ? Infinity : checkInteger(where, 'trials', options.trials);
    const timeout = options.timeoutMs === undefined ? Infinity : checkNumber(where, 'timeoutMs', options.timeoutMs, 0);
    if (limit === Infinity && timeout === Infinity && !options.signal && !this.sampler.isExhausted) {
      throw new TypeError(`${where}: give trials, timeoutMs or signal, or the loop would never end`);
    }
    const catches = options.catch ?? false;
    const start = Date.now();
    for (let run = 0; run < limit; run++) {
      if (Date.now() - start >= timeout || options.signal?.aborted) break;
      if (this.sampler.isExhausted?.({ studyName: this.name, directions: this.directions, trials: this.trials, seed: this.seed })) break;
      const trial = this.ask();
      let record: FrozenTrial;
      try {
        record = await this.tell(trial, (await objective(trial)) as TellResult);
      } catch (err) {
        if (this.#state.trials[trial.number]!.state !== 'running') throw err;
        const pruned = err instanceof TrialPruned;
        record = await this.tell(trial, pruned ? { state: 'pruned' } : { state: 'failed', error: err instanceof Error ? err.message : String(err) });
        if (!pruned && !(typeof catches === 'function' ? catches(err) : catches)) throw err;
      }
      for (const cb of options.callbacks ?? []) cb(this, record);
    }
  }

  /** Resolves when every event emitted so far is stored; rejects if a write failed. */
  async flush(): Promise<void> {
    if (this.#tail) await this.#tail;
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
      if (!pending || Object.keys(pending).every((name) => name in t.params)) return freeze(t);
      return Object.freeze({ ...freeze(t), params: Object.freeze({ ...pending, ...t.params }) });
    });
  }

  #checkWrites(): void {
    if (this.#writeError !== undefined) throw new Error(`Study '${this.name}': writing to the storage failed: ${(this.#writeError as Error)?.message ?? String(this.#writeError)}`);
  }

  #running(number: number, what: string): MutableTrial {
    const t = this.#state.trials[number];
    if (!t) throw new RangeError(`Study '${this.name}'.${what}: there is no trial ${number}`);
    if (t.state !== 'running') throw new Error(`Study '${this.name}'.${what}: trial ${number} is already ${t.state}`);
    return t;
  }

  #suggest(number: number, name: string, d: Distribution, where: string): ParamValue {
    const t = this.#running(number, where);
    const had = t.distributions[name];
    if (had) {
      if (!sameDistribution(had, d)) throw new RangeError(`${where}: trial ${number} already suggested '${name}' from ${describeDistribution(had)}; it cannot be suggested again from ${describeDistribution(d)}`);
      return t.params[name]!;
    }
    const first = this.#firstSeen.get(name);
    if (first && (first.kind !== d.kind || (d.kind === 'categorical' && !sameDistribution(first, d)))) {
      throw new RangeError(`${where}: '${name}' was ${describeDistribution(first)} in earlier trials; a parameter keeps its ${first.kind !== d.kind ? 'kind' : 'choices'} across trials, got ${describeDistribution(d)}`);
    }
    const { ctx, relative } = this.#contexts.get(number) ?? { ctx: { studyName: this.name, directions: this.directions, trials: this.#samplerView().filter((x) => x.number !== number), seed: this.seed }, relative: {} };
    let value: ParamValue;
    if (name in t.fixed) {
      value = t.fixed[name]!;
      if (!contains(d, value)) throw new RangeError(`${where}: the fixed value ${JSON.stringify(value)} of trial ${number} is outside ${describeDistribution(d)}`);
    } else if (name in relative && contains(d, relative[name])) value = relative[name]!;
    else {
      value = this.sampler.sampleIndependent(ctx, freeze(t), name, d);
      if (!contains(d, value)) throw new RangeError(`${where}: the sampler returned ${JSON.stringify(value)}, outside ${describeDistribution(d)}`);
    }
    if (!first) this.#firstSeen.set(name, d);
    this._emit({ op: 'param', study: this.name, number, name, distribution: d, value });
    return value;
  }

  #shouldPrune(number: number): boolean {
    const t = this.#running(number, 'shouldPrune');
    if (this.directions.length !== 1) throw new RangeError(`Study '${this.name}': pruning is for single-objective studies; this one has ${this.directions.length} objectives`);
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
    this.#state.apply(e);
    if (this.#tail) {
      this.#track(this.#tail.then(() => this.storage.append([e])));
      return;
    }
    const pending = this.storage.append([e]);
    if (pending) this.#track(Promise.resolve(pending));
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
