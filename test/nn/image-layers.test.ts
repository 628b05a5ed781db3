// Image layers through Sequential: output shapes and names, errors that name the layer, batch
// norm's training and inference modes, early stopping restoring running statistics with the
// weights, and a model file round trip of a CNN (shaped input, running statistics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential } from '../../src/nn/sequential.ts';
import { avgPool2d, batchNorm, conv2d, dense, flatten, globalAvgPool2d, maxPool2d } from '../../src/nn/layers/index.ts';
import { Dataset } from '../../src/data/dataset.ts';
import { fit } from '../../src/train/fit.ts';
import { adam } from '../../src/train/optimizers.ts';
import { modelFromBytes, modelToBytes } from '../../src/io/model-file.ts';
import { decodeSafetensors } from '../../src/io/safetensors.ts';
import { batchNormRef } from '../reference/cnn-ref.ts';
import { assertClose } from '../helpers/close.ts';
import { ints, mulberry32, uniform } from '../helpers/rand.ts';

const shapes = (m: Sequential) => m.engine.layers.map((l) => [l.name, l.outputShape.join('x')]);

test('image layers give the output shapes of their geometry and say what they are', () => {
  const m = new Sequential({
    inputs: [3, 28, 27],
    layers: [
      conv2d(8, 5, { padding: 'same', activation: 'relu' }),
      maxPool2d(2),
      conv2d(8, 3, { stride: 2, groups: 8 }),
      conv2d(6, [3, 1], { padding: [1, 0], dilation: 2 }),
      avgPool2d(3, { stride: 2, padding: 'same' }),
      batchNorm({ activation: 'relu' }),
      globalAvgPool2d(),
      dense(4),
    ],
  });
  assert.deepEqual(shapes(m), [
    ['conv2d(8, 5x5, same, relu)', '8x28x27'],
    ['maxPool2d(2x2)', '8x14x13'],
    ['conv2d(8, 3x3, stride 2, groups 8, linear)', '8x6x6'],
    ['conv2d(6, 3x1, padding 1x0, linear)', '6x4x6'],
    ['avgPool2d(3x3, stride 2, same)', '6x2x3'],
    ['batchNorm(relu)', '6x2x3'],
    ['globalAvgPool2d()', '6'],
    ['dense(4, linear)', '4'],
  ]);
  assert.deepEqual(
    m.parameters().map((p) => `${p.name}:${p.shape.join('x')}`),
    [
      'layers.0.weight:8x3x5x5',
      'layers.0.bias:8',
      'layers.2.weight:8x1x3x3',
      'layers.2.bias:8',
      'layers.3.weight:6x8x3x1',
      'layers.3.bias:6',
      'layers.5.weight:6',
      'layers.5.bias:6',
      'layers.5.running_mean:6',
      'layers.5.running_var:6',
      'layers.7.weight:4x6',
      'layers.7.bias:4',
    ],
  );
  assert.equal(m.parameterCount, 8 * 75 + 8 + 72 + 8 + 144 + 6 + 12 + 28, 'running statistics are not trainable parameters');
  m.dispose();
});

test('shape errors name the layer and what does not fit', () => {
  const build =
    (inputs: number | number[], layers: Parameters<typeof conv2d>[] | never[], extra: object[] = []) =>
    () =>
      new Sequential({ inputs, layers: [...layers.map((a) => conv2d(...a)), ...(extra as never[]), dense(2)] });
  assert.throws(
    build(12, [[4, 3]]),
    (e: Error) => e instanceof RangeError && /layers\[0\] \(conv2d\).*\[channels, height, width\], got \[12\]/.test(e.message),
  );
  assert.throws(
    build([1, 4, 4], [[4, 5]]),
    (e: Error) => e instanceof RangeError && /layers\[0\] \(conv2d\).*height 4 is smaller than the kernel's span 5/.test(e.message),
  );
  assert.throws(build([1, 9, 9], [[4, 3, { dilation: 5 }]]), (e: Error) => e instanceof RangeError && /span 11/.test(e.message));
  assert.throws(
    build([3, 8, 8], [[4, 3, { groups: 2 }]]),
    (e: Error) =>
      e instanceof RangeError &&
      /layers\[0\] \(conv2d\).*groups \(2\) must divide the input channels \(3\) and the filters \(4\)/.test(e.message),
  );
  assert.throws(build([1, 8, 8], [[4, 3]]), (e: Error) => e instanceof RangeError && /layers\[1\] \(dense\).*flatten\(\)/.test(e.message));
  assert.throws(
    build([1, 8, 8], [], [maxPool2d(2, { padding: 2 })]),
    (e: Error) => e instanceof RangeError && /layers\[0\] \(maxPool2d\).*more than half the pool size 2x2/.test(e.message),
  );
  assert.throws(
    () => conv2d(0, 3),
    (e: Error) => e instanceof RangeError && /conv2d.*filters/.test(e.message),
  );
  assert.throws(
    () => conv2d(4, 3, { padding: 'full' as never }),
    (e: Error) => e instanceof TypeError && /padding must be 'same', 'valid'/.test(e.message),
  );
  assert.throws(
    () => conv2d(4, [3] as never),
    (e: Error) => e instanceof TypeError && /kernelSize must be a number or \[height, width\]/.test(e.message),
  );
  assert.throws(() => conv2d(4, 3, { strides: 2 } as never), /strides/);
  assert.throws(
    () => batchNorm({ eps: 0 }),
    (e: Error) => e instanceof RangeError && /eps must be > 0/.test(e.message),
  );
  assert.throws(
    () =>
      new Sequential({
        inputs: [1, 8, 8],
        layers: [{ type: 'conv2d', filters: 2, kernelSize: 3, activation: 'swish' } as never, flatten(), dense(2)],
      }),
    (e: Error) => e instanceof TypeError && /layers\[0\].*activation must be one of/.test(e.message),
  );
});

