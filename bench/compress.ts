// Distillation and pruning on mnist: small students distilled from the teacher of
// bench -- distill (bench/_teachers.ts) vs trained from scratch; unstructured and structured
// pruning of a dense 784-256-128-10 at 50/80/90/95% (accuracy, parameters, non-zeros, file bytes,
// batch-1 and batch-64 latency against the dense model); and where the CSR path overtakes the
// dense GEMM, the measurement behind SPARSE_THRESHOLDS.
// npm run bench -- compress
import { Sequential, dense, fit, adam, mnist, trainTestSplit, accuracy, modelToBytes, modelFromBytes } from '../src/index.ts';
import { distill } from '../src/compress/distill.ts';
import { pruneWeights } from '../src/compress/prune/unstructured.ts';
import { pruneNeurons } from '../src/compress/prune/structured.ts';
import { pruneIteratively } from '../src/compress/prune/schedule.ts';
import { compressionReport, measurePair, type CompressionReport, type Latency } from '../src/compress/prune/report.ts';
import { SparseModel, SPARSE_THRESHOLDS } from '../src/compress/prune/sparse-model.ts';
import { fmt } from './_stats.ts';
import { digitTeacher, TEACHER_EPOCHS, TEACHER_NAME } from './_teachers.ts';

const EPOCHS = Number(process.env.KILN_BENCH_EPOCHS ?? 12);
const REPEATS = Number(process.env.KILN_BENCH_ROUNDS ?? 40);
const { train, test } = trainTestSplit(await mnist(), { testFraction: 0.2, seed: 0 });
const optimizer = () => adam({ lr: 1e-3 });
const acc = (m: Sequential) => accuracy(test.labels, m.predictClasses(test.features));
const copy = (m: Sequential) => modelFromBytes(modelToBytes(m));
const us = (ms: number) => fmt(ms * 1000, 0);
const kb = (bytes: number) => fmt(bytes / 1024, 1);

let t0 = performance.now();
const cnn = await digitTeacher(train, 1);
const teacherAcc = acc(cnn);
console.log(
  `teacher ${TEACHER_NAME}: ${cnn.parameterCount} parameters, test accuracy ${fmt(teacherAcc * 100, 2)}% (${fmt((performance.now() - t0) / 1000)} s, ${TEACHER_EPOCHS} epochs; ${train.numRows} train / ${test.numRows} test rows)`,
);
t0 = performance.now();
const subject = new Sequential({ inputs: 784, layers: [dense(256, 'relu'), dense(128, 'relu'), dense(10)], seed: 1 });
await fit(subject, train, { optimizer: optimizer(), epochs: EPOCHS, batchSize: 64, standardize: false });
console.log(
  `dense 784-256-128-10 (the pruning subject): ${subject.parameterCount} parameters, test accuracy ${fmt(acc(subject) * 100, 2)}% (${fmt((performance.now() - t0) / 1000)} s, ${EPOCHS} epochs)\n`,
);

console.log('### Distillation (T = 4, α = 0.9, same epochs and optimizer as from scratch)\n');
console.log('| student | parameters | from scratch | distilled | Δ | teacher |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const hidden of [[16], [32], [64, 32]]) {
  const make = () => new Sequential({ inputs: 784, layers: [...hidden.map((u) => dense(u, 'relu')), dense(10)], seed: 2 });
  const scratch = make();
  await fit(scratch, train, { optimizer: optimizer(), epochs: EPOCHS, batchSize: 64, standardize: false });
  const student = make();
  await distill({
    teacher: cnn,
    student,
    data: train,
    temperature: 4,
    alpha: 0.9,
    optimizer: optimizer(),
    epochs: EPOCHS,
    batchSize: 64,
    standardize: false,
  });
  const [a, b] = [acc(scratch), acc(student)];
  console.log(
    `| 784-${hidden.join('-')}-10 | ${student.parameterCount} | ${fmt(a * 100, 2)}% | ${fmt(b * 100, 2)}% | ${fmt((b - a) * 100, 2)} | ${fmt(teacherAcc * 100, 2)}% |`,
  );
  scratch.dispose();
  student.dispose();
}
console.log('\n784-32-10 distilled at other temperatures and weights (T and α are plain options, so a search can tune them):\n');
console.log('| T | α | accuracy |');
console.log('|---:|---:|---:|');
for (const [temperature, alpha] of [
  [1, 0.5],
  [2, 0.5],
  [4, 0.5],
  [8, 0.5],
  [2, 0.9],
  [8, 0.9],
]) {
  const student = new Sequential({ inputs: 784, layers: [dense(32, 'relu'), dense(10)], seed: 2 });
  await distill({
    teacher: cnn,
    student,
    data: train,
    temperature,
    alpha,
    optimizer: optimizer(),
    epochs: EPOCHS,
    batchSize: 64,
    standardize: false,
  });
  console.log(`| ${temperature} | ${alpha} | ${fmt(acc(student) * 100, 2)}% |`);
  student.dispose();
}

