// Weight-only int4 products: y[M,N] f32 = act(x·wᵀ + bias) with x [M,K] f32 and 4-bit codes q
// [N,K] in groups of G consecutive k along each row, one scale s and zero point z per group:
//   p[m,n,g] = Σ_{k in g} x[m,k]·f32(q[n,k] − z[n,g])       f32, ascending k, from +0
//   y[m,n]   = Σ_g p[m,n,g]·s[n,g]  + bias[n]                f32, ascending g, from +0
// then max(·, 0) when relu != 0. q in [−8, 7] (symmetric, z = 0) or [0, 15] (affine, z in
// [0, 15]); q − z is an exact small integer, so every term is x times the dequantised weight
// over s, and the scale is applied once per group instead of once per weight. G is a multiple of
// 4 and need not divide K: the last group is shorter. The _ref twin performs the same f32
// operations in the same order, so the two agree bit for bit. bias == 0 means none (adds +0).
//
// Layout (i4_gemm_pack_w / i4_gemm_pack_params, once per model): codes are stored as unsigned
// nibbles u = q + offset (offset 8 for symmetric codes, 0 for affine) in panels of 8 rows of w.
// One v128 holds 4 k × 8 rows: byte b carries (row b & 7, k0 + (b >> 3)) in its low nibble and
// (row b & 7, k0 + 2 + (b >> 3)) in its high one, so a mask and a shift give k0 | k1 and k2 | k3
// as 16 bytes in row order, and one i8x16.sub of the group's zero points (z + offset, twice 8
// bytes) gives q − z for 16 weights at once. Per panel and group: 8 f32 scales, then the 16 zero
// point bytes. K is padded to K4, a multiple of 4; the padding only ever meets an x of +0 (adding
// ±0 to a sum that started at +0 changes nothing), and x is never read past K.
// M == 1 unpacks and multiplies in one pass. Otherwise each panel is unpacked once into the
// scratch dq [K4][8] f32 of q − z, and 4x8 tiles of rows run over it, their group sums scaled
// into ACC at each group's end.
//
// TILE (ragged corners) and ACC live at the end of the caller's scratch, not in static memory:
// the threaded core runs one instance per thread over one shared memory, and threads splitting
// a product by rows must not write each other's tiles. Each call points them anew.

const NR = 8;
const MR = 4;
const TILE_BYTES = MR * NR * 4;
let TILE: usize = 0;
let ACC: usize = 0;

@inline function depth(K: i32): i32 {
  return (K + 3) & ~3;
}

@inline function groupsOf(K: i32, G: i32): i32 {
  return (K + G - 1) / G;
}

export function i4_gemm_packed_bytes(N: i32, K: i32): i32 {
  return ((N + NR - 1) >> 3) * depth(K) * 4;
}

export function i4_gemm_params_bytes(N: i32, K: i32, G: i32): i32 {
  return ((N + NR - 1) >> 3) * groupsOf(K, G) * 64;
}

export function i4_gemm_scratch_bytes(M: i32, K: i32): i32 {
  return panelBytes(M, K) + 2 * TILE_BYTES;
}

// The unpacked panel dq [K4][8] f32, which one row does without.
@inline function panelBytes(M: i32, K: i32): i32 {
  return M == 1 ? 0 : depth(K) * 32;
}

@inline function code(q: usize, offset: i32, N: i32, K: i32, n: i32, k: i32): i32 {
  return n < N && k < K ? <i32>load<i8>(q + <usize>n * <usize>K + <usize>k) + offset : 0;
}

// wp = the codes q [N,K] i8 plus offset as nibbles in the panel layout.
export function i4_gemm_pack_w(wp: usize, q: usize, offset: i32, N: i32, K: i32): void {
  const panels = (N + NR - 1) >> 3;
  const kp = depth(K);
  for (let p = 0; p < panels; p++) {
    for (let k0 = 0; k0 < kp; k0 += 4) {
      const dst = wp + <usize>p * <usize>kp * 4 + (<usize>k0 << 2);
      for (let b = 0; b < 16; b++) {
        const n = p * NR + (b & 7);
        const k = k0 + (b >> 3);
        const lo = code(q, offset, N, K, n, k);
        const hi = code(q, offset, N, K, n, k + 2);
        store<u8>(dst + <usize>b, <u8>((lo & 15) | ((hi & 15) << 4)));
      }
    }
  }
}

