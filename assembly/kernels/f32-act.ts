// Activations and row softmax. Codes (../codes.ts, KERNELS.md): 0 linear, 1 relu, 2 leaky_relu (slope alpha),
// 3 sigmoid, 4 tanh, 5 gelu (exact, erf-based, PyTorch's default).
// linear, relu and leaky_relu run on v128; the transcendental ones run scalar in f64 (math.ts)
// with one rounding to f32, so a value is the same bits on every engine and within ~1 ulp of
// the exact result. Every function here is element-wise within a row, so outputs may alias inputs.
import { f64_erfc, f64_sigmoid } from "./math";
import { f32_max, f32_max_ref } from "./f32-reduce";

import { ACT_GELU, ACT_LEAKY_RELU, ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_TANH } from "../codes";

const SQRT1_2: f64 = 0.7071067811865476;
const INV_SQRT_2PI: f64 = 0.3989422804014327;

// Scalar forward of one element. relu uses f32.max so NaN propagates exactly as f32x4.max does.
@inline function actScalar(x: f32, act: i32, alpha: f32): f32 {
  switch (act) {
    case ACT_RELU: return Mathf.max(x, 0);
    case ACT_LEAKY_RELU: return x > 0 ? x : alpha * x;
    case ACT_SIGMOID: return <f32>f64_sigmoid(<f64>x);
    case ACT_TANH: return <f32>Math.tanh(<f64>x);
    // 0.5·x·(1 + erf(x/√2)) written with erfc so the far negative tail keeps its tiny values.
    // Below −40 it underflows f64 anyway; the cut-off also sends −∞ to its limit −0 (PyTorch: NaN).
    case ACT_GELU: return x < -40 ? -0.0 : <f32>(0.5 * <f64>x * f64_erfc(-<f64>x * SQRT1_2));
    default: return x;
  }
}

// Scalar backward of one element: dy·f'(x). sigmoid and tanh use the forward output y as PyTorch
// does (y(1−y), 1−y²); relu selects rather than multiplies, so dy = ±Inf at x <= 0 gives 0.
@inline function actGradScalar(dy: f32, x: f32, y: f32, act: i32, alpha: f32): f32 {
  switch (act) {
    case ACT_RELU: return x > 0 ? dy : 0;
    case ACT_LEAKY_RELU: return x > 0 ? dy : dy * alpha;
    case ACT_SIGMOID: return dy * (y * (<f32>1 - y));
    case ACT_TANH: return dy * (<f32>1 - y * y);
    case ACT_GELU: {
      const xd = <f64>x;
      // Φ(x) + x·φ(x); 0 below −40 (where both terms underflow) so that x = −∞ gives 0, not NaN.
      const g = x < -40 ? 0.0 : 0.5 * f64_erfc(-xd * SQRT1_2) + xd * INV_SQRT_2PI * Math.exp(-0.5 * xd * xd);
      return <f32>(<f64>dy * g);
    }
    default: return dy;
  }
}

@inline function checkAct(act: i32): void {
  assert(<u32>act <= <u32>ACT_GELU, "activation code must be 0..5");
}

// out[i] = gate[i] > 0 ? a[i] : (leaky ? a[i]·alpha : 0) on v128 over the first 4·⌊n/4⌋
// elements; returns where the scalar tail starts. Serves leaky forward (a = gate = x) and the relu
// and leaky backward (a = dy, gate = x), with the same selects as actScalar and actGradScalar.
@inline function gateV128(out: usize, a: usize, gate: usize, n: i32, alpha: f32, leaky: bool): i32 {
  const vzero = f32x4.splat(0);
  const valpha = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const va = v128.load(a + o);
    v128.store(out + o, v128.bitselect(va, leaky ? f32x4.mul(va, valpha) : vzero, f32x4.gt(v128.load(gate + o), vzero)));
  }
  return i;
}

// y[n] = f(x[n]). y may equal x. v128 for linear/relu/leaky with a scalar tail; the tail and the
// transcendental codes use actScalar, so f32_act_fwd_ref gives the same bits. relu is f32x4.max,
// not a select, so that NaN stays NaN as in PyTorch.
export function f32_act_fwd(y: usize, x: usize, n: i32, act: i32, alpha: f32): void {
  checkAct(act);
  if (act == ACT_LINEAR) {
    if (y != x) memory.copy(y, x, <usize>n << 2);
    return;
  }
  let i = 0;
  if (act == ACT_RELU) {
    const vzero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.max(v128.load(x + o), vzero));
    }
  } else if (act == ACT_LEAKY_RELU) {
    i = gateV128(y, x, x, n, alpha, true);
  }
  fwdScalar(y, x, i, n, act, alpha);
}

export function f32_act_fwd_ref(y: usize, x: usize, n: i32, act: i32, alpha: f32): void {
  checkAct(act);
  fwdScalar(y, x, 0, n, act, alpha);
}