test('batch norm: training uses the batch statistics and moves the running ones; inference uses the running ones', async () => {
  const B = 5,
    C = 2,
    H = 3,
    W = 2;
  const m = new Sequential({ inputs: [C, H, W], layers: [batchNorm({ momentum: 0.25 }), flatten(), dense(2)], seed: 3 });
  const rand = mulberry32(9);
  const x = uniform(rand, B * C * H * W, -1, 4);
  const gamma = uniform(rand, C, 0.5, 2),
    beta = uniform(rand, C);
  m.setParameters({ 'layers.0.weight': gamma, 'layers.0.bias': beta });
  const before = m.predict(x);
  const data = new Dataset({ features: x, numFeatures: C * H * W, labels: ints(rand, B, 2) });
  // One epoch of one full batch at lr 0: the running statistics move once, nothing else changes.
  await fit(m, data, { optimizer: adam({ lr: 0 }), epochs: 1, batchSize: B, standardize: false, shuffle: false });
  const ref = batchNormRef(x, gamma, beta, B, C, H * W, 1e-5);
  const stats = Object.fromEntries(m.parameters().map((p) => [p.name, p.data]));
  const n = B * H * W;
  assertClose(
    stats['layers.0.running_mean']!,
    Array.from(ref.mean, (v) => 0.25 * v),
    { atol: 1e-6, rtol: 1e-6 },
    'running mean',
  );
  assertClose(
    stats['layers.0.running_var']!,
    Array.from(ref.variance, (v) => 0.75 + (0.25 * v * n) / (n - 1)),
    { atol: 1e-6, rtol: 1e-6 },
    'running variance',
  );
  const after = m.predict(x);
  assert.notDeepEqual(Array.from(after), Array.from(before), 'inference reads the moved running statistics');
  assert.deepEqual(Array.from(m.predict(x)), Array.from(after), 'inference leaves the running statistics alone');
  m.dispose();
});

test('a CNN with batch norm round-trips through a model file bit for bit, running statistics included', async () => {
  const rand = mulberry32(5);
  const n = 40;
  const data = new Dataset({ features: uniform(rand, n * 2 * 6 * 6), numFeatures: 72, labels: ints(rand, n, 3) });
  const model = new Sequential({
    inputs: [2, 6, 6],
    layers: [conv2d(4, 3, { padding: 'same' }), batchNorm({ activation: 'relu' }), maxPool2d(2), flatten(), dense(3)],
    seed: 8,
  });
  await fit(model, data, { optimizer: adam({ lr: 0.01 }), epochs: 2, batchSize: 8 });
  const bytes = modelToBytes(model);
  const { tensors } = decodeSafetensors(bytes);
  assert.deepEqual(tensors['layers.1.running_var']!.shape, [4]);
  assert.ok(
    Array.from(tensors['layers.1.running_var']!.data as Float32Array).some((v) => v !== 1),
    'the trained running variance is saved',
  );
  const loaded = modelFromBytes(bytes);
  assert.deepEqual(loaded.toConfig(), model.toConfig());
  assert.deepEqual(loaded.inputShape, [2, 6, 6]);
  assert.deepEqual(Buffer.from(loaded.predict(data.features).buffer), Buffer.from(model.predict(data.features).buffer));
  loaded.dispose();
  model.dispose();
});

test("early stopping restores the best epoch's running statistics with its weights", async () => {
  const rand = mulberry32(6);
  const n = 48;
  const data = new Dataset({ features: uniform(rand, n * 16), numFeatures: 16, labels: ints(rand, n, 2) });
  const validation = new Dataset({ features: uniform(rand, 16 * 16), numFeatures: 16, labels: ints(rand, 16, 2) });
  const make = () =>
    new Sequential({
      inputs: [1, 4, 4],
      layers: [conv2d(3, 3, { padding: 'same' }), batchNorm({ activation: 'tanh' }), flatten(), dense(2)],
      seed: 2,
    });
  const model = make();
  const history = await fit(model, data, {
    optimizer: adam({ lr: 0.05 }),
    epochs: 12,
    batchSize: 8,
    validation,
    earlyStopping: { patience: 20, restoreBest: true },
  });
  assert.ok(history.bestEpoch < 12, `the best epoch (${history.bestEpoch}) is not the last, so restoring matters`);
  // Replaying the same fit for exactly bestEpoch epochs gives the state early stopping restored.
  const replay = make();
  await fit(replay, data, { optimizer: adam({ lr: 0.05 }), epochs: history.bestEpoch, batchSize: 8, validation });
  assert.deepEqual(
    model.parameters().map((p) => Array.from(p.data)),
    replay.parameters().map((p) => Array.from(p.data)),
  );
  model.dispose();
  replay.dispose();
});
