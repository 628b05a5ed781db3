// Pruning: exact masks on hand-made weights, the tie rule, exact counts against a reference
// ranking written here, masks through fine-tuning, structured removal (shapes, parameters, bits),
// importance criteria against f64 values, the polynomial schedule, iterative pruning, sparse
// inference and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense, dropout } from '../../src/nn/layers/index.ts';
import { fit } from '../../src/train/fit.ts';
import { adam, sgd } from '../../src/train/optimizers.ts';
import { iris } from '../../src/data/builtin.ts';
import { Dataset } from '../../src/data/dataset.ts';
import { trainTestSplit } from '../../src/data/split.ts';
import { accuracy } from '../../src/metrics/classification.ts';
import { modelToBytes } from '../../src/io/model-file.ts';
import { sparseModelToBytes } from '../../src/io/sparse-file.ts';
import { lowestScores } from '../../src/compress/prune/rank.ts';
import { neuronScores, weightScores } from '../../src/compress/prune/importance.ts';
import { layerSparsity, maskBytes, pruneWeights } from '../../src/compress/prune/unstructured.ts';
import { keepUnits, pruneNeurons, removeDeadNeurons } from '../../src/compress/prune/structured.ts';
import { polynomialSparsity, pruneIteratively } from '../../src/compress/prune/schedule.ts';
import { compressionReport } from '../../src/compress/prune/report.ts';
import { SparseModel } from '../../src/compress/prune/sparse-model.ts';
import { assertClose } from '../helpers/close.ts';
import { ints, mulberry32, uniform } from '../helpers/rand.ts';

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

// 2 → 3 → 2 with distinct magnitudes and tiny biases (which must never be pruned).
function tinyModel(w1 = [-2, 8, 0.01, 4, -6, 2.5]): Sequential {
  const model = new Sequential({ inputs: 2, layers: [dense(3, 'relu'), dense(2)] });
  model.setParameters({
    'layers.0.weight': [0.5, -0.1, 0.3, -0.9, 0.05, 0.7],
    'layers.0.bias': [1e-4, -1e-4, 0],
    'layers.1.weight': w1,
    'layers.1.bias': [1e-5, 0],
  });
  return model;
}

const weightMasks = (model: Sequential) => {
  const mask = maskBytes(model);
  return model.denseLayers().map((o) => Array.from(mask.subarray(o.weightOffset, o.weightOffset + o.units * o.inputs)));
};

test('exact masks: layer-wise and global magnitude pruning of hand-made weights; biases untouched', () => {
  for (const criterion of ['l1', 'l2'] as const) {
    const layer = tinyModel();
    pruneWeights(layer, { sparsity: 0.5, criterion });
    assert.deepEqual(weightMasks(layer), [
      [1, 0, 0, 1, 0, 1],
      [0, 1, 0, 1, 1, 0],
    ]);
    assert.deepEqual(
      Array.from(layer.engine.params.read()),
      Array.from(Float32Array.of(0.5, 0, 0, -0.9, 0, 0.7, 1e-4, -1e-4, 0, 0, 8, 0, 4, -6, 0, 1e-5, 0)),
    );
    const global = tinyModel();
    pruneWeights(global, { sparsity: 0.5, scope: 'global', criterion });
    assert.deepEqual(weightMasks(global), [
      [0, 0, 0, 1, 0, 0],
      [1, 1, 0, 1, 1, 1],
    ]);
    assert.deepEqual(Array.from(maskBytes(global).subarray(6, 9)), [1, 1, 1], 'biases are kept');
    for (const m of [layer, global]) m.dispose();
  }
});

test('the tie rule: equal scores go to the lower index first, within a layer and across layers', () => {
  assert.deepEqual(Array.from(lowestScores([3, 1, 1, 2, 1], 2)), [1, 2]);
  assert.deepEqual(Array.from(lowestScores([-Infinity, 0, -Infinity, 0], 3)), [0, 2, 1]);
  const model = tinyModel([1, -1, 1, -1, 1, -1]);
  model.setParameters({ 'layers.0.weight': [1, -1, 1, -1, 1, -1] });
  pruneWeights(model, { sparsity: 0.5 });
  assert.deepEqual(weightMasks(model), [
    [0, 0, 0, 1, 1, 1],
    [0, 0, 0, 1, 1, 1],
  ]);
  const global = tinyModel([1, -1, 1, -1, 1, -1]);
  global.setParameters({ 'layers.0.weight': [1, -1, 1, -1, 1, -1] });
  pruneWeights(global, { sparsity: 0.75, scope: 'global' });
  assert.deepEqual(weightMasks(global), [
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 1, 1, 1],
  ]);
  model.dispose();
  global.dispose();
});

