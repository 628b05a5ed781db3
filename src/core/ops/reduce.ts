// Reductions over f32 tensors (assembly/kernels/f32-reduce.ts). Sums accumulate in f64 in a fixed
// lane order, so a result is the same on every engine; it is returned rounded to f32.
import { kernels, type KernelName } from '../wasm.ts';
import type { Tensor } from '../tensor.ts';
import { checkKnownKeys, shapeText } from '../errors.ts';
import { checkF32, outTensor, rowsAndCols } from './check.ts';

/**
 * Σ x over all elements (0 for an empty tensor).
 *
 * @example
 * const total = sum(x);
 */
export function sum(x: Tensor<'f32'>): number {
  checkF32('sum', 'x', x);
  return kernels().f32_sum(x.ptr, x.size);
}

/**
 * Σ x² over all elements: the squared L2 norm, as global-norm gradient clipping needs.
 *
 * @example
 * const norm = Math.sqrt(sumOfSquares(grads));
 */
export function sumOfSquares(x: Tensor<'f32'>): number {
  checkF32('sumOfSquares', 'x', x);
  return kernels().f32_sumsq(x.ptr, x.size);
}

/**
 * The largest element; NaN if any element is NaN, -Infinity for an empty tensor.
 *
 * @example
 * const peak = max(activations);
 */
export function max(x: Tensor<'f32'>): number {
  checkF32('max', 'x', x);
  return kernels().f32_max(x.ptr, x.size);
}

export interface RowReduceOptions<D extends 'f32' | 'i32'> {
  /** Tensor of the leading shape (x's shape without its last axis) to write into; a new one when absent. */
  out?: Tensor<D>;
}

// One value per row of the last axis, written by `kernel(out, x, rows, cols)`.
function perRow<D extends 'f32' | 'i32'>(
  where: string,
  kernel: KernelName,
  dtype: D,
  x: Tensor<'f32'>,
  options: RowReduceOptions<D>,
  minCols = 0,
): Tensor<D> {
  checkKnownKeys(where, options, ['out']);
  checkF32(where, 'x', x);
  const [rows, cols] = rowsAndCols(where, 'x', x);
  if (cols < minCols && rows > 0) throw new RangeError(`${where}: x needs at least ${minCols} column, got shape ${shapeText(x.shape)}`);
  const out = outTensor(where, options.out, x.shape.slice(0, -1), dtype);
  (kernels()[kernel] as (...args: number[]) => unknown)(out.ptr, x.ptr, rows, cols);
  return out;
}

/**
 * Index of the largest element along the last axis, per row (the first on ties; NaN counts as
 * largest, as torch.argmax): predicted classes from logits [B, C] as i32 [B].
 *
 * @example
 * const predicted = argmaxRows(logits);
 */
export function argmaxRows(x: Tensor<'f32'>, options: RowReduceOptions<'i32'> = {}): Tensor<'i32'> {
  return perRow('argmaxRows', 'f32_argmax_rows', 'i32', x, options, 1);
}

export interface SumColumnsOptions {
  /** f32 tensor [cols] to write into; a new one when absent. */
  out?: Tensor<'f32'>;
  /** Add to `out` instead of overwriting it (gradient accumulation); needs `out`. */
  accumulate?: boolean;
}

/**
 * Σ over rows of x viewed as [rows, cols] (cols = last axis): the bias gradient from dy [B, N].
 *
 * @example
 * sumColumns(dy, { out: dbias });
 */
export function sumColumns(x: Tensor<'f32'>, options: SumColumnsOptions = {}): Tensor<'f32'> {
  const where = 'sumColumns';
  checkKnownKeys(where, options, ['out', 'accumulate']);
  checkF32(where, 'x', x);
  const [rows, cols] = rowsAndCols(where, 'x', x);
  const accumulate = options.accumulate ?? false;
  if (typeof accumulate !== 'boolean') throw new TypeError(`${where}: accumulate must be a boolean, got ${typeof accumulate}`);
  if (accumulate && options.out === undefined) throw new TypeError(`${where}: accumulate needs an out tensor to add into`);
  const out = outTensor(where, options.out, [cols], 'f32');
  kernels().f32_sum_cols(out.ptr, x.ptr, rows, cols, accumulate ? 1 : 0);
  return out;
}

/**
 * Σ along the last axis, per row.
 *
 * @example
 * const rowTotals = sumRows(counts);
 */
export function sumRows(x: Tensor<'f32'>, options: RowReduceOptions<'f32'> = {}): Tensor<'f32'> {
  return perRow('sumRows', 'f32_sum_rows', 'f32', x, options);
}
