// Structured pruning of a CNN through the main entry points: pruneNeurons and the structured
// schedule of pruneIteratively remove conv2d filters (per layer) as well as hidden dense units;
// removing filters and units whose output is zero leaves the predictions as they were, and the
// pruned model trains, predicts and round-trips through a model file; kiln prune --structured
// does the same on a folder of images.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sequential } from '../../src/nn/sequential.ts';
import { tinyCnn } from '../helpers/cnn.ts';
import { imageFolder, modelFromBytes, modelToBytes, pruneIteratively, pruneNeurons, saveModel } from '../../src/index.ts';
import { kilnBundled, kilnJson } from '../cli/run.ts';

const FOLDER = fileURLToPath(new URL('../fixtures/images/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kiln-prune-cnn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cnn = (withBn: boolean) => tinyCnn(withBn, 2);

// Zeroes the incoming weights and bias of the given output channels or units of each layer:
// after the ReLU they are 0, so the L1 criterion ranks them lowest and removing them changes nothing.
function kill(model: Sequential, dead: Record<number, number[]>): void {
  const p = new Map(model.parameters().map((t) => [t.name, t.data.slice()]));
  const values: Record<string, Float32Array> = {};
  for (const [layer, outs] of Object.entries(dead)) {
    const w = p.get(`layers.${layer}.weight`)!,
      b = p.get(`layers.${layer}.bias`)!;
    const per = w.length / b.length;
    for (const o of outs) {
      w.fill(0, o * per, (o + 1) * per);
      b[o] = 0;
    }
    values[`layers.${layer}.weight`] = w;
    values[`layers.${layer}.bias`] = b;
  }
  model.setParameters(values);
}

test('pruneNeurons on a CNN removes the lowest conv filters of each layer and the hidden dense units; the rest is unchanged', async () => {
  const data = await imageFolder(FOLDER, { size: 8 });
  const model = cnn(false);
  // A third of each: round(6/3) = 2 filters, round(5/3) = 2 filters, round(7/3) = 2 units.
  kill(model, { 0: [1, 4], 2: [0, 3], 4: [2, 6] });
  const small = pruneNeurons(model, { sparsity: 1 / 3, criterion: 'l1' });
  assert.deepEqual(
    small.layers.map((l) => (l.type === 'conv2d' ? l.filters : l.type === 'dense' ? l.units : l.type)),
    [4, 'maxPool2d', 3, 'flatten', 5, 2],
  );
  assert.ok(small.parameterCount < model.parameterCount);
  // The kept filters hold the original weights (not a fresh initialization).
  const w0 = model.parameters().find((t) => t.name === 'layers.0.weight')!.data;
  const kept = [0, 2, 3, 5].flatMap((o) => Array.from(w0.subarray(o * 9, (o + 1) * 9)));
  assert.deepEqual(Array.from(small.parameters().find((t) => t.name === 'layers.0.weight')!.data), kept);
  const a = model.predict(data.features),
    b = small.predict(data.features);
  const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
  assert.ok(diff <= 1e-6, `max difference ${diff}`);
  // A file round trip keeps the smaller architecture and its predictions bit for bit.
  const back = modelFromBytes(modelToBytes(small));
  assert.deepEqual(back.predict(data.features), b);
  assert.throws(() => pruneNeurons(model, { sparsity: 0.5, criterion: 'apoz', data }), /criterion 'apoz' does not rank conv2d filters/);
  back.dispose();
  small.dispose();
  model.dispose();
});

test('structured pruneIteratively on a CNN with batch norm reaches the final share of filters per layer and still predicts', async () => {
  const data = await imageFolder(FOLDER, { size: 8 });
  const model = cnn(true);
  const { model: small, reports } = await pruneIteratively(model, data, {
    finalSparsity: 0.5,
    steps: 2,
    structured: true,
    criterion: 'activation',
    fineTune: { epochs: 1, batchSize: 4 },
    latency: false,
  });
  // 6 → 3 and 5 → 5 − round(2.5) = 3 filters, 7 → 7 − round(3.5) = 3 units.
  assert.deepEqual(
    small.layers.map((l) => (l.type === 'conv2d' ? l.filters : l.type === 'dense' ? l.units : l.type)),
    [3, 'batchNorm', 'maxPool2d', 3, 'flatten', 3, 2],
  );
  assert.equal(small.parameters().find((t) => t.name === 'layers.1.running_mean')!.data.length, 3);
  assert.equal(reports.length, 3);
  assert.ok(small.parameterCount < model.parameterCount);
  const p = small.predict(data.features);
  assert.equal(p.length, data.numRows * 2);
  assert.ok(p.every(Number.isFinite));
  assert.equal(model.layers.length, 7, 'the input model is left as it was');
  small.dispose();
  model.dispose();
});

test('kiln prune --structured on a CNN and a folder of images: fewer parameters, a file that loads and predicts', async () => {
  const model = cnn(true);
  const file = join(dir, 'cnn.safetensors'),
    out = join(dir, 'cnn-pruned.safetensors');
  await saveModel(model, file);
  model.dispose();
  const args = ['prune', '--model', file, '--data', FOLDER, '--structured', '--sparsity', '0.5', '--epochs', '1', '--test-split', '0.25'];
  const r = await kilnJson([...args, '--out', out]);
  assert.ok(r.parameters < r.before.parameters, `${r.before.parameters} → ${r.parameters}`);
  assert.match(r.architecture, /conv2d\(3/);
  const info = await kilnJson(['info', '--model', out]);
  assert.equal(info.parameters, r.parameters);
  const run = await kilnBundled(['predict', '--model', out, '--data', FOLDER, '--test-split', '1']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim().split('\n').length, 9);
});
