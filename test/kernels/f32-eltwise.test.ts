// Element-wise kernels: SIMD against the _ref twins and against the same f32 arithmetic emulated
// in JS with Math.fround; both must match bit for bit on every size, tails included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { kernelByName, kernels } from '../../src/core/wasm.ts';
import { addRowVectorInPlace, addScaledInPlace, copyInto, fill, multiply, scaleInPlace } from '../../src/core/ops/eltwise.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

const SIZES = [0, 1, 3, 4, 5, 7, 8, 9, 17, 64, 1001];
const f = Math.fround;
const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

// Runs `kernel` over tensors made from `inputs`; the first input is the output, returned after.
function run(kernel: string, inputs: Float32Array[], ...scalars: number[]): Float32Array {
  return scope(() => {
    const ts = inputs.map((x) => Tensor.from(x));
    kernelByName(kernel)(...ts.map((t) => t.ptr), ...scalars);
    return ts[0]!.read();
  });
}

function both(kernel: string, inputs: Float32Array[], expected: ArrayLike<number>, label: string, ...scalars: number[]): void {
  const got = run(kernel, inputs, ...scalars);
  assert.deepEqual(bits(got), bits(run(`${kernel}_ref`, inputs, ...scalars)), `${label} vs _ref`);
  assert.deepEqual(bits(got), bits(expected), `${label} vs f32 emulation`);
}

test('fill, copy, scale, axpy and mul: SIMD = _ref = f32 emulation on every size', () => {
  const rand = mulberry32(41);
  for (const n of SIZES) {
    const x = uniform(rand, n, -3, 3);
    const y = uniform(rand, n, -3, 3);
    const a = f(0.37);
    both('f32_fill', [x], new Float32Array(n).fill(-2.5), `fill n=${n}`, n, -2.5);
    both('f32_copy', [new Float32Array(n), x], x, `copy n=${n}`, n);
    both(
      'f32_scale',
      [x],
      x.map((v) => f(v * a)),
      `scale n=${n}`,
      n,
      a,
    );
    both(
      'f32_axpy',
      [y, x],
      y.map((v, i) => f(v + f(a * x[i]!))),
      `axpy n=${n}`,
      n,
      a,
    );
    both(
      'f32_mul',
      [new Float32Array(n), x, y],
      x.map((v, i) => f(v * y[i]!)),
      `mul n=${n}`,
      n,
    );
  }
});

test('add row vector: SIMD = _ref = f32 emulation on tails', () => {
  const rand = mulberry32(42);
  for (const cols of [1, 3, 4, 5, 9]) {
    for (const rows of [0, 1, 3]) {
      const x = uniform(rand, rows * cols);
      const v = uniform(rand, cols);
      both(
        'f32_add_rowvec',
        [x, v],
        x.map((e, i) => f(e + v[i % cols]!)),
        `${rows}x${cols}`,
        rows,
        cols,
      );
    }
  }
});

test('copy handles overlapping ranges like memmove', () => {
  scope(() => {
    const t = Tensor.from([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    kernels().f32_copy!(t.ptr + 4, t.ptr, 8);
    assert.deepEqual(Array.from(t.read()), [0, 0, 1, 2, 3, 4, 5, 6, 7]);
    kernels().f32_copy!(t.ptr, t.ptr + 4, 8);
    assert.deepEqual(Array.from(t.read()), [0, 1, 2, 3, 4, 5, 6, 7, 7]);
  });
});

test('element-wise wrappers: results, out tensors and errors', () => {
  scope(() => {
    const x = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = Tensor.from([2, 2, 2, 0.5, 0.5, 0.5], [2, 3]);
    assert.deepEqual(Array.from(multiply(x, y).read()), [2, 4, 6, 2, 2.5, 3]);
    multiply(x, y, { out: y });
    assert.deepEqual(Array.from(y.read()), [2, 4, 6, 2, 2.5, 3]);
    addRowVectorInPlace(x, Tensor.from([10, 20, 30]));
    assert.deepEqual(Array.from(x.read()), [11, 22, 33, 14, 25, 36]);
    addScaledInPlace(x, y, -2);
    assert.deepEqual(Array.from(x.read()), [7, 14, 21, 10, 20, 30]);
    scaleInPlace(x, 0.5);
    assert.deepEqual(Array.from(x.read()), [3.5, 7, 10.5, 5, 10, 15]);
    copyInto(y, x);
    assert.deepEqual(Array.from(y.read()), Array.from(x.read()));
    fill(x, -Infinity);
    assert.ok(x.read().every((v) => v === -Infinity));

    assert.throws(
      () => addRowVectorInPlace(x, Tensor.from([1, 2])),
      /addRowVectorInPlace: v \[2\] has 2 elements, x \[2,3\] has 3 columns/,
    );
    assert.throws(() => copyInto(x, Tensor.empty([5])), /copyInto: src \[5\] has 5 elements, dst \[2,3\] has 6/);
    assert.throws(() => scaleInPlace(x, Infinity), /scaleInPlace: a must be a finite number/);
    assert.throws(() => addScaledInPlace(x, y, 1e39), /addScaledInPlace: a must fit in f32/);
    assert.throws(() => multiply(x, y, { out: Tensor.empty([6]) }), /multiply: out has shape \[6\], expected \[2,3\]/);
    assert.throws(() => fill(x, '1' as never), /fill: value must be a number, got string/);
  });
});
