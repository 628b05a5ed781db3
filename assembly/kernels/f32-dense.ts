// The dense layer y = act(x·wᵀ + bias) and its backward, over row-major contiguous f32:
//   x[B,K] inputs, w[N,K] weights (one row per unit, PyTorch's Linear layout), bias[N],
//   pre[B,N] pre-activations, y[B,N] outputs.
// Products go through f32-gemm (its summation order), activations through f32-act, the bias
// (after the full K sum) through f32_add_rowvec, and db through f32_sum_cols: a running sum over
// the batch in ascending b, started from db (accumulating) or from 0. Bias and activation are
// separate passes over [B,N]: they cost B·N against the GEMM's B·N·K, and at 784 inputs the whole
// forward stayed within run-to-run noise of the bare GEMM, so fusing them into the GEMM's
// epilogue cannot pay measurably. References: the _ref twins.
import { f32_act_bwd, f32_act_bwd_ref, f32_act_fwd, f32_act_fwd_ref } from "./f32-act";
import { f32_gemm_nn, f32_gemm_nn_ref, f32_gemm_nt, f32_gemm_nt_ref, f32_gemm_tn, f32_gemm_tn_ref } from "./f32-gemm";
import { f32_add_rowvec, f32_add_rowvec_ref } from "./f32-eltwise";
import { f32_sum_cols, f32_sum_cols_ref } from "./f32-reduce";

import { ACT_LINEAR } from "../codes";

// pre = x·wᵀ + bias (bias 0: none), y = act(pre). pre == 0 writes only y (inference): the
// pre-activations are formed in y and activated in place.
export function f32_dense_fwd(y: usize, pre: usize, x: usize, w: usize, bias: usize, B: i32, N: i32, K: i32, act: i32, alpha: f32): void {
  const z = pre != 0 ? pre : y;
  f32_gemm_nt(z, x, w, B, N, K, 0);
  if (bias != 0) f32_add_rowvec(z, bias, B, N);
  f32_act_fwd(y, z, B * N, act, alpha);
}

export function f32_dense_fwd_ref(y: usize, pre: usize, x: usize, w: usize, bias: usize, B: i32, N: i32, K: i32, act: i32, alpha: f32): void {
  const z = pre != 0 ? pre : y;
  f32_gemm_nt_ref(z, x, w, B, N, K, 0);
  if (bias != 0) f32_add_rowvec_ref(z, bias, B, N);
  f32_act_fwd_ref(y, z, B * N, act, alpha);
}

// dy[B,N] is overwritten with dpre = dy ⊙ act'(pre) (y, the forward output, is read by sigmoid
// and tanh; 0 recomputes it). Then, each skipped when its pointer is 0:
//   dw[N,K] (acc ? += : =) dpreᵀ·x,  db[N] (acc ? += : =) Σ_b dpre[b,:],  dx[B,K] = dpre·w.
export function f32_dense_bwd(dx: usize, dw: usize, db: usize, dy: usize, x: usize, w: usize, pre: usize, y: usize, B: i32, N: i32, K: i32, act: i32, alpha: f32, acc: i32): void {
  if (act != ACT_LINEAR) f32_act_bwd(dy, dy, pre, y, B * N, act, alpha);
  if (dw != 0) f32_gemm_tn(dw, dy, x, N, K, B, acc);
  if (db != 0) f32_sum_cols(db, dy, B, N, acc);
  if (dx != 0) f32_gemm_nn(dx, dy, w, B, K, N, 0);
}

export function f32_dense_bwd_ref(dx: usize, dw: usize, db: usize, dy: usize, x: usize, w: usize, pre: usize, y: usize, B: i32, N: i32, K: i32, act: i32, alpha: f32, acc: i32): void {
  if (act != ACT_LINEAR) f32_act_bwd_ref(dy, dy, pre, y, B * N, act, alpha);
  if (dw != 0) f32_gemm_tn_ref(dw, dy, x, N, K, B, acc);
  if (db != 0) f32_sum_cols_ref(db, dy, B, N, acc);
  if (dx != 0) f32_gemm_nn_ref(dx, dy, w, B, K, N, 0);
}