// The reference: sort (|w|, index) pairs, prune the first round(s·n) (Python rounding).
function referenceMask(weights: Float32Array[], sparsity: number, scope: 'layer' | 'global'): number[][] {
  const masks = weights.map((w) => new Array<number>(w.length).fill(1));
  const prune = (entries: [number, number, number][], k: number) => {
    entries.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    for (const [, l, i] of entries.slice(0, k)) masks[l]![i] = 0;
  };
  if (scope === 'layer')
    weights.forEach((w, l) =>
      prune(
        Array.from(w, (v, i) => [Math.abs(v), l, i]),
        pythonRound(sparsity * w.length),
      ),
    );
  else
    prune(
      weights.flatMap((w, l) => Array.from(w, (v, i): [number, number, number] => [Math.abs(v), l, i])),
      pythonRound(sparsity * weights.reduce((n, w) => n + w.length, 0)),
    );
  return masks;
}

test('layer-wise and global sparsity are exact to the count and match a reference ranking', () => {
  for (const sparsity of [0, 0.1, 1 / 3, 0.5, 0.9, 0.95, 0.999]) {
    for (const scope of ['layer', 'global'] as const) {
      const model = new Sequential({ inputs: 20, layers: [dense(30, 'relu'), dropout(0.1), dense(17, 'tanh'), dense(10)], seed: 4 });
      const weights = model
        .parameters()
        .filter((p) => p.name.endsWith('weight'))
        .map((p) => p.data);
      const stats = pruneWeights(model, { sparsity, scope });
      assert.deepEqual(weightMasks(model), referenceMask(weights, sparsity, scope), `${scope} ${sparsity}`);
      const total = stats.reduce((n, s) => n + s.weights, 0);
      if (scope === 'layer') stats.forEach((s) => assert.equal(s.pruned, pythonRound(sparsity * s.weights)));
      else
        assert.equal(
          stats.reduce((n, s) => n + s.pruned, 0),
          pythonRound(sparsity * total),
        );
      model.dispose();
    }
  }
});

test('masks survive fine-tuning with momentum and Adam: pruned weights stay exactly +0', async () => {
  const data = iris();
  for (const optimizer of [sgd({ lr: 0.05, momentum: 0.9, nesterov: true }), adam({ lr: 0.01, weightDecay: 0.01 })]) {
    const model = new Sequential({ inputs: 4, layers: [dense(16, 'relu'), dense(3)], seed: 1 });
    await fit(model, data, { epochs: 5, optimizer });
    pruneWeights(model, { sparsity: 0.7, scope: 'global' });
    const mask = maskBytes(model);
    const before = model.engine.params.read();
    await fit(model, data, { epochs: 5, optimizer, standardize: false });
    const after = model.engine.params.read();
    assert.deepEqual(maskBytes(model), mask);
    let changed = 0;
    for (let i = 0; i < after.length; i++) {
      if (mask[i] === 0) assert.ok(Object.is(after[i], 0), `pruned parameter ${i} is ${after[i]}`);
      else if (after[i] !== before[i]) changed++;
    }
    assert.ok(changed > 20, 'the kept weights trained');
    // A second pruning only adds zeros.
    pruneWeights(model, { sparsity: 0.8, scope: 'global' });
    const more = maskBytes(model);
    mask.forEach((m, i) => m === 0 && assert.equal(more[i], 0));
    model.dispose();
  }
});

