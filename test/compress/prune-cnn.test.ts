// Structured pruning of a CNN through the main entry points: pruneNeurons and the structured
// schedule of pruneIteratively remove conv2d filters (per layer) as well as hidden dense units;
// removing filters and units whose output is zero leaves the predictions as they were, and the
// pruned model trains, predicts and round-trips through a model file; kiln prune --structured
// does the same on a folder of images; the 'taylor' channel importance against an f64 reference.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sequential } from '../../src/nn/sequential.ts';
import { tinyCnn } from '../helpers/cnn.ts';
import {
  channelScores,
  Dataset,
  imageFolder,
  modelFromBytes,
  modelToBytes,
  pruneIteratively,
  pruneNeurons,
  saveModel,
} from '../../src/index.ts';
import { conv2d, dense, flatten } from '../../src/nn/layers/index.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';
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

test("channelScores 'taylor': Σ |a·∂L/∂a| per channel where the dense layer reads it, against an f64 reference", () => {
  // [1, 3, 3] → conv2d 3 filters 2×2 valid, ReLU → [3, 2, 2] → flatten → dense 2 (softmax cross-entropy).
  const model = new Sequential({ inputs: [1, 3, 3], layers: [conv2d(3, 2, { activation: 'relu' }), flatten(), dense(2)], seed: 5 });
  const n = 5;
  const features = uniform(mulberry32(9), n * 9, -1, 1);
  const labels = Int32Array.of(0, 1, 1, 0, 1);
  const data = new Dataset({ features, shape: [1, 3, 3], labels });
  const p = new Map(model.parameters().map((t) => [t.name, Float64Array.from(t.data)]));
  const w = p.get('layers.0.weight')!,
    b = p.get('layers.0.bias')!,
    W = p.get('layers.2.weight')!,
    bd = p.get('layers.2.bias')!;
  // Batches of 3 and 2 rows: the gradient is of each batch's mean loss.
  const reference = new Float64Array(3);
  for (const [start, B] of [
    [0, 3],
    [3, 2],
  ] as const)
    for (let r = start; r < start + B; r++) {
      const a = new Float64Array(12);
      for (let o = 0; o < 3; o++)
        for (let oy = 0; oy < 2; oy++)
          for (let ox = 0; ox < 2; ox++) {
            let z = b[o]!;
            for (let ky = 0; ky < 2; ky++)
              for (let kx = 0; kx < 2; kx++) z += w[o * 4 + ky * 2 + kx]! * features[r * 9 + (oy + ky) * 3 + ox + kx]!;
            a[o * 4 + oy * 2 + ox] = Math.max(0, z);
          }
      const logits = [0, 1].map((c) => bd[c]! + a.reduce((s, v, k) => s + W[c * 12 + k]! * v, 0));
      const m = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - m));
      const g = e.map((v, c) => (v / (e[0]! + e[1]!) - (c === labels[r] ? 1 : 0)) / B);
      for (let k = 0; k < 12; k++) reference[Math.floor(k / 4)]! += Math.abs(a[k]! * (W[k]! * g[0]! + W[12 + k]! * g[1]!));
    }
  const scores = channelScores(model, { criterion: 'taylor', data, batchSize: 3 }).get(0)!;
  assert.ok(reference.some((v) => v > 0));
  for (let o = 0; o < 3; o++)
    assert.ok(Math.abs(scores[o]! - reference[o]!) <= 1e-7 + 1e-4 * reference[o]!, `channel ${o}: ${scores[o]} vs ${reference[o]}`);
  assert.throws(() => channelScores(model, { criterion: 'taylor', data: features }), /'taylor' needs data: a Dataset/);
  model.dispose();
});

test("pruneNeurons with 'taylor' on a CNN drops the dead filters first", async () => {
  const data = await imageFolder(FOLDER, { size: 8 });
  const model = cnn(false);
  kill(model, { 0: [1, 4] });
  const scores = channelScores(model, { criterion: 'taylor', data }).get(0)!;
  assert.equal(scores[1], 0);
  assert.equal(scores[4], 0);
  const small = pruneNeurons(model, { sparsity: 1 / 3, criterion: 'taylor', data });
  const w0 = model.parameters().find((t) => t.name === 'layers.0.weight')!.data;
  const kept = [0, 2, 3, 5].flatMap((o) => Array.from(w0.subarray(o * 9, (o + 1) * 9)));
  assert.deepEqual(Array.from(small.parameters().find((t) => t.name === 'layers.0.weight')!.data), kept);
  small.dispose();
  model.dispose();
});
