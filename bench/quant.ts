// Quantisation on mnist with a 784-256-128-10 MLP trained here: accuracy of f32 against int8 per
// tensor / per channel (several calibrations) / dynamic, int4 per group and QAT; file sizes;
// batch-1 and batch-64 inference against the f32 model; and the kernels: the int8 GEMM (i32
// out, A packed per call, weights packed once) against kiln's f32 GEMM and ONNX Runtime Web's
// MatMulInteger (wasm, one thread, B a constant it pre-packs), the int4 weight-only GEMM against
// the f32 GEMM. Contestants alternate within every repetition; medians of process CPU time per
// run (all contestants are single-threaded, so on a busy machine the time spent waiting for a core
// drops out), wall-clock medians beside them where it matters.
// npm run bench -- quant
import { loadavg } from 'node:os';
import { Sequential, dense, fit, adam, mnist, trainTestSplit, accuracy, modelToBytes, modelFromBytes } from '../src/index.ts';
import { Tensor } from '../src/core/tensor.ts';
import { matmul } from '../src/core/ops/linalg.ts';
import { int4Gemm, int8Gemm, packInt4Weights, packInt8Weights } from '../src/core/ops/quant.ts';
import { quantize, type QuantizeOptions } from '../src/compress/quant/quantize.ts';
import { prepareQat } from '../src/compress/quant/qat.ts';
import type { QuantizedModel } from '../src/compress/quant/model.ts';
import { quantizedModelToBytes } from '../src/compress/quant/file.ts';
import { ortSession, ortVersion, ortWasm, race } from './_peers.ts';
import { matMulIntegerModel } from './_onnx-int.ts';
import { fmt } from './_stats.ts';

const EPOCHS = Number(process.env.KILN_BENCH_EPOCHS ?? 10);
const QAT_EPOCHS = 2;
const load = loadavg()[0]!;
const { train, test } = trainTestSplit(await mnist(), { testFraction: 0.2, seed: 0 });
const calibration = { data: train.subset(Array.from({ length: 1000 }, (_, i) => i * Math.floor(train.numRows / 1000))) };

let t0 = performance.now();
const model = new Sequential({ inputs: 784, layers: [dense(256, 'relu'), dense(128, 'relu'), dense(10)], seed: 1 });
await fit(model, train, { optimizer: adam({ lr: 1e-3 }), epochs: EPOCHS, batchSize: 64, standardize: false });
const acc = (m: { predictClasses(x: Float32Array): Int32Array }) => accuracy(test.labels, m.predictClasses(test.features));
const f32Acc = acc(model);
const f32File = modelToBytes(model).length;
console.log(
  `784-256-128-10 MLP: ${model.parameterCount} parameters, f32 test accuracy ${fmt(f32Acc * 100, 2)}% (${fmt((performance.now() - t0) / 1000)} s, ${EPOCHS} epochs, ${train.numRows} train / ${test.numRows} test rows, no standardisation); load average ${load.toFixed(2)}\n`,
);

interface Entry {
  name: string;
  q: QuantizedModel;
  acc: number;
  ms: number;
}
const entries: Entry[] = [];
const add = (name: string, make: () => QuantizedModel) => {
  const t = performance.now();
  const q = make();
  entries.push({ name, q, acc: acc(q), ms: performance.now() - t });
};
const PTQ: [string, QuantizeOptions][] = [
  ['int8 per-tensor, min-max', { scheme: 'int8-per-tensor', calibration }],
  ['int8 per-channel, min-max', { scheme: 'int8-per-channel', calibration }],
  [
    'int8 per-channel, percentile 99.99',
    { scheme: 'int8-per-channel', calibration: { ...calibration, method: 'percentile', percentile: 99.99 } },
  ],
  ['int8 per-channel, MSE', { scheme: 'int8-per-channel', calibration: { ...calibration, method: 'mse' } }],
  ['int8 per-channel, entropy', { scheme: 'int8-per-channel', calibration: { ...calibration, method: 'entropy' } }],
  ['int8 per-channel affine, min-max', { scheme: 'int8-per-channel', symmetric: false, calibration }],
  ['int8 dynamic (range per batch)', { scheme: 'int8-dynamic' }],
  ['int8 dynamic (range per row)', { scheme: 'int8-dynamic', dynamicRange: 'row' }],
  ['int4 g32 (weight-only)', { scheme: 'int4', groupSize: 32 }],
  ['int4 g128 (weight-only)', { scheme: 'int4', groupSize: 128 }],
  ['int4 g128 affine (weight-only)', { scheme: 'int4', groupSize: 128, symmetric: false }],
];
for (const [name, options] of PTQ) add(name, () => quantize(model, options));

