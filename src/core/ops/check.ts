// Checks shared by the typed kernel wrappers: dtypes, sizes, output tensors, f32 scalars.
import { Tensor } from '../tensor.ts';
import { f32View, kernels } from '../wasm.ts';
import { checkNumber, shapeText } from '../errors.ts';

/** @internal `t` checked to be an f32 Tensor. */
export function checkF32(where: string, name: string, t: unknown): Tensor<'f32'> {
  if (!(t instanceof Tensor)) throw new TypeError(`${where}: ${name} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  if (t.dtype !== 'f32') throw new TypeError(`${where}: ${name} must be an f32 tensor, got ${t.dtype}`);
  return t as Tensor<'f32'>;
}

export function checkSameSize(where: string, names: readonly string[], tensors: readonly Tensor[]): void {
  const size = tensors[0]!.size;
  tensors.forEach((t, i) => {
    if (t.size !== size) {
      throw new RangeError(
        `${where}: ${names[i]} ${shapeText(t.shape)} has ${t.size} elements, ${names[0]} ${shapeText(tensors[0]!.shape)} has ${size}`,
      );
    }
  });
}

/** @internal [rows, cols] of a tensor seen as rows of its last axis (rank >= 1). */
export function rowsAndCols(where: string, name: string, x: Tensor): [number, number] {
  if (x.shape.length === 0) throw new RangeError(`${where}: ${name} must have at least one axis, got shape []`);
  const cols = x.shape.at(-1)!;
  return [x.shape.slice(0, -1).reduce((a, b) => a * b, 1), cols];
}

/** @internal `out` checked to be a `dtype` tensor of `shape`, or a new one when absent. */
export function outTensor<D extends 'f32' | 'i32'>(where: string, out: unknown, shape: readonly number[], dtype: D): Tensor<D> {
  if (out === undefined) return Tensor.empty(shape, dtype);
  if (!(out instanceof Tensor)) throw new TypeError(`${where}: out must be a Tensor, got ${out === null ? 'null' : typeof out}`);
  if (out.dtype !== dtype) throw new TypeError(`${where}: out must be an ${dtype} tensor, got ${out.dtype}`);
  if (out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(`${where}: out has shape ${shapeText(out.shape)}, expected ${shapeText(shape)}`);
  }
  return out as Tensor<D>;
}

/** @internal A finite number that stays finite when the kernel boundary rounds it to f32. */
export function checkF32Number(where: string, name: string, value: unknown, min = -Infinity, max = Infinity): number {
  checkNumber(where, name, value, min, max);
  if (!Number.isFinite(Math.fround(value as number)))
    throw new RangeError(`${where}: ${name} must fit in f32 (|x| < 3.4e38), got ${value}`);
  return value as number;
}

/** Throws, as checkFiniteData does, when the `len` f32 values at `ptr` (rows of `cols`, the
 *  first being row `firstRow` of the caller's data) hold a NaN or an infinity. Runs in the core:
 *  a JS loop over a 784-value row costs more than the row's whole first layer. */
export function assertFiniteRows(where: string, ptr: number, len: number, cols: number, firstRow = 0): void {
  const bad = kernels().f32_find_nonfinite(ptr, len);
  if (bad >= 0)
    throw new RangeError(
      `${where}: data must be finite, got ${f32View(ptr, len)[bad]} at row ${firstRow + Math.floor(bad / cols)}, column ${bad % cols}`,
    );
}
