// Reductions over f32 arrays. Sums accumulate in f64 in a fixed order so a result is the same bits
// on every engine and does not drift with n: element i goes to lane i mod 4 (as f64x2 pairs
// (0,1) and (2,3)) for the first 4·⌊n/4⌋ elements, the lanes combine as (l0 + l1) + (l2 + l3), the
// tail adds sequentially, and the total rounds once to f32. The _ref twins sum sequentially in f64,
// so they agree to f64 rounding (far below one f32 ulp) but are not bit-identical.
// Max and argmax are exact, so SIMD and _ref agree bit for bit.
import { f32_add_rowvec } from "./f32-eltwise";

// Lanes 2 and 3 of four f32 as f64x2.
@inline function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

@inline function combine(lo: v128, hi: v128): f64 {
  return (f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) + (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
}

// Σ x[n] (squares: Σ x²; each square is exact in f64).
@inline function sumLanes(x: usize, n: i32, squares: bool): f64 {
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const a = f64x2.promote_low_f32x4(v);
    const b = promoteHigh(v);
    lo = f64x2.add(lo, squares ? f64x2.mul(a, a) : a);
    hi = f64x2.add(hi, squares ? f64x2.mul(b, b) : b);
  }
  let s = combine(lo, hi);
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    s += squares ? v * v : v;
  }
  return s;
}

@inline function sumSequential(x: usize, n: i32, squares: bool): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    s += squares ? v * v : v;
  }
  return s;
}

// Σ x[n], f64 lanes as in the header; 0 for n = 0.
export function f32_sum(x: usize, n: i32): f32 {
  return <f32>sumLanes(x, n, false);
}

export function f32_sum_ref(x: usize, n: i32): f32 {
  return <f32>sumSequential(x, n, false);
}

// Σ x[n]², for global-norm gradient clipping; f64 lanes as in the header.
export function f32_sumsq(x: usize, n: i32): f32 {
  return <f32>sumLanes(x, n, true);
}

export function f32_sumsq_ref(x: usize, n: i32): f32 {
  return <f32>sumSequential(x, n, true);
}

// max x[n]; NaN if any element is NaN (f32.max propagates it); -Infinity for n = 0. Four v128
// accumulators hide the latency of f32x4.max (several instructions on x64 to get WASM's NaN and
// ±0 rules); max is exact and order-free, so this matches f32_max_ref bit for bit.
export function f32_max(x: usize, n: i32): f32 {
  let i = 0;
  let m: f32 = -Infinity;
  if (n >= 4) {
    let v0 = v128.load(x);
    let v1 = v0, v2 = v0, v3 = v0;
    for (i = 4; i + 16 <= n; i += 16) {
      const p = x + (<usize>i << 2);
      v0 = f32x4.max(v0, v128.load(p));
      v1 = f32x4.max(v1, v128.load(p, 16));
      v2 = f32x4.max(v2, v128.load(p, 32));
      v3 = f32x4.max(v3, v128.load(p, 48));
    }
    for (; i + 4 <= n; i += 4) v0 = f32x4.max(v0, v128.load(x + (<usize>i << 2)));
    const vm = f32x4.max(f32x4.max(v0, v1), f32x4.max(v2, v3));
    m = Mathf.max(Mathf.max(f32x4.extract_lane(vm, 0), f32x4.extract_lane(vm, 1)), Mathf.max(f32x4.extract_lane(vm, 2), f32x4.extract_lane(vm, 3)));
  }
  for (; i < n; i++) m = Mathf.max(m, load<f32>(x + (<usize>i << 2)));
  return m;
}

export function f32_max_ref(x: usize, n: i32): f32 {
  let m: f32 = -Infinity;
  for (let i = 0; i < n; i++) m = Mathf.max(m, load<f32>(x + (<usize>i << 2)));
  return m;
}

// out[rows] (i32) = index of the largest x[r, :] (x row-major [rows, cols]). Ties go to the first
// index; NaN counts as the largest (the first NaN wins), as torch.argmax. cols = 0 gives -1.
// SIMD: the row max by f32_max, then a scan for its first occurrence.
export function f32_argmax_rows(out: usize, x: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * stride;
    const m = f32_max(xr, cols);
    let k = -1;
    if (cols > 0) {
      const isNaN = m != m;
      for (k = 0; k < cols; k++) {
        const v = load<f32>(xr + (<usize>k << 2));
        if (isNaN ? v != v : v == m) break;
      }
    }
    store<i32>(out + (<usize>r << 2), k);
  }
}

export function f32_argmax_rows_ref(out: usize, x: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * stride;
    let k = cols > 0 ? 0 : -1;
    let best = cols > 0 ? load<f32>(xr) : <f32>0;
    for (let j = 1; j < cols; j++) {
      const v = load<f32>(xr + (<usize>j << 2));
      if (best == best && (v > best || v != v)) {
        best = v;
        k = j;
      }
    }
    store<i32>(out + (<usize>r << 2), k);
  }
}

// out[cols] (= when acc = 0, += otherwise) Σ_r x[r, :] for x row-major [rows, cols]: bias
// gradients. Each column is a running f32 sum in row order, started from 0 or from out[c];
// v128 spans 4 columns at a time, which keeps that order, so the _ref twin matches bit for bit.
// Rows stream through in memory order while out stays in cache.
export function f32_sum_cols(out: usize, x: usize, rows: i32, cols: i32, acc: i32): void {
  if (acc == 0) memory.fill(out, 0, <usize>cols << 2);
  const stride = <usize>cols << 2;
  // out + x[r, :] is a row-vector add onto a one-row matrix (f32 addition commutes bit for bit).
  for (let r = 0; r < rows; r++) f32_add_rowvec(out, x + <usize>r * stride, 1, cols);
}

export function f32_sum_cols_ref(out: usize, x: usize, rows: i32, cols: i32, acc: i32): void {
  for (let c = 0; c < cols; c++) {
    const o = <usize>c << 2;
    let s: f32 = acc != 0 ? load<f32>(out + o) : 0;
    for (let r = 0; r < rows; r++) s += load<f32>(x + <usize>r * (<usize>cols << 2) + o);
    store<f32>(out + o, s);
  }
}

// out[rows] = Σ_c x[r, c] per row, each row summed as f32_sum does (f64 lanes, one rounding).
export function f32_sum_rows(out: usize, x: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) store<f32>(out + (<usize>r << 2), <f32>sumLanes(x + <usize>r * stride, cols, false));
}

export function f32_sum_rows_ref(out: usize, x: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) store<f32>(out + (<usize>r << 2), <f32>sumSequential(x + <usize>r * stride, cols, false));
}
