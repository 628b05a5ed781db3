// Quantized matrix products for y = x·wᵀ with x [M,K] of u8 or i8 (one zero point zx) and
// w [N,K] of i8 (one zero point zw[n] per row, or none). The i32 accumulator of y[m,n] is
//   acc = Σ_k (x[m,k] − zx)·(w[n,k] − zw[n])
// exact in wrapping i32 arithmetic, so every summation order gives the same bits and the SIMD
// kernels equal their _ref twins for any input. The host keeps |acc| inside i32 (K <= 32768:
// each product is at most 255·255 in magnitude). Three epilogues:
//   i8_gemm_i32  c[M,N] i32 = acc
//   i8_gemm_f32  y[M,N] f32 = f32(acc)·(xs·ws[n]) + bias[n], then max(·, 0) when relu != 0
//   i8_gemm_f32_rows  the same with a scale and zero point per row of x (xq: f32 xs, i32 zx
//                per row, as f32_quantize_dynamic_rows writes them)
//   i8_gemm_u8   q[M,N] u8  = clamp(nearest(v·(1/ys)) + zy, 0, 255) with v the f32 value above:
//                dequantise, then quantise exactly as f32_quantize_u8 does, so the fused path and
//                the unfused one give the same bytes.
// The f32 steps run in the order written (f32 products and sums, no fused multiply-add) in both
// the kernels and the twins. bias == 0 means none (adds +0, as the twins do).
//
// Layout. Zero points are subtracted while packing, into i16: (x − zx) and (w − zw) lie in
// [−255, 255]. The weights are packed once (i8_gemm_pack_w) into panels of NR = 8 rows of w;
// inside a panel, k runs in pairs, and each pair holds 8 × (w[n,2t], w[n,2t+1]) as 16 i16, so one
// v128 holds the pair of four outputs. x is packed at each call into the scratch `ap` the host
// provides (i8_gemm_scratch_bytes): blocks of MR = 4 rows, each pair as 4 × (x[m,2t], x[m,2t+1]);
// x == 0 means ap holds them already, in blocks of 4 rows also when M == 1 (u8_im2row_packed
// writes them for the convolution, which then needs no [M, K] matrix and no packing pass).
// A 32-bit splat of one row's pair against a weight vector is one i32x4.dot_i16x8_s: four
// outputs advance by two k each. The 4x8 tile keeps 8 i32x4 accumulators; with the two weight
// vectors, the splat and a product that is 12 of the 15 xmm registers V8 allocates on x64. K is
// padded to a multiple of 4 with zeros (they add nothing), rows past M and columns past N are
// computed in TILE and dropped. M == 1 packs x as one plain row and runs a 1x8 tile.
// see: XNNPACK qs8 GEMM micro-kernels (the pair-interleaved "c2" packing)

import { pairAt, pairStore4, row8 } from "./i8-pairs";

const MR = 4;
const NR = 8;
// Weight panels per column block: 64 outputs × K pairs stay in L2 while every row block passes.
const NCP = 8;

// The ragged-tile buffer, then for each of the NCP panels of a column block the 8 weight scales
// ws[n] and the 8 biases, zero past N (no read beyond ws or bias), set once per block rather than
// once per tile. These are the instance's own globals: an instance of the threaded
// core (one per thread, all over one shared memory) is pointed at a block of its own by
// i8_gemm_use_tile, so threads never write each other's tiles.
const TILE_BYTES: usize = MR * NR * 4;
const PANEL_BYTES: usize = NCP * 2 * NR * 4;
let TILE: usize = memory.data(<i32>TILE_BYTES, 16);
let PANEL: usize = memory.data(<i32>PANEL_BYTES, 16);

// Bytes of the block one thread's int8 products need (16-byte aligned).
export function i8_gemm_tile_bytes(): usize {
  return TILE_BYTES + PANEL_BYTES;
}

// From now on this instance uses the block at p (i8_gemm_tile_bytes() bytes, 16-byte aligned)
// instead of its static one.
export function i8_gemm_use_tile(p: usize): void {
  TILE = p;
  PANEL = p + TILE_BYTES;
}

const MODE_I32 = 0;
const MODE_F32 = 1;
const MODE_U8 = 2;

// The epilogue's parameters for the current call: every entry point sets all of them (a value
// left from an earlier call would leak into this one), then tiles read them.
let eXs: f32 = 0;
// Per-row x parameters (8 bytes a row: f32 scale, i32 zero point), or 0 for eXs and one zx.
let eRows: usize = 0;
let eM: i32 = 0;
let eWs: usize = 0;
let eBias: usize = 0;
let eRelu = false;
let eInv: f32 = 0;
let eZy: i32 = 0;

