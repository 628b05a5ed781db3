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

const SPACE = {
  lr: { float: [3e-3, 3e-2], log: true },
  units: { int: [4, 32], log: true },
  activation: { categorical: ['relu', 'tanh'] },
} satisfies SpaceSpec;

test("searchModel: two workers search iris and return the best trial's trained model", async () => {
  const { train, test: held, validation } = trainTestSplit(iris(), { testFraction: 0.2, validationFraction: 0.2, seed: 0 });
  const epochs: number[] = [];
  const run = () =>
    searchModel(train, {
      validation: validation!,
      space: SPACE,
      trials: 6,
      epochs: 12,
      workers: 2,
      seed: 2,
      onTrialEpoch: (n) => epochs.push(n),
    });
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
  assert.deepEqual(
    again.study.trials.map((t) => [t.state, t.params, t.values]),
    result.study.trials.map((t) => [t.state, t.params, t.values]),
  );
  result.model.dispose();
  again.model.dispose();
});

test("searchModel keep: the best k trials' trained models, best first, each scoring its trial's value; the rest disposed", async () => {
  const { train, validation } = trainTestSplit(iris(), { testFraction: 0.2, validationFraction: 0.2, seed: 0 });
  const result = await searchModel(train, {
    validation: validation!,
    space: SPACE,
    trials: 6,
    epochs: 8,
    seed: 4,
    pruner: 'none',
    keep: 3,
  });
  const complete = result.study.trials
    .filter((t) => t.state === 'complete')
    .sort((a, b) => b.values![0]! - a.values![0]! || a.number - b.number);
  assert.deepEqual(
    result.topModels.map((t) => t.trial),
    complete.slice(0, 3).map((t) => t.number),
  );
  assert.equal(result.topModels[0]!.model, result.model);
  assert.equal(result.topModels[0]!.trial, result.best.number);
  for (const { trial, model } of result.topModels)
    assert.equal(accuracy(model, validation!), result.study.trials[trial]!.values![0], `trial ${trial}'s model`);
  for (const { model } of result.topModels) model.dispose();
  await assert.rejects(searchModel(train, { validation: validation!, keep: 0 }), /keep/);
});

test('searchModel: strategy gradient dispatches to gradientSearch; bad strategy and workers are refused', async () => {
  const { train } = trainTestSplit(iris(), { testFraction: 0.2, seed: 0 });
  const result = await searchModel(train, {
    strategy: 'gradient',
    candidates: { widths: [8, 16], activations: ['relu'], layers: 1 },
    epochs: 2,
    retrain: { epochs: 2 },
    seed: 1,
  });
  assert.equal(result.strategy, 'gradient');
  assert.equal(result.record.strategy, 'gradient');
  result.model.dispose();
  await assert.rejects(searchModel(train, { validation: train, strategy: 'grid' as 'trials' }), /strategy must be 'trials' or 'gradient'/);
  await assert.rejects(searchModel(train, { validation: train, workers: 0 }), RangeError);
});

test('mlpSettings: space names map onto settings; what the space leaves out keeps its default', async () => {
  const { mlpSettings, DEFAULT_MLP_SETTINGS } = await import('../../src/model-search/settings.ts');
  assert.deepEqual(mlpSettings({}), { ...DEFAULT_MLP_SETTINGS });
  const s = mlpSettings({
    lr: 0.02,
    optimizer: 'sgd',
    momentum: 0.5,
    nesterov: true,
    weight_decay: 1e-4,
    clip_norm: 2,
    batch_size: 16,
    epochs: 7,
    dropout: 0.1,
    activation: 'tanh',
    label_smoothing: 0.05,
    layers: 3,
    units_0: 40,
    units_1: 20,
  });
  assert.deepEqual(s, {
    ...DEFAULT_MLP_SETTINGS,
    lr: 0.02,
    optimizer: 'sgd',
    momentum: 0.5,
    nesterov: true,
    weightDecay: 1e-4,
    clipNorm: 2,
    batchSize: 16,
    epochs: 7,
    dropout: 0.1,
    activation: 'tanh',
    labelSmoothing: 0.05,
    // units_2 is not in the sample: the default layer's width fills in.
    layers: [40, 20, 64],
  });
  assert.deepEqual(
    mlpSettings({ units: 12 }, { ...DEFAULT_MLP_SETTINGS, layers: [8, 8, 8] }).layers,
    [12, 12, 12],
    'units alone sets every default layer',
  );
  assert.deepEqual(mlpSettings({ layers: 2, units: 5 }).layers, [5, 5]);
  assert.deepEqual(mlpSettings({ units: 9 }, { ...DEFAULT_MLP_SETTINGS, layers: [] }).layers, [9], 'a linear default gains one layer');
});

