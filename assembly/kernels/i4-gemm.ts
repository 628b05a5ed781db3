// Weight-only int4 products: y[M,N] f32 = act(Σ_k x[m,k]·w[n,k] + bias[n]) with x [M,K] f32 and
// w dequantised on the fly from 4-bit codes in groups of G consecutive k along each row:
//   w[n,k] = (f32(q[n,k]) − f32(zp[n,g]))·scale[n,g],   g = k / G
// q in [−8, 7] (symmetric, zp = 0) or [0, 15] (affine, zp in [0, 15]); G is a multiple of 4 and
// need not divide K: the last group is shorter. The sum starts at +0 and
// adds x·w in ascending k, one f32 product and one f32 sum per term, then the bias, then
// max(·, 0) when relu != 0: the _ref twin does exactly that, so the two agree bit for bit and
// equal an f32 product with the dequantised weights in that order. bias == 0 means none (+0).
//
// Layout (i4_gemm_pack_w / i4_gemm_pack_params, once per model): codes are stored as unsigned
// nibbles u = q + offset (offset 8 for symmetric codes, 0 for affine) in panels of 8 rows of w.
// One v128 holds 4 k × 8 rows: byte b carries (row b & 7, k0 + (b >> 3)) in its low nibble and
// (row b & 7, k0 + 2 + (b >> 3)) in its high one, so a mask and a shift give k0, k1 and k2, k3
// each as 8 bytes in row order. Per panel and group, 8 scales and 8 shifted zero points
// f32(zp + offset) sit side by side; (u − (zp + offset)) equals q − zp exactly in f32.
// K is padded to K4, a multiple of 4; the padding is never multiplied by anything but an x of 0
// (x·w then adds ±0, which leaves a sum that started at +0 unchanged), and x is never read past K.
// M == 1 unpacks and multiplies in one pass. Otherwise each panel is dequantised once into the
// scratch dq [K4][8] f32 and 4x8 tiles of rows run over it as an f32 GEMM micro-kernel does.

const NR = 8;
const MR = 4;
const TILE: usize = memory.data(MR * NR * 4, 16);

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

// sp = per panel and group: scale[n,g] for its 8 rows, then f32(zp[n,g] + offset) (scales f32
// and zps i32 [N, ceil(K/G)], zps 0 for none); rows past N get 0 and 0.
export function i4_gemm_pack_params(sp: usize, scales: usize, zps: usize, offset: i32, N: i32, K: i32, G: i32): void {
  const panels = (N + NR - 1) >> 3;
  const groups = groupsOf(K, G);
  for (let p = 0; p < panels; p++) {
    for (let g = 0; g < groups; g++) {
      const dst = sp + (<usize>(p * groups + g) << 6);
      for (let c = 0; c < NR; c++) {
        const n = p * NR + c;
        const at = (<usize>n * <usize>groups + <usize>g) << 2;
        const z: i32 = zps != 0 && n < N ? load<i32>(zps + at) : 0;
        store<f32>(dst + (<usize>c << 2), n < N ? load<f32>(scales + at) : 0);
        store<f32>(dst + (<usize>(NR + c) << 2), n < N ? <f32>(z + offset) : 0);
      }
    }
  }
}

