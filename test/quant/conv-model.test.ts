// Quantised convolutional models end to end on a small CNN trained here on mnist digits: batch
// norm folded first, static and dynamic schemes close to f32, batch 1 equal to batched for static
// activations, file round trips bit for bit, quantisation-aware training of conv layers, and the
// errors for what int8 image models cannot hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mnist } from '../../src/data/builtin.ts';
import { trainTestSplit } from '../../src/data/split.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { avgPool2d, batchNorm, conv2d, dense, flatten, maxPool2d } from '../../src/nn/layers/index.ts';
import { fit } from '../../src/train/fit.ts';
import { adam } from '../../src/train/optimizers.ts';
import { quantize } from '../../src/compress/quant/quantize.ts';
import { prepareQat } from '../../src/compress/quant/qat.ts';
import { quantizedModelFromBytes, quantizedModelToBytes } from '../../src/compress/quant/file.ts';
import { ModelFileError } from '../../src/io/safetensors.ts';

const data = await mnist({ perDigit: 60 });
const { train, test: holdout } = trainTestSplit(data, { testFraction: 0.25, seed: 3 });
const cnn = () =>
  new Sequential({
    inputs: [1, 28, 28],
    layers: [
      conv2d(8, 3, { padding: 'same' }),
      batchNorm({ activation: 'relu' }),
      maxPool2d(2),
      conv2d(8, 3, { stride: 2, padding: 1, groups: 2, activation: 'relu' }),
      avgPool2d(2, { padding: 1 }),
      flatten(),
      dense(16, 'relu'),
      dense(10),
    ],
    seed: 7,
  });
const model = cnn();
await fit(model, train, { optimizer: adam({ lr: 3e-3 }), epochs: 6, batchSize: 32, seed: 7, standardize: false });
const calibration = { data: train.subset(Array.from({ length: 120 }, (_, i) => i * 3)) };
const accuracy = (pred: Int32Array) => pred.reduce((n, c, i) => n + (c === holdout.labels[i] ? 1 : 0), 0) / pred.length;
const baseline = accuracy(model.predictClasses(holdout.features));
const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

test('int8 CNNs (static per channel / per tensor, dynamic per chunk / per row) stay close to f32', () => {
  assert.ok(baseline > 0.6, `f32 baseline ${baseline}`);
  const f32 = model.predict(holdout.features);
  for (const options of [
    { scheme: 'int8-per-channel', calibration },
    { scheme: 'int8-per-tensor', calibration: { ...calibration, method: 'percentile' } },
    { scheme: 'int8-dynamic' },
    { scheme: 'int8-dynamic', dynamicRange: 'row' },
  ] as const) {
    const q = quantize(model, options);
    const p = q.predict(holdout.features);
    const acc = accuracy(q.predictClasses(holdout.features));
    const maxDiff = p.reduce((m, v, i) => Math.max(m, Math.abs(v - f32[i]!)), 0);
    assert.ok(Math.abs(acc - baseline) <= 0.04, `${JSON.stringify(options.scheme)}: accuracy ${acc} against f32 ${baseline}`);
    assert.ok(maxDiff < 0.25, `${options.scheme}: probabilities differ by ${maxDiff}`);
    const info = q.info();
    assert.deepEqual(
      info.layers.map((l) => l.type),
      ['conv2d', 'conv2d', 'dense', 'dense'],
    );
    assert.deepEqual(q.inputShape, [1, 28, 28]);
    q.dispose();
  }
});

test('a static int8 CNN gives the same bits one row at a time as batched, and files round-trip', () => {
  const q = quantize(model, { scheme: 'int8-per-channel', symmetric: false, calibration });
  const x = holdout.features.subarray(0, 5 * 784);
  const batched = q.predict(x);
  for (let r = 0; r < 5; r++)
    assert.deepEqual(bits(q.predict(x.subarray(r * 784, (r + 1) * 784))), bits(batched.subarray(r * 10, r * 10 + 10)));
  const back = quantizedModelFromBytes(quantizedModelToBytes(q));
  assert.deepEqual(bits(back.predict(holdout.features)), bits(q.predict(holdout.features)));
  assert.deepEqual(back.layers[0]!.conv, q.layers[0]!.conv);
  assert.deepEqual(back.layers[1]!.pools, q.layers[1]!.pools);
  // A geometry that does not chain is a file error naming the layer.
  const spec = { ...q.layers[1]!, conv: { ...q.layers[1]!.conv!, inputShape: [8, 13, 14] as [number, number, number] } };
  assert.throws(
    () => quantizedModelFromBytes(quantizedModelToBytes(q).slice(0, 10)),
    (e: unknown) => e instanceof ModelFileError || e instanceof RangeError,
  );
  assert.throws(
    () =>
      new (q.constructor as typeof import('../../src/compress/quant/model.ts').QuantizedModel)({
        ...q,
        inputShape: q.inputShape,
        layers: [q.layers[0]!, spec, ...q.layers.slice(2)],
      }),
    /layer 1: conv takes \[8,13,14\], the layer before gives \[8,14,14\]/,
  );
  back.dispose();
  q.dispose();
});

test('quantize refuses what int8 image models cannot run', () => {
  assert.throws(() => quantize(model, { scheme: 'int4' }), /int4 applies to dense models/);
  const sig = new Sequential({ inputs: [1, 6, 6], layers: [conv2d(2, 3, { activation: 'sigmoid' }), flatten(), dense(2)], seed: 1 });
  assert.throws(() => quantize(sig, { scheme: 'int8-dynamic' }), /layer 0 \(conv2d.*fuse linear or relu activations, got sigmoid/);
  sig.dispose();
  const pooledFirst = new Sequential({ inputs: [1, 6, 6], layers: [maxPool2d(2), conv2d(2, 3), flatten(), dense(2)], seed: 1 });
  assert.throws(() => quantize(pooledFirst, { scheme: 'int8-dynamic' }), /int8 pooling follows a convolution/);
  pooledFirst.dispose();
});

test('quantisation-aware training reaches conv layers and converts to an int8 CNN', async () => {
  const m = cnn();
  await fit(m, train, { optimizer: adam({ lr: 3e-3 }), epochs: 1, batchSize: 32, seed: 7, standardize: false });
  // QAT works on the folded model, as inference will run it.
  const { foldBatchNorm } = await import('../../src/compress/fold-batch-norm.ts');
  const folded = foldBatchNorm(m);
  const qat = prepareQat(folded);
  await fit(folded, train, { optimizer: adam({ lr: 5e-4 }), epochs: 1, batchSize: 32, seed: 7, standardize: false });
  const ranges = qat.ranges();
  assert.equal(ranges.length, 4);
  assert.ok(
    ranges.every((r) => r && r.max > r.min),
    JSON.stringify(ranges),
  );
  // The input of the first convolution is the raw image: its range is [0, max pixel].
  assert.equal(ranges[0]!.min, 0);
  const q = qat.convert();
  // What training saw, fake-quantised, against what the int8 model computes.
  const fake = folded.predict(holdout.features);
  const real = q.predict(holdout.features);
  const maxDiff = fake.reduce((mx, v, i) => Math.max(mx, Math.abs(v - real[i]!)), 0);
  assert.ok(maxDiff < 0.1, `fake-quantised and int8 probabilities differ by ${maxDiff}`);
  qat.detach();
  q.dispose();
  folded.dispose();
  m.dispose();
});