test('removing neurons whose outgoing weights are all zero leaves predictions bit-identical', () => {
  const model = new Sequential({ inputs: 6, layers: [dense(12, 'relu'), dropout(0.2), dense(200, 'tanh'), dense(3)], seed: 2 });
  const [, , w1, , w2] = model.parameters();
  // Layer 0: dead runs [1..4] (four: removable), [6] (one: not), [9..11] (trailing: removable).
  for (const u of [1, 2, 3, 4, 6, 9, 10, 11]) for (let r = 0; r < 200; r++) w1!.data[r * 12 + u] = 0;
  // Layer 2: every third unit dead (single runs, kept) and the last ten, which with 189 make a trailing run.
  for (let u = 0; u < 200; u++) if (u % 3 === 0 || u >= 190) for (let r = 0; r < 3; r++) w2!.data[r * 200 + u] = 0;
  model.setParameters({ 'layers.2.weight': w1!.data, 'layers.3.weight': w2!.data });
  const x = uniform(mulberry32(1), 50 * 6, -3, 3);
  const small = removeDeadNeurons(model);
  assert.deepEqual(
    small.denseLayers().map((o) => o.units),
    [5, 189, 3],
  );
  assert.equal(small.parameterCount, 6 * 5 + 5 + 5 * 189 + 189 + 189 * 3 + 3);
  assert.deepEqual(bits(small.predict(x)), bits(model.predict(x)));
  for (const rows of [1, 7]) assert.deepEqual(bits(small.predict(x.subarray(0, rows * 6))), bits(model.predict(x.subarray(0, rows * 6))));
  // Every dead unit removed: the same function, its sums regrouped.
  const smallest = removeDeadNeurons(model, { exact: false });
  assert.deepEqual(
    smallest.denseLayers().map((o) => o.units),
    [4, 126, 3],
  );
  assertClose(smallest.predict(x), model.predict(x), { atol: 1e-6, rtol: 1e-5 }, 'regrouped sums');
  assert.deepEqual(smallest.predictClasses(x), model.predictClasses(x));
  // Over 256 inputs the next layer sums in blocks: only the trailing run may go.
  const wide = new Sequential({ inputs: 4, layers: [dense(300, 'relu'), dense(2)], seed: 3 });
  const [, , w] = wide.parameters();
  for (const u of [5, 6, 7, 8, 296, 297, 298, 299]) for (let r = 0; r < 2; r++) w!.data[r * 300 + u] = 0;
  wide.setParameters({ 'layers.1.weight': w!.data });
  const narrower = removeDeadNeurons(wide);
  assert.equal(narrower.denseLayers()[0]!.units, 296);
  const xw = uniform(mulberry32(2), 9 * 4, -2, 2);
  assert.deepEqual(bits(narrower.predict(xw)), bits(wide.predict(xw)));
  for (const m of [model, small, smallest, wide, narrower]) m.dispose();
});

test('structured pruning keeps the highest-scoring units, copies their weights and shrinks parameters and file bytes as computed', () => {
  const model = new Sequential({ inputs: 5, layers: [dense(8, 'relu'), dense(4, 'relu'), dense(3)], seed: 3 });
  const scores = neuronScores(model, { criterion: 'l1' });
  const small = pruneNeurons(model, { sparsity: 0.5, criterion: 'l1' });
  const keep = scores.map((s) => Array.from(s.keys()).filter((u) => !Array.from(lowestScores(s, s.length / 2)).includes(u)));
  const reference = keepUnits(model, keep);
  assert.deepEqual(small.engine.params.read(), reference.engine.params.read());
  const p = model.parameters();
  const sp = small.parameters();
  keep[0]!.forEach((u, i) => assert.deepEqual(sp[0]!.data.subarray(i * 5, i * 5 + 5), p[0]!.data.subarray(u * 5, u * 5 + 5)));
  keep[1]!.forEach((u, i) => keep[0]!.forEach((c, j) => assert.equal(sp[2]!.data[i * 4 + j], p[2]!.data[u * 8 + c])));
  const expected = 5 * 4 + 4 + 4 * 2 + 2 + 2 * 3 + 3;
  assert.equal(small.parameterCount, expected);
  const file = modelToBytes(small);
  const header = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  assert.equal(file.length, 8 + header + 4 * expected, 'dense file: header plus 4 bytes per parameter');
  assert.ok(file.length < modelToBytes(model).length);
  // The l2 norms of incoming weights, checked in f64.
  const l2 = neuronScores(model, { criterion: 'l2' });
  assertClose(
    l2[0]!,
    Array.from({ length: 8 }, (_, u) => Math.hypot(...p[0]!.data.subarray(u * 5, u * 5 + 5))),
    { rtol: 1e-6 },
    'l2',
  );
  for (const m of [model, small, reference]) m.dispose();
});

