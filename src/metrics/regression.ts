// Regression metrics with scikit-learn's definitions, accumulated in f64. Inputs are row-major
// [n, k] (k outputs, default 1); every metric scores each output and returns their plain mean,
// as scikit-learn's multioutput='uniform_average' does.
import { checkPair } from './check.ts';

type Score = (t: ArrayLike<number>, p: ArrayLike<number>, n: number, k: number, j: number) => number;

/**
 * Mean squared error, (1/n)·Σ(y − ŷ)².
 *
 * @example
 * meanSquaredError([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.375
 */
export function meanSquaredError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numOutputs = 1): number {
  return perOutput('meanSquaredError', yTrue, yPred, numOutputs, 1, squaredError);
}

/**
 * Root mean squared error: √MSE per output, then averaged over outputs (scikit-learn's
 * root_mean_squared_error; for several outputs this is not √ of the averaged MSE).
 *
 * @example
 * rootMeanSquaredError([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // √0.375 ≈ 0.6124
 */
export function rootMeanSquaredError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numOutputs = 1): number {
  return perOutput('rootMeanSquaredError', yTrue, yPred, numOutputs, 1, (t, p, n, k, j) => Math.sqrt(squaredError(t, p, n, k, j)));
}

/**
 * Mean absolute error, (1/n)·Σ|y − ŷ|.
 *
 * @example
 * meanAbsoluteError([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.5
 */
export function meanAbsoluteError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numOutputs = 1): number {
  return perOutput('meanAbsoluteError', yTrue, yPred, numOutputs, 1, (t, p, n, k, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.abs(t[i * k + j]! - p[i * k + j]!);
    return s / n;
  });
}

/**
 * Coefficient of determination R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² per output. For a constant
 * target (Σ(y − ȳ)² = 0) it is 1 when the predictions are exact and 0 otherwise, as
 * scikit-learn's r2_score with force_finite=True. Needs at least 2 rows (scikit-learn gives NaN).
 *
 * @example
 * r2Score([3, -0.5, 2, 7], [2.5, 0, 2, 8]); // 0.9486081370449679
 */
export function r2Score(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numOutputs = 1): number {
  return perOutput('r2Score', yTrue, yPred, numOutputs, 2, (t, p, n, k, j) => {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += t[i * k + j]!;
    mean /= n;
    let residual = 0,
      total = 0;
    for (let i = 0; i < n; i++) {
      const y = t[i * k + j]!;
      const e = y - p[i * k + j]!,
        dev = y - mean;
      residual += e * e;
      total += dev * dev;
    }
    if (total === 0) return residual === 0 ? 1 : 0;
    return 1 - residual / total;
  });
}

const squaredError: Score = (t, p, n, k, j) => {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const e = t[i * k + j]! - p[i * k + j]!;
    s += e * e;
  }
  return s / n;
};

function perOutput(where: string, yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number, minRows: number, score: Score): number {
  const len = checkPair(where, yTrue, yPred);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`${where}: numOutputs must be an integer >= 1, got ${k}`);
  if (len % k !== 0) throw new RangeError(`${where}: ${len} values are not whole rows of ${k} outputs`);
  const n = len / k;
  if (n < minRows) throw new RangeError(`${where}: needs at least ${minRows} rows, got ${n}`);
  for (const [name, y] of [
    ['yTrue', yTrue],
    ['yPred', yPred],
  ] as const) {
    for (let i = 0; i < len; i++) {
      const v = y[i]!;
      if (typeof v !== 'number' || v - v !== 0)
        throw new RangeError(`${where}: ${name} must be finite, got ${v} at row ${Math.floor(i / k)}, output ${i % k}`);
    }
  }
  let sum = 0;
  for (let j = 0; j < k; j++) sum += score(yTrue, yPred, n, k, j);
  return sum / k;
}
