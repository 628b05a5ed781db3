import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense, dropout } from '../../src/nn/layers/index.ts';
import { fit, DivergenceError } from '../../src/train/fit.ts';
import { adam, adamw, gd, sgd } from '../../src/train/optimizers.ts';
import { Dataset } from '../../src/data/dataset.ts';
import { iris, mnist } from '../../src/data/builtin.ts';
import { trainTestSplit } from '../../src/data/split.ts';
import { accuracy } from '../../src/metrics/classification.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

test('iris: an MLP reaches >= 0.95 test accuracy', async () => {
  const { train, test: held } = trainTestSplit(iris(), { testFraction: 0.2, seed: 3 });
  const model = new Sequential({ inputs: 4, layers: [dense(16, 'relu'), dense(3)], seed: 1 });
  await fit(model, train, { optimizer: adam({ lr: 0.01 }), epochs: 100, batchSize: 16 });
  const acc = accuracy(held.labels, model.predictClasses(held.features));
  assert.ok(acc >= 0.95, `test accuracy ${acc}`);
  model.dispose();
});

test('mnist: 784-128-10, Adam, 20 epochs reaches >= 0.93 on a seeded 20% test split', async () => {
  const { train, test: held } = trainTestSplit(await mnist(), { testFraction: 0.2, seed: 0 });
  const model = new Sequential({ inputs: 784, layers: [dense(128, 'relu'), dense(10)], seed: 0 });
  await fit(model, train, { optimizer: adam({ lr: 1e-3 }), epochs: 20, batchSize: 64, standardize: false });
  const acc = accuracy(held.labels, model.predictClasses(held.features));
  console.log(`mnist test accuracy ${acc.toFixed(4)}`);
  assert.ok(acc >= 0.93, `test accuracy ${acc}`);
  model.dispose();
});

function linearData(n: number, seed: number) {
  const rand = mulberry32(seed);
  const w = [1.5, -2, 0.5],
    bias = 0.75;
  const features = uniform(rand, n * 3, -1, 1);
  const targets = new Float32Array(n);
  for (let i = 0; i < n; i++) targets[i] = bias + w.reduce((s, wj, j) => s + wj * features[i * 3 + j]!, 0);
  return { ds: new Dataset({ features, numFeatures: 3, targets }), w, bias };
}

test('linear regression by full-batch gradient descent recovers its weights', async () => {
  const { ds, w, bias } = linearData(200, 5);
  const model = new Sequential({ inputs: 3, layers: [dense(1)], task: 'regression', seed: 2 });
  await fit(model, ds, { optimizer: gd({ lr: 0.3 }), epochs: 400, standardize: false });
  const [weight, b] = model.parameters();
  w.forEach((wj, j) => assert.ok(Math.abs(weight!.data[j]! - wj) < 1e-4, `w${j} ${weight!.data[j]} vs ${wj}`));
  assert.ok(Math.abs(b!.data[0]! - bias) < 1e-4);
  model.dispose();
});

test('the same seed gives the same weights bit for bit; another seed does not', async () => {
  const run = async (seed: number) => {
    const { train } = trainTestSplit(iris(), { seed: 1 });
    const model = new Sequential({ inputs: 4, layers: [dense(8, 'tanh'), dropout(0.2), dense(3)], seed });
    await fit(model, train, { optimizer: sgd({ lr: 0.05, momentum: 0.9, nesterov: true }), epochs: 5, batchSize: 8 });
    const bytes = new Uint8Array(model.engine.params.read().buffer);
    model.dispose();
    return Buffer.from(bytes).toString('hex');
  };
  assert.equal(await run(7), await run(7));
  assert.notEqual(await run(7), await run(8));
});

test('early stopping stops, and restores the best epoch', async () => {
  const { train, validation } = trainTestSplit(iris(), { testFraction: 0.2, validationFraction: 0.2, seed: 2 });
  const model = new Sequential({ inputs: 4, layers: [dense(32, 'relu'), dense(3)], seed: 3 });
  const seen: number[] = [];
  const history = await fit(model, train, {
    optimizer: adamw({ lr: 0.05 }),
    epochs: 300,
    batchSize: 8,
    validation,
    earlyStopping: { monitor: 'val_loss', patience: 5 },
    onEpoch: (e) => void seen.push(e.valLoss!),
  });
  assert.equal(history.stoppedEarly, true);
  assert.ok(history.epochs.length < 300);
  const best = Math.min(...seen);
  assert.equal(seen[history.bestEpoch - 1], best);
  assert.equal(history.epochs.length, history.bestEpoch + 6);
  model.dispose();
});

test('an AbortSignal cancels fit between steps', async () => {
  const controller = new AbortController();
  const model = new Sequential({ inputs: 4, layers: [dense(3)], seed: 1 });
  await assert.rejects(
    fit(model, iris(), {
      epochs: 50,
      onEpoch: (e) => {
        if (e.epoch === 2) controller.abort();
      },
      signal: controller.signal,
    }),
    { name: 'AbortError' },
  );
  model.dispose();
});

test('a diverging loss stops with a DivergenceError naming epoch and step', async () => {
  const { ds } = linearData(64, 1);
  const model = new Sequential({ inputs: 3, layers: [dense(16, 'relu'), dense(1)], task: 'regression', seed: 1 });
  await assert.rejects(fit(model, ds, { optimizer: sgd({ lr: 1e6 }), epochs: 20, batchSize: 8 }), (e: unknown) => {
    assert.ok(e instanceof DivergenceError);
    assert.match(e.message, /diverged to (NaN|Infinity|-Infinity) at epoch \d+, step \d+/);
    return true;
  });
  model.dispose();
});

test('bad fit input gives clear errors', async () => {
  const model = new Sequential({ inputs: 5, layers: [dense(3)], seed: 1 });
  await assert.rejects(fit(model, iris()), /takes 5 features, the data has 4/);
  const four = new Sequential({ inputs: 4, layers: [dense(3)], seed: 1 });
  await assert.rejects(fit(four, iris(), { epochs: 0 }), /epochs must be an integer/);
  await assert.rejects(fit(four, iris(), { batchsize: 3 } as never), /unknown option 'batchsize'/);
  const regression = new Dataset({ features: new Float32Array(8), numFeatures: 4, targets: new Float32Array(2) });
  await assert.rejects(fit(four, regression), /classification model, the data is regression/);
  model.dispose();
  four.dispose();
});

test('predict rejects NaN and infinite inputs, naming row and column', () => {
  const model = new Sequential({ inputs: 3, layers: [dense(2)], seed: 1 });
  assert.throws(
    () =>
      model.predict([
        [1, 2, 3],
        [4, NaN, 6],
      ]),
    /Sequential\(3→2\)\.predict: data must be finite, got NaN at row 1, column 1/,
  );
  assert.throws(() => model.predict(Float64Array.from([1, 2, 1e39])), /got Infinity at row 0, column 2/);
  assert.throws(() => model.predict([[1, 2]]), /row 0 has 2 features, expected 3/);
  model.dispose();
});
