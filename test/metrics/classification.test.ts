import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, classificationReport, confusionMatrix, logLoss } from '../../src/metrics/classification.ts';
import { assertClose } from '../helpers/close.ts';

// Worked by hand (the example of scikit-learn's classification_report docs):
// y_true = [0, 1, 2, 2, 2], y_pred = [0, 0, 2, 2, 1]
//   class 0: tp 1, predicted 2, actual 1 → p 0.5, r 1, f1 2/3
//   class 1: tp 0, predicted 1, actual 1 → p 0,   r 0, f1 0
//   class 2: tp 2, predicted 2, actual 3 → p 1,   r 2/3, f1 0.8
const yTrue = [0, 1, 2, 2, 2];
const yPred = [0, 0, 2, 2, 1];

test('accuracy', () => {
  assert.equal(accuracy(yTrue, yPred), 3 / 5);
  assert.equal(accuracy(new Int32Array([1]), new Int32Array([1])), 1);
  assert.equal(accuracy([0, 1], [1, 0]), 0);
});

test('confusion matrix: rows true, columns predicted', () => {
  assert.deepEqual(confusionMatrix(yTrue, yPred), [
    [1, 0, 0],
    [1, 0, 0],
    [0, 1, 2],
  ]);
  assert.deepEqual(confusionMatrix([0], [0], 3), [
    [1, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ]);
  // scikit-learn's docs example.
  assert.deepEqual(confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2]), [
    [2, 0, 0],
    [0, 0, 1],
    [1, 0, 2],
  ]);
});

test('precision, recall, F1 per class, macro and weighted', () => {
  const r = classificationReport(yTrue, yPred);
  assertClose(r.precision, [0.5, 0, 1], { atol: 1e-15 }, 'precision');
  assertClose(r.recall, [1, 0, 2 / 3], { atol: 1e-15 }, 'recall');
  assertClose(r.f1, [2 / 3, 0, 0.8], { atol: 1e-15 }, 'f1');
  assert.deepEqual(r.support, [1, 1, 3]);
  assertClose([r.macro.precision, r.macro.recall, r.macro.f1], [0.5, 5 / 9, (2 / 3 + 0.8) / 3], { atol: 1e-15 }, 'macro');
  assertClose([r.weighted.precision, r.weighted.recall, r.weighted.f1], [0.7, 0.6, (2 / 3 + 2.4) / 5], { atol: 1e-15 }, 'weighted');
});

test('zero division gives 0: a class never predicted and never present', () => {
  const r = classificationReport([0, 0], [0, 0], 3);
  assert.deepEqual(r.precision, [1, 0, 0]);
  assert.deepEqual(r.recall, [1, 0, 0]);
  assert.deepEqual(r.f1, [1, 0, 0]);
  assert.deepEqual(r.support, [2, 0, 0]);
});

test('log loss: by hand, clipping, renormalisation, binary column', () => {
  const probs = new Float32Array([0.9, 0.1, 0.2, 0.8]);
  // The f32 rows sum to 1 only up to rounding, and each row is renormalised by its f64 sum.
  const f = Math.fround;
  const expected = -(Math.log(f(0.9) / (f(0.9) + f(0.1))) + Math.log(f(0.8) / (f(0.2) + f(0.8)))) / 2;
  assertClose([logLoss([0, 1], probs)], [expected], { rtol: 1e-15 }, 'two classes');
  // A zero probability for the true class is clipped to 1e-15: loss = −ln(1e−15 / (1 + 1e−15)).
  const clipped = -Math.log(1e-15 / (1 + 1e-15));
  assertClose([logLoss([1], [1, 0])], [clipped], { rtol: 1e-14 }, 'clipped');
  // Rows that do not sum to 1 are renormalised: [1, 1] is clipped to 1 − 1e−15 each, then halved.
  const row = 1 + (1 - 1e-15);
  assertClose([logLoss([0], [1, 1])], [-Math.log((1 - 1e-15) / row)], { rtol: 1e-14 }, 'renormalised');
  // scikit-learn docs example: log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]) = 0.21616…
  const spam = logLoss([1, 0, 0, 1], [0.1, 0.9, 0.9, 0.1, 0.8, 0.2, 0.35, 0.65]);
  assertClose([spam], [0.21616187468057912], { rtol: 1e-14 }, 'sklearn example');
  // One column: P(class 1).
  assertClose([logLoss([1, 0, 0, 1], [0.9, 0.1, 0.2, 0.65])], [spam], { rtol: 1e-14 }, 'binary column');
});

test('errors name the argument and the value', () => {
  assert.throws(() => accuracy([0, 1], [0]), /accuracy: yTrue has 2 values, yPred has 1/);
  assert.throws(() => accuracy([], []), /needs at least one row, got 0/);
  assert.throws(() => confusionMatrix([0, 1], [0, 3], 3), /confusionMatrix: yPred\[1\] must be a class id in \[0, 3\), got 3/);
  assert.throws(() => confusionMatrix([0, -1], [0, 0]), /yTrue\[1\] must be a class id in \[0, 1\), got -1/);
  assert.throws(() => confusionMatrix([0, 1.5], [0, 0]), /yTrue\[1\] must be a class id/);
  assert.throws(() => confusionMatrix([0, 1e6], [0, 0]), /1000001 classes would make a 1000001×1000001 matrix/);
  assert.throws(() => confusionMatrix([0], [0], 0), /numClasses must be an integer >= 1, got 0/);
  assert.throws(() => logLoss([0, 1], [0.5, 0.5, 0.5]), /probs has 3 values, not a whole number of rows for 2 labels/);
  assert.throws(() => logLoss([0, 2], [0.5, 0.5, 0.5, 0.5]), /yTrue\[1\] must be a class id in \[0, 2\), got 2/);
  assert.throws(() => logLoss([0], [1.5, -0.5]), /probabilities must lie in \[0, 1\], got 1.5 at row 0, column 0/);
  assert.throws(() => logLoss([0], [NaN, 1]), /got NaN at row 0, column 0/);
});
