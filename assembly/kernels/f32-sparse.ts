// Sparse inference and the statistics pruning ranks weights and neurons by.
//
// A pruned dense layer's weights W[N,K] in row-group CSR (SELL-4 with residue classes): rows go
// in groups of 4, columns in nb = ⌈K/KC⌉ blocks of KC, and within a block by k mod 4. Segment
// s = (g·nb + j)·4 + r holds the entries of group g, block j, columns k ≡ r (mod 4): entries
// groupPtr[s] … groupPtr[s + 1] − 1, a multiple of 4 apart, interleave the group's rows (entry
// e belongs to row 4g + e mod 4), each row's entries in ascending column, rows shorter than the
// segment's longest padded with value 0 (column 0). groupPtr i32[⌈N/4⌉·nb·4 + 1]; cols i32 and
// vals f32 of the padded length. One stream of values and one of columns per group keeps the
// prefetchers busy, and a v128 holds one entry of each of four rows.
//
// y[B,N] = act(x[B,K]·Wᵀ + bias) keeps f32_gemm_nt's summation order: per block four sums, s_r
// over k ≡ r (mod 4) ascending from +0, combined as (s0 + s1) + (s2 + s3); the block partials
// added in block order; then the bias. Only zero products are skipped; a skipped or padded one
// is ±0 (x finite) and no partial is ever -0, so the result has the bits of f32_dense_fwd on the
// zero-filled matrix, and switching between the paths never changes a prediction.
import { f32_act_fwd, f32_act_fwd_ref } from "./f32-act";

// Must equal f32-gemm.ts's KC and its four lanes: the order the dense path sums in.
const KC = 256;
// Batch lanes per pass of the transposed path: 4 f32x4 accumulators.
const LANES = 16;
// The four residue sums of one block for 16 batch lanes, kept between the residues at the end
// of the caller's scratch (after xt), not in static memory: the threaded core runs one instance
// per thread over one shared memory, and threads splitting a batch must not share them.
const RESIDUE_BYTES = 4 * LANES * 4;
let RESIDUES: usize = 0;

@inline function blocksOf(K: i32): i32 {
  return (K + KC - 1) / KC;
}

