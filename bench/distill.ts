// Distillation against training alone on the mnist digits: students 784-32-10 and 784-16-10,
// each trained alone and distilled with the same augmentation (random shifts of up to 1 pixel,
// optionally mixup; the teacher run on every augmented batch: a consistent teacher), epochs,
// optimizer (Adam, cosine-decaying rate over a long, patient schedule) and seeds, so any gain is
// the teacher's. Distilled students may also take a transfer update per batch on synthetic rows
// only the teacher labels (distill.transfer, KILN_BENCH_TRANSFER, e.g. mixup=1,shift=2, or
// shift=2 alone: 25 views of each row, few enough for the CNN teacher to label each once).
// Teachers (bench/_teachers.ts; KILN_BENCH_TEACHER mlp, cnn or mlp,cnn for both, default
// mlp,cnn): the wide MLP of bench -- compress and a LeNet-like CNN. The single teacher is seed 1
// of its kind; the ensemble averages the probabilities of three of them (seeds 1-3). With whole-
// pixel shifts and no mixup or cutout (in augment and transfer) the teacher is asked through a
// function that remembers its outputs per view (rememberingTeacher): the same soft targets as
// running it on every batch, bit for bit, for a fraction of the forward passes.
// T and α are fixed (KILN_BENCH_T, KILN_BENCH_ALPHA); KILN_BENCH_TUNE=1 first tries a few, with
// and without the transfer settings of KILN_BENCH_TUNE_TRANSFERS (';'-separated, 'off' for
// none), on a validation split (each student width, seed 1, a single teacher of each kind trained
// on the tuning rows alone), never on test; each teacher kind gets the setting it scored best with.
// npm run bench -- distill   (KILN_BENCH_EPOCHS student epochs, default 160; KILN_BENCH_SEEDS a
//   count, default 3, or a list such as 2,3; 0 to tune only; KILN_BENCH_STUDENTS hidden widths,
//   default 32,16; KILN_BENCH_SHIFT default 1; KILN_BENCH_MIXUP default 0; KILN_BENCH_LR default
//   3e-3; KILN_BENCH_TRANSFER e.g. mixup=1,shift=2, default off; KILN_BENCH_RUNS which of
//   plain,alone,single,ensemble, default all, so one table's runs can be shared among processes).
//   With a mixup transfer, about 10 minutes per student width and seed for the single MLP teacher
//   and 20 for the ensemble on a loaded 2-core machine (the teachers' forward passes dominate,
//   several times more for the CNN): give fewer seeds, widths or runs for a quick look. Without
//   mixup, seconds per run once each teacher has labelled its views.
import { Sequential, dense, fit, adam, mnist, trainTestSplit, accuracy, type Augment, type Dataset } from '../src/index.ts';
import { augmentSpec } from '../src/cli/options.ts';
import { fmt } from './_stats.ts';
import { digitTeacher, rememberingTeacher, teacherEpochs, teacherName, type TeacherKind } from './_teachers.ts';

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
const KINDS = (process.env.KILN_BENCH_TEACHER ?? 'mlp,cnn').split(',') as TeacherKind[];
for (const k of KINDS) if (k !== 'mlp' && k !== 'cnn') throw new RangeError(`KILN_BENCH_TEACHER: mlp, cnn or mlp,cnn, got ${k}`);
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
// Views a shift of whole pixels makes repeat over the epochs, so the teacher's outputs on them can
// be remembered; mixup and cutout make new rows every batch.
const discrete = (a: Augment | undefined) => !a || (!(a.mixup! > 0) && !(a.cutout! > 0));
type Teacher = Sequential | Sequential[] | ReturnType<typeof rememberingTeacher>;
// One remembering teacher per set of models (`name`), kept across widths and seeds: each view is
// labelled once per process.
const remembered = new Map<string, Teacher>();
const teach = (name: string, models: Sequential[], transfer: Augment | undefined): Teacher => {
  if (!(discrete(augment) && discrete(transfer))) return models.length === 1 ? models[0]! : models;
  if (!remembered.has(name)) remembered.set(name, rememberingTeacher(models));
  return remembered.get(name)!;
};
const teachers = {} as Record<TeacherKind, Sequential[]>;
const ensembleAcc = (models: Sequential[]) => {
  const probs = models.map((t) => t.predict(test.features));
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
};
if (SEEDS.length > 0)
  for (const kind of KINDS) {
    const t1 = performance.now();
    teachers[kind] = [];
    // The ensemble's other two only when its runs are asked for (a CNN takes minutes to train).
    for (const seed of RUNS.has('ensemble') ? [1, 2, 3] : [1]) teachers[kind].push(await digitTeacher(full, seed, kind));
    console.log(
      `teachers ${teacherName(kind)} (seeds 1-${teachers[kind].length}, ${teacherEpochs(kind)} epochs, shifts ≤ 1 px): ${teachers[kind].map((t) => pct(acc(t, test))).join(', ')}% test; ensemble ${pct(ensembleAcc(teachers[kind]))}% (${fmt((performance.now() - t1) / 1000)} s); ${full.numRows} train / ${test.numRows} test rows`,
    );
  }
