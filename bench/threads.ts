// Threads: the threaded core with 1, 2, ... threads against itself and against ONNX Runtime Web
// (wasm, numThreads 1 and 2) in one process, contestants alternated. Wall-clock medians: CPU time
// adds up over threads. The machine is shared, so the ratios of one run are what carry over.
// TensorFlow.js wasm's threaded build does not start in Node (the backend reports no multithread
// support), so the last part runs kiln, TensorFlow.js wasm and ONNX Runtime Web with 1 and 2
// threads each in a cross-origin-isolated Chromium page (bench/_threads-browser.ts).
// npm run bench -- threads   (KILN_BENCH_ROUNDS sets the rounds, default 5)
import { cpus, loadavg } from 'node:os';
import { coreInfo, useThreads } from '../src/core/wasm.ts';
import { Tensor } from '../src/core/tensor.ts';
import { matmul } from '../src/core/ops/linalg.ts';
import { Sequential, SparseModel, conv2d, dense, fit, flatten, maxPool2d, adam, mnist, pruneWeights, quantize } from '../src/index.ts';
import { int8Gemm, packInt8Weights } from '../src/core/ops/quant.ts';
import { alternate, fmt } from './_stats.ts';
import { onnxModel, race } from './_peers.ts';
import { browserThreads } from './_threads-browser.ts';

const ROUNDS = Number(process.env.KILN_BENCH_ROUNDS ?? 5);
const info = coreInfo();
const counts = Array.from({ length: Math.min(info.threads, 2) }, (_, i) => i + 1);
if (info.threads < 2) console.log(`(only ${info.summary}; nothing to compare)`);
const load0 = loadavg()[0]!;

// ONNX Runtime Web: the thread count is fixed when its wasm loads, so one import per count is
// impossible in one process; a session per count shares the one setting. It runs with the
// largest count, and its 1-thread figure comes from a session with intra-op threads 1.
const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = counts.at(-1)!;
ort.env.wasm.proxy = false;
ort.env.logLevel = 'error';

function data(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 0.7 + seed);
  return out;
}

console.log(`${info.summary}; ${cpus().length} CPUs, load average ${load0.toFixed(2)} at start\n`);
// Beside the wall-clock ratio, kiln's CPU time (all threads of the process) with the most threads
// against one: the work the split adds (duplicated packing, waiting). It does not depend on
// whether the machine gave the threads free cores, which the wall-clock ratio does.
console.log('**GEMM** C = A·B, GFLOP/s from the median wall-clock time of alternated repetitions:\n');
console.log(
  `| shape | ${counts.map((t) => `kiln ${t}T`).join(' | ')} | ${counts.map((t) => `ort ${t}T`).join(' | ')} | kiln ${counts.at(-1)}T / 1T | kiln CPU time ${counts.at(-1)}T / 1T | kiln / ort at ${counts.at(-1)}T |`,
);
console.log(`|---|${counts.map(() => '---:|').join('')}${counts.map(() => '---:|').join('')}---:|---:|---:|`);
for (const [M, K, N] of [
  [1024, 1024, 1024],
  [512, 512, 512],
  [256, 784, 256],
  [64, 784, 256],
] as const) {
  const a = data(M * K, 1);
  const b = data(K * N, 2);
  const at = Tensor.from(a, [M, K]);
  const bt = Tensor.from(b, [K, N]);
  const ct = Tensor.empty([M, N]);
  const model = onnxModel({
    nodes: [{ opType: 'MatMul', inputs: ['A', 'B'], outputs: ['C'] }],
    inputs: [
      { name: 'A', shape: [M, K] },
      { name: 'B', shape: [K, N] },
    ],
    outputs: [{ name: 'C', shape: [M, N] }],
  });
  const sessions = await Promise.all(
    counts.map((t) => ort.InferenceSession.create(model, { executionProviders: ['wasm'], intraOpNumThreads: t })),
  );
  const feeds = { A: new ort.Tensor('float32', a, [M, K]), B: new ort.Tensor('float32', b, [K, N]) };
  const result = await race(
    [
      ...counts.map((t) => ({
        name: `kiln${t}`,
        run: () => {
          useThreads(t);
          matmul(at, bt, { out: ct });
        },
      })),
      ...counts.map((t, i) => ({ name: `ort${t}`, run: () => sessions[i]!.run(feeds) })),
    ],
    { reps: 9, minMs: 60 },
  );
  useThreads(info.threads);
  const g = (name: string) => (2 * M * N * K) / (result.get(name)!.median * 1e6);
  const top = counts.at(-1)!;
  const work = result.get(`kiln${top}`)!.cpu / result.get('kiln1')!.cpu;
  console.log(
    `| ${M}x${K}·${K}x${N} | ${counts.map((t) => fmt(g(`kiln${t}`))).join(' | ')} | ${counts.map((t) => fmt(g(`ort${t}`))).join(' | ')} | ${fmt(g(`kiln${top}`) / g('kiln1'), 2)}x | ${fmt(work, 3)} | ${fmt(g(`kiln${top}`) / g(`ort${top}`), 2)}x |`,
  );
  for (const s of sessions) await s.release();
  for (const t of [at, bt, ct]) t.dispose();
}

