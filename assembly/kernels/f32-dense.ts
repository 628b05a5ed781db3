// The dense layer y = act(x·wᵀ + bias) and its backward, over row-major contiguous f32:
//   x[B,K] inputs, w[N,K] weights (one row per unit, PyTorch's Linear layout), bias[N],
//   pre[B,N] pre-activations, y[B,N] outputs.
// Products go through f32-gemm (its summation order), activations through f32-act; the bias is
// added after the full K sum, and db sums dpre over the batch in ascending b from +0. Bias and
// activation run as separate passes over [B,N]: they cost B·N against the GEMM's B·N·K, and
// fusing them into the GEMM's epilogue gained nothing measurable. References: the _ref twins.
import { f32_act_bwd, f32_act_bwd_ref, f32_act_fwd, f32_act_fwd_ref } from "./f32-act";
import { f32_gemm_nn, f32_gemm_nn_ref, f32_gemm_nt, f32_gemm_nt_ref, f32_gemm_tn, f32_gemm_tn_ref } from "./f32-gemm";

const ACT_LINEAR = 0;

// pre = x·wᵀ + bias (bias 0: none), y = act(pre). pre == 0 writes only y (inference): the
// pre-activations are formed in y and activated in place.
export function f32_dense_fwd(y: usize, pre: usize, x: usize, w: usize, bias: usize, B: i32, N: i32, K: i32, act: i32, alpha: f32): void {
  const z = pre != 0 ? pre : y;
  f32_gemm_nt(z, x, w, B, N, K, 0);
  if (bias != 0) addBias(z, bias, B, N);
  f32_act_fwd(y, z, B * N, act, alpha);
}

export function f32_dense_fwd_ref(y: usize, pre: usize, x: usize, w: usize, bias: usize, B: i32, N: i32, K: i32, act: i32, alpha: f32): void {
  const z = pre != 0 ? pre : y;
  f32_gemm_nt_ref(z, x, w, B, N, K, 0);
  if (bias != 0) addBiasRef(z, bias, B, N);
  f32_act_fwd_ref(y, z, B * N, act, alpha);
}

// dy[B,N] is overwritten with dpre = dy ⊙ act'(pre) (y, the forward output, is read by sigmoid
// and tanh; 0 recomputes it). Then, each skipped when its pointer is 0:
//   dw[N,K] (acc ? += : =) dpreᵀ·x,  db[N] (acc ? += : =) Σ_b dpre[b,:],  dx[B,K] = dpre·w.
export function f32_dense_bwd(dx: usize, dw: usize, db: usize, dy: usize, x: usize, w: usize, pre: usize, y: usize, B: i32, N: i32, K: i32, act: i32, alpha: f32, acc: i32): void {
  if (act != ACT_LINEAR) f32_act_bwd(dy, dy, pre, y, B * N, act, alpha);
  if (dw != 0) f32_gemm_tn(dw, dy, x, N, K, B, acc);
  if (db != 0) columnSums(db, dy, B, N, acc != 0);
  if (dx != 0) f32_gemm_nn(dx, dy, w, B, K, N, 0);
}

export function f32_dense_bwd_ref(dx: usize, dw: usize, db: usize, dy: usize, x: usize, w: usize, pre: usize, y: usize, B: i32, N: i32, K: i32, act: i32, alpha: f32, acc: i32): void {
  if (act != ACT_LINEAR) f32_act_bwd_ref(dy, dy, pre, y, B * N, act, alpha);
  if (dw != 0) f32_gemm_tn_ref(dw, dy, x, N, K, B, acc);
  if (db != 0) columnSumsRef(db, dy, B, N, acc != 0);
  if (dx != 0) f32_gemm_nn_ref(dx, dy, w, B, K, N, 0);
}

// z[b,:] += bias for every row; v128 over columns with a scalar tail (same bits per element).
function addBias(z: usize, bias: usize, B: i32, N: i32): void {
  let row = z;
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      const o = <usize>n << 2;
      v128.store(row + o, f32x4.add(v128.load(row + o), v128.load(bias + o)));
    }
    for (; n < N; n++) {
      const o = <usize>n << 2;
      store<f32>(row + o, load<f32>(row + o) + load<f32>(bias + o));
    }
    row += <usize>N << 2;
  }
}

function addBiasRef(z: usize, bias: usize, B: i32, N: i32): void {
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const at = z + (<usize>(b * N + n) << 2);
      store<f32>(at, load<f32>(at) + load<f32>(bias + (<usize>n << 2)));
    }
  }
}

// db[n] (+)= Σ_b g[b,n], the sum taken in ascending b from +0; lanes are columns, so every
// column keeps that order.
function columnSums(db: usize, g: usize, B: i32, N: i32, acc: bool): void {
  const ldg = <usize>N << 2;
  let n = 0;
  for (; n + 4 <= N; n += 4) {
    const o = <usize>n << 2;
    let s = f32x4.splat(0);
    let at = g + o;
    for (let b = 0; b < B; b++) {
      s = f32x4.add(s, v128.load(at));
      at += ldg;
    }
    v128.store(db + o, acc ? f32x4.add(v128.load(db + o), s) : s);
  }
  if (n < N) columnSumsRef(db + (<usize>n << 2), g + (<usize>n << 2), B, N - n, acc, ldg);
}

function columnSumsRef(db: usize, g: usize, B: i32, N: i32, acc: bool, ldg: usize = 0): void {
  if (ldg == 0) ldg = <usize>N << 2;
  for (let n = 0; n < N; n++) {
    const o = <usize>n << 2;
    let s: f32 = 0;
    for (let b = 0; b < B; b++) s += load<f32>(g + <usize>b * ldg + o);
    store<f32>(db + o, acc ? load<f32>(db + o) + s : s);
  }
}
