// WASM memory before and after: what an API call allocates it frees (or hands to the caller).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveBytes } from '../../src/core/wasm.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';
import { iris } from '../../src/data/builtin.ts';
import { fit } from '../../src/train/fit.ts';
import { adam } from '../../src/train/optimizers.ts';
import { quantize } from '../../src/compress/quant/quantize.ts';
import { prepareQat } from '../../src/compress/quant/qat.ts';

const data = iris();
const make = () => new Sequential({ inputs: 4, layers: [dense(16, 'relu'), dense(3)], seed: 1 });

test('quantize with calibration frees its calibration outputs', () => {
  const model = make();
  model.predict(data.features); // the model's own workspace, kept for its life
  const before = liveBytes();
  for (const method of ['minmax', 'entropy', 'percentile', 'mse'] as const) {
    const q = quantize(model, { scheme: 'int8-per-channel', calibration: { data, method } });
    q.dispose();
    assert.equal(liveBytes(), before, method);
  }
  model.dispose();
});

test('a QAT session whose model is disposed without detach() frees its buffers', async () => {
  const before = liveBytes();
  const model = make();
  const qat = prepareQat(model, {});
  await fit(model, data, { optimizer: adam({ lr: 0.01 }), epochs: 1, batchSize: 32 });
  model.dispose();
  assert.equal(liveBytes(), before);
  qat.detach(); // still safe afterwards
  assert.equal(liveBytes(), before);
});

test('predict on a disposed model is a clear error naming the model, and allocates nothing', () => {
  const model = make();
  model.dispose();
  const before = liveBytes();
  for (let i = 0; i < 3; i++)
    assert.throws(
      () => model.predict(data.features),
      (e: unknown) =>
        e instanceof Error &&
        e.message === 'Sequential(4→3).predict: this model was disposed (dispose() was called); load or build it again to predict',
    );
  assert.throws(() => model.predictClasses(data.features), /Sequential\(4→3\)\.predict: this model was disposed/);
  assert.equal(liveBytes(), before);
});
