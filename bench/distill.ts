// Distillation against training alone on the mnist digits: students 784-32-10 and 784-16-10,
// each trained alone and distilled with the same augmentation (random shifts of up to 2 pixels,
// the teacher run on every augmented batch), epochs, optimizer and seeds, so any gain is the
// teacher's; a single teacher (784-256-128-10, as bench -- compress, trained on the same shifted
// views unless KILN_BENCH_TEACHER_AUGMENT=0) and an ensemble of three.
// Temperature and α are chosen first on a validation split (784-16-10, seed 1), never on test.
// npm run bench -- distill   (KILN_BENCH_EPOCHS student epochs, default 20; KILN_BENCH_SEEDS, default 3)
import { Sequential, dense, fit, adam, mnist, trainTestSplit, accuracy, type Augment, type Dataset } from '../src/index.ts';
import { fmt } from './_stats.ts';

const EPOCHS = Number(process.env.KILN_BENCH_EPOCHS ?? 20);
const TEACHER_EPOCHS = Number(process.env.KILN_BENCH_TEACHER_EPOCHS ?? 12);
// Teachers trained on the same shifted views they will label (KILN_BENCH_TEACHER_AUGMENT=0: on the digits as they are).
const TEACHER_AUGMENT = process.env.KILN_BENCH_TEACHER_AUGMENT !== '0';
const SEEDS = Array.from({ length: Number(process.env.KILN_BENCH_SEEDS ?? 3) }, (_, i) => i + 1);
const augment: Augment = { shift: 2, shape: [1, 28, 28] };
const { train: full, test } = trainTestSplit(await mnist(), { testFraction: 0.2, seed: 0 });
const { train: tune, test: val } = trainTestSplit(full, { testFraction: 0.125, seed: 1 });
const optimizer = () => adam({ lr: 1e-3 });
const acc = (m: Sequential, d: Dataset) => accuracy(d.labels, m.predictClasses(d.features));
const pct = (x: number) => fmt(x * 100, 2);
const meanSd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return { m, sd, text: `${pct(m)} ± ${pct(sd)}` };
};

const teachers: Sequential[] = [];
let t0 = performance.now();
for (const seed of [1, 2, 3]) {
  const t = new Sequential({ inputs: 784, layers: [dense(256, 'relu'), dense(128, 'relu'), dense(10)], seed });
  await fit(t, full, {
    optimizer: optimizer(),
    epochs: TEACHER_EPOCHS,
    batchSize: 64,
    standardize: false,
    ...(TEACHER_AUGMENT ? { augment } : {}),
  });
  teachers.push(t);
}
const ensembleAcc = (() => {
  const probs = teachers.map((t) => t.predict(test.features));
  let correct = 0;
  for (let r = 0; r < test.numRows; r++) {
    let best = 0,
      bestP = -1;
    for (let c = 0; c < 10; c++) {
      const p = probs.reduce((s, q) => s + q[r * 10 + c]!, 0);
      if (p > bestP) [best, bestP] = [c, p];
    }
    if (best === test.labels[r]) correct++;
  }
  return correct / test.numRows;
})();
console.log(
  `teachers 784-256-128-10 (seeds 1-3, ${TEACHER_EPOCHS} epochs, ${TEACHER_AUGMENT ? 'shifts ≤ 2 px' : 'no augmentation'}): ${teachers.map((t) => pct(acc(t, test))).join(', ')}% test; ensemble ${pct(ensembleAcc)}% (${fmt((performance.now() - t0) / 1000)} s); ${full.numRows} train / ${test.numRows} test rows\n`,
);

const student = (hidden: number, seed: number) => new Sequential({ inputs: 784, layers: [dense(hidden, 'relu'), dense(10)], seed });
async function run(
  hidden: number,
  seed: number,
  data: Dataset,
  teacher: Sequential | Sequential[] | undefined,
  temperature: number,
  alpha: number,
  aug: Augment | null = augment,
) {
  const m = student(hidden, seed);
  const start = performance.now();
  await fit(m, data, {
    optimizer: optimizer(),
    epochs: EPOCHS,
    batchSize: 64,
    standardize: false,
    seed,
    ...(aug ? { augment: aug } : {}),
    ...(teacher ? { distill: { teacher, temperature, alpha } } : {}),
  });
  return { model: m, ms: performance.now() - start };
}

console.log(`### Temperature and α on a validation split (784-16-10, seed 1, single teacher, ${EPOCHS} epochs, shifts ≤ 2 px)\n`);
console.log('| T | α | validation accuracy |');
console.log('|---:|---:|---:|');
let chosen = { temperature: 1, alpha: 1, score: -1 };
const aloneVal = await run(16, 1, tune, undefined, 1, 0);
console.log(`| alone | | ${pct(acc(aloneVal.model, val))}% |`);
aloneVal.model.dispose();
for (const [temperature, alpha] of [
  [1, 1],
  [2, 1],
  [4, 1],
  [2, 0.5],
  [4, 0.9],
] as const) {
  const r = await run(16, 1, tune, teachers[0], temperature, alpha);
  const score = acc(r.model, val);
  console.log(`| ${temperature} | ${alpha} | ${pct(score)}% |`);
  if (score > chosen.score) chosen = { temperature, alpha, score };
  r.model.dispose();
}
console.log(`\nchosen: T = ${chosen.temperature}, α = ${chosen.alpha}\n`);

console.log(
  `### Students on the test split: mean ± sd over seeds ${SEEDS.join(', ')} (${EPOCHS} epochs, Adam 1e-3, batch 64; T = ${chosen.temperature}, α = ${chosen.alpha})\n`,
);
console.log(
  '| student | alone, no augmentation | alone, shifts | distilled, single teacher | Δ | distilled, ensemble of 3 | Δ | wall time single / ensemble vs alone |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const hidden of [32, 16]) {
  const res = { plain: [] as number[], alone: [] as number[], single: [] as number[], ensemble: [] as number[] };
  const ms = { alone: 0, single: 0, ensemble: 0 };
  for (const seed of SEEDS) {
    for (const [key, teacher, aug] of [
      ['plain', undefined, null],
      ['alone', undefined, augment],
      ['single', teachers[0], augment],
      ['ensemble', teachers, augment],
    ] as const) {
      const r = await run(hidden, seed, full, teacher as Sequential | Sequential[] | undefined, chosen.temperature, chosen.alpha, aug);
      res[key].push(acc(r.model, test));
      if (key !== 'plain') ms[key] += r.ms;
      r.model.dispose();
    }
  }
  const [p, a, s, e] = [meanSd(res.plain), meanSd(res.alone), meanSd(res.single), meanSd(res.ensemble)];
  console.log(
    `| 784-${hidden}-10 | ${p.text} | ${a.text} | ${s.text} | ${fmt((s.m - a.m) * 100, 2)} | ${e.text} | ${fmt((e.m - a.m) * 100, 2)} | ${fmt(ms.single / ms.alone, 2)}× / ${fmt(ms.ensemble / ms.alone, 2)}× |`,
  );
}
for (const t of teachers) t.dispose();
