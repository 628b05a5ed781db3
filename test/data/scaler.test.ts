import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StandardScaler } from '../../src/data/scaler.ts';
import { Dataset } from '../../src/data/dataset.ts';
import { iris } from '../../src/data/builtin.ts';
import { trainTestSplit } from '../../src/data/split.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

// Independent f64 reference: mean and population std by the textbook formulas.
function reference(x: Float32Array, d: number): { mean: number[]; std: number[] } {
  const n = x.length / d;
  const mean = Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i * d + j]!;
    return s / n;
  });
  const std = mean.map((m, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (x[i * d + j]! - m) * (x[i * d + j]! - m);
    return Math.sqrt(s / n);
  });
  return { mean, std };
}

test('fit matches the f64 mean and population std; transform gives mean 0, std 1', () => {
  const rand = mulberry32(99);
  for (const [n, d] of [
    [1, 1],
    [3, 2],
    [17, 5],
    [200, 3],
  ] as const) {
    const x = uniform(rand, n * d, -50, 80);
    const scaler = StandardScaler.fit(x, d);
    const ref = reference(x, d);
    assertClose(scaler.mean, ref.mean, { rtol: 1e-12, atol: 1e-12 }, `mean n=${n}`);
    const expectedStd = ref.std.map((s) => (s > 1e-7 * 80 ? s : 1));
    assertClose(scaler.std, expectedStd, { rtol: 1e-12 }, `std n=${n}`);
    const z = scaler.transform(x);
    const expectedZ = Array.from(x, (v, i) => (v - ref.mean[i % d]!) / expectedStd[i % d]!);
    assertClose(z, expectedZ, { atol: 1e-5, rtol: 1e-5 }, `z n=${n}`);
    if (n > 1) {
      const after = reference(z, d);
      assertClose(after.mean, new Array(d).fill(0), { atol: 1e-5 }, 'mean after');
      assertClose(after.std, new Array(d).fill(1), { atol: 1e-5 }, 'std after');
    }
  }
});

test('transform is the f32 affine map x·scale + shift, bit for bit', () => {
  const rand = mulberry32(5);
  const x = uniform(rand, 40 * 4, -3, 3);
  const scaler = StandardScaler.fit(x, 4);
  const { scale, shift } = scaler.affine();
  const z = scaler.transform(x);
  for (let i = 0; i < x.length; i++) {
    const j = i % 4;
    assert.equal(z[i], Math.fround(Math.fround(x[i]! * scale[j]!) + shift[j]!));
  }
  assert.equal(scale[0], Math.fround(1 / scaler.std[0]!));
});

test('constant columns get std 1 and map to 0', () => {
  const x = new Float32Array([5, 1, 5, 2, 5, 3, 5, 4]);
  const scaler = StandardScaler.fit(x, 2);
  assert.deepEqual(scaler.std[0], 1);
  const z = scaler.transform(x);
  for (let i = 0; i < 4; i++) assert.equal(z[i * 2], 0);
  // Rounding-level variation around a large mean is still treated as constant.
  const big = new Float32Array([1e6, 1e6 + 0.0625, 1e6]);
  assert.equal(StandardScaler.fit(big, 1).std[0], 1);
});

test('fit on train only, transform keeps labels; JSON round trip gives identical output', () => {
  const { train, test: held } = trainTestSplit(iris(), { seed: 1 });
  const scaler = StandardScaler.fit(train);
  const ref = reference(train.features, 4);
  assertClose(scaler.mean, ref.mean, { rtol: 1e-12 }, 'train mean');
  const z = scaler.transform(held);
  assert.deepEqual(z.labels, held.labels);
  assert.deepEqual(z.featureNames, held.featureNames);
  const again = StandardScaler.fromJSON(JSON.parse(JSON.stringify(scaler)));
  assert.deepEqual(again.transform(held).features, z.features);
  assert.deepEqual(again.toJSON(), scaler.toJSON());
  const reg = new Dataset({ features: new Float32Array([1, 2, 3]), numFeatures: 1, targets: new Float32Array([7, 8, 9]) });
  assert.deepEqual(StandardScaler.fit(reg).transform(reg).targets, reg.targets);
});

test('errors', () => {
  const scaler = StandardScaler.fit(new Float32Array([1, 2, 3, 4]), 2);
  assert.throws(() => StandardScaler.fit(new Float32Array(0), 2), /needs at least one row, got 0/);
  assert.throws(() => StandardScaler.fit(new Float32Array(3), 2), /3 values are not whole rows of 2 features/);
  assert.throws(() => StandardScaler.fit(new Float32Array(3)), /numFeatures must be an integer >= 1 for raw features, got undefined/);
  assert.throws(() => StandardScaler.fit(new Float32Array([1, NaN]), 1), /data must be finite, got NaN at row 1, column 0/);
  assert.throws(() => StandardScaler.fit([1, 2] as never, 1), /data must be a Dataset or a Float32Array/);
  const wide = new Dataset({ features: new Float32Array(3), numFeatures: 3, labels: new Int32Array(1) });
  assert.throws(() => scaler.transform(wide), /data has 3 features, the scaler was fitted on 2/);
  assert.throws(() => StandardScaler.fromJSON({ kind: 'MinMax', mean: [0], std: [1] }), /kind must be 'StandardScaler', got "MinMax"/);
  assert.throws(() => StandardScaler.fromJSON({ kind: 'StandardScaler', mean: [0, 1], std: [1] }), /same non-zero length, got 2 and 1/);
  assert.throws(() => StandardScaler.fromJSON({ kind: 'StandardScaler', mean: [0], std: [0] }), /std\[0\] must be > 0, got 0/);
  assert.throws(
    () => StandardScaler.fromJSON({ kind: 'StandardScaler', mean: ['a'], std: [1] }),
    /mean\[0\] must be a finite number, got a/,
  );
  assert.throws(() => StandardScaler.fromJSON({ kind: 'StandardScaler', mean: [0], std: [1], x: 1 }), /unknown option 'x'/);
  assert.throws(() => StandardScaler.fromJSON(null), /expected an object, got null/);
});
