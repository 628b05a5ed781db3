// Reductions: SIMD against the _ref twins, f64 sums written here, the documented lane order
// reproduced exactly, argmax ties and NaN, column sums with accumulation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { kernelByName, kernels } from '../../src/core/wasm.ts';
import { argmaxRows, max, sum, sumColumns, sumOfSquares, sumRows } from '../../src/core/ops/reduce.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

const SIZES = [0, 1, 3, 4, 5, 7, 8, 9, 16, 17, 100, 1001];
const F32_ULP = 2 ** -23;

function scalar(kernel: string, x: Float32Array): number {
  return scope(() => {
    const t = Tensor.from(x);
    return kernelByName(kernel)(t.ptr, x.length);
  });
}

// The order the header documents: lane i mod 4 in f64, (l0 + l1) + (l2 + l3), then the tail.
function laneSum(x: Float32Array, f: (v: number) => number): number {
  const lanes = [0, 0, 0, 0];
  const body = x.length - (x.length % 4);
  for (let i = 0; i < body; i++) lanes[i % 4]! += f(x[i]!);
  let s = lanes[0]! + lanes[1]! + (lanes[2]! + lanes[3]!);
  for (let i = body; i < x.length; i++) s += f(x[i]!);
  return Math.fround(s);
}

test('sum and sumsq: the documented lane order exactly, _ref and f64 to an ulp', () => {
  const rand = mulberry32(31);
  for (const n of SIZES) {
    const x = uniform(rand, n, -100, 100);
    const s = scalar('f32_sum', x);
    assert.equal(
      s,
      laneSum(x, (v) => v),
      `sum order n=${n}`,
    );
    const s2 = scalar('f32_sumsq', x);
    assert.equal(
      s2,
      laneSum(x, (v) => v * v),
      `sumsq order n=${n}`,
    );
    const exact = x.reduce((a, v) => a + v, 0);
    const exact2 = x.reduce((a, v) => a + v * v, 0);
    assertClose([s, scalar('f32_sum_ref', x)], [exact, exact], { rtol: F32_ULP, atol: 1e-9 * n }, `sum n=${n}`);
    assertClose([s2, scalar('f32_sumsq_ref', x)], [exact2, exact2], { rtol: F32_ULP }, `sumsq n=${n}`);
  }
  // f64 accumulation: 1 + 2^24 copies of 1 would stall an f32 running sum at 2^24.
  const many = new Float32Array(2 ** 24 + 8).fill(1);
  assert.equal(scalar('f32_sum', many), 2 ** 24 + 8);
});

test('max: SIMD equals _ref, NaN propagates, empty is -Infinity', () => {
  const rand = mulberry32(32);
  for (const n of SIZES) {
    const x = uniform(rand, n, -5, 5);
    const m = scalar('f32_max', x);
    assert.equal(m, scalar('f32_max_ref', x));
    assert.equal(m, n === 0 ? -Infinity : Math.fround(Math.max(...x)));
    for (const at of n > 0 ? [n - 1, Math.floor(rand() * n)] : []) {
      const withNaN = x.slice();
      withNaN[at] = NaN;
      assert.ok(Number.isNaN(scalar('f32_max', withNaN)), `NaN at ${at} of n=${n}`);
    }
  }
});

function argmax(kernel: string, x: Float32Array, rows: number, cols: number): number[] {
  return scope(() => {
    const xt = Tensor.from(x);
    const out = Tensor.empty([rows], 'i32');
    kernelByName(kernel)(out.ptr, xt.ptr, rows, cols);
    return Array.from(out.read());
  });
}

