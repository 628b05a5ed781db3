// Architecture search on mnist: gradient-based search (one super-network, then the chosen network
// retrained from scratch) against random search and TPE + Hyperband over the same space (1 or 2
// hidden layers, widths 16–256, relu / tanh / gelu) with the same training recipe (Adam 1e-3,
// batch 64), in one process. Clocks stop while the test set is scored, so every method pays only
// for its own work; test accuracy is that of the model the method would return at that moment.
// npm run bench -- gradsearch   (KILN_BENCH_EPOCHS, KILN_BENCH_SEARCH_EPOCHS, KILN_BENCH_TPE_S)
import { Sequential, dense, fit, adam, evaluate, mnist, trainTestSplit, Rng, type Dataset, type Activation } from '../src/index.ts';
import { gradientSearch } from '../src/gradsearch/search.ts';
import type { HiddenLayer } from '../src/gradsearch/space.ts';
import { fmt } from './_stats.ts';

const WIDTHS = [16, 32, 64, 128, 256];
const ACTS: Activation[] = ['relu', 'tanh', 'gelu'];
const EPOCHS = Number(process.env.KILN_BENCH_EPOCHS ?? 10);
const SEARCH_EPOCHS = Number(process.env.KILN_BENCH_SEARCH_EPOCHS ?? 4);
const TARGETS = [0.94, 0.95];

const all = await mnist();
const { train, test } = trainTestSplit(all, { testFraction: 0.2, seed: 0 });
// Every method sees the same rows: networks (and the super-network's weights) train on fitPart;
// the black-box searches choose by accuracy on valPart, where the gradient search trains α.
const { train: fitPart, test: valPart } = trainTestSplit(train, { testFraction: 0.25, seed: 1 });

/** Elapsed milliseconds of the method's own work: `paused` time is not counted. */
class Clock {
  #start = performance.now();
  #paused = 0;
  get ms(): number {
    return performance.now() - this.#start - this.#paused;
  }
  pause<T>(f: () => T): T {
    const t = performance.now();
    try {
      return f();
    } finally {
      this.#paused += performance.now() - t;
    }
  }
}

interface Outcome {
  method: string;
  ms: number;
  trials: number;
  hidden: HiddenLayer[];
  params: number;
  accuracy: number;
  /** Method time at which the returned model first scored >= each of TARGETS on test, if ever. */
  msToTarget: (number | undefined)[];
  /** [method ms, test accuracy] each time the incumbent changed. */
  timeline: [number, number][];
}

const accuracyOf = (model: Sequential, data: Dataset): number => {
  const e = evaluate(model, data);
  return e.task === 'classification' ? e.accuracy : NaN;
};

/** The best-by-validation model so far and its test accuracy over time. */
class Incumbent {
  bestVal = -Infinity;
  outcome: Outcome;
  constructor(
    method: string,
    readonly clock: Clock,
  ) {
    this.outcome = {
      method,
      ms: 0,
      trials: 0,
      hidden: [],
      params: 0,
      accuracy: NaN,
      msToTarget: TARGETS.map(() => undefined),
      timeline: [],
    };
  }
  offer(model: Sequential, hidden: HiddenLayer[], valAccuracy: number): void {
    if (valAccuracy <= this.bestVal) return;
    this.bestVal = valAccuracy;
    this.replace(model, hidden);
  }
  /** The method now returns `model`, whatever its validation score. */
  replace(model: Sequential, hidden: HiddenLayer[]): void {
    const accuracy = this.clock.pause(() => accuracyOf(model, test));
    const o = this.outcome;
    Object.assign(o, { hidden, params: model.parameterCount, accuracy });
    o.timeline.push([this.clock.ms, accuracy]);
    TARGETS.forEach((target, i) => {
      if (accuracy >= target && o.msToTarget[i] === undefined) o.msToTarget[i] = this.clock.ms;
    });
  }
}

const layersOf = (hidden: HiddenLayer[]) => [...hidden.map((h) => dense(h.units, h.activation)), dense(10)];

/** Trains one architecture with the shared recipe; `onEpoch` sees the validation accuracy and
 *  may throw to stop the trial. */
