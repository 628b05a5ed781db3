// What every trial worker runs: it makes its own core instance from the compiled module it
// is sent, imports the objective module, and runs one trial at a time. Suggestions not fixed at
// ask time and pruning decisions come from the study's thread, synchronously. After a pruned or
// failed trial the core is instantiated afresh, which gives back everything the trial held.
import { init } from '../../core/wasm.ts';
import { parentChannel } from '../../platform/workers.ts';
import { sameDistribution, type Distribution, type ParamValue } from '../distributions.ts';
import { Trial, TrialPruned, type TrialHost } from '../trial.ts';
import type { FrozenTrial } from '../trial-record.ts';
import { QuestionChannel, errorInfo, type FromWorker, type ToWorker } from './protocol.ts';
import type { WorkerObjective } from './worker-objective.ts';

type Post = (m: FromWorker) => void;
interface Setup {
  wasm: WebAssembly.Module;
  objective: WorkerObjective;
  questions: QuestionChannel;
  context: unknown;
}

/** Runs this worker's side of the trial protocol. The built package's `kiln-worker.mjs` is one
 *  line calling it through `kiln.mjs`, so a worker's objective module and its runner share one
 *  copy of the library and so one core instance. */
export async function runTrialWorker(): Promise<void> {
  const channel = await parentChannel();
  const post: Post = (m) => channel.post(m);
  let setup: Setup | undefined;
  channel.onMessage((data) => {
    const m = data as ToWorker;
    if (m.kind === 'init') void start(m, post, (s) => (setup = s));
    else if (m.kind === 'trial') void run(m, setup!, post);
  });
}

// Ready is posted only once the setup is in place: the first trial may follow at once.
async function start(m: Extract<ToWorker, { kind: 'init' }>, post: Post, ready: (s: Setup) => void): Promise<void> {
  try {
    await init(m.wasm);
    const mod = (await import(m.objective)) as { objective?: unknown };
    if (typeof mod.objective !== 'function')
      throw new TypeError(`optimizeParallel: module ${m.objective} must export a function named objective`);
    ready({
      wasm: m.wasm,
      objective: mod.objective as WorkerObjective,
      questions: new QuestionChannel(m.shared, post),
      context: m.context,
    });
    post({ kind: 'ready' });
  } catch (error) {
    post({ kind: 'fatal', error: errorInfo(error) });
  }
}

async function run(m: Extract<ToWorker, { kind: 'trial' }>, setup: Setup, post: Post): Promise<void> {
  const { objective, questions, context, wasm } = setup;
  const params: Record<string, ParamValue> = { ...m.params };
  const distributions: Record<string, Distribution> = { ...m.distributions };
  const intermediate: Record<number, number> = {};
  const userAttrs: Record<string, unknown> = {};
  const startedAt = Date.now();
  let decision: { prune: boolean } | { error: string } = { prune: false };
  const host: TrialHost = {
    suggest(_, name, d) {
      if (Object.hasOwn(params, name) && sameDistribution(distributions[name]!, d)) return params[name]!;
      const value = questions.ask({ kind: 'suggest', name, distribution: d }) as ParamValue;
      params[name] = value;
      distributions[name] = d;
      return value;
    },
    report(_, value, step) {
      if (step in intermediate) return;
      intermediate[step] = value;
      decision = questions.ask({ kind: 'report', value, step }) as typeof decision;
    },
    shouldPrune() {
      if ('error' in decision) throw new Error(decision.error);
      return decision.prune;
    },
    setUserAttr(_, key, value) {
      userAttrs[key] = JSON.parse(JSON.stringify(value ?? null));
      post({ kind: 'attr', key, value: userAttrs[key] });
    },
    record: (number): FrozenTrial => ({
      number,
      state: 'running',
      params: { ...params },
      distributions: { ...distributions },
      values: null,
      intermediate: { ...intermediate },
      constraints: null,
      userAttrs: { ...userAttrs },
      systemAttrs: {},
      startedAt,
      finishedAt: null,
      durationMs: null,
      error: null,
    }),
  };
  try {
    const out = await objective(new Trial(host, m.number), context, (data) => post({ kind: 'progress', data }));
    if (out !== null && typeof out === 'object' && !Array.isArray(out) && 'artifact' in out) {
      const { artifact, ...result } = out as { artifact: unknown };
      post({ kind: 'done', result, artifact });
    } else post({ kind: 'done', result: out });
  } catch (error) {
    await init(wasm);
    // Plain modules that do not import kiln may throw any error named TrialPruned.
    post(
      error instanceof TrialPruned || (error as Error)?.name === 'TrialPruned'
        ? { kind: 'pruned' }
        : { kind: 'failed', error: errorInfo(error) },
    );
  }
}
