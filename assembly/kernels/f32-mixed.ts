// Mixtures of branches for differentiable architecture search over MLPs, and the reductions
// their gradients need. A mixed layer holds A branch outputs br[A,B,N] (row-major per branch,
// branches back to back), softmax weights w[A] over them and a per-column width mask m[N]:
//   y[b,j] = m[j] · Σ_a w[a]·br[a,b,j]
// The branch sum runs in ascending a from +0 in f32 and the mask multiplies last, in the v128
// kernels and their _ref twins alike, so those parts agree bit for bit. Dot products accumulate
// in f64 in f32-reduce's order (element i to lane i mod 4 as f64x2 pairs, lanes combined as
// (l0 + l1) + (l2 + l3), then the tail); their _ref twins sum sequentially in f64, so they agree
// to f64 rounding, not bit for bit.
// see: Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search", arXiv:1806.09055
// see: Wan et al., "FBNetV2: Differentiable Neural Architecture Search for Spatial and Channel
//      Dimensions", arXiv:2004.05565 (width as a weighted sum of prefix masks over shared units)
import { f32_sum, f32_sum_ref } from "./f32-reduce";

// Lanes 2 and 3 of four f32 as f64x2.
@inline function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

// Σ x[i]·y[i] in f64 lanes (each f32·f32 product is exact in f64).
function dotLanes(x: usize, y: usize, n: i32): f64 {
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const vx = v128.load(x + o), vy = v128.load(y + o);
    lo = f64x2.add(lo, f64x2.mul(f64x2.promote_low_f32x4(vx), f64x2.promote_low_f32x4(vy)));
    hi = f64x2.add(hi, f64x2.mul(promoteHigh(vx), promoteHigh(vy)));
  }
  let s = (f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) + (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    s += <f64>load<f32>(x + o) * <f64>load<f32>(y + o);
  }
  return s;
}

function dotSequential(x: usize, y: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    s += <f64>load<f32>(x + o) * <f64>load<f32>(y + o);
  }
  return s;
}

// Σ x[n]·y[n] in f64 (lane order in the header); 0 for n = 0. Serves the mixture's weight
// gradients and the hypergradient ⟨g_t, u_{t−1}⟩ over a whole parameter arena.
export function f32_dot(x: usize, y: usize, n: i32): f64 {
  return dotLanes(x, y, n);
}

export function f32_dot_ref(x: usize, y: usize, n: i32): f64 {
  return dotSequential(x, y, n);
}

// y[B,N] = m[N] ⊙ Σ_a w[a]·br[a,B,N] (header). mask 0 means all ones. y must not alias br.
// v128 over columns with a scalar tail; f32_mix_fwd_ref is the oracle (same bits).
export function f32_mix_fwd(y: usize, br: usize, w: usize, mask: usize, A: i32, B: i32, N: i32): void {
  const plane = <usize>B * <usize>N << 2;
  const ones = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const row = <usize>(b * N) << 2;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const o = <usize>j << 2;
      let s = f32x4.splat(0);
      for (let a = 0; a < A; a++) s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(w + (<usize>a << 2))), v128.load(br + <usize>a * plane + row + o)));
      v128.store(y + row + o, f32x4.mul(s, mask != 0 ? v128.load(mask + o) : ones));
    }
    for (; j < N; j++) mixOne(y, br, w, mask, A, plane, row, j);
  }
}

export function f32_mix_fwd_ref(y: usize, br: usize, w: usize, mask: usize, A: i32, B: i32, N: i32): void {
  const plane = <usize>B * <usize>N << 2;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < N; j++) mixOne(y, br, w, mask, A, plane, <usize>(b * N) << 2, j);
  }
}

@inline function branchSum(br: usize, w: usize, A: i32, plane: usize, at: usize): f32 {
  let s: f32 = 0;
  for (let a = 0; a < A; a++) s += load<f32>(w + (<usize>a << 2)) * load<f32>(br + <usize>a * plane + at);
  return s;
}

@inline function mixOne(y: usize, br: usize, w: usize, mask: usize, A: i32, plane: usize, row: usize, j: i32): void {
  const o = <usize>j << 2;
  store<f32>(y + row + o, branchSum(br, w, A, plane, row + o) * (mask != 0 ? load<f32>(mask + o) : <f32>1));
}