// QAT starts from a copy of the trained model: fake quantisation for a couple of epochs at a
// tenth of the learning rate, then conversion.
const student = modelFromBytes(modelToBytes(model));
t0 = performance.now();
const qat = prepareQat(student);
await fit(student, train, { optimizer: adam({ lr: 1e-4 }), epochs: QAT_EPOCHS, batchSize: 64, standardize: false });
const qatMs = performance.now() - t0;
add(`QAT int8 per-channel (${QAT_EPOCHS} epochs)`, () => qat.convert());
qat.detach();
student.dispose();

console.log('### Accuracy and size\n');
console.log(
  `Δ in points against f32; file = the safetensors file (f32: kiln model file, ${f32File} B); time = quantising (QAT: + ${fmt(qatMs / 1000)} s of training).\n`,
);
console.log('| model | accuracy | Δ pt | parameter bytes | file bytes | smaller than f32 file | time ms |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
console.log(`| f32 | ${fmt(f32Acc * 100, 2)}% | | ${model.parameterCount * 4} | ${f32File} | 1.00x | |`);
const fileOf = new Map<string, number>();
for (const e of entries) {
  const file = quantizedModelToBytes(e.q).length;
  fileOf.set(e.name, file);
  console.log(
    `| ${e.name} | ${fmt(e.acc * 100, 2)}% | ${fmt((e.acc - f32Acc) * 100, 2)} | ${e.q.bytes} | ${file} | ${fmt(f32File / file, 2)}x | ${fmt(e.ms, 0)} |`,
  );
}

// ---- inference latency: the public predict() of each model on 1 and 64 rows ----
console.log('\n### Inference, predict() on 1 and 64 rows (µs of CPU time, median of alternated repetitions)\n');
const latencyOf = [
  'int8 per-channel, min-max',
  'int8 dynamic (range per batch)',
  'int8 dynamic (range per row)',
  'int4 g32 (weight-only)',
  'int4 g128 (weight-only)',
];
const lat: Record<string, Record<number, number>> = {};
for (const batch of [1, 64]) {
  const x = test.features.slice(0, batch * 784);
  const result = await race(
    [
      { name: 'f32', run: () => model.predict(x) },
      ...latencyOf.map((name) => ({ name, run: () => entries.find((e) => e.name === name)!.q.predict(x) })),
    ],
    { reps: 11, minMs: 30 },
  );
  for (const [name, r] of result) (lat[name] ??= {})[batch] = r.cpu;
}
console.log('| model | batch 1 µs | vs f32 | batch 64 µs | vs f32 | rows/s at 64 |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const name of ['f32', ...latencyOf]) {
  const l = lat[name]!;
  const r = (b: number) => fmt(lat.f32![b]! / l[b]!, 2);
  console.log(`| ${name} | ${fmt(l[1]! * 1000, 0)} | ${r(1)}x | ${fmt(l[64]! * 1000, 0)} | ${r(64)}x | ${fmt((64 / l[64]!) * 1000, 0)} |`);
}

// ---- small models: where a fixed per-call cost would show (weights as initialised; latency
// does not depend on their values) ----
console.log(
  '\n### Small MLPs, predict() µs of CPU time (weights as initialised; int8 static calibrated on 1000 training rows, or 200 uniform rows for 4 inputs)\n',
);
console.log('| model | batch | f32 | int8 per-channel | vs f32 | int8 dynamic | vs f32 |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const shape of [
  [4, 16, 3],
  [784, 27, 10],
  [784, 20, 32, 10],
  [784, 128, 10],
]) {
  const small = new Sequential({
    inputs: shape[0]!,
    layers: shape.slice(1).map((u, i) => dense(u, i < shape.length - 2 ? 'relu' : undefined)),
    seed: 2,
  });
  const rows =
    shape[0] === 784 ? calibration.data.features : Float32Array.from({ length: 200 * 4 }, (_, i) => ((i * 7919) % 1000) / 500 - 1);
  const s8 = quantize(small, { scheme: 'int8-per-channel', calibration: { data: rows } });
  const sd = quantize(small, { scheme: 'int8-dynamic' });
  for (const batch of [1, 64]) {
    const x = rows.slice(0, batch * shape[0]!);
    const r = await race(
      [
        { name: 'f32', run: () => small.predict(x) },
        { name: 'int8', run: () => s8.predict(x) },
        { name: 'dyn', run: () => sd.predict(x) },
      ],
      { reps: 11, minMs: 20 },
    );
    const us = (name: string) => r.get(name)!.cpu * 1000;
    console.log(
      `| ${shape.join('-')} | ${batch} | ${fmt(us('f32'), 2)} | ${fmt(us('int8'), 2)} | ${fmt(us('f32') / us('int8'), 2)}x | ${fmt(us('dyn'), 2)} | ${fmt(us('f32') / us('dyn'), 2)}x |`,
    );
  }
  for (const m of [s8, sd, small]) m.dispose();
}

