import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanAbsoluteError, meanSquaredError, r2Score, rootMeanSquaredError } from '../../src/metrics/regression.ts';
import { assertClose } from '../helpers/close.ts';

// scikit-learn's documented examples, each also worked by hand in the comments.
const yTrue = [3, -0.5, 2, 7];
const yPred = [2.5, 0.0, 2, 8];
// errors 0.5, −0.5, 0, −1: squares 0.25 0.25 0 1 (sum 1.5), absolute 0.5 0.5 0 1 (sum 2)
// mean(y) = 2.875, Σ(y − ȳ)² = 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875

test('single output: MSE, RMSE, MAE, R²', () => {
  assert.equal(meanSquaredError(yTrue, yPred), 0.375);
  assertClose([rootMeanSquaredError(yTrue, yPred)], [Math.sqrt(0.375)], { rtol: 1e-15 }, 'rmse');
  assert.equal(meanAbsoluteError(yTrue, yPred), 0.5);
  assertClose([r2Score(yTrue, yPred)], [1 - 1.5 / 29.1875], { rtol: 1e-15 }, 'r2');
  assertClose([r2Score(yTrue, yPred)], [0.948608137044967], { rtol: 1e-14 }, 'r2 sklearn docs');
});

// Two outputs, row-major: y_true = [[0.5, 1], [-1, 1], [7, -6]], y_pred = [[0, 2], [-1, 2], [8, -5]]
const yTrue2 = [0.5, 1, -1, 1, 7, -6];
const yPred2 = [0, 2, -1, 2, 8, -5];

test('several outputs are scored separately, then averaged (uniform_average)', () => {
  // output 0: errors 0.5, 0, −1 → MSE 1.25/3, MAE 0.5; output 1: errors −1, −1, −1 → MSE 1, MAE 1
  assertClose([meanSquaredError(yTrue2, yPred2, 2)], [(1.25 / 3 + 1) / 2], { rtol: 1e-15 }, 'mse');
  assertClose([meanSquaredError(yTrue2, yPred2, 2)], [0.7083333333333334], { rtol: 1e-15 }, 'mse sklearn docs');
  assert.equal(meanAbsoluteError(yTrue2, yPred2, 2), 0.75);
  // RMSE is the mean of per-output roots, not the root of the mean.
  assertClose([rootMeanSquaredError(yTrue2, yPred2, 2)], [(Math.sqrt(1.25 / 3) + 1) / 2], { rtol: 1e-15 }, 'rmse');
  assertClose([rootMeanSquaredError(yTrue2, yPred2, 2)], [0.822], { atol: 1e-3 }, 'rmse sklearn docs');
  // output 0: ȳ = 6.5/3, Σ(y − ȳ)² = 38.1666…; output 1: ȳ = −4/3, Σ(y − ȳ)² = 50/3·… computed below
  const r2 = (t: number[], p: number[]) => {
    const m = t.reduce((a, b) => a + b, 0) / t.length;
    return 1 - t.reduce((a, y, i) => a + (y - p[i]!) * (y - p[i]!), 0) / t.reduce((a, y) => a + (y - m) * (y - m), 0);
  };
  const expected = (r2([0.5, -1, 7], [0, -1, 8]) + r2([1, 1, -6], [2, 2, -5])) / 2;
  assertClose([r2Score(yTrue2, yPred2, 2)], [expected], { rtol: 1e-14 }, 'r2');
  assertClose([r2Score(yTrue2, yPred2, 2)], [0.936], { atol: 1e-3 }, 'r2 sklearn docs');
});

test('R² of a constant target: 1 when exact, 0 otherwise (force_finite)', () => {
  assert.equal(r2Score([-2, -2, -2], [-2, -2, -2]), 1);
  assert.equal(r2Score([-2, -2, -2], [-2, -2, -2 + 1e-8]), 0);
  // Mixed: constant output exact (1) and an ordinary output.
  assertClose([r2Score([1, 0, 1, 3, 1, 6], [1, 0, 1, 3, 1, 3], 2)], [(1 + (1 - 9 / 18)) / 2], { rtol: 1e-15 }, 'mixed');
  // Perfect predictions of a varying target give 1; predicting the mean gives 0.
  assert.equal(r2Score([1, 2, 3], [1, 2, 3]), 1);
  assert.equal(r2Score([1, 2, 3], [2, 2, 2]), 0);
});

test('errors', () => {
  assert.throws(() => meanSquaredError([1, 2], [1]), /meanSquaredError: yTrue has 2 values, yPred has 1/);
  assert.throws(() => meanAbsoluteError([], []), /needs at least one row, got 0/);
  assert.throws(() => r2Score([1], [1]), /r2Score: needs at least 2 rows, got 1/);
  assert.throws(() => meanSquaredError([1, 2, 3], [1, 2, 3], 2), /3 values are not whole rows of 2 outputs/);
  assert.throws(() => meanSquaredError([1, 2], [1, 2], 0), /numOutputs must be an integer >= 1, got 0/);
  assert.throws(() => rootMeanSquaredError([1, NaN], [1, 2]), /yTrue must be finite, got NaN at row 1, output 0/);
  assert.throws(() => r2Score([1, 2], [1, Infinity]), /yPred must be finite, got Infinity at row 1, output 0/);
});
