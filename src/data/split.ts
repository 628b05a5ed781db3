// Seeded train / validation / test splits. The only randomness is one permutation from the
// core's PRNG, so a seed gives the same split in every runtime.
import { checkInteger, checkKnownKeys, checkNumber } from '../core/errors.ts';
import { Rng, seedWords, type Seed } from '../core/ops/random.ts';
import type { Dataset } from './dataset.ts';

/** Options of `trainTestSplit`: part sizes, stratification, shuffling and seed. */
export interface SplitOptions {
  /** Share of rows for the test part, in [0, 1); default 0.2. */
  testFraction?: number;
  /** Share of rows for the validation part, in [0, 1); default 0 (no validation part). */
  validationFraction?: number;
  /** Seed of the shuffle (an integer number or a bigint below 2^64); default 0. */
  seed?: Seed;
  /** Keep class proportions in every part; default true for classification. Regression
   *  data cannot be stratified. */
  stratify?: boolean;
}

/** The parts `trainTestSplit` returns. */
export interface Split {
  train: Dataset;
  test: Dataset;
  /** Present when validationFraction > 0. */
  validation?: Dataset;
  /** Row numbers of the source data set in each part, in the part's (shuffled) order. */
  indices: { train: Int32Array; test: Int32Array; validation: Int32Array };
}

const WHERE = 'trainTestSplit';
const KEYS = ['testFraction', 'validationFraction', 'seed', 'stratify'] as const;

/**
 * Splits a data set into train, test and (optionally) validation parts.
 *
 * Counts: the test part has round(testFraction·n) rows and the validation part
 * round(validationFraction·n) (halves round up); the rest is training data, which must not be
 * empty. Stratified, class c with n_c rows gives the test part ⌊n_test·n_c / n⌋ rows plus one
 * more for the classes with the largest remainders (n_test·n_c mod n, ties to the lower class
 * id) until the total is exactly n_test (Hamilton's largest-remainder rule). The validation part
 * is apportioned the same way from what each class has left. Which rows go where: one seeded
 * permutation of all rows is walked in order and each row fills its class's test quota first,
 * then its validation quota, then goes to training. Rows inside each part keep that shuffled order.
 *
 * @example
 * const { train, test } = trainTestSplit(iris(), { testFraction: 0.2, seed: 42 });
 * // test has 30 rows, 10 of each class
 */
export function trainTestSplit(ds: Dataset, options: SplitOptions = {}): Split {
  checkKnownKeys(WHERE, options, KEYS);
  const testFraction = checkNumber(WHERE, 'testFraction', options.testFraction ?? 0.2, 0, 1);
  const validationFraction = checkNumber(WHERE, 'validationFraction', options.validationFraction ?? 0, 0, 1);
  const seed = options.seed ?? 0;
  seedWords(WHERE, seed);
  const classification = ds.task === 'classification';
  const stratify = options.stratify ?? classification;
  if (typeof stratify !== 'boolean') throw new TypeError(`${WHERE}: stratify must be a boolean, got ${typeof stratify}`);
  if (stratify && !classification)
    throw new TypeError(`${WHERE}: stratify needs class labels; this data set is regression (pass stratify: false or leave it out)`);

  const n = ds.numRows;
  const nTest = Math.round(testFraction * n);
  const nVal = Math.round(validationFraction * n);
  if (n - nTest - nVal < 1) {
    throw new RangeError(
      `${WHERE}: testFraction=${testFraction} and validationFraction=${validationFraction} take ${nTest} + ${nVal} of ${n} rows, leaving no training rows`,
    );
  }

  const groups = stratify ? ds.numClasses : 1;
  const groupOf = stratify ? ds.labels : new Int32Array(n);
  const sizes = new Array<number>(groups).fill(0);
  for (let i = 0; i < n; i++) sizes[groupOf[i]!]!++;
  const testQuota = apportion(nTest, sizes, sizes);
  const valQuota = apportion(
    nVal,
    sizes,
    sizes.map((s, c) => s - testQuota[c]!),
  );

  const order = permutation(n, seed);
  const train: number[] = [],
    test: number[] = [],
    validation: number[] = [];
  for (let p = 0; p < n; p++) {
    const i = order[p]!;
    const c = groupOf[i]!;
    if (testQuota[c]! > 0) (testQuota[c]!--, test.push(i));
    else if (valQuota[c]! > 0) (valQuota[c]!--, validation.push(i));
    else train.push(i);
  }
  const indices = { train: Int32Array.from(train), test: Int32Array.from(test), validation: Int32Array.from(validation) };
  const split: Split = { train: ds.subset(indices.train), test: ds.subset(indices.test), indices };
  if (nVal > 0) split.validation = ds.subset(indices.validation);
  return split;
}