// Backward of f32_mix_fwd for dy[B,N]; each output skipped when its pointer is 0:
//   dmix[B,N] = dy ⊙ m                      (branch a receives w[a]·dmix)
//   dw[A]     = Σ_{b,j} dmix[b,j]·br[a,b,j]   (f64 lanes, header), one value per branch
//   dmask[N]  = Σ_b dy[b,j]·Σ_a w[a]·br[a,b,j]  (ascending b from +0 in f32; the branch sum as in
//                                                the forward)
// dmix is needed for dw, so dw != 0 requires dmix != 0. mask 0 means all ones.
export function f32_mix_bwd(dmix: usize, dw: usize, dmask: usize, dy: usize, br: usize, w: usize, mask: usize, A: i32, B: i32, N: i32): void {
  mixBackward(dmix, dw, dmask, dy, br, w, mask, A, B, N, false);
}

export function f32_mix_bwd_ref(dmix: usize, dw: usize, dmask: usize, dy: usize, br: usize, w: usize, mask: usize, A: i32, B: i32, N: i32): void {
  mixBackward(dmix, dw, dmask, dy, br, w, mask, A, B, N, true);
}

@inline function mixBackward(dmix: usize, dw: usize, dmask: usize, dy: usize, br: usize, w: usize, mask: usize, A: i32, B: i32, N: i32, ref: bool): void {
  const n = B * N;
  const plane = <usize>n << 2;
  if (dmix != 0) {
    if (mask == 0) memory.copy(dmix, dy, plane);
    else if (ref) scaleColumnsRef(dmix, dy, mask, B, N);
    else scaleColumns(dmix, dy, mask, B, N);
  }
  if (dw != 0) {
    for (let a = 0; a < A; a++) {
      const s = ref ? dotSequential(dmix, br + <usize>a * plane, n) : dotLanes(dmix, br + <usize>a * plane, n);
      store<f32>(dw + (<usize>a << 2), <f32>s);
    }
  }
  if (dmask != 0) {
    if (ref) maskGradRef(dmask, dy, br, w, A, B, N, plane);
    else maskGrad(dmask, dy, br, w, A, B, N, plane);
  }
}

// out[b,j] = x[b,j]·m[j].
function scaleColumns(out: usize, x: usize, m: usize, B: i32, N: i32): void {
  for (let b = 0; b < B; b++) {
    const row = <usize>(b * N) << 2;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + row + o, f32x4.mul(v128.load(x + row + o), v128.load(m + o)));
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      store<f32>(out + row + o, load<f32>(x + row + o) * load<f32>(m + o));
    }
  }
}

function scaleColumnsRef(out: usize, x: usize, m: usize, B: i32, N: i32): void {
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < N; j++) {
      const at = <usize>(b * N + j) << 2;
      store<f32>(out + at, load<f32>(x + at) * load<f32>(m + (<usize>j << 2)));
    }
  }
}

// dmask[j] = Σ_b dy[b,j]·s[b,j], s the unmasked branch sum; lanes are columns, so every column
// keeps the ascending-b order of the scalar twin.
function maskGrad(dmask: usize, dy: usize, br: usize, w: usize, A: i32, B: i32, N: i32, plane: usize): void {
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const o = <usize>j << 2;
    let acc = f32x4.splat(0);
    for (let b = 0; b < B; b++) {
      const at = (<usize>(b * N) << 2) + o;
      let s = f32x4.splat(0);
      for (let a = 0; a < A; a++) s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(w + (<usize>a << 2))), v128.load(br + <usize>a * plane + at)));
      acc = f32x4.add(acc, f32x4.mul(v128.load(dy + at), s));
    }
    v128.store(dmask + o, acc);
  }
  for (; j < N; j++) maskGradOne(dmask, dy, br, w, A, B, N, plane, j);
}

function maskGradRef(dmask: usize, dy: usize, br: usize, w: usize, A: i32, B: i32, N: i32, plane: usize): void {
  for (let j = 0; j < N; j++) maskGradOne(dmask, dy, br, w, A, B, N, plane, j);
}

@inline function maskGradOne(dmask: usize, dy: usize, br: usize, w: usize, A: i32, B: i32, N: i32, plane: usize, j: i32): void {
  let acc: f32 = 0;
  for (let b = 0; b < B; b++) {
    const at = <usize>(b * N + j) << 2;
    acc += load<f32>(dy + at) * branchSum(br, w, A, plane, at);
  }
  store<f32>(dmask + (<usize>j << 2), acc);
}

