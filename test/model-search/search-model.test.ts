import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iris } from '../../src/data/builtin.ts';
import { trainTestSplit } from '../../src/data/split.ts';
import { evaluate } from '../../src/train/evaluate.ts';
import { searchModel } from '../../src/model-search/search-model.ts';
import type { SpaceSpec } from '../../src/search/space.ts';
import type { Sequential } from '../../src/nn/sequential.ts';
import type { Dataset } from '../../src/data/dataset.ts';

const accuracy = (m: Sequential, d: Dataset) => {
  const e = evaluate(m, d);
  assert.equal(e.task, 'classification');
  return e.task === 'classification' ? e.accuracy : NaN;
};

const SPACE = { lr: { float: [3e-3, 3e-2], log: true }, 'units': { int: [4, 32], log: true }, activation: { categorical: ['relu', 'tanh'] } } satisfies SpaceSpec;

test('searchModel: two workers search iris and return the best trial\'s trained model', async () => {
  const { train, test: held, validation } = trainTestSplit(iris(), { testFraction: 0.2, validationFraction: 0.2, seed: 0 });
  const epochs: number[] = [];
  const run = () => searchModel(train, { validation: validation!, space: SPACE, trials: 6, epochs: 12, workers: 2, seed: 2, onTrialEpoch: (n) => epochs.push(n) });
  const result = await run();
  assert.equal(result.strategy, 'trials');
  assert.equal(result.study.trials.length, 6);
  assert.ok(epochs.length > 0, 'epoch logs came back from the workers');
  const best = result.study.bestTrial;
  assert.equal(result.best.number, best.number);
  // The model the worker trained is the one the trial scored: its validation accuracy matches.
  assert.equal(accuracy(result.model, validation!), best.values![0]);
  assert.ok(accuracy(result.model, held) > 0.6);
  const again = await run();
  assert.deepEqual(again.study.trials.map((t) => [t.state, t.params, t.values]), result.study.trials.map((t) => [t.state, t.params, t.values]));
  result.model.dispose();
  again.model.dispose();
});

test('searchModel: strategy gradient dispatches to gradientSearch; bad strategy and workers are refused', async () => {
  const { train } = trainTestSplit(iris(), { testFraction: 0.2, seed: 0 });
  const result = await searchModel(train, { strategy: 'gradient', candidates: { widths: [8, 16], activations: ['relu'], layers: 1 }, epochs: 2, retrain: { epochs: 2 }, seed: 1 });
  assert.equal(result.strategy, 'gradient');
  assert.equal(result.record.strategy, 'gradient');
  result.model.dispose();
  await assert.rejects(searchModel(train, { validation: train, strategy: 'grid' as 'trials' }), /strategy must be 'trials' or 'gradient'/);
  await assert.rejects(searchModel(train, { validation: train, workers: 0 }), RangeError);
});
