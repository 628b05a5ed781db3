import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apportion, kFold, trainTestSplit } from '../../src/data/split.ts';
import { Dataset } from '../../src/data/dataset.ts';
import { iris } from '../../src/data/builtin.ts';
import { ints, mulberry32 } from '../helpers/rand.ts';

function classification(labels: ArrayLike<number>, k: number): Dataset {
  const n = labels.length;
  // Feature = row number, so every part can be traced back to its source rows.
  return new Dataset({
    features: Float32Array.from({ length: n }, (_, i) => i),
    numFeatures: 1,
    labels: Int32Array.from(labels),
    classNames: Array.from({ length: k }, (_, c) => `c${c}`),
  });
}

const counts = (labels: Int32Array, k: number) => {
  const out = new Array<number>(k).fill(0);
  for (const c of labels) out[c]!++;
  return out;
};

// Hamilton apportionment written independently, with exact rationals in BigInt.
function hamilton(total: number, sizes: number[]): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  const seats = sizes.map((s) => Number((BigInt(total) * BigInt(s)) / BigInt(n)));
  const rem = sizes.map((s, c) => ({ c, r: (BigInt(total) * BigInt(s)) % BigInt(n) }));
  rem.sort((a, b) => (a.r === b.r ? a.c - b.c : a.r > b.r ? -1 : 1));
  let left = total - seats.reduce((a, b) => a + b, 0);
  for (const { c } of rem) if (left > 0) (seats[c]!++, left--);
  return seats;
}

test('iris 80/20: exactly 10 test rows per class, parts disjoint and complete', () => {
  const ds = iris();
  const { train, test: held, indices, validation } = trainTestSplit(ds, { testFraction: 0.2, seed: 42 });
  assert.equal(validation, undefined);
  assert.equal(held.numRows, 30);
  assert.equal(train.numRows, 120);
  assert.deepEqual(counts(held.labels, 3), [10, 10, 10]);
  const all = [...indices.train, ...indices.test].sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: 150 }, (_, i) => i),
  );
  // Parts are the source rows they claim to be.
  for (let r = 0; r < held.numRows; r++) {
    const i = indices.test[r]!;
    assert.deepEqual([...held.features.subarray(r * 4, r * 4 + 4)], [...ds.features.subarray(i * 4, i * 4 + 4)]);
    assert.equal(held.labels[r], ds.labels[i]);
  }
});

test('same seed gives the same split, another seed another one; the order is shuffled', () => {
  const ds = iris();
  const a = trainTestSplit(ds, { seed: 7 });
  const b = trainTestSplit(ds, { seed: 7 });
  const c = trainTestSplit(ds, { seed: 8 });
  assert.deepEqual(a.indices, b.indices);
  assert.notDeepEqual(a.indices.test, c.indices.test);
  const sorted = [...a.indices.train].sort((x, y) => x - y);
  assert.notDeepEqual([...a.indices.train], sorted, 'training rows should come out shuffled');
  assert.deepEqual(trainTestSplit(ds, { seed: 7n }).indices, a.indices, 'bigint seed 7n is seed 7');
});

test('stratified counts follow the largest-remainder rule on seeded random label sets', () => {
  const rand = mulberry32(1234);
  for (const n of [2, 3, 5, 17, 101, 333]) {
    for (const k of [1, 2, 3, 7]) {
      const labels = ints(rand, n, k);
      const ds = classification(labels, k);
      const sizes = counts(labels, k);
      for (const [tf, vf] of [
        [0.2, 0],
        [0.25, 0.15],
        [0.1, 0.1],
        [0.5, 0.3],
        [0, 0.2],
      ] as const) {
        const nTest = Math.round(tf * n),
          nVal = Math.round(vf * n);
        if (n - nTest - nVal < 1) continue;
        const split = trainTestSplit(ds, { testFraction: tf, validationFraction: vf, seed: n * 31 + k });
        const testCounts = counts(split.test.labels, k);
        assert.equal(split.test.numRows, nTest, `n=${n} k=${k} tf=${tf}`);
        assert.deepEqual(testCounts, hamilton(nTest, sizes), `test counts n=${n} k=${k} tf=${tf}`);
        const valCounts = split.validation ? counts(split.validation.labels, k) : new Array(k).fill(0);
        assert.equal(
          valCounts.reduce((a: number, b: number) => a + b, 0),
          nVal,
        );
        valCounts.forEach((v: number, c: number) => assert.ok(v + testCounts[c]! <= sizes[c]!, `class ${c} over-allocated`));
        // Without capacity limits, validation also follows Hamilton exactly.
        const uncapped = hamilton(nVal, sizes);
        if (uncapped.every((v, c) => v + testCounts[c]! <= sizes[c]!))
          assert.deepEqual(valCounts, uncapped, `validation counts n=${n} k=${k}`);
        const rows = [...split.indices.train, ...split.indices.test, ...split.indices.validation].sort((a, b) => a - b);
        assert.deepEqual(
          rows,
          Array.from({ length: n }, (_, i) => i),
          'every row exactly once',
        );
      }
    }
  }
});