// K rounded up to the packed depth.
@inline function depth(K: i32): i32 {
  return (K + 3) & ~3;
}

// Bytes of the packed weights of an [N,K] matrix.
export function i8_gemm_packed_bytes(N: i32, K: i32): i32 {
  return ((N + NR - 1) >> 3) * depth(K) * 16;
}

// Bytes of the scratch the kernels pack x [M,K] into.
export function i8_gemm_scratch_bytes(M: i32, K: i32): i32 {
  return M == 1 ? depth(K) * 2 : ((M + MR - 1) >> 2) * depth(K) * 8;
}

// wp = w [N,K] i8 minus zw[n] (i32 [N], or 0 for none), packed as described above.
export function i8_gemm_pack_w(wp: usize, w: usize, zw: usize, N: i32, K: i32): void {
  const kp = depth(K);
  const panels = (N + NR - 1) >> 3;
  for (let p = 0; p < panels; p++) {
    const base = wp + <usize>p * <usize>kp * 16;
    for (let c = 0; c < NR; c++) {
      const n = p * NR + c;
      const z: i32 = n < N && zw != 0 ? load<i32>(zw + (<usize>n << 2)) : 0;
      const row = w + <usize>n * <usize>K;
      for (let k = 0; k < kp; k++) {
        const v: i32 = n < N && k < K ? <i32>load<i8>(row + <usize>k) - z : 0;
        store<i16>(base + ((<usize>(k >> 1) * 16 + <usize>(c * 2 + (k & 1))) << 1), <i16>v);
      }
    }
  }
}

// c[M,N] i32 = acc. Reference: i8_gemm_i32_ref.
export function i8_gemm_i32(c: usize, x: usize, xSigned: i32, zx: i32, wp: usize, ap: usize, M: i32, N: i32, K: i32): void {
  setEpilogue(1, 0, 0, 0, 1, 0);
  gemm(MODE_I32, c, x, xSigned != 0, zx, wp, ap, M, N, K);
}

// y[M,N] f32 = f32(acc)·(xs·ws[n]) + bias[n], relu optional. Reference: i8_gemm_f32_ref.
export function i8_gemm_f32(y: usize, x: usize, xSigned: i32, zx: i32, xs: f32, wp: usize, ap: usize, M: i32, N: i32, K: i32, ws: usize, bias: usize, relu: i32): void {
  setEpilogue(xs, ws, bias, relu, 1, 0);
  gemm(MODE_F32, y, x, xSigned != 0, zx, wp, ap, M, N, K);
}

// i8_gemm_f32 with x's scale and zero point per row from xq. Reference: i8_gemm_f32_rows_ref.
export function i8_gemm_f32_rows(y: usize, x: usize, xSigned: i32, xq: usize, wp: usize, ap: usize, M: i32, N: i32, K: i32, ws: usize, bias: usize, relu: i32): void {
  setEpilogue(0, ws, bias, relu, 1, 0);
  eRows = xq;
  eM = M;
  gemm(MODE_F32, y, x, xSigned != 0, 0, wp, ap, M, N, K);
}

// q[M,N] u8 = quantize(f32 epilogue, ys, zy). Reference: i8_gemm_u8_ref.
export function i8_gemm_u8(q: usize, x: usize, xSigned: i32, zx: i32, xs: f32, wp: usize, ap: usize, M: i32, N: i32, K: i32, ws: usize, bias: usize, relu: i32, ys: f32, zy: i32): void {
  setEpilogue(xs, ws, bias, relu, ys, zy);
  gemm(MODE_U8, q, x, xSigned != 0, zx, wp, ap, M, N, K);
}

function setEpilogue(xs: f32, ws: usize, bias: usize, relu: i32, ys: f32, zy: i32): void {
  eXs = xs;
  eRows = 0;
  eWs = ws;
  eBias = bias;
  eRelu = relu != 0;
  eInv = <f32>1.0 / ys;
  eZy = zy;
}