@inline function at32(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

// Bytes of the scratch xt that f32_csr_dense_fwd needs for B rows of K inputs (none for one row).
export function f32_csr_scratch_bytes(B: i32, K: i32): i32 {
  return B <= 1 ? 0 : ((K * ((B + 3) & ~3)) << 2) + RESIDUE_BYTES;
}

// y[B,N] = act(x[B,K]·Wᵀ + bias) with W in row-group CSR (bias 0: none). B == 1: lanes are the
// four rows of a group, x gathered lane by lane. B > 1 first writes xt[K, Bp] = xᵀ (Bp = B
// rounded up to 4, padded lanes zero; the host passes xt, 16-byte aligned, with
// f32_csr_scratch_bytes(B, K) bytes, 0 when B == 1), then for each row and 16 batch lanes
// multiplies splat(w) by rows of xt. Either way each output keeps the order above. Reference: f32_csr_dense_fwd_ref.
export function f32_csr_dense_fwd(y: usize, x: usize, groupPtr: usize, cols: usize, vals: usize, bias: usize, B: i32, N: i32, K: i32, act: i32, alpha: f32, xt: usize): void {
  if (B <= 0 || N <= 0) return;
  const nb = blocksOf(K);
  if (B == 1) {
    for (let g = 0; g << 2 < N; g++) group1(y, x, groupPtr, cols, vals, bias, g, nb, N);
  } else {
    const Bp = (B + 3) & ~3;
    RESIDUES = xt + ((<usize>K * <usize>Bp) << 2);
    transpose(xt, x, B, K, Bp);
    for (let n = 0; n < N; n++) {
      const vb = f32x4.splat(bias != 0 ? load<f32>(bias + (<usize>n << 2)) : 0);
      let b = 0;
      for (; b + LANES <= Bp; b += LANES) rowLanes16(y, xt, groupPtr, cols, vals, n, nb, b, B, N, Bp, vb, bias != 0);
      for (; b < Bp; b += 4) rowLanes4(y, xt, groupPtr, cols, vals, n, nb, b, B, N, Bp, vb, bias != 0);
    }
  }
  f32_act_fwd(y, y, B * N, act, alpha);
}

// Row by row, each row's own entries; padding (value 0) is skipped, not added.
export function f32_csr_dense_fwd_ref(y: usize, x: usize, groupPtr: usize, cols: usize, vals: usize, bias: usize, B: i32, N: i32, K: i32, act: i32, alpha: f32, xt: usize): void {
  const nb = blocksOf(K);
  for (let b = 0; b < B; b++) {
    const xr = x + (<usize>b * <usize>K << 2);
    for (let n = 0; n < N; n++) {
      let total: f32 = 0;
      for (let j = 0; j < nb; j++) {
        const s0 = residueRef(xr, groupPtr, cols, vals, n, nb, j, 0);
        const s1 = residueRef(xr, groupPtr, cols, vals, n, nb, j, 1);
        const s2 = residueRef(xr, groupPtr, cols, vals, n, nb, j, 2);
        const s3 = residueRef(xr, groupPtr, cols, vals, n, nb, j, 3);
        total += (s0 + s1) + (s2 + s3);
      }
      if (bias != 0) total += load<f32>(bias + (<usize>n << 2));
      store<f32>(y + (<usize>(b * N + n) << 2), total);
    }
  }
  f32_act_fwd_ref(y, y, B * N, act, alpha);
}

function residueRef(xr: usize, groupPtr: usize, cols: usize, vals: usize, n: i32, nb: i32, j: i32, r: i32): f32 {
  const s = ((n >> 2) * nb + j) * 4 + r;
  let sum: f32 = 0;
  for (let e = at32(groupPtr, s) + (n & 3); e < at32(groupPtr, s + 1); e += 4) {
    const w = load<f32>(vals + (<usize>e << 2));
    if (w != 0) sum += w * load<f32>(xr + (<usize>at32(cols, e) << 2));
  }
  return sum;
}

// One residue segment for rows 4g..4g+3 (lane r: row 4g + r), x gathered lane by lane.
@inline function segment1(x: usize, groupPtr: usize, cols: usize, vals: usize, s: i32): v128 {
  const end = <usize>at32(groupPtr, s + 1) << 2;
  let p = f32x4.splat(0);
  for (let e = <usize>at32(groupPtr, s) << 2; e < end; e += 16) {
    const vc = v128.load(cols + e);
    let vx = f32x4.splat(load<f32>(x + (<usize>i32x4.extract_lane(vc, 0) << 2)));
    vx = f32x4.replace_lane(vx, 1, load<f32>(x + (<usize>i32x4.extract_lane(vc, 1) << 2)));
    vx = f32x4.replace_lane(vx, 2, load<f32>(x + (<usize>i32x4.extract_lane(vc, 2) << 2)));
    vx = f32x4.replace_lane(vx, 3, load<f32>(x + (<usize>i32x4.extract_lane(vc, 3) << 2)));
    p = f32x4.add(p, f32x4.mul(v128.load(vals + e), vx));
  }
  return p;
}

// Rows 4g..4g+3 for one input row.
function group1(y: usize, x: usize, groupPtr: usize, cols: usize, vals: usize, bias: usize, g: i32, nb: i32, N: i32): void {
  let t = f32x4.splat(0);
  for (let j = 0; j < nb; j++) {
    const s = (g * nb + j) * 4;
    const s01 = f32x4.add(segment1(x, groupPtr, cols, vals, s), segment1(x, groupPtr, cols, vals, s + 1));
    const s23 = f32x4.add(segment1(x, groupPtr, cols, vals, s + 2), segment1(x, groupPtr, cols, vals, s + 3));
    t = f32x4.add(t, f32x4.add(s01, s23));
  }
  const n = g << 2;
  const o = <usize>n << 2;
  if (n + 4 <= N) {
    v128.store(y + o, bias != 0 ? f32x4.add(t, v128.load(bias + o)) : t);
    return;
  }
  for (let r = 0; n + r < N; r++) {
    const v = extract(t, r);
    store<f32>(y + o + (<usize>r << 2), bias != 0 ? v + load<f32>(bias + o + (<usize>r << 2)) : v);
  }
}

@inline function extract(v: v128, r: i32): f32 {
  return r == 0 ? f32x4.extract_lane(v, 0) : r == 1 ? f32x4.extract_lane(v, 1) : r == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}

// Row n's entries of segment s for 16 batch lanes from xt (every fourth entry of the group's;
// padded ones add w·x = ±0), stored to RESIDUES slot r.
@inline function segment16(xt: usize, groupPtr: usize, cols: usize, vals: usize, n: i32, s: i32, base: usize, ld: usize, r: i32): void {
  const end = <usize>at32(groupPtr, s + 1) << 2;
  let p0 = f32x4.splat(0), p1 = f32x4.splat(0), p2 = f32x4.splat(0), p3 = f32x4.splat(0);
  for (let e = <usize>(at32(groupPtr, s) + (n & 3)) << 2; e < end; e += 16) {
    const vw = v128.load32_splat(vals + e);
    const row = base + <usize>load<i32>(cols + e) * ld;
    p0 = f32x4.add(p0, f32x4.mul(vw, v128.load(row)));
    p1 = f32x4.add(p1, f32x4.mul(vw, v128.load(row, 16)));
    p2 = f32x4.add(p2, f32x4.mul(vw, v128.load(row, 32)));
    p3 = f32x4.add(p3, f32x4.mul(vw, v128.load(row, 48)));
  }
  const slot = RESIDUES + (<usize>r << 6);
  v128.store(slot, p0);
  v128.store(slot, p1, 16);
  v128.store(slot, p2, 32);
  v128.store(slot, p3, 48);
}

// (s0 + s1) + (s2 + s3) for lanes q·4 … q·4 + 3 of RESIDUES.
@inline function combine(q: usize): v128 {
  const o = q << 4;
  return f32x4.add(f32x4.add(v128.load(RESIDUES + o), v128.load(RESIDUES + 64 + o)), f32x4.add(v128.load(RESIDUES + 128 + o), v128.load(RESIDUES + 192 + o)));
}

// 16 batch lanes b..b+15 of row n; stores the lanes below B into y[·, n].
function rowLanes16(y: usize, xt: usize, groupPtr: usize, cols: usize, vals: usize, n: i32, nb: i32, b: i32, B: i32, N: i32, Bp: i32, vb: v128, hasBias: bool): void {
  const ld = <usize>Bp << 2;
  const base = xt + (<usize>b << 2);
  let t0 = f32x4.splat(0), t1 = f32x4.splat(0), t2 = f32x4.splat(0), t3 = f32x4.splat(0);
  for (let j = 0; j < nb; j++) {
    const s = ((n >> 2) * nb + j) * 4;
    for (let r = 0; r < 4; r++) segment16(xt, groupPtr, cols, vals, n, s + r, base, ld, r);
    t0 = f32x4.add(t0, combine(0)); t1 = f32x4.add(t1, combine(1)); t2 = f32x4.add(t2, combine(2)); t3 = f32x4.add(t3, combine(3));
  }
  if (hasBias) {
    t0 = f32x4.add(t0, vb); t1 = f32x4.add(t1, vb); t2 = f32x4.add(t2, vb); t3 = f32x4.add(t3, vb);
  }
  storeLanes(y, t0, b, B, N, n);
  storeLanes(y, t1, b + 4, B, N, n);
  storeLanes(y, t2, b + 8, B, N, n);
  storeLanes(y, t3, b + 12, B, N, n);
}

// The 4-lane tail of rowLanes16.
function rowLanes4(y: usize, xt: usize, groupPtr: usize, cols: usize, vals: usize, n: i32, nb: i32, b: i32, B: i32, N: i32, Bp: i32, vb: v128, hasBias: bool): void {
  const ld = <usize>Bp << 2;
  const base = xt + (<usize>b << 2);
  let t = f32x4.splat(0);
  for (let j = 0; j < nb; j++) {
    const s = ((n >> 2) * nb + j) * 4;
    const s01 = f32x4.add(segment4(groupPtr, cols, vals, n, s, base, ld), segment4(groupPtr, cols, vals, n, s + 1, base, ld));
    const s23 = f32x4.add(segment4(groupPtr, cols, vals, n, s + 2, base, ld), segment4(groupPtr, cols, vals, n, s + 3, base, ld));
    t = f32x4.add(t, f32x4.add(s01, s23));
  }
  if (hasBias) t = f32x4.add(t, vb);
  storeLanes(y, t, b, B, N, n);
}

@inline function segment4(groupPtr: usize, cols: usize, vals: usize, n: i32, s: i32, base: usize, ld: usize): v128 {
  const end = <usize>at32(groupPtr, s + 1) << 2;
  let p = f32x4.splat(0);
  for (let e = <usize>(at32(groupPtr, s) + (n & 3)) << 2; e < end; e += 16) {
    p = f32x4.add(p, f32x4.mul(v128.load32_splat(vals + e), v128.load(base + <usize>load<i32>(cols + e) * ld)));
  }
  return p;
}

// y[b + j, n] = lane j for the lanes inside the batch.
@inline function storeLanes(y: usize, v: v128, b: i32, B: i32, N: i32, n: i32): void {
  const at = y + (<usize>(b * N + n) << 2);
  const ld = <usize>N << 2;
  if (b < B) store<f32>(at, f32x4.extract_lane(v, 0));
  if (b + 1 < B) store<f32>(at + ld, f32x4.extract_lane(v, 1));
  if (b + 2 < B) store<f32>(at + 2 * ld, f32x4.extract_lane(v, 2));
  if (b + 3 < B) store<f32>(at + 3 * ld, f32x4.extract_lane(v, 3));
}

// xt[k, b] = x[b, k] for b < B, 0 for B <= b < Bp.
function transpose(xt: usize, x: usize, B: i32, K: i32, Bp: i32): void {
  const ld = <usize>Bp << 2;
  for (let b = 0; b < B; b++) {
    const xr = x + (<usize>b * <usize>K << 2);
    const col = xt + (<usize>b << 2);
    for (let k = 0; k < K; k++) store<f32>(col + <usize>k * ld, load<f32>(xr + (<usize>k << 2)));
  }
  for (let b = B; b < Bp; b++) {
    const col = xt + (<usize>b << 2);
    for (let k = 0; k < K; k++) store<f32>(col + <usize>k * ld, 0);
  }
}

// acc[n] += |a[n]·b[n]|: first-order Taylor importance |w·∂L/∂w| summed over batches
// (Molchanov et al., "Importance Estimation for Neural Network Pruning", CVPR 2019). Element-wise,
// so v128 and f32_abs_mul_acc_ref give the same bits.
export function f32_abs_mul_acc(acc: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(acc + o, f32x4.add(v128.load(acc + o), f32x4.abs(f32x4.mul(v128.load(a + o), v128.load(b + o)))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(acc + o, load<f32>(acc + o) + Mathf.abs(load<f32>(a + o) * load<f32>(b + o)));
  }
}

export function f32_abs_mul_acc_ref(acc: usize, a: usize, b: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(acc + o, load<f32>(acc + o) + Mathf.abs(load<f32>(a + o) * load<f32>(b + o)));
  }
}

// Per column n of activations x[B,N]: absSum[n] += Σ_b |x[b,n]| and zeros[n] += #{b: x[b,n] == 0}
// (as f32, exact below 2^24 rows), both in ascending b. Columns are lanes, so each column keeps
// that order and f32_col_act_stats_ref gives the same bits. Mean |activation| and APoZ (the
// average percentage of zeros, Hu et al. 2016, arXiv:1607.03250) follow by dividing by the rows.
export function f32_col_act_stats(absSum: usize, zeros: usize, x: usize, B: i32, N: i32): void {
  const ld = <usize>N << 2;
  const vzero = f32x4.splat(0);
  const vone = f32x4.splat(1);
  let n = 0;
  for (; n + 4 <= N; n += 4) {
    const o = <usize>n << 2;
    let s = v128.load(absSum + o);
    let z = v128.load(zeros + o);
    let at = x + o;
    for (let b = 0; b < B; b++) {
      const v = v128.load(at);
      s = f32x4.add(s, f32x4.abs(v));
      z = f32x4.add(z, v128.and(f32x4.eq(v, vzero), vone));
      at += ld;
    }
    v128.store(absSum + o, s);
    v128.store(zeros + o, z);
  }
  for (; n < N; n++) colStats(absSum, zeros, x, B, N, n);
}

export function f32_col_act_stats_ref(absSum: usize, zeros: usize, x: usize, B: i32, N: i32): void {
  for (let n = 0; n < N; n++) colStats(absSum, zeros, x, B, N, n);
}

@inline function colStats(absSum: usize, zeros: usize, x: usize, B: i32, N: i32, n: i32): void {
  const o = <usize>n << 2;
  let s = load<f32>(absSum + o);
  let z = load<f32>(zeros + o);
  for (let b = 0; b < B; b++) {
    const v = load<f32>(x + (<usize>(b * N + n) << 2));
    s += Mathf.abs(v);
    if (v == 0) z += 1;
  }
  store<f32>(absSum + o, s);
  store<f32>(zeros + o, z);
}