// mask[N] from a width distribution: mask[j] = Σ_i p[i]·[j < widths[i]], i ascending from +0 in
// f32, for p[nW] f32 and widths[nW] i32. Unit j is kept by every candidate at least j + 1 wide,
// so the mask is the probability that unit j exists. v128 over j (a compare selects p[i] or +0,
// and s + 0 = s), same bits as f32_prefix_mask_ref.
export function f32_prefix_mask(mask: usize, p: usize, widths: usize, nW: i32, N: i32): void {
  const step = i32x4.splat(4);
  let vj = i32x4(0, 1, 2, 3);
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    let s = f32x4.splat(0);
    for (let i = 0; i < nW; i++) {
      const keep = i32x4.lt_s(vj, i32x4.splat(load<i32>(widths + (<usize>i << 2))));
      s = f32x4.add(s, v128.and(f32x4.splat(load<f32>(p + (<usize>i << 2))), keep));
    }
    v128.store(mask + (<usize>j << 2), s);
    vj = i32x4.add(vj, step);
  }
  for (; j < N; j++) prefixOne(mask, p, widths, nW, j);
}

export function f32_prefix_mask_ref(mask: usize, p: usize, widths: usize, nW: i32, N: i32): void {
  for (let j = 0; j < N; j++) prefixOne(mask, p, widths, nW, j);
}

@inline function prefixOne(mask: usize, p: usize, widths: usize, nW: i32, j: i32): void {
  let s: f32 = 0;
  for (let i = 0; i < nW; i++) s += j < load<i32>(widths + (<usize>i << 2)) ? load<f32>(p + (<usize>i << 2)) : <f32>0;
  store<f32>(mask + (<usize>j << 2), s);
}

// dp[i] = Σ_{j < min(widths[i], N)} dmask[j] (the transpose of f32_prefix_mask), each through
// f32_sum (its f64 lane order); f32_prefix_mask_bwd_ref uses f32_sum_ref.
export function f32_prefix_mask_bwd(dp: usize, dmask: usize, widths: usize, nW: i32, N: i32): void {
  for (let i = 0; i < nW; i++) store<f32>(dp + (<usize>i << 2), f32_sum(dmask, prefixLength(widths, i, N)));
}

export function f32_prefix_mask_bwd_ref(dp: usize, dmask: usize, widths: usize, nW: i32, N: i32): void {
  for (let i = 0; i < nW; i++) store<f32>(dp + (<usize>i << 2), f32_sum_ref(dmask, prefixLength(widths, i, N)));
}

@inline function prefixLength(widths: usize, i: i32, N: i32): i32 {
  const w = load<i32>(widths + (<usize>i << 2));
  return w < 0 ? 0 : w > N ? N : w;
}

// Backward of a row softmax y = softmax(x): dx[r,j] = y[r,j]·(dy[r,j] − Σ_k y[r,k]·dy[r,k]).
// The row dot runs in f64 (f32_dot order), rounds once to f32; then one f32 subtraction and one
// product per element. dx may alias dy. f32_softmax_rows_bwd_ref uses the sequential dot.
export function f32_softmax_rows_bwd(dx: usize, dy: usize, y: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = <usize>(r * cols) << 2;
    const dot = f32x4.splat(<f32>dotLanes(y + row, dy + row, cols));
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = row + (<usize>j << 2);
      v128.store(dx + o, f32x4.mul(v128.load(y + o), f32x4.sub(v128.load(dy + o), dot)));
    }
    const d = f32x4.extract_lane(dot, 0);
    for (; j < cols; j++) {
      const o = row + (<usize>j << 2);
      store<f32>(dx + o, load<f32>(y + o) * (load<f32>(dy + o) - d));
    }
  }
}

export function f32_softmax_rows_bwd_ref(dx: usize, dy: usize, y: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = <usize>(r * cols) << 2;
    const d = <f32>dotSequential(y + row, dy + row, cols);
    for (let j = 0; j < cols; j++) {
      const o = row + (<usize>j << 2);
      store<f32>(dx + o, load<f32>(y + o) * (load<f32>(dy + o) - d));
    }
  }
}
