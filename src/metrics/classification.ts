// Classification metrics with scikit-learn's definitions, accumulated in f64. Labels are class ids
// 0..k−1 (a Dataset's labels, or argmax of a model's output).
import { log64 } from '../core/scalar-math.ts';
import { checkPair } from './check.ts';

/** Per-class scores plus their macro (unweighted) and support-weighted means. */
export interface ClassificationReport {
  precision: number[];
  recall: number[];
  f1: number[];
  /** Rows of each class in yTrue. */
  support: number[];
  macro: { precision: number; recall: number; f1: number };
  weighted: { precision: number; recall: number; f1: number };
}

/**
 * Share of rows whose predicted class equals the true class.
 *
 * @example
 * accuracy([0, 1, 2, 1], [0, 2, 2, 1]); // 0.75
 */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  const n = checkPair('accuracy', yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < n; i++) if (yTrue[i] === yPred[i]) hits++;
  return hits / n;
}

/**
 * Counts m[t][p] of rows with true class t predicted as p (rows true, columns predicted, like
 * scikit-learn). `numClasses` defaults to one more than the largest label seen.
 *
 * @example
 * confusionMatrix([0, 1, 1], [0, 0, 1]); // [[1, 0], [1, 1]]
 */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses?: number): number[][] {
  const where = 'confusionMatrix';
  const n = checkPair(where, yTrue, yPred);
  const k = classCount(where, numClasses, yTrue, yPred);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < n; i++) m[yTrue[i]!]![yPred[i]!]!++;
  return m;
}

/**
 * Precision tp/(tp+fp), recall tp/(tp+fn) and F1 = 2·p·r/(p+r) per class. A ratio whose
 * denominator is 0 is 0, as scikit-learn's default `zero_division` gives (without its warning).
 *
 * @example
 * classificationReport([0, 1, 1], [0, 0, 1]).precision; // [0.5, 1]
 */
export function classificationReport(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses?: number): ClassificationReport {
  const m = confusionMatrix(yTrue, yPred, numClasses);
  const k = m.length;
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const precision: number[] = [],
    recall: number[] = [],
    f1: number[] = [],
    support: number[] = [];
  for (let c = 0; c < k; c++) {
    const tp = m[c]![c]!;
    let predicted = 0;
    for (let t = 0; t < k; t++) predicted += m[t]![c]!;
    const actual = m[c]!.reduce((a, b) => a + b, 0);
    precision.push(ratio(tp, predicted));
    recall.push(ratio(tp, actual));
    // 2tp / (2tp + fp + fn) equals 2pr/(p+r) and stays defined when p or r alone is 0/0.
    f1.push(ratio(2 * tp, predicted + actual));
    support.push(actual);
  }
  const total = support.reduce((a, b) => a + b, 0);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / k;
  const weightedMean = (xs: number[]) =>
    ratio(
      xs.reduce((a, x, c) => a + x * support[c]!, 0),
      total,
    );
  return {
    precision,
    recall,
    f1,
    support,
    macro: { precision: mean(precision), recall: mean(recall), f1: mean(f1) },
    weighted: { precision: weightedMean(precision), recall: weightedMean(recall), f1: weightedMean(f1) },
  };
}

/**
 * Mean negative log-likelihood of the true classes, −(1/n)·Σ log p[i, y_i]. `probs` is row-major
 * [n, k]; with k = 1 it holds P(class 1) of a binary problem. As scikit-learn's log_loss did by
 * default before 1.3 (eps = 1e−15), probabilities are clipped to [1e−15, 1 − 1e−15] and each row
 * renormalised to sum to 1. Logs
 * come from the core so the value is identical in every runtime.
 *
 * @example
 * logLoss([0, 1], new Float32Array([0.9, 0.1, 0.2, 0.8])); // (−ln 0.9 − ln 0.8)/2 ≈ 0.1643
 */
export function logLoss(yTrue: ArrayLike<number>, probs: ArrayLike<number>): number {
  const where = 'logLoss';
  const n = yTrue.length;
  if (n === 0) throw new RangeError(`${where}: needs at least one row, got 0`);
  if (probs.length % n !== 0 || probs.length === 0)
    throw new RangeError(`${where}: probs has ${probs.length} values, not a whole number of rows for ${n} labels`);
  const k = probs.length / n;
  checkLabels(where, 'yTrue', yTrue, Math.max(k, 2));
  const eps = 1e-15;
  const clip = (p: number) => (p < eps ? eps : p > 1 - eps ? 1 - eps : p);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const y = yTrue[i]!;
    let row = 0,
      mine = 0;
    if (k === 1) {
      const p1 = clip(checkProb(where, probs[i]!, i, 0));
      row = 1; // clipped p and 1 − p already sum to 1
      mine = y === 1 ? p1 : 1 - p1;
    } else {
      for (let c = 0; c < k; c++) {
        const p = clip(checkProb(where, probs[i * k + c]!, i, c));
        row += p;
        if (c === y) mine = p;
      }
    }
    sum -= log64(mine / row);
  }
  return sum / n;
}

function checkProb(where: string, p: number, row: number, col: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${where}: probabilities must lie in [0, 1], got ${p} at row ${row}, column ${col}`);
  return p;
}

// A k×k table of JS numbers: 4096² is 128 MiB, beyond any model this library trains.
const MAX_CLASSES = 4096;

function classCount(where: string, numClasses: number | undefined, ...arrays: ArrayLike<number>[]): number {
  let k = numClasses;
  if (k === undefined) {
    k = 0;
    for (const a of arrays) for (let i = 0; i < a.length; i++) if (a[i]! + 1 > k) k = a[i]! + 1;
  } else if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`${where}: numClasses must be an integer >= 1, got ${k}`);
  }
  if (k > MAX_CLASSES)
    throw new RangeError(
      `${where}: ${k} classes would make a ${k}×${k} matrix; at most ${MAX_CLASSES} are supported (is a label out of range?)`,
    );
  checkLabels(where, 'yTrue', arrays[0]!, k);
  checkLabels(where, 'yPred', arrays[1]!, k);
  return k;
}

function checkLabels(where: string, name: string, y: ArrayLike<number>, k: number): void {
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= k) throw new RangeError(`${where}: ${name}[${i}] must be a class id in [0, ${k}), got ${v}`);
  }
}