// sp = per panel and group: scale[n,g] for its 8 rows (f32), then zp[n,g] + offset for the 8 rows
// twice (bytes); scales f32 and zps i32 [N, ceil(K/G)], zps 0 for none; rows past N get 0.
export function i4_gemm_pack_params(sp: usize, scales: usize, zps: usize, offset: i32, N: i32, K: i32, G: i32): void {
  const panels = (N + NR - 1) >> 3;
  const groups = groupsOf(K, G);
  for (let p = 0; p < panels; p++) {
    for (let g = 0; g < groups; g++) {
      const dst = sp + (<usize>(p * groups + g) << 6);
      for (let c = 0; c < NR; c++) {
        const n = p * NR + c;
        const at = (<usize>n * <usize>groups + <usize>g) << 2;
        const z: i32 = n < N ? (zps != 0 ? load<i32>(zps + at) : 0) + offset : 0;
        store<f32>(dst + (<usize>c << 2), n < N ? load<f32>(scales + at) : 0);
        store<u8>(dst + 32 + <usize>c, <u8>z);
        store<u8>(dst + 40 + <usize>c, <u8>z);
      }
    }
  }
}

// y [M,N] from x [M,K] f32 and the packed codes and parameters; dq: scratch of
// i4_gemm_scratch_bytes(M, K). Reference: i4_gemm_f32_ref.
export function i4_gemm_f32(y: usize, x: usize, wp: usize, sp: usize, dq: usize, M: i32, N: i32, K: i32, G: i32, bias: usize, relu: i32): void {
  if (M <= 0 || N <= 0) return;
  TILE = dq + <usize>panelBytes(M, K);
  ACC = TILE + TILE_BYTES;
  const panels = (N + NR - 1) >> 3;
  const ldy = <usize>N << 2;
  const ldx = <usize>K << 2;
  const kp = depth(K);
  for (let p = 0; p < panels; p++) {
    const n = p * NR;
    const nr = min(NR, N - n);
    const pw = wp + <usize>p * <usize>kp * 4;
    const ps = sp + (<usize>(p * groupsOf(K, G)) << 6);
    if (M == 1) {
      const dst = nr == NR ? y + (<usize>n << 2) : TILE;
      gemv(dst, x, pw, ps, K, G, bias, n, nr, relu != 0);
      if (nr < NR) corner(y + (<usize>n << 2), ldy, 1, nr);
      continue;
    }
    unpackPanel(dq, pw, ps, K, G);
    for (let i = 0; i < M; i += MR) {
      const mr = min(MR, M - i);
      const xr = x + <usize>i * ldx;
      const out = y + <usize>i * ldy + (<usize>n << 2);
      if (mr == MR) {
        const full = nr == NR;
        tile4(full ? out : TILE, full ? ldy : NR * 4, xr, ldx, dq, ps, K, G, bias, n, nr, relu != 0);
        if (!full) corner(out, ldy, MR, nr);
      } else {
        for (let r = 0; r < mr; r++) {
          tile1(TILE, xr + <usize>r * ldx, dq, ps, K, G, bias, n, nr, relu != 0);
          corner(out + <usize>r * ldy, ldy, 1, nr);
        }
      }
    }
  }
}

function corner(out: usize, ldo: usize, mr: i32, nr: i32): void {
  for (let r = 0; r < mr; r++) memory.copy(out + <usize>r * ldo, TILE + <usize>(r * NR * 4), <usize>nr << 2);
}

// Bias of the panel's columns n..n+7, zero past nr (no read beyond the bias array).
@inline function biasAt(bias: usize, n: i32, nr: i32, half: i32): v128 {
  if (bias == 0) return f32x4.splat(0);
  if (nr == NR) return v128.load(bias + (<usize>(n + half * 4) << 2));
  let v = f32x4.splat(0);
  const c = half * 4;
  if (c < nr) v = f32x4.replace_lane(v, 0, load<f32>(bias + (<usize>(n + c) << 2)));
  if (c + 1 < nr) v = f32x4.replace_lane(v, 1, load<f32>(bias + (<usize>(n + c + 1) << 2)));
  if (c + 2 < nr) v = f32x4.replace_lane(v, 2, load<f32>(bias + (<usize>(n + c + 2) << 2)));
  if (c + 3 < nr) v = f32x4.replace_lane(v, 3, load<f32>(bias + (<usize>(n + c + 3) << 2)));
  return v;
}

@inline function finish(dst: usize, a0: v128, a1: v128, b0: v128, b1: v128, relu: bool): void {
  let v0 = f32x4.add(a0, b0), v1 = f32x4.add(a1, b1);
  if (relu) {
    v0 = f32x4.max(v0, f32x4.splat(0));
    v1 = f32x4.max(v1, f32x4.splat(0));
  }
  v128.store(dst, v0);
  v128.store(dst, v1, 16);
}