/** One fold of `kFold`: the rows it holds out and the rest. */
export interface Fold {
  train: Dataset;
  validation: Dataset;
}

/**
 * Splits a data set into k folds for cross-validation: fold f validates on its rows and trains on
 * the other k − 1 folds'. The same seeded permutation as `trainTestSplit` orders the rows; for
 * classification they are then grouped by class (stably) and dealt to folds in turn, so every
 * fold keeps the class proportions and fold sizes differ by at most one row.
 *
 * @example
 * for (const { train, validation } of kFold(trainPart, 5, 0)) { ... }
 */
export function kFold(ds: Dataset, k: number, seed: Seed = 0): Fold[] {
  checkInteger('kFold', 'k', k, 2, ds.numRows);
  seedWords('kFold', seed);
  const order = Array.from(permutation(ds.numRows, seed));
  if (ds.task === 'classification') {
    const rank = new Map(order.map((row, p) => [row, p]));
    order.sort((a, b) => ds.labels[a]! - ds.labels[b]! || rank.get(a)! - rank.get(b)!);
  }
  const foldOf = new Int32Array(ds.numRows);
  order.forEach((row, p) => (foldOf[row] = p % k));
  return Array.from({ length: k }, (_, f) => {
    const held: number[] = [],
      rest: number[] = [];
    for (const row of order) (foldOf[row] === f ? held : rest).push(row);
    return { train: ds.subset(Int32Array.from(rest)), validation: ds.subset(Int32Array.from(held)) };
  });
}

/**
 * Shares `total` seats among groups in proportion to `sizes` (largest remainder), never giving a
 * group more than `caps[c]`. Integer arithmetic throughout, so no rounding can tip a tie.
 * Requires total <= Σ caps; with caps = sizes - (an earlier apportionment) the floors always fit,
 * and the remaining seats go first to the largest remainders that still have room.
 */
export function apportion(total: number, sizes: readonly number[], caps: readonly number[]): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  if (n === 0) return sizes.map(() => 0);
  const seats = sizes.map((s, c) => Math.min(Math.floor((total * s) / n), caps[c]!));
  const remainder = sizes.map((s) => (total * s) % n);
  const order = sizes.map((_, c) => c).sort((a, b) => remainder[b]! - remainder[a]! || a - b);
  let left = total - seats.reduce((a, b) => a + b, 0);
  for (const c of order) {
    if (left === 0) break;
    if (remainder[c]! > 0 && seats[c]! < caps[c]!) (seats[c]!++, left--);
  }
  // Only reached when caps blocked some remainders: hand out the rest round-robin in the same order.
  while (left > 0) {
    let gave = false;
    for (const c of order) {
      if (left > 0 && seats[c]! < caps[c]!) (seats[c]!++, left--, (gave = true));
    }
    if (!gave) throw new RangeError(`apportion: ${total} seats do not fit capacities [${caps.join(', ')}]`);
  }
  return seats;
}

function permutation(n: number, seed: Seed): Int32Array {
  const rng = new Rng(seed);
  try {
    const order = rng.permutation(n);
    try {
      return order.read();
    } finally {
      order.dispose();
    }
  } finally {
    rng.dispose();
  }
}
