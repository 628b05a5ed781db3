// The layer engine and the layer files: shaped inputs, flatten, shape errors that name the layer,
// the parameter layout, and the one Predictor interface every model kind implements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense, dropout, flatten, LAYER_TYPES, checkLayer } from '../../src/nn/layers/index.ts';
import { SparseModel } from '../../src/compress/prune/sparse-model.ts';
import { quantize } from '../../src/compress/quant/quantize.ts';
import { pruneWeights } from '../../src/compress/prune/unstructured.ts';
import type { Predictor } from '../../src/nn/predictor.ts';
import { assertClose } from '../helpers/close.ts';
import { classifierGradients } from '../helpers/gradients.ts';
import { mulberry32, uniform, ints } from '../helpers/rand.ts';
import { forward, numericGradient, softmaxXent, type RefLayer } from '../reference/mlp-ref.ts';

test('flatten takes image-shaped rows; gradients through flatten and dropout(0) match finite differences', () => {
  const B = 4,
    shape = [2, 3, 2],
    D = 12,
    H = 5,
    C = 3;
  const model = new Sequential({ inputs: shape, layers: [flatten(), dense(H, 'tanh'), dropout(0), dense(C)], seed: 3 });
  assert.deepEqual(model.inputShape, shape);
  assert.equal(model.inputs, D);
  assert.deepEqual(model.toConfig().inputs, shape);
  const rand = mulberry32(9);
  const x = uniform(rand, B * D, -2, 2);
  const labels = ints(rand, B, C);
  const grads = classifierGradients(model, x, labels);
  const layers: RefLayer[] = [
    { units: H, inputs: D, act: 'tanh', alpha: 0 },
    { units: C, inputs: H, act: 'linear', alpha: 0 },
  ];
  const expected = numericGradient(Float64Array.from(model.parameterVector()), (p) => softmaxXent(forward(layers, p, x, B), labels, B, C));
  assertClose(grads, expected, { atol: 2e-4, rtol: 2e-3 }, 'flatten → dense → dropout(0) → dense');
  // The flattened model predicts exactly what the same weights predict on flat rows.
  const flat = new Sequential({ inputs: D, layers: [dense(H, 'tanh'), dense(C)], seed: 3 });
  flat.setParameterVector(model.parameterVector());
  assert.deepEqual(model.predict(x), flat.predict(x));
  model.dispose();
  flat.dispose();
});

test('parameters are laid out layer by layer, slot by slot, under the names files use', () => {
  const model = new Sequential({ inputs: [1, 2, 2], layers: [flatten(), dense(3, 'relu'), dropout(0.5), dense(2)], seed: 1 });
  assert.deepEqual(
    model.parameters().map((p) => `${p.name} ${p.shape.join('x')}`),
    ['layers.1.weight 3x4', 'layers.1.bias 3', 'layers.3.weight 2x3', 'layers.3.bias 2'],
  );
  assert.equal(model.parameterCount, 12 + 3 + 6 + 2);
  assert.deepEqual(
    model.denseLayers().map((d) => [d.layer, d.weightOffset, d.biasOffset]),
    [
      [1, 0, 12],
      [3, 15, 21],
    ],
  );
  model.dispose();
});

test('shape errors name the layer and what it got', () => {
  assert.throws(() => new Sequential({ inputs: [1, 4, 4], layers: [dense(3)] }), {
    name: 'RangeError',
    message: /Sequential layers\[0\] \(dense\): dense takes flat rows, got rows of shape \[1,4,4\]; put flatten\(\) before it/,
  });
  assert.throws(() => new Sequential({ inputs: [0, 4], layers: [dense(3)] }), { name: 'RangeError', message: /inputs\[0\]/ });
  assert.throws(() => new Sequential({ inputs: [1, 2, 3, 4], layers: [dense(3)] }), { name: 'TypeError', message: /1 to 3 dimensions/ });
  assert.throws(() => checkLayer('here', { type: 'conv9d' }), {
    name: 'TypeError',
    message: `here: layer type must be one of ${LAYER_TYPES.join(', ')}, got conv9d`,
  });
  assert.throws(() => checkLayer('here', { type: 'flatten', axis: 1 }), { name: 'TypeError', message: /axis/ });
});

test('float, sparse and quantized models all predict through the Predictor interface', () => {
  const rand = mulberry32(5);
  const model = new Sequential({
    inputs: 6,
    layers: [dense(8, 'relu'), dense(3)],
    seed: 2,
    preprocessing: {
      mean: [0, 1, 2, 3, 4, 5],
      std: [1, 2, 1, 2, 1, 2],
      featureNames: ['a', 'b', 'c', 'd', 'e', 'f'],
      classNames: ['x', 'y', 'z'],
    },
  });
  pruneWeights(model, { sparsity: 0.5 });
  const rows = uniform(rand, 5 * 6, -3, 3);
  const kinds: Predictor[] = [model, SparseModel.from(model), quantize(model, { scheme: 'int8-per-channel', calibration: { data: rows } })];
  const reference = model.predict(rows);
  for (const m of kinds) {
    assert.equal(m.inputs, 6);
    assert.equal(m.outputs, 3);
    assert.equal(m.task, 'classification');
    assert.deepEqual(m.featureNames, ['a', 'b', 'c', 'd', 'e', 'f']);
    assert.deepEqual(m.classNames, ['x', 'y', 'z']);
    const p = m.predict(rows);
    assert.equal(p.length, 15);
    // Rows as arrays and as one flat array give the same answer.
    const asRows = Array.from({ length: 5 }, (_, r) => Array.from(rows.subarray(r * 6, r * 6 + 6)));
    assert.deepEqual(m.predict(asRows), p);
    assert.deepEqual(m.predictClasses(rows).length, 5);
    assert.throws(() => m.predict([[1, 2, 3]]), { name: 'RangeError', message: /row 0 has 3 features, expected 6/ });
    assert.throws(() => m.predict([1, 2, NaN, 4, 5, 6]), { name: 'RangeError', message: /NaN|not finite|finite/ });
  }
  // Sparse inference gives the dense model's bits; int8 stays close.
  assert.deepEqual(kinds[1]!.predict(rows), reference);
  assertClose(kinds[2]!.predict(rows), reference, { atol: 0.05, rtol: 0 }, 'int8 probabilities');
  for (const m of kinds.slice(1)) m.dispose();
  model.dispose();
});
