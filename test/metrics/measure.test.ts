// The measurement module: counts against hand-made weights, file bytes against the writers in
// src/io, and the timing rule on a mocked clock (so the expected numbers are exact).
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/data/dataset.ts';
import { dense } from '../../src/nn/layers/index.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { modelToBytes } from '../../src/io/model-file.ts';
import { decodeSafetensors } from '../../src/io/safetensors.ts';
import { pruneWeights } from '../../src/compress/prune/unstructured.ts';
import { batchOf, countNonZeros, modelFile, nonZeros, quantile, timeCalls } from '../../src/metrics/measure.ts';

function model(): Sequential {
  const m = new Sequential({ inputs: 3, layers: [dense(2, 'relu'), dense(2)], seed: 1 });
  // 3·2 + 2 + 2·2 + 2 = 14 parameters; 5 of them zero.
  m.setParameters({
    'layers.0.weight': [1, 0, 2, 0, 3, 4],
    'layers.0.bias': [0, 5],
    'layers.1.weight': [6, 7, 0, 8],
    'layers.1.bias': [9, 0],
  });
  return m;
}

test('nonZeros counts the non-zero weights and biases; countNonZeros works on any arrays', () => {
  const m = model();
  try {
    assert.equal(m.parameterCount, 14);
    assert.equal(nonZeros(m), 9);
    assert.equal(countNonZeros([new Int8Array([0, -1, 2]), new Float32Array([0, -0, 0.5])]), 3, '-0 is zero');
  } finally {
    m.dispose();
  }
});

test("modelFile: the writer's bytes without feature names, and the format the header names", async () => {
  const m = model();
  try {
    assert.deepEqual(modelFile(m).bytes, modelToBytes(m), 'no feature names: the same bytes as modelToBytes');
    assert.equal(modelFile(m).format, 'kiln.sequential');
    m.setPreprocessing({ ...m.preprocessing, featureNames: ['sepal', 'petal', 'stem'] });
    const named = modelToBytes(m),
      file = modelFile(m);
    assert.ok(file.bytes.length < named.length, 'the names are left out');
    assert.equal(JSON.stringify(decodeSafetensors(file.bytes).metadata).includes('sepal'), false);
    assert.deepEqual(m.preprocessing.featureNames, ['sepal', 'petal', 'stem'], 'the model keeps its names');
    pruneWeights(m, { sparsity: 0.5 });
    assert.equal(modelFile(m).format, 'kiln.sequential.sparse');
    assert.equal(modelFile(m, 'dense').format, 'kiln.sequential');
  } finally {
    m.dispose();
  }
});

test('timeCalls: doubling warm-up sets the calls per sample; medians per call; predictors take turns', () => {
  let now = 0;
  const clock = mock.method(performance, 'now', () => now);
  try {
    const order: string[] = [];
    const a = () => {
      now += 0.25;
      order.push('a');
    };
    const b = () => {
      now += 0.5;
      order.push('b');
    };
    const [ta, tb] = timeCalls([a, b], new Float32Array(1), 5);
    // a: 1, 2, 4 calls (0.25, 0.5, 1 ms) → 4 per sample; b: 1, 2 calls (0.5, 1 ms) → 2.
    assert.deepEqual(ta, { medianMs: 0.25, p90Ms: 0.25, callsPerSample: 4 });
    assert.deepEqual(tb, { medianMs: 0.5, p90Ms: 0.5, callsPerSample: 2 });
    // Warm-up: a 1+2+4 calls, b 1+2, then one untimed sample each (4, 2), then five rounds in a
    // rotating order: a b, b a, a b, b a, a b.
    const timed = order.slice(7 + 3 + 4 + 2).join('');
    assert.equal(timed, ['aaaabb', 'bbaaaa', 'aaaabb', 'bbaaaa', 'aaaabb'].join(''));
  } finally {
    clock.mock.restore();
  }
  assert.throws(() => timeCalls([() => 0], new Float32Array(1), 0), /timeCalls: repeats must be an integer >= 1, got 0/);
});

test('quantile and batchOf', () => {
  assert.equal(quantile([4, 1, 3, 2], 0.5), 2.5);
  assert.equal(quantile([5, 1, 3], 0.5), 3);
  assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), 10, 'nearest rank: index ⌊0.9·10⌋');
  assert.ok(Number.isNaN(quantile([], 0.5)));
  const d = new Dataset({ features: new Float32Array([1, 2, 3, 4, 5, 6]), numFeatures: 2, labels: new Int32Array([0, 1, 0]) });
  assert.deepEqual(Array.from(batchOf(d, 5)), [1, 2, 3, 4, 5, 6, 1, 2, 3, 4], 'rows wrap around');
});