// 16 bytes of nibbles minus the group's zero points: (q − z) of k0 | k1 (lo) and k2 | k3 (hi),
// 8 rows each, as i8 lanes in [−15, 15].
@inline function lowCodes(v: v128, z: v128): v128 {
  return i8x16.sub(v128.and(v, i8x16.splat(15)), z);
}

@inline function highCodes(v: v128, z: v128): v128 {
  return i8x16.sub(i8x16.shr_u(v, 4), z);
}

// 8 values in i16 lanes -> f32 of rows 0-3 (half 0) or 4-7 (half 1).
@inline function weights(h: v128, half: i32): v128 {
  return f32x4.convert_i32x4_s(half == 0 ? i32x4.extend_low_i16x8_s(h) : i32x4.extend_high_i16x8_s(h));
}

function unpackPanel(dq: usize, pw: usize, ps: usize, K: i32, G: i32): void {
  const kp = depth(K);
  for (let k0 = 0; k0 < kp; k0 += G) {
    const z = v128.load(ps + (<usize>(k0 / G) << 6), 32);
    const kend = min(kp, k0 + G);
    for (let k = k0; k < kend; k += 4) {
      const v = v128.load(pw + (<usize>k << 2));
      const lo = lowCodes(v, z), hi = highCodes(v, z);
      const d = dq + (<usize>k << 5);
      let h = i16x8.extend_low_i8x16_s(lo);
      v128.store(d, weights(h, 0));
      v128.store(d, weights(h, 1), 16);
      h = i16x8.extend_high_i8x16_s(lo);
      v128.store(d, weights(h, 0), 32);
      v128.store(d, weights(h, 1), 48);
      h = i16x8.extend_low_i8x16_s(hi);
      v128.store(d, weights(h, 0), 64);
      v128.store(d, weights(h, 1), 80);
      h = i16x8.extend_high_i8x16_s(hi);
      v128.store(d, weights(h, 0), 96);
      v128.store(d, weights(h, 1), 112);
    }
  }
}

// One row against the packed codes, unpacking as it goes (M == 1).
function gemv(dst: usize, x: usize, pw: usize, ps: usize, K: i32, G: i32, bias: usize, n: i32, nr: i32, relu: bool): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  for (let k0 = 0; k0 < K; k0 += G) {
    const pg = ps + (<usize>(k0 / G) << 6);
    const z = v128.load(pg, 32);
    let p0 = f32x4.splat(0), p1 = f32x4.splat(0);
    const kend = min(K, k0 + G);
    for (let k = k0; k < kend; k += 4) {
      const v = v128.load(pw + (<usize>k << 2));
      const lo = lowCodes(v, z), hi = highCodes(v, z);
      const xk = x + (<usize>k << 2);
      // Written out four times on purpose: as a loop over the four k of the block V8 keeps the
      // branches and the GEMV runs at half the speed. x past K (the last block when K is not a
      // multiple of 4) is taken as +0, never read.
      const left = K - k;
      let xv = v128.load32_splat(xk);
      let h = i16x8.extend_low_i8x16_s(lo);
      p0 = f32x4.add(p0, f32x4.mul(xv, weights(h, 0)));
      p1 = f32x4.add(p1, f32x4.mul(xv, weights(h, 1)));
      xv = left > 1 ? v128.load32_splat(xk, 4) : f32x4.splat(0);
      h = i16x8.extend_high_i8x16_s(lo);
      p0 = f32x4.add(p0, f32x4.mul(xv, weights(h, 0)));
      p1 = f32x4.add(p1, f32x4.mul(xv, weights(h, 1)));
      xv = left > 2 ? v128.load32_splat(xk, 8) : f32x4.splat(0);
      h = i16x8.extend_low_i8x16_s(hi);
      p0 = f32x4.add(p0, f32x4.mul(xv, weights(h, 0)));
      p1 = f32x4.add(p1, f32x4.mul(xv, weights(h, 1)));
      xv = left > 3 ? v128.load32_splat(xk, 12) : f32x4.splat(0);
      h = i16x8.extend_high_i8x16_s(hi);
      p0 = f32x4.add(p0, f32x4.mul(xv, weights(h, 0)));
      p1 = f32x4.add(p1, f32x4.mul(xv, weights(h, 1)));
    }
    a0 = f32x4.add(a0, f32x4.mul(p0, v128.load(pg)));
    a1 = f32x4.add(a1, f32x4.mul(p1, v128.load(pg, 16)));
  }
  finish(dst, a0, a1, biasAt(bias, n, nr, 0), biasAt(bias, n, nr, 1), relu);
}

// acc (at ACC + 32·r) += p·s for one row's 8 outputs.
@inline function scaleInto(r: usize, p0: v128, p1: v128, s0: v128, s1: v128): void {
  const at = ACC + (r << 5);
  v128.store(at, f32x4.add(v128.load(at), f32x4.mul(p0, s0)));
  v128.store(at, f32x4.add(v128.load(at, 16), f32x4.mul(p1, s1)), 16);
}

