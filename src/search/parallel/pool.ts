// Trials of one study run on a pool of workers, each with its own core instance made from one
// compiled module. Trials go out in batches of `workers` from `askBatch` (constant liar), and
// with `reproducible` (the default) intermediate reports are decided at barriers: once every
// running trial of the batch waits on a report, they are handled in (step, trial) order. So for a
// fixed worker count the same seed gives the same trials, pruning decisions and values,
// whatever the threads' timing.
import { compiledModule } from '../../core/wasm.ts';
import { checkInteger, checkKnownKeys, checkNumber } from '../../core/errors.ts';
import { sharedMemoryAvailable, spawnWorker, type WorkerHandle } from '../../platform/workers.ts';
import type { SpaceSpec } from '../space.ts';
import type { Study, TellResult } from '../study.ts';
import type { Trial } from '../trial.ts';
import type { FrozenTrial } from '../trial-record.ts';
import { AnswerChannel, type Answer, type ErrorInfo, type FromWorker } from './protocol.ts';

/** Options of `optimizeParallel`: the objective module, worker count and trial budget. */
export interface OptimizeParallelOptions {
  /** The objective module: its URL (or path-free URL string) exporting `objective(trial, context,
   *  emit)`; see `WorkerObjective`. `.ts` modules run through tsx in Node. */
  module: URL | string;
  /** Number of workers, each running one trial at a time (default 2). */
  workers?: number;
  trials?: number;
  /** Stop asking for new batches after this long (running trials finish). */
  timeBudgetMs?: number;
  /** Suggested at ask time, so batches are fixed before any worker starts (optional). */
  space?: SpaceSpec;
  /** Structured-cloneable value every worker's objective receives (data, settings). */
  context?: unknown;
  /** Whether an objective error (rebuilt as an Error with its name and message) lets the study go
   *  on. Default false: the study stops after the batch. A crashing worker never stops it. */
  catch?: boolean | ((error: Error) => boolean);
  /** Handle reports at barriers so runs repeat exactly (default true); false decides each report
   *  as it comes, which keeps workers busier when trials differ in speed. */
  reproducible?: boolean;
  signal?: AbortSignal;
  callbacks?: ((study: Study, trial: FrozenTrial) => void)[];
  /** What an objective returned besides its values (`{ values, artifact }`), e.g. model bytes. */
  onArtifact?: (trial: FrozenTrial, artifact: unknown) => void;
  /** What an objective passed to `emit`. */
  onProgress?: (trial: number, data: unknown) => void;
  /** The worker entry (default: the one next to this file; the bundle's `kiln-worker.mjs`). */
  workerEntry?: URL;
}

const KEYS = [
  'module',
  'workers',
  'trials',
  'timeBudgetMs',
  'space',
  'context',
  'catch',
  'reproducible',
  'signal',
  'callbacks',
  'onArtifact',
  'onProgress',
  'workerEntry',
];

const defaultEntry = (): URL => new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './kiln-worker.mjs', import.meta.url);

type Outcome =
  { kind: 'done'; result: unknown; artifact?: unknown } | { kind: 'failed'; error: ErrorInfo; crashed: boolean } | { kind: 'pruned' };

interface Slot {
  index: number;
  handle?: WorkerHandle;
  /** The channel of the current worker (each start gets a fresh one). */
  answers: AnswerChannel;
  ready?: Promise<void>;
  trial?: Trial;
  finish?: (o: Outcome) => void;
  /** A report waiting for its decision (reproducible mode). */
  waiting?: { seq: number; value: number; step: number };
  crashed: boolean;
  /** Counts starts, so events of a replaced worker are ignored. */
  generation: number;
}

/**
 * Runs trials of `study` on `workers` threads. The objective is a module, not a closure, since a
 * worker cannot share the caller's scope.
 *
 * @example
 * // branin.mjs: export function objective(t) { const x = t.suggestFloat('x', -5, 10); … return value; }
 * const study = await createStudy({ sampler: new TpeSampler({ seed: 1, constantLiar: true }) });
 * await optimizeParallel(study, { module: new URL('./branin.mjs', import.meta.url), workers: 4, trials: 64 });
 */