// ---- kernels ----
console.log(`\n### Kernels, single thread (GOP/s = 2·M·N·K / median CPU time per run; onnxruntime-web ${await ortVersion()})\n`);
const ort = await ortWasm();
const SHAPES: [number, number, number][] = [
  [1024, 1024, 1024],
  [256, 256, 256],
  [64, 784, 256],
  [64, 256, 128],
  [1, 784, 256],
];
const kernelRows: string[] = [];
const ratios: { shape: string; f32: number; ort: number }[] = [];
for (const [M, K, N] of SHAPES) {
  const a = Uint8Array.from({ length: M * K }, (_, i) => (i * 7919 + 13) & 255);
  const wT = Int8Array.from({ length: N * K }, (_, i) => ((i * 104729 + 7) & 255) - 128); // [N,K]
  const wKN = new Int8Array(K * N);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wKN[k * N + n] = wT[n * K + k]!;
  const zx = 128;
  const xq = Tensor.from(a, [M, K], 'u8');
  const packed = packInt8Weights(Tensor.from(wT, [N, K], 'i8'));
  const session = await ortSession(matMulIntegerModel(M, K, N, wKN, zx));
  const feeds = { A: new ort.Tensor('uint8', a, [M, K]) };
  const fx = Tensor.from(
    Float32Array.from(a, (v) => (v - zx) / 128),
    [M, K],
  );
  const fw = Tensor.from(
    Float32Array.from(wT, (v) => v / 128),
    [N, K],
  );
  const fy = Tensor.empty([M, N]);
  const codes4 = Tensor.from(
    Int8Array.from(wT, (v) => v >> 4),
    [N, K],
    'i8',
  );
  const groups = Math.ceil(K / 128);
  const w4 = packInt4Weights(codes4, { scales: new Float32Array(N * groups).fill(1 / 64), qmin: -8, qmax: 7, groupSize: 128 });
  // The same products before anything is timed.
  const mine = int8Gemm(xq, zx, packed, { output: 'i32' });
  const theirs = (await session.run(feeds)).C!.data as Int32Array;
  const ours = mine.view() as Int32Array;
  for (let i = 0; i < ours.length; i++)
    if (ours[i] !== theirs[i])
      throw new Error(`quant bench ${M}x${K}x${N}: kiln and onnxruntime disagree at ${i}: ${ours[i]} vs ${theirs[i]}`);
  mine.dispose();
  const result = await race(
    [
      { name: 'i8', run: () => int8Gemm(xq, zx, packed, { output: 'i32' }).dispose() },
      { name: 'ort', run: () => session.run(feeds) },
      { name: 'f32', run: () => matmul(fx, fw, { transB: true, out: fy }) },
      { name: 'i4', run: () => int4Gemm(fx, w4).dispose() },
    ],
    { reps: 15, minMs: 30 },
  );
  const g = (name: string) => (2 * M * N * K) / (result.get(name)!.cpu * 1e6);
  const gw = (name: string) => (2 * M * N * K) / (result.get(name)!.median * 1e6);
  const shape = `${M}x${K}·${K}x${N}`;
  ratios.push({ shape, f32: g('i8') / g('f32'), ort: g('i8') / g('ort') });
  kernelRows.push(
    `| ${shape} | ${fmt(g('i8'))} | ${fmt(g('f32'))} | ${fmt(g('ort'))} | ${fmt(g('i8') / g('f32'), 2)} | ${fmt(g('i8') / g('ort'), 2)} | ${fmt(gw('i8'))} / ${fmt(gw('ort'))} | ${fmt(g('i4'))} | ${fmt(g('i4') / g('f32'), 2)} |`,
  );
  await session.release();
  for (const t of [xq, packed.packed, fx, fw, fy, codes4, w4.codes, w4.params]) t.dispose();
  console.error(`  done ${shape}`);
}
console.log(
  '| shape | kiln int8 GOP/s | kiln f32 GFLOP/s | ORT MatMulInteger GOP/s | int8/f32 | int8/ORT | wall-clock int8 / ORT | kiln int4 (f32 x) GFLOP/s | int4/f32 |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of kernelRows) console.log(r);

// ---- targets ----
const byName = (n: string) => entries.find((e) => e.name.startsWith(n))!;
const drop = (n: string) => (f32Acc - byName(n).acc) * 100;
const big = ratios[0]!;
const check = (ok: boolean) => (ok ? 'met' : 'MISSED');
console.log('\n### Targets\n');
console.log('| target | measured | |');
console.log('|---|---:|---|');
console.log(
  `| int8 per-channel PTQ drop ≤ 0.5 pt | ${fmt(drop('int8 per-channel, min-max'), 2)} pt | ${check(drop('int8 per-channel, min-max') <= 0.5)} |`,
);
console.log(
  `| int4 g128 weight-only drop ≤ 1.5 pt | ${fmt(drop('int4 g128 (weight-only)'), 2)} pt | ${check(drop('int4 g128 (weight-only)') <= 1.5)} |`,
);
console.log(`| QAT drop ≤ 0.3 pt | ${fmt(drop('QAT'), 2)} pt | ${check(drop('QAT') <= 0.3)} |`);
const r8 = f32File / fileOf.get('int8 per-channel, min-max')!,
  r4 = f32File / fileOf.get('int4 g128 (weight-only)')!;
console.log(`| int8 file ≥ 3.9x smaller | ${fmt(r8, 2)}x | ${check(r8 >= 3.9)} |`);
console.log(`| int4 file ≥ 7x smaller | ${fmt(r4, 2)}x | ${check(r4 >= 7)} |`);
console.log(`| int8 GEMM ≥ 2x kiln f32 (${big.shape}) | ${fmt(big.f32, 2)}x | ${check(big.f32 >= 2)} |`);
console.log(`| int8 GEMM ≥ 1.3x ORT MatMulInteger (${big.shape}) | ${fmt(big.ort, 2)}x | ${check(big.ort >= 1.3)} |`);
const mlp = lat.f32![64]! / lat['int8 per-channel, min-max']![64]!;
console.log(`| int8 MLP batch 64 ≥ 1.5x f32 | ${fmt(mlp, 2)}x | ${check(mlp >= 1.5)} |`);
for (const e of entries) e.q.dispose();
model.dispose();