// Four rows of x (ldx bytes apart) against the unpacked panel dq [K4][8].
function tile4(dst: usize, ldd: usize, x: usize, ldx: usize, dq: usize, ps: usize, K: i32, G: i32, bias: usize, n: i32, nr: i32, relu: bool): void {
  memory.fill(ACC, 0, MR * NR * 4);
  const x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx;
  for (let k0 = 0; k0 < K; k0 += G) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    const kend = min(K, k0 + G);
    for (let k = k0; k < kend; k++) {
      const d = dq + (<usize>k << 5);
      const b0 = v128.load(d), b1 = v128.load(d, 16);
      const o = <usize>k << 2;
      let a = v128.load32_splat(x + o);
      c00 = f32x4.add(c00, f32x4.mul(a, b0)); c01 = f32x4.add(c01, f32x4.mul(a, b1));
      a = v128.load32_splat(x1 + o);
      c10 = f32x4.add(c10, f32x4.mul(a, b0)); c11 = f32x4.add(c11, f32x4.mul(a, b1));
      a = v128.load32_splat(x2 + o);
      c20 = f32x4.add(c20, f32x4.mul(a, b0)); c21 = f32x4.add(c21, f32x4.mul(a, b1));
      a = v128.load32_splat(x3 + o);
      c30 = f32x4.add(c30, f32x4.mul(a, b0)); c31 = f32x4.add(c31, f32x4.mul(a, b1));
    }
    const pg = ps + (<usize>(k0 / G) << 6);
    const s0 = v128.load(pg), s1 = v128.load(pg, 16);
    scaleInto(0, c00, c01, s0, s1);
    scaleInto(1, c10, c11, s0, s1);
    scaleInto(2, c20, c21, s0, s1);
    scaleInto(3, c30, c31, s0, s1);
  }
  const b0 = biasAt(bias, n, nr, 0), b1 = biasAt(bias, n, nr, 1);
  for (let r = 0; r < MR; r++) finish(dst + <usize>r * ldd, v128.load(ACC + (<usize>r << 5)), v128.load(ACC + (<usize>r << 5), 16), b0, b1, relu);
}

function tile1(dst: usize, x: usize, dq: usize, ps: usize, K: i32, G: i32, bias: usize, n: i32, nr: i32, relu: bool): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  for (let k0 = 0; k0 < K; k0 += G) {
    let p0 = f32x4.splat(0), p1 = f32x4.splat(0);
    const kend = min(K, k0 + G);
    for (let k = k0; k < kend; k++) {
      const d = dq + (<usize>k << 5);
      const a = v128.load32_splat(x + (<usize>k << 2));
      p0 = f32x4.add(p0, f32x4.mul(a, v128.load(d)));
      p1 = f32x4.add(p1, f32x4.mul(a, v128.load(d, 16)));
    }
    const pg = ps + (<usize>(k0 / G) << 6);
    a0 = f32x4.add(a0, f32x4.mul(p0, v128.load(pg)));
    a1 = f32x4.add(a1, f32x4.mul(p1, v128.load(pg, 16)));
  }
  finish(dst, a0, a1, biasAt(bias, n, nr, 0), biasAt(bias, n, nr, 1), relu);
}

// Scalar twin over the unpacked codes q [N,K] i8, scales [N, ceil(K/G)] f32 and zps [N,
// ceil(K/G)] i32 (0 for none).
export function i4_gemm_f32_ref(y: usize, x: usize, q: usize, scales: usize, zps: usize, M: i32, N: i32, K: i32, G: i32, bias: usize, relu: i32): void {
  const groups = groupsOf(K, G);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc: f32 = 0;
      for (let g = 0; g < groups; g++) {
        const at = (<usize>n * <usize>groups + <usize>g) << 2;
        const z: i32 = zps != 0 ? load<i32>(zps + at) : 0;
        let p: f32 = 0;
        for (let k = g * G; k < min(K, (g + 1) * G); k++) {
          const w = <f32>(<i32>load<i8>(q + <usize>n * <usize>K + <usize>k) - z);
          p += load<f32>(x + ((<usize>m * <usize>K + <usize>k) << 2)) * w;
        }
        acc += p * load<f32>(scales + at);
      }
      let v = acc + (bias != 0 ? load<f32>(bias + (<usize>n << 2)) : <f32>0);
      if (relu != 0) v = max<f32>(v, 0);
      store<f32>(y + ((<usize>m * <usize>N + <usize>n) << 2), v);
    }
  }
}