console.log('');

const student = (hidden: number, seed: number) => new Sequential({ inputs: 784, layers: [dense(hidden, 'relu'), dense(10)], seed });
async function run(
  hidden: number,
  seed: number,
  data: Dataset,
  teacher: Teacher | undefined,
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

type Setting = { temperature: number; alpha: number; transfer: string; score: number };
const fixed: Setting = { temperature: env('KILN_BENCH_T', 2), alpha: env('KILN_BENCH_ALPHA', 1), transfer: TRANSFER, score: -1 };
const chosen = Object.fromEntries(KINDS.map((k) => [k, { ...fixed }])) as Record<TeacherKind, Setting>;
if (process.env.KILN_BENCH_TUNE === '1') {
  const transfers = (process.env.KILN_BENCH_TUNE_TRANSFERS ?? `off;${TRANSFER === 'off' ? 'mixup=1,shift=2' : TRANSFER}`).split(';');
  const grid = (process.env.KILN_BENCH_TUNE_GRID ?? '1:1,2:1,4:1,2:0.5')
    .split(',')
    .map((p) => p.split(':').map(Number) as [number, number]);
  for (const kind of KINDS) {
    // The teacher of the tuning runs never sees the validation rows (the test teachers are
    // trained on all training rows, validation rows included).
    const tuneTeacher = await digitTeacher(tune, 1, kind);
    console.log(
      `### T, α and transfer on a validation split, teacher ${teacherName(kind)} (${tune.numRows} rows, ${val.numRows} validation rows, seed 1, single teacher at ${pct(acc(tuneTeacher, val))}% validation, ${EPOCHS} epochs, ${augmentText})\n`,
    );
    console.log('| student | transfer | T | α | validation accuracy |');
    console.log('|---|---|---:|---:|---:|');
    for (const hidden of STUDENTS) {
      const aloneVal = await run(hidden, 1, tune, undefined, 1, 0, undefined);
      console.log(`| 784-${hidden}-10 | alone | | | ${pct(acc(aloneVal.model, val))}% |`);
      aloneVal.model.dispose();
      for (const transferText of transfers) {
        const transfer = transferOf(transferText);
        const teacher = teach(`tuning ${kind}`, [tuneTeacher], transfer);
        for (const [temperature, alpha] of grid) {
          const r = await run(hidden, 1, tune, teacher, temperature, alpha, transfer);
          const score = acc(r.model, val);
          console.log(`| 784-${hidden}-10 | ${transferText} | ${temperature} | ${alpha} | ${pct(score)}% (${fmt(r.ms / 1000)} s) |`);
          // The first width decides (the bench's test comparison uses one setting for all widths).
          if (hidden === STUDENTS[0] && score > chosen[kind].score) chosen[kind] = { temperature, alpha, transfer: transferText, score };
          r.model.dispose();
        }
      }
    }
    tuneTeacher.dispose();
    console.log(
      `\nchosen for ${teacherName(kind)}: T = ${chosen[kind].temperature}, α = ${chosen[kind].alpha}, transfer ${chosen[kind].transfer}\n`,
    );
  }
}
if (SEEDS.length > 0) {
  const settings = KINDS.map(
    (k) => `${teacherName(k)}: T = ${chosen[k].temperature}, α = ${chosen[k].alpha}, transfer ${chosen[k].transfer}`,
  );
  console.log(
    `### Students on the test split: mean ± sd over seeds ${SEEDS.join(', ')} (${EPOCHS} epochs, Adam ${LR} with cosine decay, batch 64, ${augmentText}; ${settings.join('; ')})\n`,
  );
  console.log(
    '| student | teacher | alone, no augmentation | alone, same augmentation | distilled, single teacher | Δ | distilled, ensemble of 3 | Δ | wall time single / ensemble vs alone |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const hidden of STUDENTS) {
    // The students trained alone are the same for every teacher kind: run once per width.
    const alone = { plain: [] as number[], alone: [] as number[], ms: 0 };
    const res = Object.fromEntries(
      KINDS.map((k) => [k, { single: [] as number[], ensemble: [] as number[], ms: { single: 0, ensemble: 0 } }]),
    );
    for (const seed of SEEDS) {
      type Run = readonly [string, TeacherKind | undefined, 'single' | 'ensemble' | 'plain' | 'alone', Augment | null];
      const runs: Run[] = [
        ['plain', undefined, 'plain', null],
        ['alone', undefined, 'alone', augment],
        ...KINDS.flatMap((k) => [[`${k} single`, k, 'single', augment] as Run, [`${k} ensemble`, k, 'ensemble', augment] as Run]),
      ];
      for (const [name, kind, key, aug] of runs) {
        if (!RUNS.has(key)) continue;
        const setting = kind ? chosen[kind] : fixed;
        const transfer = transferOf(setting.transfer);
        const teacher = kind ? teach(name, key === 'single' ? teachers[kind].slice(0, 1) : teachers[kind], transfer) : undefined;
        const r = await run(hidden, seed, full, teacher, setting.temperature, setting.alpha, transfer, aug);
        const a = acc(r.model, test);
        if (kind) {
          res[kind]![key as 'single' | 'ensemble'].push(a);
          res[kind]!.ms[key as 'single' | 'ensemble'] += r.ms;
        } else {
          alone[key as 'plain' | 'alone'].push(a);
          if (key === 'alone') alone.ms += r.ms;
        }
        // Each run as it ends, so a long run shows its progress.
        console.log(`784-${hidden}-10 seed ${seed} ${name}: ${pct(a)}% in ${fmt(r.ms / 1000)} s`);
        r.model.dispose();
      }
    }
    const [p, a] = [meanSd(alone.plain), meanSd(alone.alone)];
    for (const kind of KINDS) {
      const [s, e] = [meanSd(res[kind]!.single), meanSd(res[kind]!.ensemble)];
      const ms = res[kind]!.ms;
      // A process given only some of the runs (KILN_BENCH_RUNS) leaves the rest as dashes.
      const delta = (x: number) => (Number.isFinite(x - a.m) ? fmt((x - a.m) * 100, 2) : '—');
      const ratio = (x: number) => (x > 0 && alone.ms > 0 ? `${fmt(x / alone.ms, 1)}×` : '—');
      console.log(
        `| 784-${hidden}-10 | ${teacherName(kind)} | ${p.text} | ${a.text} | ${s.text} | ${delta(s.m)} | ${e.text} | ${delta(e.m)} | ${ratio(ms.single)} / ${ratio(ms.ensemble)} |`,
      );
    }
  }
}
t0 = performance.now() - t0;
console.log(`\n(${fmt(t0 / 1000)} s in all)`);
for (const kind of KINDS) for (const t of teachers[kind] ?? []) t.dispose();
