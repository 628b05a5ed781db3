// Sample efficiency and overhead of the search samplers. Branin (2-D, minimum 0.397887) and
// Hartmann-6 (minimum −3.32237): median over 10 seeds of the best value after 25, 50 and 100
// trials for random search, TPE (independent and multivariate) and the GP sampler. Then the
// sampler's cost per trial once 100 and 1000 trials are finished (the study is prefilled with
// random trials, so only the measured trials pay for the sampler), as CPU time of this process.
// npm run bench -- search   (KILN_BENCH_SEEDS, default 10)
import { createStudy } from '../src/search/study.ts';
import { InMemoryStorage } from '../src/search/storage/storage.ts';
import { RandomSampler } from '../src/search/samplers/random.ts';
import { TpeSampler } from '../src/search/samplers/tpe.ts';
import { GpSampler } from '../src/search/samplers/gp/gp.ts';
import type { Sampler } from '../src/search/samplers/sampler.ts';
import type { Trial } from '../src/search/trial.ts';
import { fmt, median } from './_stats.ts';

const SEEDS = Number(process.env.KILN_BENCH_SEEDS ?? 10);
const MARKS = [25, 50, 100];

function branin(t: Trial): number {
  const x = t.suggestFloat('x', -5, 10);
  const y = t.suggestFloat('y', 0, 15);
  const b = 5.1 / (4 * Math.PI ** 2);
  return (y - b * x * x + (5 / Math.PI) * x - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x) + 10;
}

const H6_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H6_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H6_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((r) => r.map((v) => v * 1e-4));
function hartmann6(t: Trial): number {
  const x = Array.from({ length: 6 }, (_, j) => t.suggestFloat(`x${j}`, 0, 1));
  let f = 0;
  for (let i = 0; i < 4; i++) f -= H6_ALPHA[i]! * Math.exp(-H6_A[i]!.reduce((s, a, j) => s + a * (x[j]! - H6_P[i]![j]!) ** 2, 0));
  return f;
}

const PROBLEMS = [
  { name: 'Branin', objective: branin, optimum: 0.397887 },
  { name: 'Hartmann-6', objective: hartmann6, optimum: -3.32237 },
];

const SAMPLERS: Record<string, (seed: number) => Sampler> = {
  random: (seed) => new RandomSampler({ seed }),
  tpe: (seed) => new TpeSampler({ seed }),
  'tpe multivariate': (seed) => new TpeSampler({ seed, multivariate: true }),
  gp: (seed) => new GpSampler({ seed, deterministicObjective: true }),
};

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

console.log(`### Best value found (median over ${SEEDS} seeds)\n`);
console.log('| problem | sampler | after 25 | after 50 | after 100 | gap to optimum at 100 | CPU ms / trial |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const problem of PROBLEMS) {
  for (const [name, make] of Object.entries(SAMPLERS)) {
    const bests: number[][] = MARKS.map(() => []);
    const start = cpuMs();
    for (let seed = 0; seed < SEEDS; seed++) {
      const study = await createStudy({ sampler: make(seed) });
      let best = Infinity;
      await study.optimize(problem.objective, {
        trials: MARKS.at(-1)!,
        callbacks: [
          (_, t) => {
            best = Math.min(best, t.values?.[0] ?? Infinity);
            const mark = MARKS.indexOf(t.number + 1);
            if (mark >= 0) bests[mark]!.push(best);
          },
        ],
      });
    }
    const perTrial = (cpuMs() - start) / (SEEDS * MARKS.at(-1)!);
    const m = bests.map(median);
    console.log(
      `| ${problem.name} | ${name} | ${m.map((v) => fmt(v, 4)).join(' | ')} | ${fmt(m.at(-1)! - problem.optimum, 4)} | ${fmt(perTrial, 1)} |`,
    );
  }
}

console.log('\n### Sampler overhead per trial on Hartmann-6 (CPU ms, median)\n');
console.log('| sampler | 100 finished trials | 1000 finished trials |');
console.log('|---|---:|---:|');
const prefilled = new Map<number, InMemoryStorage>();
for (const n of [100, 1000]) {
  const storage = new InMemoryStorage();
  const base = await createStudy({ name: 'h6', storage, sampler: new RandomSampler({ seed: 9 }) });
  await base.optimize(hartmann6, { trials: n });
  prefilled.set(n, storage);
}
for (const [name, make] of Object.entries(SAMPLERS)) {
  if (name === 'random') continue;
  const cells: string[] = [];
  for (const n of [100, 1000]) {
    const copy = new InMemoryStorage();
    copy.append(prefilled.get(n)!.load());
    const study = await createStudy({ name: 'h6', storage: copy, loadIfExists: true, sampler: make(1) });
    const [warm, reps] = name === 'gp' ? [2, 6] : [10, 40];
    const times: number[] = [];
    // Unmeasured trials first, so the JIT has compiled the sampler.
    for (let i = 0; i < warm + reps; i++) {
      const t0 = cpuMs();
      const trial = study.ask();
      const value = hartmann6(trial);
      const spent = cpuMs() - t0;
      await study.tell(trial, value);
      if (i >= warm) times.push(spent);
    }
    cells.push(fmt(median(times), 2));
  }
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
console.log('\nGP conditions on at most 200 trials (maxObservations): beyond that, the best 100 and the most recent 100.');

// Real search: searchModel on MNIST, 40 trials with Hyperband over 1 … KILN_BENCH_EPOCHS epochs,
// on 2 workers and on 1 (the same seed; batches of 2 make the 2-worker run a different but
// reproducible study). Wall time and the chosen model's test accuracy.
async function realSearch(): Promise<void> {
  const { mnist } = await import('../src/data/builtin.ts');
  const { trainTestSplit } = await import('../src/data/split.ts');
  const { evaluate } = await import('../src/train/evaluate.ts');
  const { searchModel } = await import('../src/model-search/search-model.ts');
  const perDigit = Number(process.env.KILN_BENCH_PER_DIGIT ?? 300);
  const epochs = Number(process.env.KILN_BENCH_EPOCHS ?? 9);
  const { train, test, validation } = trainTestSplit(await mnist({ perDigit }), { testFraction: 0.2, validationFraction: 0.15, seed: 0 });
  console.log(
    `\n### Real search: MNIST (${perDigit} images per digit: ${train.numRows} train, ${validation!.numRows} validation, ${test.numRows} test), 40 trials, Hyperband over 1 … ${epochs} epochs\n`,
  );
  console.log('| workers | wall s | trials complete / pruned | best validation accuracy | test accuracy |');
  console.log('|---:|---:|---|---:|---:|');
  for (const workers of [2, 1]) {
    const start = performance.now();
    const r = await searchModel(train, { validation: validation!, trials: 40, epochs, workers, seed: 0 });
    const wall = (performance.now() - start) / 1000;
    const e = evaluate(r.model, test);
    const states = r.study.trials.map((t) => t.state);
    console.log(
      `| ${workers} | ${fmt(wall, 1)} | ${states.filter((s) => s === 'complete').length} / ${states.filter((s) => s === 'pruned').length} | ${fmt(r.best.values![0]!, 4)} | ${e.task === 'classification' ? fmt(e.accuracy, 4) : '-'} |`,
    );
    r.model.dispose();
  }
}
await realSearch();