test('APoZ and mean activation find a dead ReLU unit; global neuron pruning keeps one unit per layer', () => {
  const rand = mulberry32(8);
  const data = new Dataset({ features: uniform(rand, 40 * 3), numFeatures: 3, labels: ints(rand, 40, 2) });
  const model = new Sequential({ inputs: 3, layers: [dense(4, 'relu'), dense(2)], seed: 5, preprocessing: {} });
  model.setParameters({ 'layers.0.weight': [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1], 'layers.0.bias': [0, 0, -100, 0] });
  const apoz = neuronScores(model, { criterion: 'apoz', data })[0]!;
  const mean = neuronScores(model, { criterion: 'activation', data })[0]!;
  assert.equal(apoz[2], 0, 'always zero: APoZ 1');
  assert.equal(mean[2], 0);
  const x = data.features;
  let zeros = 0,
    abs = 0;
  for (let r = 0; r < 40; r++) x[r * 3]! > 0 ? (abs += x[r * 3]!) : zeros++;
  assertClose([apoz[0]!, mean[0]!], [1 - zeros / 40, abs / 40], { rtol: 1e-6 }, 'unit 0');
  const small = pruneNeurons(model, { sparsity: 0.25, criterion: 'apoz', data });
  assert.deepEqual(small.parameters()[0]!.data, Float32Array.of(1, 0, 0, 0, 1, 0, 1, 1, 1));
  const squeezed = pruneNeurons(model, { sparsity: 0.99, scope: 'global', criterion: 'apoz', data });
  assert.equal(squeezed.denseLayers()[0]!.units, 1);
  for (const m of [model, small, squeezed]) m.dispose();
});

test('Taylor importance: Σ over batches of |w·∂L/∂w| against f64 gradients', () => {
  const rand = mulberry32(12);
  const [n, d, C] = [10, 3, 4];
  const data = new Dataset({ features: uniform(rand, n * d), numFeatures: d, labels: ints(rand, n, C), classNames: ['a', 'b', 'c', 'd'] });
  const model = new Sequential({ inputs: d, layers: [dense(C)], seed: 1 });
  const [w, b] = model.parameters();
  const expected = new Float64Array(C * d);
  for (const [start, end] of [
    [0, 4],
    [4, 8],
    [8, 10],
  ] as const) {
    const g = new Float64Array(C * d);
    for (let r = start; r < end; r++) {
      const z = Array.from(
        { length: C },
        (_, j) => b!.data[j]! + [0, 1, 2].reduce((s, k) => s + w!.data[j * d + k]! * data.features[r * d + k]!, 0),
      );
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, v) => a + v, 0);
      e.forEach((v, j) => {
        for (let k = 0; k < d; k++) g[j * d + k]! += ((v / s - (j === data.labels[r] ? 1 : 0)) * data.features[r * d + k]!) / (end - start);
      });
    }
    g.forEach((v, i) => (expected[i]! += Math.abs(v * w!.data[i]!)));
  }
  model.setPreprocessing({});
  assertClose(weightScores(model, { criterion: 'taylor', data, batchSize: 4 })[0]!, expected, { atol: 1e-7, rtol: 1e-4 }, 'taylor');
  model.dispose();
});

