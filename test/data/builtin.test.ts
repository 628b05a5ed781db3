import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { iris, mnist } from '../../src/data/builtin.ts';

test('iris: 150 rows, 4 features, 50 per class, first and last rows of the UCI file', () => {
  const ds = iris();
  assert.equal(ds.numRows, 150);
  assert.equal(ds.numFeatures, 4);
  assert.deepEqual(ds.classNames, ['setosa', 'versicolor', 'virginica']);
  const counts = [0, 0, 0];
  for (const c of ds.labels) counts[c]!++;
  assert.deepEqual(counts, [50, 50, 50]);
  assert.deepEqual([...ds.features.subarray(0, 4)], [5.1, 3.5, 1.4, 0.2].map(Math.fround));
  assert.deepEqual([...ds.features.subarray(596, 600)], [5.9, 3.0, 5.1, 1.8].map(Math.fround));
  assert.equal(ds.labels[149], 2);
});

// The digit files, read independently of the loader: 784 values per image, in [0, 1].
const digitsDir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
const digitFile = async (d: number): Promise<number[]> =>
  (JSON.parse(await readFile(join(digitsDir, `${d}.json`), 'utf8')) as { data: number[] }).data;

test('mnist: all 10,000 digits, grouped by digit, values from the package files', async () => {
  const ds = await mnist();
  assert.equal(ds.numRows, 10000);
  assert.equal(ds.numFeatures, 784);
  assert.deepEqual(ds.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  let start = 0;
  for (let d = 0; d < 10; d++) {
    const raw = await digitFile(d);
    const count = raw.length / 784;
    for (let r = start; r < start + count; r++) assert.equal(ds.labels[r], d);
    // First and last image of each digit, value for value.
    assert.deepEqual(
      [...ds.features.subarray(start * 784, start * 784 + 784)],
      raw.slice(0, 784).map(Math.fround),
      `digit ${d} first image`,
    );
    const last = (start + count - 1) * 784;
    assert.deepEqual([...ds.features.subarray(last, last + 784)], raw.slice(raw.length - 784).map(Math.fround), `digit ${d} last image`);
    start += count;
  }
  assert.equal(start, 10000);
  let lo = Infinity,
    hi = -Infinity;
  for (const v of ds.features) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
  assert.equal(lo, 0);
  assert.equal(hi, 1);
});

test('mnist: perDigit keeps the first images of each digit; source may be a folder', async () => {
  const ds = await mnist({ perDigit: 3, source: digitsDir });
  assert.equal(ds.numRows, 30);
  assert.deepEqual(
    [...ds.labels],
    Array.from({ length: 30 }, (_, i) => Math.floor(i / 3)),
  );
  const seven = await digitFile(7);
  assert.deepEqual([...ds.features.subarray(21 * 784, 22 * 784)], seven.slice(0, 784).map(Math.fround));
});

test('mnist: option and source errors', async () => {
  await assert.rejects(mnist({ perDigit: 0 }), /mnist: perDigit must be an integer in \[1, /);
  await assert.rejects(mnist({ limit: 3 } as never), /unknown option 'limit'/);
  await assert.rejects(mnist({ source: '/nonexistent/digits' }), /mnist: cannot read digit file file:\/\/\/nonexistent\/digits\/0.json/);
});