// x == 0: ap already holds x in the 4-row block layout (u8_im2row_packed writes it), M == 1
// included; zx and signed then only matter to the epilogue's per-row parameters (none).
function gemm(mode: i32, out: usize, x: usize, signed: bool, zx: i32, wp: usize, ap: usize, M: i32, N: i32, K: i32): void {
  if (M <= 0 || N <= 0) return;
  const kp = depth(K);
  const esize: usize = mode == MODE_U8 ? 1 : 4;
  const ldo = <usize>N * esize;
  const panels = (N + NR - 1) >> 3;
  const panelBytes = <usize>kp * 16;
  if (M == 1 && x != 0) {
    packRow(ap, x, signed, zx, K, kp);
    for (let p = 0; p < panels; p++) {
      const n = p * NR;
      const nr = min(NR, N - n);
      preparePanels(mode, n, n + nr);
      const pb = wp + <usize>p * panelBytes;
      if (nr == NR) {
        micro1(mode, ap, pb, kp, out + <usize>n * esize, xsOf(0), PANEL);
      } else {
        micro1(mode, ap, pb, kp, TILE, xsOf(0), PANEL);
        corner(out + <usize>n * esize, ldo, 1, nr, esize);
      }
    }
    return;
  }
  if (x != 0) packA(ap, x, signed, zx, M, K, kp);
  const blockBytes = <usize>kp * 8;
  for (let jp = 0; jp < panels; jp += NCP) {
    const jend = min(panels, jp + NCP);
    preparePanels(mode, jp * NR, min(N, jend * NR));
    for (let i = 0; i < M; i += MR) {
      const mr = min(MR, M - i);
      const pa = ap + <usize>(i >> 2) * blockBytes;
      const orow = out + <usize>i * ldo;
      for (let p = jp; p < jend; p++) {
        const n = p * NR;
        const nr = min(NR, N - n);
        const pb = wp + <usize>p * panelBytes;
        const pe = PANEL + <usize>(p - jp) * (2 * NR * 4);
        if (mr == MR && nr == NR) {
          micro4(mode, pa, pb, kp, orow + <usize>n * esize, ldo, i, pe);
        } else {
          micro4(mode, pa, pb, kp, TILE, NR * 4, i, pe);
          corner(orow + <usize>n * esize, ldo, mr, nr, esize);
        }
      }
    }
  }
}

// x's scale for row m: per row, or the one scale; rows past M (tile padding) get 0.
@inline function xsOf(m: i32): f32 {
  if (eRows == 0) return eXs;
  return m < eM ? load<f32>(eRows + (<usize>m << 3)) : 0;
}

// x's zero point for row m (per row, or the one zx).
@inline function zxOf(zx: i32, m: i32): i32 {
  return eRows != 0 && m < eM ? load<i32>(eRows + (<usize>m << 3), 4) : zx;
}

// The epilogue's ws and bias of outputs [n0, n1) (at most NCP panels) into PANEL, 8 outputs a
// panel, zeros past n1.
function preparePanels(mode: i32, n0: i32, n1: i32): void {
  if (mode == MODE_I32) return;
  let pe = PANEL;
  for (let n = n0; n < n1; n += NR) {
    for (let c = 0; c < NR; c++) {
      const o = <usize>(n + c) << 2;
      const live = n + c < n1;
      store<f32>(pe + (<usize>c << 2), live ? load<f32>(eWs + o) : 0);
      store<f32>(pe + (<usize>(NR + c) << 2), live && eBias != 0 ? load<f32>(eBias + o) : 0);
    }
    pe += 2 * NR * 4;
  }
}

// Copies the valid mr x nr corner of TILE (rows NR·4 bytes apart) to out.
function corner(out: usize, ldo: usize, mr: i32, nr: i32, esize: usize): void {
  for (let r = 0; r < mr; r++) memory.copy(out + <usize>r * ldo, TILE + <usize>(r * NR * 4), <usize>nr * esize);
}

@inline function xAt(x: usize, signed: bool, at: usize): i32 {
  return signed ? <i32>load<i8>(x + at) : <i32>load<u8>(x + at);
}

// x [M,K] -> ap: blocks of 4 rows, pairs of k, rows past M and k past K zero.
function packA(ap: usize, x: usize, signed: bool, zx: i32, M: i32, K: i32, kp: i32): void {
  const zero = i32x4.splat(0);
  const ldx = <usize>K;
  for (let i = 0; i < M; i += MR) {
    const dst = ap + <usize>(i >> 2) * <usize>kp * 8;
    const mr = min(MR, M - i);
    const row = x + <usize>i * ldx;
    const z0 = i16x8.splat(<i16>zxOf(zx, i)), z1 = i16x8.splat(<i16>zxOf(zx, i + 1));
    const z2 = i16x8.splat(<i16>zxOf(zx, i + 2)), z3 = i16x8.splat(<i16>zxOf(zx, i + 3));
    let k = 0;
    if (mr == MR) {
      for (; k + 8 <= K; k += 8) {
        const o = row + <usize>k;
        pairStore4(dst + (<usize>k << 3), row8(o, signed, z0), row8(o + ldx, signed, z1), row8(o + 2 * ldx, signed, z2), row8(o + 3 * ldx, signed, z3));
      }
    } else {
      for (; k + 8 <= K; k += 8) {
        const o = row + <usize>k;
        const r1 = mr > 1 ? row8(o + ldx, signed, z1) : zero;
        const r2 = mr > 2 ? row8(o + 2 * ldx, signed, z2) : zero;
        pairStore4(dst + (<usize>k << 3), row8(o, signed, z0), r1, r2, zero);
      }
    }
    for (; k < kp; k++) {
      for (let r = 0; r < MR; r++) {
        const v: i32 = r < mr && k < K ? xAt(row, signed, <usize>r * ldx + <usize>k) - zxOf(zx, i + r) : 0;
        store<i16>(dst + pairAt(r, k), <i16>v);
      }
    }
  }
}

