// Element-wise ops over f32 tensors (assembly/kernels/f32-eltwise.ts), plus the small shape
// helpers the activation, loss and reduction ops share: the last axis as [rows, cols], and
// optional `out` tensors so a training loop can run without allocating per step.
import { kernels } from '../wasm.ts';
import { Tensor } from '../tensor.ts';
import { checkNumber, shapeText } from '../errors.ts';
import { checkF32, checkF32Number, checkSameSize, outTensor, rowsAndCols } from './check.ts';

/**
 * Sets every element of `x` to `value` (any number, including ±Infinity and NaN), in place.
 *
 * @example
 * fill(mask, -Infinity);
 */
export function fill(x: Tensor<'f32'>, value: number): void {
  checkF32('fill', 'x', x);
  if (typeof value !== 'number') throw new TypeError(`fill: value must be a number, got ${typeof value}`);
  kernels().f32_fill(x.ptr, x.size, value);
}

/**
 * Copies `src` into `dst` (same number of elements; the memory may overlap).
 *
 * @example
 * copyInto(best, weights);
 */
export function copyInto(dst: Tensor<'f32'>, src: Tensor<'f32'>): void {
  checkF32('copyInto', 'dst', dst);
  checkF32('copyInto', 'src', src);
  checkSameSize('copyInto', ['dst', 'src'], [dst, src]);
  kernels().f32_copy(dst.ptr, src.ptr, dst.size);
}

/**
 * x ← a·x, in place.
 *
 * @example
 * scaleInPlace(grads, 0.5);
 */
export function scaleInPlace(x: Tensor<'f32'>, a: number): void {
  checkF32('scaleInPlace', 'x', x);
  checkF32Number('scaleInPlace', 'a', a);
  kernels().f32_scale(x.ptr, x.size, a);
}

/**
 * y ← y + a·x, in place on `y` (BLAS axpy; `a` rounds to f32).
 *
 * @example
 * addScaledInPlace(ema, weights, 0.01);
 */
export function addScaledInPlace(y: Tensor<'f32'>, x: Tensor<'f32'>, a: number): void {
  checkF32('addScaledInPlace', 'y', y);
  checkF32('addScaledInPlace', 'x', x);
  checkSameSize('addScaledInPlace', ['y', 'x'], [y, x]);
  checkF32Number('addScaledInPlace', 'a', a);
  kernels().f32_axpy(y.ptr, x.ptr, y.size, a);
}

export interface MultiplyOptions {
  /** Where to write x ⊙ y (shape of x; may be x or y itself). A new tensor when absent. */
  out?: Tensor<'f32'>;
}

/**
 * The element-wise product x ⊙ y.
 *
 * @example
 * const masked = multiply(weights, mask);
 */
export function multiply(x: Tensor<'f32'>, y: Tensor<'f32'>, options: MultiplyOptions = {}): Tensor<'f32'> {
  checkF32('multiply', 'x', x);
  checkF32('multiply', 'y', y);
  checkSameSize('multiply', ['x', 'y'], [x, y]);
  const out = outTensor('multiply', options.out, x.shape, 'f32');
  kernels().f32_mul(out.ptr, x.ptr, y.ptr, x.size);
  return out;
}

/**
 * x[..., c] ← x[..., c] + v[c] on every row of the last axis, in place (a bias add).
 *
 * @example
 * addRowVectorInPlace(logits, bias); // logits [B, C], bias [C]
 */
export function addRowVectorInPlace(x: Tensor<'f32'>, v: Tensor<'f32'>): void {
  checkF32('addRowVectorInPlace', 'x', x);
  checkF32('addRowVectorInPlace', 'v', v);
  const [rows, cols] = rowsAndCols('addRowVectorInPlace', 'x', x);
  if (v.size !== cols)
    throw new RangeError(
      `addRowVectorInPlace: v ${shapeText(v.shape)} has ${v.size} elements, x ${shapeText(x.shape)} has ${cols} columns`,
    );
  kernels().f32_add_rowvec(x.ptr, v.ptr, rows, cols);
}