test('parseMlpSpace names the unknown parameter; the default space uses only MLP settings', async () => {
  const { parseMlpSpace, MLP_SPACE } = await import('../../src/model-search/space.ts');
  assert.equal(parseMlpSpace(MLP_SPACE), MLP_SPACE);
  assert.throws(
    () => parseMlpSpace({ learning_rate: { float: [0.1, 1] } }),
    /^RangeError: unknown parameter 'learning_rate'; a search space may set lr, optimizer/,
  );
  await assert.rejects(
    searchModel(iris(), { validation: iris(), space: { rate: { float: [0.1, 1] } } }),
    /searchModel: space: unknown parameter 'rate'/,
  );
});

test('searchModel: regression with the loss objective; pruning steps are 0-based epochs; records what modelLimits reads', async () => {
  const { Dataset } = await import('../../src/data/dataset.ts');
  const { modelLimits } = await import('../../src/search/limits.ts');
  // y = 2·x0 − x1 on a seeded grid: a model that learns it has a small validation MSE.
  const n = 120;
  const features = new Float32Array(n * 2),
    targets = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    features[2 * i] = (i % 11) / 10;
    features[2 * i + 1] = ((i * 7) % 13) / 12;
    targets[i] = 2 * features[2 * i]! - features[2 * i + 1]!;
  }
  const all = new Dataset({ features, numFeatures: 2, targets });
  const train = all.subset(Int32Array.from({ length: 90 }, (_, i) => i));
  const validation = all.subset(Int32Array.from({ length: 30 }, (_, i) => 90 + i));
  const result = await searchModel(train, {
    validation,
    space: { lr: { float: [3e-3, 3e-2], log: true }, units: { int: [4, 16] } },
    trials: 5,
    epochs: 9,
    seed: 1,
  });
  assert.deepEqual(result.objectives, ['loss']);
  assert.deepEqual(result.study.directions, ['minimize']);
  assert.equal(result.model.task, 'regression');
  for (const t of result.study.trials) {
    const steps = Object.keys(t.intermediate)
      .map(Number)
      .sort((a, b) => a - b);
    assert.deepEqual(
      steps,
      steps.map((_, i) => i),
      `trial ${t.number} reports steps 0, 1, …`,
    );
    if (t.state === 'complete') {
      assert.equal(steps.length, 9);
      assert.equal(t.values![0], t.intermediate[8], 'its value is the validation loss reported at the last step');
      assert.equal(t.userAttrs.parameters, 2 * (t.params.units as number) + (t.params.units as number) + (t.params.units as number) + 1);
      assert.equal(t.userAttrs.accuracy, undefined, 'no accuracy for regression');
      assert.ok((t.userAttrs.bytes as number) > 0);
      const limit = t.userAttrs.parameters as number;
      assert.deepEqual(modelLimits({ maxParams: limit })(t), [0], 'modelLimits reads the parameters searchModel recorded');
    }
  }
  result.model.dispose();
  await assert.rejects(searchModel(train, { validation, objectives: ['accuracy'] }), /objective accuracy needs classification/);
  await assert.rejects(searchModel(train, { validation, task: 'binary' }), /task 'binary' needs class labels/);
});

test("searchModel: a resumed study counts earlier trials and returns the best one's model, trained again to the same values", async () => {
  const { InMemoryStorage } = await import('../../src/search/storage/storage.ts');
  const { train, validation } = trainTestSplit(iris(), { testFraction: 0.2, validationFraction: 0.2, seed: 4 });
  const storage = new InMemoryStorage();
  const options = { validation: validation!, space: SPACE, epochs: 8, seed: 3, storage, studyName: 'iris', pruner: 'none' as const };
  const first = await searchModel(train, { ...options, trials: 4 });
  const firstBest = first.best;
  first.model.dispose();
  // One more trial with a learning rate too small to beat the first four.
  const second = await searchModel(train, { ...options, trials: 1, space: { ...SPACE, lr: { float: [1e-6, 2e-6], log: true } } });
  assert.equal(second.study.trials.length, 5);
  assert.equal(second.best.number, firstBest.number, 'the best trial ran in the first call');
  assert.equal(accuracy(second.model, validation!), firstBest.values![0], 'trained again, it scores what it scored then');
  second.model.dispose();
});