// One row of x -> ap as kp i16 (pairs in order), k past K zero.
function packRow(ap: usize, x: usize, signed: bool, zx: i32, K: i32, kp: i32): void {
  zx = zxOf(zx, 0);
  const vz = i16x8.splat(<i16>zx);
  let k = 0;
  for (; k + 8 <= K; k += 8) v128.store(ap + (<usize>k << 1), row8(x + <usize>k, signed, vz));
  for (; k < kp; k++) store<i16>(ap + (<usize>k << 1), <i16>(k < K ? xAt(x, signed, <usize>k) - zx : 0));
}

// One output row's 8 accumulators (a0: outputs 0-3, a1: 4-7) through the epilogue to dst.
@inline function finish(mode: i32, dst: usize, a0: v128, a1: v128, xs: f32, pe: usize): void {
  if (mode == MODE_I32) {
    v128.store(dst, a0);
    v128.store(dst, a1, 16);
    return;
  }
  const vxs = f32x4.splat(xs);
  let v0 = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(a0), f32x4.mul(vxs, v128.load(pe))), v128.load(pe, 32));
  let v1 = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(a1), f32x4.mul(vxs, v128.load(pe, 16))), v128.load(pe, 48));
  if (eRelu) {
    const zero = f32x4.splat(0);
    v0 = f32x4.max(v0, zero);
    v1 = f32x4.max(v1, zero);
  }
  if (mode == MODE_F32) {
    v128.store(dst, v0);
    v128.store(dst, v1, 16);
    return;
  }
  const inv = f32x4.splat(eInv);
  const lo = f32x4.splat(<f32>(-eZy));
  const hi = f32x4.splat(<f32>(<i32>255 - eZy));
  const zy = i32x4.splat(eZy);
  // pmax/pmin: the same integers as max/min after the conversion (see q4 in quant.ts), fewer
  // instructions.
  const q0 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.mul(v0, inv)), lo), hi)), zy);
  const q1 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.mul(v1, inv)), lo), hi)), zy);
  const h = i16x8.narrow_i32x4_s(q0, q1);
  v128.store64_lane(dst, i8x16.narrow_i16x8_u(h, h), 0);
}