// Each model's latency (SparseModel: CSR or dense per layer by SPARSE_THRESHOLDS) is measured
// alternately with the dense subject's own predict, so machine load falls on both alike.
const rows: [string, CompressionReport, Latency, Latency][] = [];
const record = (name: string, m: Sequential, sparsity: number) => {
  const fast = SparseModel.from(m);
  const [mine, base] = measurePair(
    (x) => fast.predict(x),
    (x) => subject.predict(x),
    test,
    REPEATS,
  );
  fast.dispose();
  rows.push([name, compressionReport(m, test, { sparsity, latency: false }), mine, base]);
};
record('dense 784-256-128-10', subject, 0);
const fineTune = { optimizer: adam({ lr: 5e-4 }), epochs: 2, batchSize: 64, standardize: false } as const;
for (const [sparsity, scope] of [
  [0.5, 'global'],
  [0.8, 'global'],
  [0.9, 'global'],
  [0.9, 'layer'],
  [0.95, 'global'],
] as const) {
  const m = copy(subject);
  pruneWeights(m, { sparsity, scope });
  await fit(m, train, fineTune);
  record(`unstructured ${scope} one-shot ${sparsity * 100}%`, m, sparsity);
  m.dispose();
}
for (const finalSparsity of [0.9, 0.95]) {
  const m = copy(subject);
  await pruneIteratively(m, train, { finalSparsity, steps: 4, scope: 'global', latency: false, fineTune: { ...fineTune, epochs: 1 } });
  record(`unstructured global Zhu-Gupta ${finalSparsity * 100}%`, m, finalSparsity);
  m.dispose();
}
for (const sparsity of [0.5, 0.8, 0.9, 0.95]) {
  const m = pruneNeurons(subject, { sparsity, criterion: 'l1' });
  await fit(m, train, fineTune);
  record(
    `structured ${sparsity * 100}% (784-${m
      .denseLayers()
      .map((o) => o.units)
      .join('-')})`,
    m,
    sparsity,
  );
  m.dispose();
}
console.log(
  '\n### Pruning (magnitude; one-shot then 2 fine-tuning epochs; Zhu-Gupta: 4 steps of 1 epoch each; structured: L1 of incoming weights, layer-wise, 2 epochs)\n',
);
console.log('| model | accuracy | parameters | non-zeros | file KiB | batch 1 µs | vs dense | batch 64 µs | vs dense |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const [name, r, l, d] of rows) {
  console.log(
    `| ${name} | ${fmt(r.accuracy! * 100, 2)}% | ${r.parameters} | ${r.nonZeros} | ${kb(r.fileBytes)} | ${us(l.batch1)} | ${fmt(d.batch1 / l.batch1, 2)}× | ${us(l.batch64)} | ${fmt(d.batch64 / l.batch64, 2)}× |`,
  );
}

console.log(
  `\n### CSR vs dense on the whole 784-256-128-10 (all layers one way), µs per call; SPARSE_THRESHOLDS = ${JSON.stringify(SPARSE_THRESHOLDS)}\n`,
);
console.log('| sparsity | batch 1 CSR | batch 1 dense | CSR speed-up | batch 64 CSR | batch 64 dense | CSR speed-up |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
for (const sparsity of [0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98]) {
  const m = copy(subject);
  pruneWeights(m, { sparsity });
  const csr = SparseModel.from(m, { thresholds: { batch1: 0, batched: 0 } });
  const dense = SparseModel.from(m, { thresholds: { batch1: 1, batched: 1 } });
  const [c, d] = measurePair(
    (x) => csr.predict(x),
    (x) => dense.predict(x),
    test,
    REPEATS,
  );
  console.log(
    `| ${sparsity * 100}% | ${us(c.batch1)} | ${us(d.batch1)} | ${fmt(d.batch1 / c.batch1, 2)}× | ${us(c.batch64)} | ${us(d.batch64)} | ${fmt(d.batch64 / c.batch64, 2)}× |`,
  );
  for (const x of [m, csr, dense]) x.dispose();
}
t0 = performance.now() - t0;
console.log(`\n(${fmt(t0 / 1000)} s in all)`);
subject.dispose();
cnn.dispose();
