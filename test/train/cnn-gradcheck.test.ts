// Whole-network gradients of convolutional stacks from the core against central finite
// differences of the independent f64 network in test/reference/cnn-ref.ts: every image layer
// (conv2d with padding, stride, dilation, groups, depthwise and pointwise; max, average and
// global average pooling; batch normalisation over images and over flat rows) sits behind a
// parameterised layer, so its input gradient is checked too.
import { test } from 'node:test';
import { Sequential } from '../../src/nn/sequential.ts';
import { avgPool2d, batchNorm, conv2d, dense, flatten, globalAvgPool2d, maxPool2d, type LayerConfig } from '../../src/nn/layers/index.ts';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { assertClose } from '../helpers/close.ts';
import { ints, mulberry32, uniform } from '../helpers/rand.ts';
import { softmaxXent, numericGradient } from '../reference/mlp-ref.ts';
import { cnnForward, type RefOp } from '../reference/cnn-ref.ts';

const B = 3,
  CLASSES = 3;
const conv = (O: number, KH: number, KW: number, o: Partial<Extract<RefOp, { kind: 'conv' }>> = {}): RefOp => ({
  kind: 'conv',
  O,
  KH,
  KW,
  sh: 1,
  sw: 1,
  padding: 'valid',
  dilh: 1,
  dilw: 1,
  groups: 1,
  act: 'tanh',
  alpha: 0,
  ...o,
});

function check(label: string, inputs: number[], layers: LayerConfig[], ops: RefOp[], seed: number): void {
  const model = new Sequential({ inputs, layers, seed });
  const rand = mulberry32(seed);
  const n = inputs.reduce((a, b) => a * b, 1);
  const x = uniform(rand, B * n, -1, 1);
  const labels = ints(rand, B, CLASSES);
  const grads = scope(() => {
    const order = Tensor.from(
      Int32Array.from({ length: B }, (_, i) => i),
      [B],
      'i32',
    );
    model.engine.computeGradients(Tensor.from(x, [B, n]), Tensor.from(labels, [B], 'i32'), order, 0, B, {
      kind: 'softmax_xent',
      smoothing: 0,
      classWeights: undefined,
    });
    return model.engine.grads.read();
  });
  const params = Float64Array.from(model.engine.params.read());
  const expected = numericGradient(params, (p) => softmaxXent(cnnForward(ops, p, x, B, inputs), labels, B, CLASSES));
  assertClose(grads, expected, { atol: 2e-4, rtol: 3e-3 }, label);
  model.dispose();
}

test('gradient matches finite differences: conv (same, strided, explicit padding, groups) → max pool → batch norm → average pool → dense', () => {
  check(
    'stack A',
    [2, 7, 6],
    [
      conv2d(4, 3, { padding: 'same', activation: 'tanh' }),
      maxPool2d(2),
      conv2d(4, [2, 3], { stride: [1, 2], padding: [1, 1], groups: 2, activation: 'tanh' }),
      batchNorm({ activation: 'tanh', eps: 1e-3 }),
      avgPool2d(2, { stride: 1, padding: 'same' }),
      flatten(),
      dense(CLASSES),
    ],
    [
      conv(4, 3, 3, { padding: 'same' }),
      { kind: 'maxpool', KH: 2, KW: 2, sh: 2, sw: 2, padding: 'valid' },
      conv(4, 2, 3, { sh: 1, sw: 2, padding: [1, 1], groups: 2 }),
      { kind: 'bn', eps: 1e-3, act: 'tanh', alpha: 0 },
      { kind: 'avgpool', KH: 2, KW: 2, sh: 1, sw: 1, padding: 'same' },
      { kind: 'flatten' },
      { kind: 'dense', units: CLASSES, act: 'linear', alpha: 0 },
    ],
    31,
  );
});

test('gradient matches finite differences: dilated conv → depthwise → pointwise (no im2col) → batch norm → global average pool → dense', () => {
  check(
    'stack B',
    [3, 7, 7],
    [
      conv2d(3, 3, { dilation: 2, padding: 'same', activation: 'tanh' }),
      conv2d(3, 5, { groups: 3, padding: 'same', stride: 2, activation: 'tanh' }),
      conv2d(4, 1, { activation: 'tanh' }),
      batchNorm({ activation: 'tanh' }),
      globalAvgPool2d(),
      dense(CLASSES),
    ],
    [
      conv(3, 3, 3, { dilh: 2, dilw: 2, padding: 'same' }),
      conv(3, 5, 5, { groups: 3, padding: 'same', sh: 2, sw: 2 }),
      conv(4, 1, 1),
      { kind: 'bn', eps: 1e-5, act: 'tanh', alpha: 0 },
      { kind: 'globalavg' },
      { kind: 'dense', units: CLASSES, act: 'linear', alpha: 0 },
    ],
    32,
  );
});

test('gradient matches finite differences: batch norm over flat rows between dense layers', () => {
  check(
    'stack C',
    [6],
    [dense(5, 'tanh'), batchNorm({ activation: 'tanh' }), dense(CLASSES)],
    [
      { kind: 'dense', units: 5, act: 'tanh', alpha: 0 },
      { kind: 'bn', eps: 1e-5, act: 'tanh', alpha: 0 },
      { kind: 'dense', units: CLASSES, act: 'linear', alpha: 0 },
    ],
    33,
  );
});
