// The kernels layer files call from their passes, over the engine's preallocated tensors. Shapes
// were checked once when the layer was built and the workspace sized, so nothing is checked per
// call: these run on every training step. The checked, allocating forms for users are in
// linalg.ts, act.ts and random.ts.
import { kernels } from '../wasm.ts';
import type { Tensor } from '../tensor.ts';

/** y[B,N] = act(x[B,K]·w[N,K]ᵀ + b[N]); keeps the pre-activations in `pre` when given. */
export function denseForwardRows(
  y: Tensor<'f32'>,
  pre: Tensor<'f32'> | undefined,
  x: Tensor<'f32'>,
  w: Tensor<'f32'>,
  b: Tensor<'f32'>,
  B: number,
  N: number,
  K: number,
  act: number,
  alpha: number,
): void {
  kernels().f32_dense_fwd(y.ptr, pre ? pre.ptr : 0, x.ptr, w.ptr, b.ptr, B, N, K, act, alpha);
}

/** Overwrites dy with dy ⊙ act′(pre), then dw = dyᵀ·x, db = Σ_b dy and, when given, dx = dy·w. */
export function denseBackwardRows(
  dx: Tensor<'f32'> | undefined,
  dw: Tensor<'f32'>,
  db: Tensor<'f32'>,
  dy: Tensor<'f32'>,
  x: Tensor<'f32'>,
  w: Tensor<'f32'>,
  pre: Tensor<'f32'>,
  y: Tensor<'f32'>,
  B: number,
  N: number,
  K: number,
  act: number,
  alpha: number,
): void {
  kernels().f32_dense_bwd(dx ? dx.ptr : 0, dw.ptr, db.ptr, dy.ptr, x.ptr, w.ptr, pre.ptr, y.ptr, B, N, K, act, alpha, 0);
}

/** Inverted dropout of n values: y = x·mask with mask ∈ {0, 1/(1−rate)} drawn from `rng`. */
export function dropoutForwardRows(
  rng: Tensor<'u8'>,
  y: Tensor<'f32'>,
  mask: Tensor<'f32'>,
  x: Tensor<'f32'>,
  n: number,
  rate: number,
): void {
  kernels().f32_dropout_fwd(rng.ptr, y.ptr, mask.ptr, x.ptr, n, rate);
}

/** dx = dy·mask over n values. */
export function dropoutBackwardRows(dx: Tensor<'f32'>, dy: Tensor<'f32'>, mask: Tensor<'f32'>, n: number): void {
  kernels().f32_dropout_bwd(dx.ptr, dy.ptr, mask.ptr, n);
}

/** The first n values of `from` into `to`. */
export function copyValues(to: Tensor<'f32'>, from: Tensor<'f32'>, n: number): void {
  kernels().f32_copy(to.ptr, from.ptr, n);
}

/** Layer norm of B rows of D values: y = (x − μ)·r·γ + β; keeps x̂ [B,D] and r [B] when given. */
export function layerNormForwardRows(
  y: Tensor<'f32'>,
  xhat: Tensor<'f32'> | undefined,
  rstd: Tensor<'f32'> | undefined,
  x: Tensor<'f32'>,
  gamma: Tensor<'f32'>,
  beta: Tensor<'f32'>,
  B: number,
  D: number,
  eps: number,
): void {
  kernels().f32_layer_norm_fwd(y.ptr, xhat ? xhat.ptr : 0, rstd ? rstd.ptr : 0, x.ptr, gamma.ptr, beta.ptr, B, D, eps);
}

/** dγ, dβ (overwritten) and, when given, dx from dy and the forward's x̂ and r. */
export function layerNormBackwardRows(
  dx: Tensor<'f32'> | undefined,
  dgamma: Tensor<'f32'>,
  dbeta: Tensor<'f32'>,
  dy: Tensor<'f32'>,
  xhat: Tensor<'f32'>,
  rstd: Tensor<'f32'>,
  gamma: Tensor<'f32'>,
  B: number,
  D: number,
): void {
  kernels().f32_layer_norm_bwd(dx ? dx.ptr : 0, dgamma.ptr, dbeta.ptr, dy.ptr, xhat.ptr, rstd.ptr, gamma.ptr, B, D);
}
