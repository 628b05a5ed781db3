// Unstructured pruning of conv weights: pruneWeights ranks the taps of conv2d filters beside the
// dense weights (per layer and globally) through the same engine mask, so pruned taps are exactly
// +0 and stay so through training; the counts are exact (halves to even); a masked CNN round-trips
// through its (sparse) file with batch-norm statistics and mask; kiln prune without --structured
// masks a CNN's conv weights too.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sequential } from '../../src/nn/sequential.ts';
import {
  adam,
  compressionReport,
  Dataset,
  fit,
  imageFolder,
  loadModel,
  modelFromBytes,
  modelToBytes,
  saveModel,
  SparseModel,
} from '../../src/index.ts';
import { layerSparsity, maskBytes, pruneWeights } from '../../src/compress/prune/unstructured.ts';
import { weightScores } from '../../src/compress/prune/importance.ts';
import { prunedCount } from '../../src/compress/prune/rank.ts';
import { tinyCnn } from '../helpers/cnn.ts';
import { kilnJson } from '../cli/run.ts';

const FOLDER = fileURLToPath(new URL('../fixtures/images/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kiln-prune-conv-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));
// tinyCnn(true, 3): conv2d 6×1×3×3 (54), batchNorm, maxPool, conv2d 5×6×3×3 (270), flatten, dense 7×80 (560), dense 3×7 (21).
const WEIGHTS = [
  { layer: 0, type: 'conv2d', weights: 54 },
  { layer: 3, type: 'conv2d', weights: 270 },
  { layer: 5, type: 'dense', weights: 560 },
  { layer: 6, type: 'dense', weights: 21 },
];

function images(rows: number, seed: number): Dataset {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const x = Float32Array.from({ length: rows * 64 }, next);
  return new Dataset({
    features: x,
    labels: Int32Array.from({ length: rows }, (_, i) => i % 3),
    classNames: ['a', 'b', 'c'],
    shape: [1, 8, 8],
  });
}

// The pruned positions of each weight layer from the mask.
const prunedIn = (model: Sequential) => {
  const mask = maskBytes(model);
  return model.weightSlots().map(({ offset, size }) => Array.from({ length: size }, (_, i) => i).filter((i) => mask[offset + i] === 0));
};

test('pruneWeights per layer reaches each conv and dense layer exactly, the lowest |w| taps go, and they are exactly +0', () => {
  const model = tinyCnn(true, 3);
  const before = weightScores(model);
  assert.deepEqual(
    before.map((s) => s.length),
    WEIGHTS.map((w) => w.weights),
  );
  const report = pruneWeights(model, { sparsity: 0.3 });
  // 0.3 of 54, 270, 560, 21: 16.2 → 16, 81, 168, 6.3 → 6.
  assert.deepEqual(
    report,
    WEIGHTS.map((w, i) => ({ ...w, pruned: [16, 81, 168, 6][i]! })),
  );
  const params = model.parameterVector();
  prunedIn(model).forEach((pruned, l) => {
    const { offset } = model.weightSlots()[l]!;
    const scores = before[l]!;
    const kept = Array.from(scores.keys()).filter((i) => !pruned.includes(i));
    // Every pruned tap scored at most every kept one, and holds +0 now.
    assert.ok(Math.max(...pruned.map((i) => scores[i]!)) <= Math.min(...kept.map((i) => scores[i]!)));
    for (const i of pruned) assert.ok(Object.is(params[offset + i], 0), `layer ${l} weight ${i}`);
  });
  // Biases and batch-norm scales are never pruned.
  const mask = maskBytes(model);
  const weightAt = new Set(model.weightSlots().flatMap(({ offset, size }) => Array.from({ length: size }, (_, i) => offset + i)));
  mask.forEach((m, i) => weightAt.has(i) || assert.equal(m, 1, `parameter ${i} is not a weight`));
  model.dispose();
});

test('pruneWeights globally ranks conv and dense weights together; counts are a fraction of all weights, halves to even', () => {
  const total = WEIGHTS.reduce((n, w) => n + w.weights, 0); // 905
  for (const sparsity of [0.5, 0.1, 2.5 / total, 3.5 / total]) {
    const model = tinyCnn(true, 3);
    const scores = weightScores(model).flatMap((s) => Array.from(s));
    const report = pruneWeights(model, { sparsity, scope: 'global' });
    const k = prunedCount(sparsity, total);
    if (sparsity === 2.5 / total) assert.equal(k, 2);
    if (sparsity === 3.5 / total) assert.equal(k, 4);
    assert.equal(
      report.reduce((n, l) => n + l.pruned, 0),
      k,
    );
    // The reference: the k lowest |w| over the whole model, ties to the lower index.
    const order = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
    const expected = new Set(order.slice(0, k));
    const got = prunedIn(model).flatMap((p, l) => p.map((i) => i + WEIGHTS.slice(0, l).reduce((n, w) => n + w.weights, 0)));
    assert.deepEqual(new Set(got), expected);
    if (sparsity === 0.5) assert.ok(report[0]!.pruned > 0 && report[1]!.pruned > 0, 'the conv layers lose weights too');
    model.dispose();
  }
  // Per layer, a half rounds to even: 54 · 0.25 = 13.5 → 14, 270 · 0.25 = 67.5 → 68, 21 · 0.25 = 5.25 → 5.
  const model = tinyCnn(true, 3);
  assert.deepEqual(
    pruneWeights(model, { sparsity: 0.25 }).map((l) => l.pruned),
    [14, 68, 140, 5],
  );
  // Sparsity is a fraction of all weights, pruned or not: the same call again prunes no more.
  assert.deepEqual(
    pruneWeights(model, { sparsity: 0.25 }).map((l) => l.pruned),
    [14, 68, 140, 5],
  );
  model.dispose();
});

test('the mask holds conv taps at +0 through training with Adam, and the rest still learns', async () => {
  const model = tinyCnn(true, 3);
  pruneWeights(model, { sparsity: 0.6, scope: 'global' });
  const before = model.parameterVector();
  await fit(model, images(48, 3), { optimizer: adam({ lr: 1e-2 }), epochs: 3, batchSize: 16, standardize: false });
  const after = model.parameterVector();
  const mask = maskBytes(model);
  let moved = 0,
    kept = 0;
  mask.forEach((m, i) =>
    m === 0 ? assert.ok(Object.is(after[i], 0), `parameter ${i}`) : ((kept += 1), (moved += after[i] !== before[i] ? 1 : 0)),
  );
  assert.ok(moved > kept / 2, `${moved} of the ${kept} kept parameters changed`);
  assert.deepEqual(
    layerSparsity(model).map((l) => l.pruned),
    prunedIn(model).map((p) => p.length),
  );
  model.dispose();
});

test('a CNN with conv weights pruned round-trips through its sparse file: same bits, running statistics and mask', async () => {
  const model = tinyCnn(true, 3);
  await fit(model, images(32, 5), { epochs: 1, batchSize: 16, standardize: false }); // moves the running statistics
  pruneWeights(model, { sparsity: 0.7 });
  const dense = modelToBytes(model, 'dense');
  const sparse = modelToBytes(model);
  // 634 of 905 weights not stored (4 bytes each) against 115 bytes of bitmask, and a header
  // longer by a second entry per weight tensor (under 100 bytes each).
  assert.ok(dense.length - sparse.length > 634 * 4 - 115 - 4 * 100, `${sparse.length} against ${dense.length} bytes`);
  const file = join(dir, 'cnn-sparse.safetensors');
  await saveModel(model, file);
  for (const loaded of [modelFromBytes(sparse), await loadModel(file)]) {
    assert.deepEqual(loaded.toConfig(), model.toConfig());
    assert.deepEqual(
      loaded.parameters().map((p) => [p.name, bits(p.data)]),
      model.parameters().map((p) => [p.name, bits(p.data)]),
    );
    assert.deepEqual(maskBytes(loaded), maskBytes(model));
    const x = images(4, 9).features;
    assert.deepEqual(bits(loaded.predict(x)), bits(model.predict(x)));
    loaded.dispose();
  }
  assert.throws(() => SparseModel.from(model), { name: 'TypeError', message: /SparseModel\.from: .* this model has a conv2d layer/ });
  model.dispose();
});

test('kiln prune without --structured on a CNN masks conv weights and saves a sparse file that loads with its mask', async () => {
  const data = await imageFolder(FOLDER, { size: 8 });
  const model = tinyCnn(true, data.numClasses);
  const file = join(dir, 'cnn.safetensors'),
    out = join(dir, 'cnn-masked.safetensors');
  await saveModel(model, file);
  model.dispose();
  const r = await kilnJson([
    'prune',
    '--model',
    file,
    '--data',
    FOLDER,
    '--sparsity',
    '0.5',
    '--epochs',
    '1',
    '--test-split',
    '0.25',
    '--out',
    out,
  ]);
  assert.equal(r.format, 'sparse');
  // The command's default scope is global: half of all 54 + 270 + 560 + 7·classes weights, the
  // conv layers' among them.
  const layers = r.layers as { type: string; pruned: number; weights: number }[];
  assert.deepEqual(
    layers.map((l) => [l.type, l.weights]),
    [
      ['conv2d', 54],
      ['conv2d', 270],
      ['dense', 560],
      ['dense', 7 * data.numClasses],
    ],
  );
  assert.equal(
    layers.reduce((n, l) => n + l.pruned, 0),
    prunedCount(0.5, 884 + 7 * data.numClasses),
  );
  assert.ok(layers[0]!.pruned > 0 && layers[1]!.pruned > 0, JSON.stringify(layers));
  const loaded = await loadModel(out);
  assert.deepEqual(
    layerSparsity(loaded).map((l) => l.pruned),
    r.layers.map((l: { pruned: number }) => l.pruned),
  );
  loaded.dispose();
});

test('compressionReport on a masked CNN: sizes from the sparse file, latencies through the model itself', () => {
  const model = tinyCnn(true, 3);
  pruneWeights(model, { sparsity: 0.5, scope: 'global' });
  const r = compressionReport(model, images(8, 2), { repeats: 2 });
  assert.equal(r.fileBytes, modelToBytes(model).length);
  const saved = model.parameters().reduce((n, p) => n + p.data.length, 0);
  assert.ok(r.nonZeros > 0 && r.nonZeros <= saved - prunedCount(0.5, 905), `${r.nonZeros} of ${saved}`);
  assert.ok(Number.isFinite(r.latencyMs.batch1) && Number.isFinite(r.denseLatencyMs.batch64));
  model.dispose();
});