@inline function fwdScalar(y: usize, x: usize, from: i32, n: i32, act: i32, alpha: f32): void {
  for (let i = from; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, actScalar(load<f32>(x + o), act, alpha));
  }
}

// dx[n] = dy[n] ⊙ f'(x[n]). x is the pre-activation; y the forward output, read only by sigmoid
// and tanh (pass 0 to recompute it from x, with the same bits as the forward). dx may alias dy.
export function f32_act_bwd(dx: usize, dy: usize, x: usize, y: usize, n: i32, act: i32, alpha: f32): void {
  checkAct(act);
  if (act == ACT_LINEAR) {
    if (dx != dy) memory.copy(dx, dy, <usize>n << 2);
    return;
  }
  let i = 0;
  if (act == ACT_RELU) i = gateV128(dx, dy, x, n, 0, false);
  else if (act == ACT_LEAKY_RELU) i = gateV128(dx, dy, x, n, alpha, true);
  bwdScalar(dx, dy, x, y, i, n, act, alpha);
}

export function f32_act_bwd_ref(dx: usize, dy: usize, x: usize, y: usize, n: i32, act: i32, alpha: f32): void {
  checkAct(act);
  bwdScalar(dx, dy, x, y, 0, n, act, alpha);
}

@inline function bwdScalar(dx: usize, dy: usize, x: usize, y: usize, from: i32, n: i32, act: i32, alpha: f32): void {
  const needY = act == ACT_SIGMOID || act == ACT_TANH;
  for (let i = from; i < n; i++) {
    const o = <usize>i << 2;
    const xv = load<f32>(x + o);
    const yv = needY ? (y != 0 ? load<f32>(y + o) : actScalar(xv, act, alpha)) : <f32>0;
    store<f32>(dx + o, actGradScalar(load<f32>(dy + o), xv, yv, act, alpha));
  }
}

// Σ_j exp(x_j·invT − m) in f64, sequential over j. Shared by softmax, log-softmax and the losses.
@inline function sumExp(x: usize, cols: i32, invT: f64, m: f64): f64 {
  let s: f64 = 0;
  for (let j = 0; j < cols; j++) s += Math.exp(<f64>load<f32>(x + (<usize>j << 2)) * invT - m);
  return s;
}

// y[rows,cols] = softmax(x·invT) per row, row-major; y may equal x. invT > 0 (host-checked).
// Stable: m = max_j x_j·invT is subtracted (exact in f64, since invT > 0 keeps the argmax and an
// f32·f32 product fits f64); exp and the row sum in f64, one rounding per output, then the
// normalisation e_j·(1/s) in f64 and one more rounding. A row holding NaN or +Inf becomes NaN.
export function f32_softmax_rows(y: usize, x: usize, rows: i32, cols: i32, invT: f32): void {
  softmaxRows(y, x, rows, cols, invT, false, false);
}

export function f32_softmax_rows_ref(y: usize, x: usize, rows: i32, cols: i32, invT: f32): void {
  softmaxRows(y, x, rows, cols, invT, true, false);
}

// y = log_softmax(x·invT) per row: y_j = x_j·invT − (m + log Σ exp(x_k·invT − m)), in f64.
export function f32_log_softmax_rows(y: usize, x: usize, rows: i32, cols: i32, invT: f32): void {
  softmaxRows(y, x, rows, cols, invT, false, true);
}

export function f32_log_softmax_rows_ref(y: usize, x: usize, rows: i32, cols: i32, invT: f32): void {
  softmaxRows(y, x, rows, cols, invT, true, true);
}

// Both softmaxes per row: m as above, then either y_j = x_j·invT − lse or y_j = e_j/s.
@inline function softmaxRows(y: usize, x: usize, rows: i32, cols: i32, invT: f32, ref: bool, log: bool): void {
  const t = <f64>invT;
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * stride;
    const yr = y + <usize>r * stride;
    const m = <f64>(ref ? f32_max_ref(xr, cols) : f32_max(xr, cols)) * t;
    if (log) {
      const lse = m + Math.log(sumExp(xr, cols, t, m));
      for (let j = 0; j < cols; j++) {
        const o = <usize>j << 2;
        store<f32>(yr + o, <f32>(<f64>load<f32>(xr + o) * t - lse));
      }
      continue;
    }
    let s: f64 = 0;
    for (let j = 0; j < cols; j++) {
      const o = <usize>j << 2;
      const e = Math.exp(<f64>load<f32>(xr + o) * t - m);
      s += e;
      store<f32>(yr + o, <f32>e);
    }
    const inv = 1.0 / s;
    for (let j = 0; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(yr + o, <f32>(<f64>load<f32>(yr + o) * inv));
    }
  }
}
