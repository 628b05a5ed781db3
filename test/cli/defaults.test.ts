// Defaults are features: a user's first command, with no flags, must give a good model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kilnBundled } from './run.ts';
import { defaultEpochs } from '../../src/cli/commands/train.ts';

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
