// Defaults are features: a user's first command, with no flags, must give a good model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kilnBundled } from './run.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultEpochs } from '../../src/cli/commands/train.ts';
import { PRUNE_DEFAULTS } from '../../src/cli/commands/prune.ts';

test('kiln train trains for an update budget, not a fixed epoch count', () => {
  assert.equal(defaultEpochs(120, 32, false), 500); // iris: 4 updates an epoch → capped at 500 epochs
  assert.equal(defaultEpochs(8000, 32, false), 50); // MNIST's digits: 250 updates an epoch, at least 50 epochs
  assert.equal(defaultEpochs(1000, 32, false), 63); // 32 updates an epoch → 2,000 updates
  assert.equal(defaultEpochs(1000, 32, true), 500); // full-batch gd: one update an epoch
});

test('kiln train --data iris with no other flags reaches 0.95 test accuracy on average over seeded splits', async () => {
  const accuracies: number[] = [];
  for (const seed of [0, 1, 2, 3, 4]) {
    const run = await kilnBundled(['train', '--data', 'iris', '--json', ...(seed === 0 ? [] : ['--seed', String(seed)])]);
    assert.equal(run.code, 0, run.stderr);
    accuracies.push(JSON.parse(run.stdout).metrics.accuracy);
  }
  const mean = accuracies.reduce((a, b) => a + b) / accuracies.length;
  assert.ok(mean >= 0.95, `mean test accuracy ${mean} over seeds 0-4 (${accuracies.join(', ')})`);
});

test('kiln prune --sparsity 0.9 with no other flags keeps the digits near their unpruned accuracy', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-prune-defaults-'));
  try {
    const model = join(dir, 'digits.safetensors');
    const train = await kilnBundled(['train', '--data', 'mnist', '--layers', '128', '--epochs', '5', '--batch-size', '64', '--out', model]);
    assert.equal(train.code, 0, train.stderr);
    const run = await kilnBundled(['prune', '--model', model, '--data', 'mnist', '--sparsity', '0.9', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const pruned = JSON.parse(run.stdout);
    assert.equal(pruned.settings.scope, PRUNE_DEFAULTS.scope);
    assert.equal(pruned.settings.epochs, PRUNE_DEFAULTS.epochs);
    assert.ok(Math.abs(pruned.sparsity - 0.9) < 1e-3, `sparsity ${pruned.sparsity}`);
    const [after, before] = [pruned.metrics.accuracy, pruned.before.metrics.accuracy];
    // Measured 0.946 after, 0.9455 before; the former defaults (layer scope, 2 epochs) gave 0.918.
    assert.ok(after >= 0.935 && after >= before - 0.01, `accuracy ${after} after pruning, ${before} before`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