test('argmax rows: first index on ties, first NaN wins, SIMD equals _ref on tails', () => {
  const x = Float32Array.from([
    1,
    3,
    3,
    2,
    0,
    3, //  tie: first 3
    -1,
    -1,
    -1,
    -1,
    -1,
    -1, // all equal: 0
    0,
    NaN,
    5,
    NaN,
    9,
    1, // NaN counts as largest: first NaN
    -0,
    0,
    -0,
    0,
    -0,
    0, // zeros compare equal: 0
    -Infinity,
    -Infinity,
    -Infinity,
    -Infinity,
    -Infinity,
    -5,
  ]);
  const expected = [1, 0, 1, 0, 5];
  assert.deepEqual(argmax('f32_argmax_rows', x, 5, 6), expected);
  assert.deepEqual(argmax('f32_argmax_rows_ref', x, 5, 6), expected);
  const rand = mulberry32(33);
  for (const cols of [1, 2, 3, 4, 5, 8, 9, 33]) {
    for (const rows of [0, 1, 7]) {
      // Quantised values make ties common.
      const v = Float32Array.from(uniform(rand, rows * cols, 0, 4), Math.floor);
      const got = argmax('f32_argmax_rows', v, rows, cols);
      assert.deepEqual(got, argmax('f32_argmax_rows_ref', v, rows, cols), `${rows}x${cols}`);
      for (let r = 0; r < rows; r++) {
        const row = Array.from(v.subarray(r * cols, (r + 1) * cols));
        assert.equal(got[r], row.indexOf(Math.max(...row)), `${rows}x${cols} row ${r}`);
      }
    }
  }
  assert.deepEqual(argmax('f32_argmax_rows', new Float32Array(0), 2, 0), [-1, -1]);
});

test('sum of columns and of rows: SIMD equals _ref bit for bit, f64 close, accumulate adds', () => {
  const rand = mulberry32(34);
  for (const cols of [1, 3, 4, 5, 8, 13]) {
    for (const rows of [0, 1, 2, 5, 33]) {
      const x = uniform(rand, rows * cols, -2, 2);
      const start = uniform(rand, cols, -1, 1);
      const run = (kernel: string, acc: number) =>
        scope(() => {
          const xt = Tensor.from(x);
          const out = Tensor.from(start);
          kernelByName(kernel)(out.ptr, xt.ptr, rows, cols, acc);
          return out.read();
        });
      for (const acc of [0, 1]) {
        const got = run('f32_sum_cols', acc);
        assert.deepEqual(Array.from(got), Array.from(run('f32_sum_cols_ref', acc)), `${rows}x${cols} acc=${acc}`);
        const exact = Array.from({ length: cols }, (_, c) => {
          let s = acc ? start[c]! : 0;
          for (let r = 0; r < rows; r++) s += x[r * cols + c]!;
          return s;
        });
        assertClose(got, exact, { atol: 4e-7 * (rows + 1), rtol: 0 }, `${rows}x${cols} acc=${acc} f64`);
      }
      const rowsRun = (kernel: string) =>
        scope(() => {
          const xt = Tensor.from(x);
          const out = Tensor.empty([rows]);
          kernelByName(kernel)(out.ptr, xt.ptr, rows, cols);
          return out.read();
        });
      const rowSums = rowsRun('f32_sum_rows');
      for (let r = 0; r < rows; r++)
        assert.equal(
          rowSums[r],
          laneSum(x.subarray(r * cols, (r + 1) * cols), (v) => v),
        );
      assertClose(rowSums, rowsRun('f32_sum_rows_ref'), { rtol: F32_ULP, atol: 1e-7 }, `rows ${rows}x${cols}`);
    }
  }
});

test('reduction wrappers: shapes, out tensors, accumulate and errors', () => {
  scope(() => {
    const x = Tensor.from([1, 5, 2, 7, -1, 0], [3, 2]);
    assert.equal(sum(x), 14);
    assert.equal(sumOfSquares(x), 80);
    assert.equal(max(x), 7);
    assert.equal(max(Tensor.empty([0])), -Infinity);
    assert.deepEqual(Array.from(argmaxRows(x).read()), [1, 1, 1]);
    assert.deepEqual(argmaxRows(Tensor.from([1, 2, 3])).shape, []);
    assert.deepEqual(Array.from(sumRows(x).read()), [6, 9, -1]);
    const db = sumColumns(x);
    assert.deepEqual(Array.from(db.read()), [2, 12]);
    sumColumns(x, { out: db, accumulate: true });
    assert.deepEqual(Array.from(db.read()), [4, 24]);
    assert.throws(() => sumColumns(x, { accumulate: true }), /sumColumns: accumulate needs an out tensor to add into/);
    assert.throws(() => sumColumns(x, { out: Tensor.empty([3]) }), /sumColumns: out has shape \[3\], expected \[2\]/);
    assert.throws(() => argmaxRows(x, { out: Tensor.empty([3]) as never }), /argmaxRows: out must be an i32 tensor, got f32/);
    assert.throws(() => argmaxRows(Tensor.empty([2, 0])), /argmaxRows: x needs at least 1 column, got shape \[2,0\]/);
    assert.throws(() => sum(Tensor.from([1], [1], 'i32') as never), /sum: x must be an f32 tensor, got i32/);
  });
});