// y [M,N] from x [M,K] f32 and the packed codes and parameters; dq: scratch of
// i4_gemm_scratch_bytes(M, K). Reference: i4_gemm_f32_ref.
export function i4_gemm_f32(y: usize, x: usize, wp: usize, sp: usize, dq: usize, M: i32, N: i32, K: i32, G: i32, bias: usize, relu: i32): void {
  if (M <= 0 || N <= 0) return;
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
    dequantPanel(dq, pw, ps, K, G);
    for (let i = 0; i < M; i += MR) {
      const mr = min(MR, M - i);
      const xr = x + <usize>i * ldx;
      const out = y + <usize>i * ldy + (<usize>n << 2);
      if (mr == MR) {
        const full = nr == NR;
        tile4(full ? out : TILE, full ? ldy : NR * 4, xr, ldx, dq, K, bias, n, nr, relu != 0);
        if (!full) corner(out, ldy, MR, nr);
      } else {
        for (let r = 0; r < mr; r++) {
          tile1(TILE, xr + <usize>r * ldx, dq, K, bias, n, nr, relu != 0);
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

// 16 bytes of nibbles -> the four k's 8 codes each, as u8 lanes: lo holds k0 | k1, hi k2 | k3.
@inline function lowNibbles(v: v128): v128 {
  return v128.and(v, i8x16.splat(15));
}

@inline function highNibbles(v: v128): v128 {
  return i8x16.shr_u(v, 4);
}

// 8 codes in u16 lanes -> dequantised f32 of rows 0-3 (half 0) or 4-7 (half 1).
@inline function weights(h: v128, half: i32, s: v128, z: v128): v128 {
  const u = half == 0 ? i32x4.extend_low_i16x8_u(h) : i32x4.extend_high_i16x8_u(h);
  return f32x4.mul(f32x4.sub(f32x4.convert_i32x4_u(u), z), s);
}

function dequantPanel(dq: usize, pw: usize, ps: usize, K: i32, G: i32): void {
  const kp = depth(K);
  for (let k0 = 0; k0 < kp; k0 += G) {
    const pg = ps + (<usize>(k0 / G) << 6);
    const s0 = v128.load(pg), s1 = v128.load(pg, 16), z0 = v128.load(pg, 32), z1 = v128.load(pg, 48);
    const kend = min(kp, k0 + G);
    for (let k = k0; k < kend; k += 4) {
      const v = v128.load(pw + (<usize>k << 2));
      const lo = lowNibbles(v), hi = highNibbles(v);
      const d = dq + (<usize>k << 5);
      let h = i16x8.extend_low_i8x16_u(lo);
      v128.store(d, weights(h, 0, s0, z0));
      v128.store(d, weights(h, 1, s1, z1), 16);
      h = i16x8.extend_high_i8x16_u(lo);
      v128.store(d, weights(h, 0, s0, z0), 32);
      v128.store(d, weights(h, 1, s1, z1), 48);
      h = i16x8.extend_low_i8x16_u(hi);
      v128.store(d, weights(h, 0, s0, z0), 64);
      v128.store(d, weights(h, 1, s1, z1), 80);
      h = i16x8.extend_high_i8x16_u(hi);
      v128.store(d, weights(h, 0, s0, z0), 96);
      v128.store(d, weights(h, 1, s1, z1), 112);
    }
  }
}

// One row against the packed codes, dequantising as it goes (M == 1).
function gemv(dst: usize, x: usize, pw: usize, ps: usize, K: i32, G: i32, bias: usize, n: i32, nr: i32, relu: bool): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  for (let k0 = 0; k0 < K; k0 += G) {
    const pg = ps + (<usize>(k0 / G) << 6);
    const s0 = v128.load(pg), s1 = v128.load(pg, 16), z0 = v128.load(pg, 32), z1 = v128.load(pg, 48);
    const kend = min(K, k0 + G);
    for (let k = k0; k < kend; k += 4) {
      const v = v128.load(pw + (<usize>k << 2));
      const lo = lowNibbles(v), hi = highNibbles(v);
      const xk = x + (<usize>k << 2);
      // x past K (the last block when K is not a multiple of 4) is taken as +0, never read.
      const left = K - k;
      let xv = v128.load32_splat(xk);
      let h = i16x8.extend_low_i8x16_u(lo);
      a0 = f32x4.add(a0, f32x4.mul(xv, weights(h, 0, s0, z0)));
      a1 = f32x4.add(a1, f32x4.mul(xv, weights(h, 1, s1, z1)));
      xv = left > 1 ? v128.load32_splat(xk, 4) : f32x4.splat(0);
      h = i16x8.extend_high_i8x16_u(lo);
      a0 = f32x4.add(a0, f32x4.mul(xv, weights(h, 0, s0, z0)));
      a1 = f32x4.add(a1, f32x4.mul(xv, weights(h, 1, s1, z1)));
      xv = left > 2 ? v128.load32_splat(xk, 8) : f32x4.splat(0);
      h = i16x8.extend_low_i8x16_u(hi);
      a0 = f32x4.add(a0, f32x4.mul(xv, weights(h, 0, s0, z0)));
      a1 = f32x4.add(a1, f32x4.mul(xv, weights(h, 1, s1, z1)));
      xv = left > 3 ? v128.load32_splat(xk, 12) : f32x4.splat(0);
      h = i16x8.extend_high_i8x16_u(hi);
      a0 = f32x4.add(a0, f32x4.mul(xv, weights(h, 0, s0, z0)));
      a1 = f32x4.add(a1, f32x4.mul(xv, weights(h, 1, s1, z1)));
    }
  }
  finish(dst, a0, a1, biasAt(bias, n, nr, 0), biasAt(bias, n, nr, 1), relu);
}

// Four rows of x (ldx bytes apart) against the dequantised panel dq [K4][8].
function tile4(dst: usize, ldd: usize, x: usize, ldx: usize, dq: usize, K: i32, bias: usize, n: i32, nr: i32, relu: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx;
  for (let k = 0; k < K; k++) {
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
  const b0 = biasAt(bias, n, nr, 0), b1 = biasAt(bias, n, nr, 1);
  finish(dst, c00, c01, b0, b1, relu);
  finish(dst + ldd, c10, c11, b0, b1, relu);
  finish(dst + 2 * ldd, c20, c21, b0, b1, relu);
  finish(dst + 3 * ldd, c30, c31, b0, b1, relu);
}

function tile1(dst: usize, x: usize, dq: usize, K: i32, bias: usize, n: i32, nr: i32, relu: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const d = dq + (<usize>k << 5);
    const a = v128.load32_splat(x + (<usize>k << 2));
    c0 = f32x4.add(c0, f32x4.mul(a, v128.load(d)));
    c1 = f32x4.add(c1, f32x4.mul(a, v128.load(d, 16)));
  }
  finish(dst, c0, c1, biasAt(bias, n, nr, 0), biasAt(bias, n, nr, 1), relu);
}

// Scalar twin over the unpacked codes q [N,K] i8, scales [N, K/G] f32 and zps [N, K/G] i32
// (0 for none).
export function i4_gemm_f32_ref(y: usize, x: usize, q: usize, scales: usize, zps: usize, M: i32, N: i32, K: i32, G: i32, bias: usize, relu: i32): void {
  const groups = groupsOf(K, G);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc: f32 = 0;
      for (let k = 0; k < K; k++) {
        const at = (<usize>n * <usize>groups + <usize>(k / G)) << 2;
        const z: f32 = zps != 0 ? <f32>load<i32>(zps + at) : 0;
        const w = (<f32>load<i8>(q + <usize>n * <usize>K + <usize>k) - z) * load<f32>(scales + at);
        acc += load<f32>(x + ((<usize>m * <usize>K + <usize>k) << 2)) * w;
      }
      let v = acc + (bias != 0 ? load<f32>(bias + (<usize>n << 2)) : <f32>0);
      if (relu != 0) v = max<f32>(v, 0);
      store<f32>(y + ((<usize>m * <usize>N + <usize>n) << 2), v);
    }
  }
}
