// Optimizer state files: training N epochs, saving model and optimizer state, loading both and
// training M more gives the same bytes as training without the break, for each rule (Adam,
// AdamW, SGD with Nesterov momentum and hypergradient descent); a state that does not belong to
// the weights or the optimizer at hand is refused with an error naming why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';
import { fit, type FitOptions } from '../../src/train/fit.ts';
import { adam, adamw, sgd, type Optimizer } from '../../src/train/optimizers.ts';
import { iris } from '../../src/data/builtin.ts';
import { modelFromBytes, modelToBytes, saveModel, loadModel } from '../../src/io/model-file.ts';
import {
  loadOptimizerState,
  optimizerStateFromBytes,
  optimizerStatePath,
  optimizerStateToBytes,
  saveOptimizerState,
} from '../../src/io/optimizer-file.ts';
import { ModelFileError } from '../../src/io/safetensors.ts';

const data = iris();
const N = 3,
  M = 4;
const newModel = () => new Sequential({ inputs: 4, layers: [dense(8, 'relu'), dense(3)], seed: 7 });

const RULES: [string, () => Optimizer][] = [
  ['adam', () => adam({ lr: 0.01 })],
  ['adamw', () => adamw({ lr: 0.01, weightDecay: 0.05, clipNorm: 1 })],
  ['sgd nesterov + hypergradient', () => sgd({ lr: 0.05, momentum: 0.9, nesterov: true, hypergradient: { beta: 1e-3 } })],
];

/** Trains N epochs, then M more through a saved and reloaded model and optimizer state. */
async function withBreak(optimizer: () => Optimizer, options: FitOptions): Promise<Uint8Array> {
  const first = newModel();
  await fit(first, data, { ...options, optimizer: optimizer(), epochs: N });
  const modelBytes = modelToBytes(first);
  const stateBytes = optimizerStateToBytes(first, optimizer());
  first.dispose();
  const resumed = modelFromBytes(modelBytes);
  const restored = optimizerStateFromBytes(resumed, stateBytes);
  await fit(resumed, data, { ...options, optimizer: restored, epochs: M, resumeOptimizer: true });
  const out = modelToBytes(resumed);
  resumed.dispose();
  return out;
}

for (const [name, optimizer] of RULES) {
  test(`${name}: N + M epochs in one fit equal N, save, load, M (shuffle off), byte for byte`, async () => {
    const whole = newModel();
    await fit(whole, data, { optimizer: optimizer(), epochs: N + M, shuffle: false });
    const expected = modelToBytes(whole);
    whole.dispose();
    assert.deepEqual(await withBreak(optimizer, { shuffle: false }), expected);
  });
}

test('with shuffling: resuming from the files equals continuing in memory; starting afresh does not', async () => {
  const inMemory = newModel();
  await fit(inMemory, data, { optimizer: adam({ lr: 0.01 }), epochs: N });
  const modelBytes = modelToBytes(inMemory);
  await fit(inMemory, data, { optimizer: adam({ lr: 0.01 }), epochs: M, resumeOptimizer: true });
  const expected = modelToBytes(inMemory);
  inMemory.dispose();
  assert.deepEqual(await withBreak(() => adam({ lr: 0.01 }), {}), expected);
  // The check can fail: without the state, Adam's first steps are full-size again.
  const afresh = modelFromBytes(modelBytes);
  await fit(afresh, data, { optimizer: adam({ lr: 0.01 }), epochs: M });
  assert.notDeepEqual(modelToBytes(afresh), expected);
  afresh.dispose();
});

test('files: the state sits beside the model, is written atomically and brings its settings back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-optimizer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(optimizerStatePath('runs/iris.safetensors'), 'runs/iris.optimizer.safetensors');
  assert.equal(optimizerStatePath('runs.v2/model'), 'runs.v2/model.optimizer.safetensors');
  const model = newModel();
  const optimizer = adamw({ lr: 0.02, beta1: 0.8, schedule: { type: 'step', stepSize: 2, gamma: 0.5 } });
  await fit(model, data, { optimizer, epochs: 2 });
  const path = join(dir, 'm.safetensors');
  await saveModel(model, path);
  await saveOptimizerState(model, optimizer, optimizerStatePath(path));
  const loaded = await loadModel(path);
  const restored = await loadOptimizerState(loaded, optimizerStatePath(path));
  assert.deepEqual(restored, optimizer);
  assert.equal(loaded.engine.updates, model.engine.updates);
  model.dispose();
  loaded.dispose();
});

test('a state that does not match is refused, naming why', async () => {
  const model = newModel();
  await fit(model, data, { optimizer: adam(), epochs: 1 });
  const state = optimizerStateToBytes(model, adam());
  // Other weights: the moments would resume silently wrong.
  const moved = modelFromBytes(modelToBytes(model));
  await fit(moved, data, { optimizer: adam(), epochs: 1 });
  assert.throws(
    () => optimizerStateFromBytes(moved, state),
    (e: unknown) => e instanceof ModelFileError && /saved with other weights/.test(e.message),
  );
  // Another architecture.
  const other = new Sequential({ inputs: 4, layers: [dense(5, 'relu'), dense(3)], seed: 7 });
  assert.throws(
    () => optimizerStateFromBytes(other, state),
    (e: unknown) => e instanceof ModelFileError && /belongs to a model of architecture/.test(e.message),
  );
  // A flipped bit in a moment.
  const corrupt = state.slice();
  corrupt[corrupt.length - 3]! ^= 0x10;
  assert.throws(
    () => optimizerStateFromBytes(model, corrupt),
    (e: unknown) => e instanceof ModelFileError && /checksum mismatch/.test(e.message),
  );
  // Not an optimizer state at all.
  assert.throws(
    () => optimizerStateFromBytes(model, modelToBytes(model)),
    (e: unknown) => e instanceof ModelFileError && /kiln.optimizer/.test(e.message),
  );
  // Saving: the optimizer must be the one that made the state, and there must be a state.
  assert.throws(() => optimizerStateToBytes(model, sgd({ momentum: 0.9 })), /was not made by the sgd optimizer/);
  model.engine.resetOptimizer();
  assert.throws(() => optimizerStateToBytes(model, adam()), /no optimizer state yet/);
  for (const m of [model, moved, other]) m.dispose();
});