export async function optimizeParallel(study: Study, options: OptimizeParallelOptions): Promise<void> {
  const where = `optimizeParallel(study '${study?.name}')`;
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: options must be an object with a module`);
  checkKnownKeys(where, options, KEYS);
  const moduleUrl = options.module instanceof URL ? options.module.href : options.module;
  if (typeof moduleUrl !== 'string' || !/^[a-z][a-z0-9+.-]+:/i.test(moduleUrl))
    throw new TypeError(
      `${where}: module must be a URL (e.g. new URL('./objective.mjs', import.meta.url)), got ${JSON.stringify(options.module)}`,
    );
  const workers = checkInteger(where, 'workers', options.workers ?? 2, 1, 1024);
  const limit = options.trials === undefined ? Infinity : checkInteger(where, 'trials', options.trials, 0);
  const timeBudgetMs = options.timeBudgetMs === undefined ? Infinity : checkNumber(where, 'timeBudgetMs', options.timeBudgetMs, 0);
  if (limit === Infinity && timeBudgetMs === Infinity && !options.signal)
    throw new TypeError(`${where}: give trials, timeBudgetMs or signal, or the loop would never end`);
  if (!sharedMemoryAvailable())
    throw new Error(
      `${where}: workers answer suggestions and pruning through SharedArrayBuffer, which this context lacks (browsers need cross-origin isolation)`,
    );
  const reproducible = options.reproducible ?? true;
  const entry = options.workerEntry ?? defaultEntry();
  const typescript = entry.pathname.endsWith('.ts') || new URL(moduleUrl).pathname.endsWith('.ts');
  const wasm = compiledModule();
  const slots: Slot[] = Array.from({ length: workers }, (_, index) => ({
    index,
    answers: new AnswerChannel(),
    crashed: false,
    generation: 0,
  }));

  const answer = (slot: Slot, seq: number, a: Answer) => void slot.answers.answer(seq, a);
  const attempt = (f: () => unknown): Answer => {
    try {
      return { value: f() };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  };
  const decide = (slot: Slot, report: { seq: number; value: number; step: number }) =>
    answer(
      slot,
      report.seq,
      attempt(() => {
        slot.trial!.report(report.value, report.step);
        return study.directions.length === 1 ? { prune: slot.trial!.shouldPrune() } : { prune: false };
      }),
    );
  // Every running trial waits on a report (or has finished): handle them all, in (step, trial) order.
  const barrier = () => {
    if (!reproducible) return;
    const busy = slots.filter((s) => s.trial);
    if (busy.length === 0 || busy.some((s) => !s.waiting)) return;
    busy.sort((a, b) => a.waiting!.step - b.waiting!.step || a.trial!.number - b.trial!.number);
    for (const s of busy) {
      const report = s.waiting!;
      s.waiting = undefined;
      decide(s, report);
    }
  };
  const settle = (slot: Slot, o: Outcome) => {
    const finish = slot.finish;
    slot.finish = undefined;
    slot.waiting = undefined;
    finish?.(o);
  };

  const onMessage = (slot: Slot, m: FromWorker) => {
    if (m.kind === 'suggest' || m.kind === 'report') slot.answers.asked(m.seq);
    if (m.kind === 'suggest')
      answer(
        slot,
        m.seq,
        attempt(() => slot.trial!.suggest(m.name, m.distribution)),
      );
    else if (m.kind === 'report') {
      if (reproducible) {
        slot.waiting = { seq: m.seq, value: m.value, step: m.step };
        barrier();
      } else decide(slot, m);
    } else if (m.kind === 'attr') slot.trial?.setUserAttr(m.key, m.value);
    else if (m.kind === 'progress') {
      if (slot.trial) options.onProgress?.(slot.trial.number, m.data);
    } else if (m.kind === 'done' || m.kind === 'pruned') settle(slot, m);
    else if (m.kind === 'failed') settle(slot, { ...m, crashed: false });
  };
  const crash = (slot: Slot, error: Error | string) => {
    if (slot.crashed) return;
    slot.crashed = true;
    const handle = slot.handle;
    slot.handle = undefined;
    slot.ready = undefined;
    void handle?.terminate();
    settle(slot, {
      kind: 'failed',
      crashed: true,
      error: { name: 'WorkerCrash', message: `worker ${slot.index} crashed: ${typeof error === 'string' ? error : error.message}` },
    });
  };
  const startWorker = (slot: Slot): Promise<void> => {
    slot.crashed = false;
    const generation = ++slot.generation;
    // A fresh channel: a worker still being terminated keeps the old one to itself.
    slot.answers = new AnswerChannel();
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const fail = (error: Error | string) => {
        if (generation !== slot.generation) return;
        if (!ready)
          reject(new Error(`${where}: worker ${slot.index} could not start: ${typeof error === 'string' ? error : error.message}`));
        else crash(slot, error);
      };
      spawnWorker(
        entry,
        {
          message: (data) => {
            const m = data as FromWorker;
            if (generation !== slot.generation) return;
            if (m.kind === 'ready') {
              ready = true;
              resolve();
            } else if (m.kind === 'fatal') fail(`${m.error.name}: ${m.error.message}`);
            else onMessage(slot, m);
          },
          error: (error) => fail(error),
          exit: (code) => fail(`exited with code ${code}`),
        },
        { typescript },
      ).then((handle) => {
        slot.handle = handle;
        handle.post({ kind: 'init', wasm, objective: moduleUrl, shared: slot.answers.shared, context: options.context });
      }, reject);
    });
  };
  const runOn = async (slot: Slot, trial: Trial): Promise<{ trial: Trial; outcome: Outcome }> => {
    // The trial counts as running from now, so barriers wait for a worker that is still starting.
    slot.trial = trial;
    try {
      if (!slot.handle) slot.ready = startWorker(slot);
      await slot.ready;
    } catch (error) {
      slot.trial = undefined;
      barrier();
      throw error;
    }
    const outcome = await new Promise<Outcome>((resolve) => {
      slot.finish = resolve;
      const record = trial.record;
      slot.handle!.post({ kind: 'trial', number: trial.number, params: { ...record.params }, distributions: { ...record.distributions } });
    });
    slot.trial = undefined;
    barrier();
    return { trial, outcome };
  };

  const catches = options.catch ?? false;
  const start = Date.now();
  let asked = 0;
  const abort = () => slots.forEach((s) => crash(s, 'aborted'));
  options.signal?.addEventListener('abort', abort);
  try {
    while (asked < limit) {
      if (Date.now() - start >= timeBudgetMs || options.signal?.aborted) break;
      if (study.sampler.isExhausted?.({ studyName: study.name, directions: study.directions, trials: study.trials, seed: study.seed }))
        break;
      const batch = await study.askBatchAsync(Math.min(workers, limit - asked), options.space);
      asked += batch.length;
      let stop: Error | undefined;
      await Promise.all(
        batch.map(async (t, i) => {
          const { outcome } = await runOn(slots[i]!, t);
          let result: TellResult;
          if (outcome.kind === 'pruned') result = { state: 'pruned' };
          else if (outcome.kind === 'failed') {
            result = { state: 'failed', error: outcome.error.message };
            const error = Object.assign(new Error(outcome.error.message), { name: outcome.error.name });
            if (!outcome.crashed && !(typeof catches === 'function' ? catches(error) : catches)) stop ??= error;
          } else result = outcome.result as TellResult;
          let record: FrozenTrial;
          try {
            record = await study.tell(t, result);
          } catch (error) {
            record = await study.tell(t, { state: 'failed', error: error instanceof Error ? error.message : String(error) });
            stop ??= error as Error;
          }
          if (outcome.kind === 'done' && outcome.artifact !== undefined && record.state === 'complete')
            options.onArtifact?.(record, outcome.artifact);
          for (const cb of options.callbacks ?? []) cb(study, record);
        }),
      );
      if (stop) throw stop;
    }
  } finally {
    options.signal?.removeEventListener('abort', abort);
    await Promise.all(
      slots.map((s) => {
        const h = s.handle;
        s.handle = undefined;
        s.crashed = true;
        return h?.terminate();
      }),
    );
  }
}