async function trainArchitecture(
  hidden: HiddenLayer[],
  data: Dataset,
  validation: Dataset | undefined,
  onEpoch: (model: Sequential, valAccuracy: number, epoch: number) => void,
  signal?: AbortSignal,
): Promise<Sequential> {
  const model = new Sequential({ inputs: 784, layers: layersOf(hidden), seed: 1 });
  try {
    await fit(model, data, {
      optimizer: adam({ lr: 1e-3 }),
      epochs: EPOCHS,
      batchSize: 64,
      seed: 1,
      validation,
      signal,
      onEpoch: (e) => onEpoch(model, e.valAccuracy ?? NaN, e.epoch),
    });
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

async function gradient(sizePenalty: number): Promise<Outcome> {
  const clock = new Clock();
  const inc = new Incumbent(sizePenalty > 0 ? `gradient search (λ = ${sizePenalty})` : 'gradient search', clock);
  const { architecture, model: untrained } = await gradientSearch(fitPart, {
    validation: valPart,
    candidates: { widths: WIDTHS, activations: [...ACTS, 'skip'], layers: 2 },
    epochs: SEARCH_EPOCHS,
    sizePenalty,
    seed: 1,
    retrain: false,
  });
  untrained.dispose();
  // The retraining gradientSearch would run, done here so the test set can be scored per epoch:
  // after each epoch, that epoch's model is what the search would return.
  const model = await trainArchitecture(architecture.hidden, fitPart, undefined, (m) => inc.replace(m, architecture.hidden));
  model.dispose();
  return { ...inc.outcome, ms: clock.ms, trials: 1 };
}

function sampleArchitecture(u: () => number): HiddenLayer[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.min(xs.length - 1, Math.floor(u() * xs.length))]!;
  return Array.from({ length: u() < 0.5 ? 1 : 2 }, () => ({ units: pick(WIDTHS), activation: pick(ACTS) }));
}

async function random(budgetMs: number): Promise<Outcome> {
  const clock = new Clock();
  const inc = new Incumbent('random search', clock);
  const rng = new Rng(7);
  const draws = rng.uniform64(1024);
  let at = 0;
  const u = () => draws[at++ % draws.length]!;
  let trials = 0;
  const stop = new AbortController();
  while (clock.ms < budgetMs) {
    const hidden = sampleArchitecture(u);
    trials++;
    try {
      const model = await trainArchitecture(
        hidden,
        fitPart,
        valPart,
        (m, val) => {
          inc.offer(m, hidden, val);
          if (clock.ms >= budgetMs) stop.abort();
        },
        stop.signal,
      );
      model.dispose();
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    }
  }
  rng.dispose();
  return { ...inc.outcome, ms: clock.ms, trials };
}

async function tpeHyperband(budgetMs: number): Promise<Outcome | undefined> {
  let search: {
    createStudy: Function;
    TpeSampler: new (o: object) => unknown;
    HyperbandPruner: new (o: object) => unknown;
    TrialPruned: new () => Error;
  };
  try {
    const [study, tpe, hb, trial] = await Promise.all([
      import('../src/search/study.ts'),
      import('../src/search/samplers/tpe.ts'),
      import('../src/search/pruners/hyperband.ts'),
      import('../src/search/trial.ts'),
    ]);
    search = {
      createStudy: study.createStudy,
      TpeSampler: tpe.TpeSampler,
      HyperbandPruner: hb.HyperbandPruner,
      TrialPruned: trial.TrialPruned,
    };
  } catch (error) {
    console.log(`TPE + Hyperband skipped: src/search is not usable (${(error as Error).message.split('\n')[0]})`);
    return undefined;
  }
  const clock = new Clock();
  const inc = new Incumbent('TPE + Hyperband', clock);
  const study = await search.createStudy({
    direction: 'maximize',
    sampler: new search.TpeSampler({ seed: 1 }),
    pruner: new search.HyperbandPruner({ minResource: 1, maxResource: EPOCHS, reductionFactor: 3 }),
  });
  let trials = 0;
  const stop = new AbortController();
  await study.optimize(
    async (trial: { suggestInt: Function; suggestCategorical: Function; report: Function; shouldPrune: Function }) => {
      trials++;
      const layers = trial.suggestInt('layers', 1, 2) as number;
      const hidden = Array.from({ length: layers }, (_, l) => ({
        units: trial.suggestCategorical(`units${l}`, WIDTHS) as number,
        activation: trial.suggestCategorical(`act${l}`, ACTS) as Activation,
      }));
      let last = 0;
      try {
        const model = await trainArchitecture(
          hidden,
          fitPart,
          valPart,
          (m, val, epoch) => {
            last = val;
            inc.offer(m, hidden, val);
            trial.report(val, epoch);
            if (clock.ms >= budgetMs) stop.abort();
            else if (trial.shouldPrune()) throw new search.TrialPruned();
          },
          stop.signal,
        );
        model.dispose();
      } catch (error) {
        if (!stop.signal.aborted) throw error;
      }
      return last;
    },
    { timeBudgetMs: budgetMs, signal: stop.signal },
  );
  return { ...inc.outcome, ms: clock.ms, trials };
}

const describe = (h: HiddenLayer[]) => (h.length ? h.map((l) => `${l.units} ${l.activation}`).join(', ') : 'none');
const seconds = (ms: number | undefined) => (ms === undefined ? `not reached` : fmt(ms / 1000, 1));

console.log(
  `mnist (10,000 digits): networks train on ${fitPart.numRows} rows, searches choose on ${valPart.numRows}, ${test.numRows} are held out for test accuracy. Space: 1–2 hidden layers × widths ${WIDTHS.join('/')} × ${ACTS.join('/')}; every network trains ${EPOCHS} epochs with Adam 1e-3, batch 64. Gradient search: ${SEARCH_EPOCHS} super-network epochs, then the chosen network retrained from scratch.\n`,
);
const results: Outcome[] = [];
const g = await gradient(0);
results.push(g);
results.push(await gradient(Number(process.env.KILN_BENCH_PENALTY ?? 0.1)));
results.push(await random(g.ms));
const tpeBudget = Number(process.env.KILN_BENCH_TPE_S ?? (4 * g.ms) / 1000) * 1000;
const t = await tpeHyperband(tpeBudget);
if (t) results.push(t);

console.log(
  `| method | wall time (s) | networks trained | architecture found | parameters | test accuracy | ${TARGETS.map((t) => `time to ${t} test accuracy (s)`).join(' | ')} |`,
);
console.log(`|---|---|---|---|---|---|${TARGETS.map(() => '---|').join('')}`);
for (const r of results)
  console.log(
    `| ${r.method} | ${fmt(r.ms / 1000, 1)} | ${r.trials} | ${describe(r.hidden)} | ${r.params.toLocaleString('en-US')} | ${fmt(r.accuracy, 4)} | ${r.msToTarget.map(seconds).join(' | ')} |`,
  );
console.log(`\nRandom search had the gradient search's wall time; TPE + Hyperband had ${fmt(tpeBudget / 1000, 0)} s.`);
if (t) {
  const reached = t.timeline.find(([, acc]) => acc >= Math.min(g.accuracy, t.accuracy));
  const tpeMs = reached?.[0];
  if (g.accuracy >= t.accuracy)
    console.log(
      `Gradient search reached TPE + Hyperband's final test accuracy (${fmt(g.accuracy, 4)} >= ${fmt(t.accuracy, 4)}) in ${fmt(g.ms / 1000, 1)} s, ${fmt(g.ms / t.ms, 2)} of TPE + Hyperband's ${fmt(t.ms / 1000, 1)} s (target <= 0.33); TPE + Hyperband first held a model that accurate at ${seconds(tpeMs)} s (ratio ${fmt(g.ms / (tpeMs ?? NaN), 2)}).`,
    );
  else
    console.log(
      `Gradient search's test accuracy ${fmt(g.accuracy, 4)} stayed below TPE + Hyperband's ${fmt(t.accuracy, 4)}; TPE + Hyperband first held a model at least as accurate as the gradient search's at ${seconds(tpeMs)} s, against the gradient search's ${fmt(g.ms / 1000, 1)} s.`,
    );
}
for (const r of results)
  console.log(
    `${r.method} timeline (s, test accuracy): ${r.timeline.map(([ms, acc]) => `${fmt(ms / 1000, 1)}: ${fmt(acc, 4)}`).join('; ')}`,
  );
