// Column-wise maps over [rows, cols] tensors (standardisation).
import { kernels } from '../wasm.ts';
import type { Tensor } from '../tensor.ts';
import { shapeText } from '../errors.ts';

/** x[r, c] ← x[r, c]·scale[c] + shift[c], in place. */
export function affineColumnsInPlace(x: Tensor<'f32'>, scale: Tensor<'f32'>, shift: Tensor<'f32'>): void {
  const cols = scale.size;
  if (x.shape.length !== 2 || x.shape[1] !== cols || shift.size !== cols) {
    throw new RangeError(
      `affineColumnsInPlace: x ${shapeText(x.shape)} needs ${cols} columns to match scale ${shapeText(scale.shape)} and shift ${shapeText(shift.shape)}`,
    );
  }
  kernels().f32_affine_cols(x.ptr, scale.ptr, shift.ptr, x.shape[0]!, cols);
}
