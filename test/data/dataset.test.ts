import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/data/dataset.ts';

const features = new Float32Array([1, 2, 3, 4, 5, 6]); // 3 rows × 2

test('classification data set: shapes, names, numClasses', () => {
  const ds = new Dataset({ features, numFeatures: 2, labels: new Int32Array([0, 2, 1]), classNames: ['a', 'b', 'c'] });
  assert.equal(ds.task, 'classification');
  assert.equal(ds.numRows, 3);
  assert.equal(ds.numFeatures, 2);
  assert.equal(ds.numClasses, 3);
  assert.deepEqual(ds.featureNames, ['x0', 'x1']);
  assert.equal(ds.numTargets, 0);
  assert.throws(
    () => ds.targets,
    (e: unknown) => e instanceof TypeError && /targets exist only for regression/.test(e.message),
  );
});

test('class names default to the ids up to the largest label', () => {
  const ds = new Dataset({ features, featureNames: ['p', 'q'], labels: new Int32Array([0, 3, 1]) });
  assert.deepEqual(ds.classNames, ['0', '1', '2', '3']);
  assert.deepEqual(ds.featureNames, ['p', 'q']);
});

test('regression data set with several targets', () => {
  const ds = new Dataset({ features, numFeatures: 2, targets: new Float32Array([1, 10, 2, 20, 3, 30]), numTargets: 2 });
  assert.equal(ds.task, 'regression');
  assert.equal(ds.numTargets, 2);
  assert.deepEqual(ds.targetNames, ['y0', 'y1']);
  assert.equal(ds.numClasses, 0);
  assert.throws(() => ds.labels, /labels exist only for classification/);
  const one = new Dataset({ features, numFeatures: 2, targets: new Float32Array(3) });
  assert.deepEqual(one.targetNames, ['y']);
});

test('subset copies rows in the given order, repeats allowed, empty allowed', () => {
  const ds = new Dataset({ features, numFeatures: 2, labels: new Int32Array([0, 1, 2]), classNames: ['a', 'b', 'c'] });
  const s = ds.subset([2, 0, 2]);
  assert.deepEqual([...s.features], [5, 6, 1, 2, 5, 6]);
  assert.deepEqual([...s.labels], [2, 0, 2]);
  assert.deepEqual(s.classNames, ['a', 'b', 'c']);
  s.features[0] = 99;
  assert.equal(ds.features[4], 5, 'subset must copy');
  const empty = ds.subset([]);
  assert.equal(empty.numRows, 0);
  assert.equal(empty.numClasses, 3);
  const r = new Dataset({ features, numFeatures: 2, targets: new Float32Array([1, 10, 2, 20, 3, 30]), numTargets: 2 });
  assert.deepEqual([...r.subset([1]).targets], [2, 20]);
  assert.throws(() => ds.subset([3]), /indices\[0\] is 3, outside \[0, 3\)/);
  assert.throws(() => ds.subset([0.5]), /indices\[0\] is 0.5/);
});

test('validation: each rule has its message', () => {
  const labels = new Int32Array([0, 1, 0]);
  const cases: [() => unknown, RegExp][] = [
    [
      () => new Dataset({ features: [1, 2] as unknown as Float32Array, numFeatures: 1, labels }),
      /features must be a Float32Array, got Array/,
    ],
    [() => new Dataset({ features, numFeatures: 2 }), /exactly one of labels .* got neither/],
    [() => new Dataset({ features, numFeatures: 2, labels, targets: new Float32Array(3) }), /got both/],
    [() => new Dataset({ features, labels }), /give numFeatures, featureNames or shape/],
    [() => new Dataset({ features, numFeatures: 4, labels }), /6 values, not a multiple of numFeatures=4/],
    [() => new Dataset({ features, numFeatures: 0, labels }), /numFeatures must be an integer >= 1, got 0/],
    [() => new Dataset({ features, numFeatures: 2, labels: new Int32Array(2) }), /labels has 2 entries, features has 3 rows/],
    [
      () => new Dataset({ features, numFeatures: 2, labels: new Int32Array([0, 2, 0]), classNames: ['a', 'b'] }),
      /labels\[1\] \(row 1\) is 2, outside \[0, 2\)/,
    ],
    [() => new Dataset({ features, numFeatures: 2, labels: new Int32Array([0, -1, 0]) }), /labels\[1\] \(row 1\) is -1/],
    [
      () => new Dataset({ features, numFeatures: 2, labels: Float32Array.from([0, 1, 0]) as unknown as Int32Array }),
      /labels must be an Int32Array, got Float32Array/,
    ],
    [() => new Dataset({ features, numFeatures: 2, labels, featureNames: ['a'] }), /featureNames has 1 names, expected 2/],
    [
      () => new Dataset({ features, numFeatures: 2, targets: new Float32Array(4) }),
      /targets has 4 values, expected 3 rows × 1 targets = 3/,
    ],
    [
      () => new Dataset({ features, numFeatures: 2, targets: new Float32Array(3), classNames: ['a'] }),
      /classNames belongs to classification/,
    ],
    [() => new Dataset({ features, numFeatures: 2, labels, numTargets: 1 }), /numTargets and targetNames belong to regression/],
    [() => new Dataset({ features, numFeatures: 2, labels, extra: 1 } as never), /unknown option 'extra'/],
  ];
  for (const [make, message] of cases) assert.throws(make, message);
});

test('non-finite values are rejected naming row and column', () => {
  const bad = new Float32Array([1, 2, 3, NaN, 5, 6]);
  assert.throws(
    () => new Dataset({ features: bad, featureNames: ['u', 'v'], labels: new Int32Array(3) }),
    /features must be finite, got NaN at row 1, column 1 \('v'\)/,
  );
  const inf = new Float32Array([1, 2, 3, 4, -Infinity, 6]);
  assert.throws(
    () => new Dataset({ features: inf, numFeatures: 2, labels: new Int32Array(3) }),
    /got -Infinity at row 2, column 0 \('x0'\)/,
  );
  assert.throws(
    () => new Dataset({ features, numFeatures: 2, targets: new Float32Array([0, Infinity, 0]) }),
    /targets must be finite, got Infinity at row 1, column 0 \('y'\)/,
  );
});