// Training: one epoch of the 784-256-128-10 ReLU MLP of `train` at batch 256 on 6,400 MNIST rows.
const all = await mnist();
const rows = all.subset(Int32Array.from({ length: 6400 }, (_, i) => (i * 7919) % all.numRows));
const epoch = (threads: number, batchSize: number) => async () => {
  useThreads(threads);
  const model = new Sequential({ inputs: 784, layers: [dense(256, 'relu'), dense(128, 'relu'), dense(10)], seed: 1 });
  const t0 = performance.now();
  await fit(model, rows, { optimizer: adam(), epochs: 1, batchSize, standardize: false });
  const s = (performance.now() - t0) / 1000;
  model.dispose();
  return rows.numRows / s;
};
console.log(`\n**Training** one epoch, 784-256-128-10 ReLU MLP, Adam, samples/s (median of ${ROUNDS}):\n`);
console.log(`| batch | ${counts.map((t) => `kiln ${t}T`).join(' | ')} | ${counts.at(-1)}T / 1T |`);
console.log(`|---|${counts.map(() => '---:|').join('')}---:|`);
for (const batch of [64, 256]) {
  const r = await alternate(Object.fromEntries(counts.map((t) => [`t${t}`, epoch(t, batch)])), ROUNDS);
  console.log(`| ${batch} | ${counts.map((t) => fmt(r[`t${t}`]!, 0)).join(' | ')} | ${fmt(r[`t${counts.at(-1)}`]! / r.t1!, 2)}x |`);
}

