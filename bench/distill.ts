// Distillation against training alone on the mnist digits: students 784-32-10 and 784-16-10,
// each trained alone and distilled with the same augmentation (random shifts of up to 1 pixel,
// optionally mixup; the teacher run on every augmented batch: a consistent teacher), epochs,
// optimizer (Adam, cosine-decaying rate over a long, patient schedule) and seeds, so any gain is
// the teacher's. Distilled students may also take a transfer update per batch on synthetic rows
// only the teacher labels (distill.transfer, KILN_BENCH_TRANSFER, e.g. mixup=1,shift=2).
// The single teacher is the one of bench -- compress (bench/_teachers.ts, seed 1); the ensemble
// averages the probabilities of three of them (seeds 1-3).
// T and α are fixed (KILN_BENCH_T, KILN_BENCH_ALPHA); KILN_BENCH_TUNE=1 first tries a few, with
// and without the transfer settings of KILN_BENCH_TUNE_TRANSFERS (';'-separated, 'off' for
// none), on a validation split (each student width, seed 1, a single teacher trained on the
// tuning rows alone), never on test.
// npm run bench -- distill   (KILN_BENCH_EPOCHS student epochs, default 160; KILN_BENCH_SEEDS a
//   count, default 3, or a list such as 2,3; 0 to tune only; KILN_BENCH_STUDENTS hidden widths,
//   default 32,16; KILN_BENCH_SHIFT default 1; KILN_BENCH_MIXUP default 0; KILN_BENCH_LR default
//   3e-3; KILN_BENCH_TRANSFER e.g. mixup=1,shift=2, default off; KILN_BENCH_RUNS which of
//   plain,alone,single,ensemble, default all, so one table's runs can be shared among processes).
//   With transfer, about 10 minutes per student width and seed for the single teacher and 20 for
//   the ensemble on a loaded 2-core machine (the teachers' forward passes dominate): give fewer
//   seeds, widths or runs for a quick look.
import { Sequential, dense, fit, adam, mnist, trainTestSplit, accuracy, type Augment, type Dataset } from '../src/index.ts';
import { augmentSpec } from '../src/cli/options.ts';
import { fmt } from './_stats.ts';
import { digitTeacher, TEACHER_EPOCHS, TEACHER_NAME } from './_teachers.ts';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const EPOCHS = env('KILN_BENCH_EPOCHS', 160);
const STUDENTS = (process.env.KILN_BENCH_STUDENTS ?? '32,16').split(',').map(Number);
// A count (seeds 1..n) or a comma-separated list of seeds.
const seedsText = process.env.KILN_BENCH_SEEDS ?? '3';
const SEEDS = seedsText.includes(',')
  ? seedsText.split(',').filter(Boolean).map(Number)
  : Array.from({ length: Number(seedsText) }, (_, i) => i + 1);
const RUNS = new Set((process.env.KILN_BENCH_RUNS ?? 'plain,alone,single,ensemble').split(','));
const LR = env('KILN_BENCH_LR', 3e-3);
const mixup = env('KILN_BENCH_MIXUP', 0);
const augment: Augment = { shift: env('KILN_BENCH_SHIFT', 1), ...(mixup > 0 ? { mixup } : {}), shape: [1, 28, 28] };
const augmentText = `shifts ≤ ${augment.shift} px${mixup > 0 ? `, mixup α = ${mixup}` : ''}`;
const transferOf = (text: string): Augment | undefined => (text === 'off' ? undefined : augmentSpec(text));
const TRANSFER = process.env.KILN_BENCH_TRANSFER ?? 'off';
const { train: full, test } = trainTestSplit(await mnist(), { testFraction: 0.2, seed: 0 });
const { train: tune, test: val } = trainTestSplit(full, { testFraction: 0.125, seed: 1 });
const optimizer = () => adam({ lr: LR, schedule: { type: 'cosine' } });
const acc = (m: Sequential, d: Dataset) => accuracy(d.labels, m.predictClasses(d.features));
const pct = (x: number) => fmt(x * 100, 2);
const meanSd = (xs: number[]) => {
  if (xs.length === 0) return { m: NaN, sd: NaN, text: '—' };
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return { m, sd, text: `${pct(m)} ± ${pct(sd)}` };
};

let t0 = performance.now();
const teachers: Sequential[] = [];
if (SEEDS.length > 0) for (const seed of [1, 2, 3]) teachers.push(await digitTeacher(full, seed));
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
if (SEEDS.length > 0)
  console.log(
    `teachers ${TEACHER_NAME} (seeds 1-3, ${TEACHER_EPOCHS} epochs, shifts ≤ 1 px): ${teachers.map((t) => pct(acc(t, test))).join(', ')}% test; ensemble ${pct(ensembleAcc)}% (${fmt((performance.now() - t0) / 1000)} s); ${full.numRows} train / ${test.numRows} test rows\n`,
  );