test('apportion respects capacities and totals', () => {
  assert.deepEqual(apportion(3, [1, 1, 1], [1, 1, 1]), [1, 1, 1]);
  assert.deepEqual(apportion(2, [5, 5], [5, 5]), [1, 1]);
  // Remainders favour class 0 (tie) but it has no room left.
  assert.deepEqual(apportion(1, [1, 1], [0, 1]), [0, 1]);
  assert.deepEqual(apportion(0, [0, 0], [0, 0]), [0, 0]);
  assert.throws(() => apportion(3, [1, 1], [1, 1]), /3 seats do not fit capacities \[1, 1\]/);
});

test('regression: plain shuffle, validation part, stratify refused', () => {
  const n = 10;
  const ds = new Dataset({
    features: Float32Array.from({ length: n }, (_, i) => i),
    numFeatures: 1,
    targets: Float32Array.from({ length: n }, (_, i) => i * 2),
  });
  const split = trainTestSplit(ds, { testFraction: 0.3, validationFraction: 0.2, seed: 3 });
  assert.equal(split.test.numRows, 3);
  assert.equal(split.validation!.numRows, 2);
  assert.equal(split.train.numRows, 5);
  for (let r = 0; r < 3; r++) assert.equal(split.test.targets[r], split.test.features[r]! * 2);
  assert.throws(() => trainTestSplit(ds, { stratify: true }), /stratify needs class labels; this data set is regression/);
});

test('unstratified classification is allowed and counts only the total', () => {
  const ds = iris();
  const split = trainTestSplit(ds, { stratify: false, testFraction: 0.1, seed: 5 });
  assert.equal(split.test.numRows, 15);
});

test('option errors', () => {
  const ds = iris();
  assert.throws(
    () => trainTestSplit(ds, { testFraction: 0.6, validationFraction: 0.4 }),
    /take 90 \+ 60 of 150 rows, leaving no training rows/,
  );
  assert.throws(() => trainTestSplit(ds, { testFraction: -0.1 }), /testFraction must be a finite number in \[0, 1\], got -0.1/);
  assert.throws(() => trainTestSplit(ds, { seed: 1.5 }), /trainTestSplit: seed must be an integer/);
  assert.throws(() => trainTestSplit(ds, { seed: -1n }), /a bigint seed must be in \[0, 2\^64 − 1\], got -1/);
  assert.throws(() => trainTestSplit(ds, { testSize: 0.2 } as never), /unknown option 'testSize'/);
  assert.throws(() => trainTestSplit(ds.subset([]), {}), /take 0 \+ 0 of 0 rows, leaving no training rows/);
  assert.equal(trainTestSplit(ds.subset([0]), {}).train.numRows, 1, 'one row: round(0.2) = 0 test rows');
});

test('kFold: every row validates exactly once, folds keep class proportions and the seed fixes them', () => {
  // 7 + 11 + 4 rows: fold sizes 5 or 4, each class dealt round the folds.
  const labels = [...Array<number>(7).fill(0), ...Array<number>(11).fill(1), ...Array<number>(4).fill(2)];
  const ds = classification(labels, 3);
  const folds = kFold(ds, 5, 9);
  assert.equal(folds.length, 5);
  const seen = new Array<number>(labels.length).fill(0);
  for (const { train, validation } of folds) {
    assert.equal(train.numRows + validation.numRows, labels.length);
    assert.ok(validation.numRows === 4 || validation.numRows === 5, `fold size ${validation.numRows}`);
    const held = Array.from(validation.features);
    assert.deepEqual(
      Array.from(train.features).filter((r) => held.includes(r)),
      [],
      'train and validation rows are disjoint',
    );
    for (const r of held) seen[r]!++;
    counts(validation.labels, 3).forEach((n, c) => {
      const total = counts(ds.labels, 3)[c]!;
      assert.ok(n === Math.floor(total / 5) || n === Math.ceil(total / 5), `class ${c}: ${n} of ${total} rows in a fold`);
    });
  }
  assert.deepEqual(seen, new Array<number>(labels.length).fill(1), 'each row in exactly one validation fold');
  const again = kFold(ds, 5, 9).map((f) => Array.from(f.validation.features));
  assert.deepEqual(
    again,
    folds.map((f) => Array.from(f.validation.features)),
  );
  assert.notDeepEqual(
    kFold(ds, 5, 10).map((f) => Array.from(f.validation.features)),
    again,
  );
});

test('kFold: regression rows are dealt unstratified; k must be an integer from 2 to the row count', () => {
  const ds = new Dataset({ features: Float32Array.from({ length: 10 }, (_, i) => i), numFeatures: 1, targets: new Float32Array(10) });
  const sizes = kFold(ds, 3, 0).map((f) => f.validation.numRows);
  assert.deepEqual(sizes, [4, 3, 3]);
  assert.throws(() => kFold(ds, 1, 0), RangeError);
  assert.throws(() => kFold(ds, 11, 0), RangeError);
  assert.throws(() => kFold(ds, 2.5, 0), RangeError);
});