// int8: y = x·wᵀ over codes with the f32 epilogue (a quantized dense layer at batch 256), one
// epoch of a small CNN (conv 8@3x3 same, ReLU, max pool, conv 16@3x3, ReLU, max pool, dense) at
// batch 64 on 1x28x28 images, and compressed models' inference: products split by rows,
// convolutions by samples, sparse layers by batch rows.
{
  const [M, K, N] = [256, 784, 256];
  const r = (n: number, lo: number, span: number) => Int8Array.from({ length: n }, (_, i) => lo + ((i * 7919) % span));
  const x = Tensor.from(Uint8Array.from(r(M * K, 0, 120)), [M, K], 'u8');
  const w = packInt8Weights(Tensor.from(r(N * K, -100, 200), [N, K], 'i8'));
  const weightScales = Tensor.from(new Float32Array(N).fill(1e-3), [N]);
  const reps = 20;
  const gemm8 = (threads: number) => () => {
    useThreads(threads);
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) int8Gemm(x, 3, w, { output: 'f32', xScale: 0.01, weightScales }).dispose();
    return (2 * M * N * K * reps) / ((performance.now() - t0) * 1e6);
  };
  const g8 = await alternate(Object.fromEntries(counts.map((t) => [`t${t}`, gemm8(t)])), ROUNDS);
  const images = all.subset(Int32Array.from({ length: 1280 }, (_, i) => (i * 7919) % all.numRows));
  const smallCnn = () =>
    new Sequential({
      inputs: [1, 28, 28],
      layers: [
        conv2d(8, 3, { padding: 'same', activation: 'relu' }),
        maxPool2d(2),
        conv2d(16, 3, { activation: 'relu' }),
        maxPool2d(2),
        flatten(),
        dense(10),
      ],
      seed: 1,
    });
  const cnnEpoch = (threads: number) => async () => {
    useThreads(threads);
    const model = smallCnn();
    const t0 = performance.now();
    await fit(model, images, { optimizer: adam(), epochs: 1, batchSize: 64, standardize: false });
    const s = (performance.now() - t0) / 1000;
    model.dispose();
    return images.numRows / s;
  };
  const cnn = await alternate(Object.fromEntries(counts.map((t) => [`t${t}`, cnnEpoch(t)])), ROUNDS);
  const top = counts.at(-1)!;
  console.log(`\n**int8 and convolutions** (median of ${ROUNDS}):\n`);
  console.log(`| | ${counts.map((t) => `kiln ${t}T`).join(' | ')} | ${top}T / 1T |`);
  console.log(`|---|${counts.map(() => '---:|').join('')}---:|`);
  console.log(
    `| int8 GEMM ${M}x${K}·(${N}x${K})ᵀ, f32 out, GOP/s | ${counts.map((t) => fmt(g8[`t${t}`]!)).join(' | ')} | ${fmt(g8[`t${top}`]! / g8.t1!, 2)}x |`,
  );
  console.log(
    `| CNN training, batch 64, samples/s | ${counts.map((t) => fmt(cnn[`t${t}`]!, 0)).join(' | ')} | ${fmt(cnn[`t${top}`]! / cnn.t1!, 2)}x |`,
  );
  // Compressed models at batch 256: the CNN in int8 (static, per channel), the MLP in int4 and
  // pruned to 90 % on the sparse path. Samples/s of predict over the same 256 rows.
  const cnnModel = smallCnn();
  const batch = images.subset(Int32Array.from({ length: 256 }, (_, i) => i));
  const int8Cnn = quantize(cnnModel, { scheme: 'int8-per-channel', calibration: { data: batch } });
  const mlp = new Sequential({ inputs: 784, layers: [dense(256, 'relu'), dense(128, 'relu'), dense(10)], seed: 1 });
  const int4Mlp = quantize(mlp, { scheme: 'int4' });
  pruneWeights(mlp, { sparsity: 0.9, scope: 'global' });
  const sparseMlp = SparseModel.from(mlp);
  for (const [name, predictor] of [
    ['int8 CNN inference, batch 256, samples/s', int8Cnn],
    ['int4 MLP inference, batch 256, samples/s', int4Mlp],
    ['90 %-sparse MLP inference, batch 256, samples/s', sparseMlp],
  ] as const) {
    const rate = (threads: number) => () => {
      useThreads(threads);
      predictor.predict(batch.features);
      const t0 = performance.now();
      for (let i = 0; i < 10; i++) predictor.predict(batch.features);
      return (10 * 256) / ((performance.now() - t0) / 1000);
    };
    const r = await alternate(Object.fromEntries(counts.map((t) => [`t${t}`, rate(t)])), ROUNDS);
    console.log(`| ${name} | ${counts.map((t) => fmt(r[`t${t}`]!, 0)).join(' | ')} | ${fmt(r[`t${top}`]! / r.t1!, 2)}x |`);
  }
  for (const t of [x, w.packed, weightScales]) t.dispose();
  for (const m of [int8Cnn, int4Mlp, sparseMlp, cnnModel, mlp]) m.dispose();
}

// Batch-1 inference stays on the calling thread (below the split threshold): no slower.
const model = new Sequential({ inputs: 784, layers: [dense(128, 'relu'), dense(10)], seed: 1 });
const sample = rows.features.slice(0, 784);
const CALLS = 3000;
const perCall = (threads: number) => () => {
  useThreads(threads);
  for (let i = 0; i < 200; i++) model.predict(sample);
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) model.predict(sample);
  return ((performance.now() - t0) * 1000) / CALLS;
};
const lat = await alternate(Object.fromEntries(counts.map((t) => [`t${t}`, perCall(t)])), ROUNDS);
console.log(
  `\n**Batch-1 inference**, 784-128-10 MLP, µs per call (median of ${ROUNDS} runs of ${CALLS} calls): ${counts.map((t) => `${t}T ${fmt(lat[`t${t}`]!, 2)}`).join(', ')}`,
);
model.dispose();
useThreads(info.threads);
console.log(`\nload average ${loadavg()[0]!.toFixed(2)} at end`);

console.log('\n**In a browser**, with TensorFlow.js wasm and ONNX Runtime Web at equal thread counts:\n');
await browserThreads();