test('polynomial sparsity follows Zhu & Gupta', () => {
  const s = { finalSparsity: 0.9, steps: 4 };
  assertClose(
    [0, 1, 2, 3, 4, 9].map((t) => polynomialSparsity(t, s)),
    [0, 0.9 * (1 - 0.75 ** 3), 0.9 * (1 - 0.5 ** 3), 0.9 * (1 - 0.25 ** 3), 0.9, 0.9],
    { atol: 1e-15 },
  );
  const late = { initialSparsity: 0.2, finalSparsity: 0.9, beginStep: 10, steps: 2, frequency: 5 };
  assertClose(
    [0, 10, 15, 20, 100].map((t) => polynomialSparsity(t, late)),
    [0.2, 0.2, 0.9 - 0.7 * 0.125, 0.9, 0.9],
    { atol: 1e-15 },
  );
  assert.throws(() => polynomialSparsity(1, { finalSparsity: 0.9, steps: 0 }), /polynomialSparsity: steps must be an integer in \[1/);
});

test('iterative pruning: reports per step, masks or smaller models, accuracy held', async () => {
  const { train, test: held } = trainTestSplit(iris(), { testFraction: 0.3, seed: 2 });
  const model = new Sequential({ inputs: 4, layers: [dense(32, 'relu'), dense(16, 'relu'), dense(3)], seed: 1 });
  await fit(model, train, { optimizer: adam({ lr: 0.01 }), epochs: 60, batchSize: 16 });
  const seen: number[] = [];
  const { model: same, reports } = await pruneIteratively(model, train, {
    finalSparsity: 0.8,
    steps: 3,
    evaluation: held,
    latency: false,
    fineTune: { optimizer: adam({ lr: 0.005 }), epochs: 10, batchSize: 16 },
    onStep: (r) => void seen.push(r.step),
  });
  assert.equal(same, model);
  assert.deepEqual(seen, [1, 2, 3]);
  assertClose(
    reports.map((r) => r.sparsity),
    [0, 0.8 * (1 - (2 / 3) ** 3), 0.8 * (1 - (1 / 3) ** 3), 0.8],
    { atol: 1e-15 },
    'schedule',
  );
  const weights = layerSparsity(model);
  weights.forEach((l) => assert.equal(l.pruned, Math.round(0.8 * l.weights)));
  const last = reports.at(-1)!;
  assert.equal(
    last.nonZeros,
    model.parameterCount -
      weights.reduce((n, l) => n + l.pruned, 0) -
      Array.from(model.engine.params.read()).filter((v, i) => v === 0 && maskBytes(model)[i] === 1).length,
  );
  assert.equal(last.fileBytes, last.sparseFileBytes);
  const sparseFile = sparseModelToBytes(model);
  const header = Number(new DataView(sparseFile.buffer, sparseFile.byteOffset).getBigUint64(0, true));
  const kept = weights.reduce((n, l) => n + l.weights - l.pruned, 0);
  const biases = 32 + 16 + 3;
  const bitmaps = weights.reduce((n, l) => n + Math.ceil(l.weights / 8), 0);
  assert.equal(last.sparseFileBytes, sparseFile.length);
  assert.equal(
    sparseFile.length,
    8 + header + 4 * (kept + biases) + bitmaps,
    'sparse file: header, kept weights and biases, one bit per weight',
  );
  assert.ok(last.sparseFileBytes < last.denseFileBytes, `${last.sparseFileBytes} vs ${last.denseFileBytes}`);
  assert.ok(last.accuracy! >= 0.9, `accuracy ${last.accuracy}`);

  const { model: small, reports: sr } = await pruneIteratively(model, train, {
    finalSparsity: 0.5,
    steps: 2,
    structured: true,
    evaluation: held,
    fineTune: { optimizer: adam({ lr: 0.005 }), epochs: 10 },
  });
  assert.notEqual(small, model);
  assert.deepEqual(
    small.denseLayers().map((o) => o.units),
    [16, 8, 3],
  );
  assert.ok(sr[2]!.parameters < sr[0]!.parameters);
  assert.ok(sr[2]!.latencyMs.batch1 > 0 && sr[2]!.denseLatencyMs.batch64 > 0);
  assert.ok(sr[2]!.accuracy! >= 0.85, `structured accuracy ${sr[2]!.accuracy}`);
  model.dispose();
  small.dispose();
});

test('SparseModel predicts the same bits as the model on every path and batch size', () => {
  const model = new Sequential({
    inputs: 300,
    layers: [dense(40, 'relu'), dropout(0.3), dense(24, 'gelu'), dense(5)],
    seed: 6,
    preprocessing: { mean: new Array(300).fill(0.1), std: new Array(300).fill(2) },
  });
  const x = uniform(mulberry32(3), 70 * 300, -1, 1);
  for (const sparsity of [0, 0.6, 0.95]) {
    pruneWeights(model, { sparsity });
    for (const thresholds of [{ batch1: 0, batched: 0 }, { batch1: 1, batched: 1 }, undefined]) {
      const fast = SparseModel.from(model, thresholds ? { thresholds } : {});
      for (const rows of [1, 3, 64, 70]) {
        const xs = x.subarray(0, rows * 300);
        assert.deepEqual(bits(fast.predict(xs)), bits(model.predict(xs)), `s=${sparsity} rows=${rows} ${JSON.stringify(thresholds)}`);
      }
      if (thresholds?.batch1 === 0) assert.deepEqual(fast.paths(1), ['csr', 'dropout', 'csr', 'csr']);
      if (thresholds?.batch1 === 1) assert.deepEqual(fast.paths(64), ['dense', 'dropout', 'dense', 'dense']);
      assert.deepEqual(fast.predictClasses(x.subarray(0, 600)), model.predictClasses(x.subarray(0, 600)));
      fast.dispose();
    }
  }
  const report = compressionReport(model, new Dataset({ features: x, numFeatures: 300, labels: ints(mulberry32(1), 70, 5) }), {
    repeats: 3,
  });
  assert.equal(report.parameters, model.parameterCount);
  assert.ok(report.latencyMs.batch1 > 0 && report.latencyMs.batch64 > 0);
  model.dispose();
});

test('bad input gives clear errors', () => {
  const model = tinyModel();
  assert.throws(() => pruneWeights(model, { sparsity: 1 }), {
    name: 'RangeError',
    message: 'pruneWeights: sparsity must be in [0, 1) (1 would remove everything), got 1',
  });
  assert.throws(() => pruneWeights(model, { sparsity: -0.1 }), {
    name: 'RangeError',
    message: 'pruneWeights: sparsity must be a finite number in [0, 1], got -0.1',
  });
  assert.throws(() => pruneWeights(model, { sparsity: NaN }), /pruneWeights: sparsity must be a finite number in \[0, 1\], got NaN/);
  assert.throws(() => pruneWeights(model, { sparsity: '0.5' as unknown as number }), {
    name: 'TypeError',
    message: 'pruneWeights: sparsity must be a number, got string',
  });
  assert.throws(() => pruneWeights(model, { sparsity: 0.5, scope: 'all' as 'layer' }), {
    name: 'TypeError',
    message: "pruneWeights: scope must be 'layer' or 'global', got all",
  });
  assert.throws(() => pruneWeights(model, { sparsity: 0.5, criterion: 'taylor' }), {
    name: 'TypeError',
    message: "weightScores: criterion 'taylor' is measured on data; pass data: a Dataset",
  });
  assert.throws(() => pruneWeights(model, { sparsity: 0.5, criterion: 'apoz' as 'l1' }), {
    name: 'TypeError',
    message: 'weightScores: criterion must be one of l1, l2, taylor, got apoz',
  });
  assert.throws(() => pruneWeights({} as Sequential, { sparsity: 0.5 }), {
    name: 'TypeError',
    message: 'pruneWeights: model must be a Sequential, got Object',
  });
  assert.throws(() => pruneNeurons(model, { sparsity: 1.5 }), /pruneNeurons: sparsity must be a finite number in \[0, 1\], got 1.5/);
  assert.throws(() => pruneNeurons(model, { sparsity: 0.5, criterion: 'activation', data: iris() }), {
    name: 'RangeError',
    message: 'neuronScores: Sequential(2→2, classification) takes 2 features, the data has 4',
  });
  assert.throws(() => keepUnits(model, [[]]), /keepUnits: hidden layer 0 must keep at least one unit/);
  assert.throws(
    () => keepUnits(model, [[2, 1]]),
    /keepUnits: units of hidden layer 0 must be ascending integers in \[0, 2\], got 1 at position 1/,
  );
  assert.throws(() => keepUnits(model, []), /keepUnits: expected one list of units per hidden dense layer \(1\), got 0/);
  assert.throws(
    () => SparseModel.from(model, { thresholds: { batch1: 2 } }),
    /thresholds.batch1 must be a finite number in \[0, 1\], got 2/,
  );
  model.dispose();
});

test('pruned counts round halves to even, as PyTorch (Python round) does', async () => {
  const { prunedCount } = await import('../../src/compress/prune/rank.ts');
  assert.equal(prunedCount(0.5, 5), 2); // 2.5 → 2
  assert.equal(prunedCount(0.5, 7), 4); // 3.5 → 4
  assert.equal(prunedCount(0.25, 10), 2); // 2.5 → 2
  assert.equal(prunedCount(0.3, 10), 3);
});

// Python's round(): nearest integer, exact halves to the even neighbour.
function pythonRound(x: number): number {
  return x - Math.floor(x) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
}