// The 4x8 tile over all of kp, one pair per turn. Not unrolled on purpose: with two pairs per
// turn the optimiser interleaves them per accumulator, keeps four weight vectors and both pairs'
// splats live, and the accumulators spill to the stack on every turn (50 against 67 GOP/s).
function micro4(mode: i32, pa: usize, pb: usize, kp: i32, dst: usize, ldd: usize, m: i32, pe: usize): void {
  let c00 = i32x4.splat(0), c01 = i32x4.splat(0);
  let c10 = i32x4.splat(0), c11 = i32x4.splat(0);
  let c20 = i32x4.splat(0), c21 = i32x4.splat(0);
  let c30 = i32x4.splat(0), c31 = i32x4.splat(0);
  const end = pb + (<usize>kp << 4);
  while (pb < end) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = i32x4.add(c00, i32x4.dot_i16x8_s(a, b0)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = i32x4.add(c10, i32x4.dot_i16x8_s(a, b0)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = i32x4.add(c20, i32x4.dot_i16x8_s(a, b0)); c21 = i32x4.add(c21, i32x4.dot_i16x8_s(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = i32x4.add(c30, i32x4.dot_i16x8_s(a, b0)); c31 = i32x4.add(c31, i32x4.dot_i16x8_s(a, b1));
    pa += 16;
    pb += 32;
  }
  finish(mode, dst, c00, c01, xsOf(m), pe);
  finish(mode, dst + ldd, c10, c11, xsOf(m + 1), pe);
  finish(mode, dst + 2 * ldd, c20, c21, xsOf(m + 2), pe);
  finish(mode, dst + 3 * ldd, c30, c31, xsOf(m + 3), pe);
}

// The 1x8 tile (M == 1): x's pairs are consecutive in ap. Two accumulator sets hide the add
// latency; integer sums make their split invisible.
function micro1(mode: i32, pa: usize, pb: usize, kp: i32, dst: usize, xs: f32, pe: usize): void {
  let c0 = i32x4.splat(0), c1 = i32x4.splat(0);
  let d0 = i32x4.splat(0), d1 = i32x4.splat(0);
  const end = pb + (<usize>kp << 4);
  while (pb < end) {
    let a = v128.load32_splat(pa);
    c0 = i32x4.add(c0, i32x4.dot_i16x8_s(a, v128.load(pb)));
    c1 = i32x4.add(c1, i32x4.dot_i16x8_s(a, v128.load(pb, 16)));
    a = v128.load32_splat(pa, 4);
    d0 = i32x4.add(d0, i32x4.dot_i16x8_s(a, v128.load(pb, 32)));
    d1 = i32x4.add(d1, i32x4.dot_i16x8_s(a, v128.load(pb, 48)));
    pa += 8;
    pb += 64;
  }
  finish(mode, dst, i32x4.add(c0, d0), i32x4.add(c1, d1), xs, pe);
}

// Scalar twins: the formulas above, one output at a time, over the unpacked x and w.

export function i8_gemm_i32_ref(c: usize, x: usize, xSigned: i32, zx: i32, w: usize, zw: usize, M: i32, N: i32, K: i32): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) store<i32>(c + ((<usize>m * <usize>N + <usize>n) << 2), accRef(x, xSigned != 0, zx, w, zw, m, n, K));
  }
}

export function i8_gemm_f32_ref(y: usize, x: usize, xSigned: i32, zx: i32, xs: f32, w: usize, zw: usize, M: i32, N: i32, K: i32, ws: usize, bias: usize, relu: i32): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const v = valueRef(accRef(x, xSigned != 0, zx, w, zw, m, n, K), xs, ws, bias, relu, n);
      store<f32>(y + ((<usize>m * <usize>N + <usize>n) << 2), v);
    }
  }
}

export function i8_gemm_f32_rows_ref(y: usize, x: usize, xSigned: i32, xq: usize, w: usize, zw: usize, M: i32, N: i32, K: i32, ws: usize, bias: usize, relu: i32): void {
  for (let m = 0; m < M; m++) {
    const xs = load<f32>(xq + (<usize>m << 3)), zx = load<i32>(xq + (<usize>m << 3), 4);
    for (let n = 0; n < N; n++) {
      const v = valueRef(accRef(x, xSigned != 0, zx, w, zw, m, n, K), xs, ws, bias, relu, n);
      store<f32>(y + ((<usize>m * <usize>N + <usize>n) << 2), v);
    }
  }
}

export function i8_gemm_u8_ref(q: usize, x: usize, xSigned: i32, zx: i32, xs: f32, w: usize, zw: usize, M: i32, N: i32, K: i32, ws: usize, bias: usize, relu: i32, ys: f32, zy: i32): void {
  const inv: f32 = <f32>1.0 / ys;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const v = valueRef(accRef(x, xSigned != 0, zx, w, zw, m, n, K), xs, ws, bias, relu, n);
      const t = min<f32>(max<f32>(nearest<f32>(v * inv), <f32>(-zy)), <f32>(<i32>255 - zy));
      store<u8>(q + <usize>m * <usize>N + <usize>n, <u8>(<i32>t + zy));
    }
  }
}

function accRef(x: usize, signed: bool, zx: i32, w: usize, zw: usize, m: i32, n: i32, K: i32): i32 {
  const z: i32 = zw != 0 ? load<i32>(zw + (<usize>n << 2)) : 0;
  let acc = 0;
  for (let k = 0; k < K; k++) {
    acc += (xAt(x, signed, <usize>m * <usize>K + <usize>k) - zx) * (<i32>load<i8>(w + <usize>n * <usize>K + <usize>k) - z);
  }
  return acc;
}

function valueRef(acc: i32, xs: f32, ws: usize, bias: usize, relu: i32, n: i32): f32 {
  const o = <usize>n << 2;
  let v: f32 = <f32>acc * (xs * load<f32>(ws + o)) + (bias != 0 ? load<f32>(bias + o) : <f32>0);
  if (relu != 0) v = max<f32>(v, 0);
  return v;
}