const student = (hidden: number, seed: number) => new Sequential({ inputs: 784, layers: [dense(hidden, 'relu'), dense(10)], seed });
async function run(
  hidden: number,
  seed: number,
  data: Dataset,
  teacher: Sequential | Sequential[] | undefined,
  temperature: number,
  alpha: number,
  transfer: Augment | undefined,
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
    ...(teacher ? { distill: { teacher, temperature, alpha, ...(transfer ? { transfer } : {}) } } : {}),
  });
  return { model: m, ms: performance.now() - start };
}

let chosen = { temperature: env('KILN_BENCH_T', 2), alpha: env('KILN_BENCH_ALPHA', 1), transfer: TRANSFER, score: -1 };
if (process.env.KILN_BENCH_TUNE === '1') {
  // The teacher of the tuning runs never sees the validation rows (the test teachers are trained
  // on all training rows, validation rows included).
  const tuneTeacher = await digitTeacher(tune, 1);
  const transfers = (process.env.KILN_BENCH_TUNE_TRANSFERS ?? `off;${TRANSFER === 'off' ? 'mixup=1,shift=2' : TRANSFER}`).split(';');
  const grid = (process.env.KILN_BENCH_TUNE_GRID ?? '1:1,2:1,4:1,2:0.5')
    .split(',')
    .map((p) => p.split(':').map(Number) as [number, number]);
  console.log(
    `### T, α and transfer on a validation split (${tune.numRows} rows, ${val.numRows} validation rows, seed 1, single teacher at ${pct(acc(tuneTeacher, val))}% validation, ${EPOCHS} epochs, ${augmentText})\n`,
  );
  console.log('| student | transfer | T | α | validation accuracy |');
  console.log('|---|---|---:|---:|---:|');
  for (const hidden of STUDENTS) {
    const aloneVal = await run(hidden, 1, tune, undefined, 1, 0, undefined);
    console.log(`| 784-${hidden}-10 | alone | | | ${pct(acc(aloneVal.model, val))}% |`);
    aloneVal.model.dispose();
    for (const transfer of transfers)
      for (const [temperature, alpha] of grid) {
        const r = await run(hidden, 1, tune, tuneTeacher, temperature, alpha, transferOf(transfer));
        const score = acc(r.model, val);
        console.log(`| 784-${hidden}-10 | ${transfer} | ${temperature} | ${alpha} | ${pct(score)}% (${fmt(r.ms / 1000)} s) |`);
        // The first width decides (the bench's test comparison uses one setting for all widths).
        if (hidden === STUDENTS[0] && score > chosen.score) chosen = { temperature, alpha, transfer, score };
        r.model.dispose();
      }
  }
  tuneTeacher.dispose();
  console.log(`\nchosen: T = ${chosen.temperature}, α = ${chosen.alpha}, transfer ${chosen.transfer}\n`);
}
const transfer = transferOf(chosen.transfer);

if (SEEDS.length > 0) {
  console.log(
    `### Students on the test split: mean ± sd over seeds ${SEEDS.join(', ')} (${EPOCHS} epochs, Adam ${LR} with cosine decay, batch 64, ${augmentText}; T = ${chosen.temperature}, α = ${chosen.alpha}; transfer ${chosen.transfer})\n`,
  );
  console.log(
    '| student | alone, no augmentation | alone, same augmentation | distilled, single teacher | Δ | distilled, ensemble of 3 | Δ | wall time single / ensemble vs alone |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const hidden of STUDENTS) {
    const res = { plain: [] as number[], alone: [] as number[], single: [] as number[], ensemble: [] as number[] };
    const ms = { alone: 0, single: 0, ensemble: 0 };
    for (const seed of SEEDS) {
      for (const [key, teacher, aug] of [
        ['plain', undefined, null],
        ['alone', undefined, augment],
        ['single', teachers[0], augment],
        ['ensemble', teachers, augment],
      ] as const) {
        if (!RUNS.has(key)) continue;
        const r = await run(
          hidden,
          seed,
          full,
          teacher as Sequential | Sequential[] | undefined,
          chosen.temperature,
          chosen.alpha,
          transfer,
          aug,
        );
        res[key].push(acc(r.model, test));
        if (key !== 'plain') ms[key] += r.ms;
        // Each run as it ends, so a long run shows its progress.
        console.log(`784-${hidden}-10 seed ${seed} ${key}: ${pct(res[key].at(-1)!)}% in ${fmt(r.ms / 1000)} s`);
        r.model.dispose();
      }
    }
    const [p, a, s, e] = [meanSd(res.plain), meanSd(res.alone), meanSd(res.single), meanSd(res.ensemble)];
    console.log(
      `| 784-${hidden}-10 | ${p.text} | ${a.text} | ${s.text} | ${fmt((s.m - a.m) * 100, 2)} | ${e.text} | ${fmt((e.m - a.m) * 100, 2)} | ${fmt(ms.single / ms.alone, 1)}× / ${fmt(ms.ensemble / ms.alone, 1)}× |`,
    );
  }
}
t0 = performance.now() - t0;
console.log(`\n(${fmt(t0 / 1000)} s in all)`);
for (const t of teachers) t.dispose();
