// Training throughput and batch-1 latency: kiln against TensorFlow.js (wasm backend with one
// thread, and the cpu backend) in the same process, contestants alternated, medians reported.
// npm run bench -- train
import type * as Tf from '@tensorflow/tfjs';
import { Sequential, dense, fit, adam, mnist, Dataset } from '../src/index.ts';
import { alternate, fmt } from './_stats.ts';
import { benchThreads, onnxModel, ortSession, ortWasm, tfjsWasm } from './_peers.ts';

const threads = benchThreads();
const tf = await tfjsWasm();

const ROUNDS = Number(process.env.KILN_BENCH_ROUNDS ?? 5);
const all = await mnist();
const N = 6400;
const data = all.subset(Int32Array.from({ length: N }, (_, i) => (i * 7919) % all.numRows));

function kilnEpoch(batchSize: number, rows: Dataset): () => Promise<number> {
  return async () => {
    const model = new Sequential({ inputs: 784, layers: [dense(256, 'relu'), dense(128, 'relu'), dense(10)], seed: 1 });
    const t0 = performance.now();
    await fit(model, rows, { optimizer: adam(), epochs: 1, batchSize, standardize: false });
    const s = (performance.now() - t0) / 1000;
    model.dispose();
    return rows.numRows / s;
  };
}

function tfModel(): Tf.Sequential {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
  m.compile({ optimizer: tf.train.adam(), loss: tf.losses.softmaxCrossEntropy });
  return m;
}

function tfEpoch(backend: 'wasm' | 'cpu', batchSize: number, rows: Dataset): () => Promise<number> {
  return async () => {
    await tf.setBackend(backend);
    const xs = tf.tensor2d(rows.features, [rows.numRows, 784]);
    const ys = tf.oneHot(tf.tensor1d(rows.labels, 'int32'), 10).toFloat();
    const m = tfModel();
    const t0 = performance.now();
    await m.fit(xs, ys, { batchSize, epochs: 1, shuffle: true, verbose: 0 });
    const s = (performance.now() - t0) / 1000;
    tf.dispose([xs, ys]);
    m.dispose();
    return rows.numRows / s;
  };
}

console.log(
  `Training one epoch of a 784-256-128-10 ReLU MLP, softmax cross-entropy, Adam; samples/s, median of ${ROUNDS}; kiln on ${threads} thread${threads > 1 ? 's' : ''} (KILN_BENCH_THREADS).\n`,
);
console.log('| batch | kiln | tfjs-wasm (1 thread) | tfjs-cpu | kiln / tfjs-wasm | kiln / tfjs-cpu |');
console.log('|---|---|---|---|---|---|');
const cpuRows = data.subset(Int32Array.from({ length: 1280 }, (_, i) => i));
for (const batch of [64, 256]) {
  const r = await alternate(
    { kiln: kilnEpoch(batch, data), wasm: tfEpoch('wasm', batch, data), cpu: tfEpoch('cpu', batch, cpuRows) },
    ROUNDS,
  );
  console.log(
    `| ${batch} | ${fmt(r.kiln!, 0)} | ${fmt(r.wasm!, 0)} | ${fmt(r.cpu!, 0)} | ${fmt(r.kiln! / r.wasm!, 2)}x | ${fmt(r.kiln! / r.cpu!, 2)}x |`,
  );
}

// Batch-1 inference latency of a 784-128-10 MLP.
const CALLS = 3000;
const sample = data.features.slice(0, 784);
const kilnModel = new Sequential({ inputs: 784, layers: [dense(128, 'relu'), dense(10)], seed: 1 });
await tf.setBackend('wasm');
const tfInfer = tf.sequential({
  layers: [tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }), tf.layers.dense({ units: 10, activation: 'softmax' })],
});
// The same weights as an ONNX graph (Gemm with transB = PyTorch's Linear, Relu, Gemm, Softmax)
// for onnxruntime-web with one wasm thread.
const [w0, b0, w1, b1] = kilnModel.parameters();
const session = await ortSession(
  onnxModel({
    nodes: [
      { opType: 'Gemm', inputs: ['x', 'w0', 'b0'], outputs: ['h'], attributes: { transB: 1 } },
      { opType: 'Relu', inputs: ['h'], outputs: ['r'] },
      { opType: 'Gemm', inputs: ['r', 'w1', 'b1'], outputs: ['z'], attributes: { transB: 1 } },
      { opType: 'Softmax', inputs: ['z'], outputs: ['p'], attributes: { axis: 1 } },
    ],
    inputs: [{ name: 'x', shape: [1, 784] }],
    outputs: [{ name: 'p', shape: [1, 10] }],
    initializers: [w0!, b0!, w1!, b1!].map((p, i) => ({ name: ['w0', 'b0', 'w1', 'b1'][i]!, dims: p.shape, data: p.data })),
  }),
);
const ortModule = await ortWasm();
const ort = async (x: Float32Array) => (await session.run({ x: new ortModule.Tensor('float32', x, [1, 784]) })).p!.data;
const perCall = (fn: () => unknown) => async () => {
  for (let i = 0; i < 200; i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) await fn();
  return ((performance.now() - t0) * 1000) / CALLS;
};
const x1 = tf.tensor2d(sample, [1, 784]);
const contestants: Record<string, () => Promise<number>> = {
  kiln: perCall(() => kilnModel.predict(sample)),
  'tfjs-wasm': perCall(() => tf.tidy(() => (tfInfer.predict(x1) as Tf.Tensor).dataSync())),
};
contestants['ort-web'] = perCall(() => ort(sample));
const lat = await alternate(contestants, ROUNDS);
console.log(`\nBatch-1 inference, 784-128-10 MLP with softmax, µs per call (median of ${ROUNDS} runs of ${CALLS} calls):\n`);
console.log(
  '| kiln | ' +
    Object.keys(contestants).slice(1).join(' | ') +
    ' | ' +
    Object.keys(contestants)
      .slice(1)
      .map((n) => `${n} / kiln`)
      .join(' | ') +
    ' |',
);
console.log(
  '|---|' +
    Object.keys(contestants)
      .slice(1)
      .map(() => '---|---|')
      .join(''),
);
console.log(
  `| ${fmt(lat.kiln!, 2)} | ` +
    Object.keys(contestants)
      .slice(1)
      .map((n) => fmt(lat[n]!, 2))
      .join(' | ') +
    ' | ' +
    Object.keys(contestants)
      .slice(1)
      .map((n) => `${fmt(lat[n]! / lat.kiln!, 2)}x`)
      .join(' | ') +
    ' |',
);
kilnModel.dispose();
