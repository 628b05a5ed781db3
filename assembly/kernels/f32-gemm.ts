// f32 matrix products over row-major, contiguous operands; acc != 0 adds into C, acc == 0
// overwrites it. f32 multiply then f32 add (SIMD128 has no fused multiply-add):
//   f32_gemm_nn  C[M,N] (+)= A[M,K]·B[K,N]
//   f32_gemm_nt  C[M,N] (+)= A[M,K]·B[N,K]ᵀ
//   f32_gemm_tn  C[M,N] (+)= A[K,M]ᵀ·B[K,N]
//
// Summation order, the numeric contract every path below keeps (and the _ref twins spell out):
// K is cut into blocks of KC consecutive k; within a block a partial sum starts at +0 and adds
// the products in ascending k; the partials are then added to C (or to 0) block by block. So a
// given C element has the same bits whatever the form, the batch size M, the path taken or the
// engine. Only KC enters the order; the other block sizes are free to change.
//
// Layout of the fast path (after Goto and van de Geijn): B is packed per (KC x NC) block into
// panels of NR = 8 columns, k-major; A per (MC x KC) block into panels of MR = 4 rows, k-major.
// A 4x8 micro-tile keeps its 8 f32x4 accumulators in registers for a whole k block: with the two
// B vectors, the A broadcast and a product that is 12 of the 15 xmm registers V8 hands out on
// x64, and a larger tile spills. Panels that cross M or N are zero-padded and their tiles land in
// TILE first; only the valid corner is written to C. M == 1 skips packing: each B element is used
// once, so the cost is reading B, and packing would read it twice.
// see: Goto & van de Geijn, "Anatomy of high-performance matrix multiplication", ACM TOMS 2008

const MR = 4;
const NR = 8;
const KC = 256;
const NC = 64;

const PACK_A: usize = memory.data(MR * KC * 4, 16);
const PACK_B: usize = memory.data(KC * NC * 4, 16);
const TILE: usize = memory.data(MR * NR * 4, 16);

const NN = 0;
const NT = 1;
const TN = 2;

// C[M,N] (+)= A[M,K]·B[K,N]. Reference: f32_gemm_nn_ref.
export function f32_gemm_nn(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  gemm(NN, c, a, b, M, N, K, acc != 0);
}

// C[M,N] (+)= A[M,K]·B[N,K]ᵀ, B stored [N,K] (a dense layer's weights). Reference: f32_gemm_nt_ref.
export function f32_gemm_nt(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  gemm(NT, c, a, b, M, N, K, acc != 0);
}

// C[M,N] (+)= A[K,M]ᵀ·B[K,N], A stored [K,M] (weight gradients). Reference: f32_gemm_tn_ref.
export function f32_gemm_tn(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  gemm(TN, c, a, b, M, N, K, acc != 0);
}

function gemm(form: i32, c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: bool): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!acc) memory.fill(c, 0, <usize>M * <usize>N << 2);
    return;
  }
  if (M == 1) {
    // A's single row is contiguous in every form ([1,K] or [K,1]).
    if (form == NT) gemvCols(c, a, b, N, K, acc);
    else gemvRows(c, a, b, N, K, acc);
    return;
  }
  const ldc = <usize>N << 2;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const kp = (kc + 3) & ~3;
      const add = acc || pc > 0;
      if (form == NT) packBt(b, K, jc, pc, nc, kc);
      else packB(b, N, jc, pc, nc, kc);
      for (let i = 0; i < M; i += MR) {
        const mr = min(MR, M - i);
        if (form == TN) packAt(a, M, i, pc, mr, kc);
        else packA(a, K, i, pc, mr, kc);
        const crow = c + <usize>i * ldc + (<usize>jc << 2);
        for (let j = 0; j < nc; j += NR) {
          const nr = min(NR, nc - j);
          const pb = PACK_B + (<usize>j * kp << 2);
          if (mr == MR && nr == NR) {
            micro(pb, kp, crow + (<usize>j << 2), ldc, add);
          } else {
            micro(pb, kp, TILE, NR << 2, false);
            corner(crow + (<usize>j << 2), ldc, mr, nr, add);
          }
        }
      }
    }
  }
}

// The 4x8 micro-tile over one k block: C tile (+)= PACK_A panel · B panel at pb. kp is a
// multiple of 4 (the packs pad k with zeros, which leave every partial sum's bits unchanged:
// a partial is never -0, and x + +0 == x), so the loop runs four k per turn with no tail:
// the fixed offsets fold into the loads and the loop bookkeeping is paid once per 64 products.
function micro(pb: usize, kp: i32, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let pa = PACK_A;
  const end = pb + (<usize>kp << 5);
  while (pb < end) {
    let b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let va = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(va, b0)); c01 = f32x4.add(c01, f32x4.mul(va, b1));
    va = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(va, b0)); c11 = f32x4.add(c11, f32x4.mul(va, b1));
    va = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(va, b0)); c21 = f32x4.add(c21, f32x4.mul(va, b1));
    va = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(va, b0)); c31 = f32x4.add(c31, f32x4.mul(va, b1));
    b0 = v128.load(pb, 32); b1 = v128.load(pb, 48);
    va = v128.load32_splat(pa, 16);
    c00 = f32x4.add(c00, f32x4.mul(va, b0)); c01 = f32x4.add(c01, f32x4.mul(va, b1));
    va = v128.load32_splat(pa, 20);
    c10 = f32x4.add(c10, f32x4.mul(va, b0)); c11 = f32x4.add(c11, f32x4.mul(va, b1));
    va = v128.load32_splat(pa, 24);
    c20 = f32x4.add(c20, f32x4.mul(va, b0)); c21 = f32x4.add(c21, f32x4.mul(va, b1));
    va = v128.load32_splat(pa, 28);
    c30 = f32x4.add(c30, f32x4.mul(va, b0)); c31 = f32x4.add(c31, f32x4.mul(va, b1));
    b0 = v128.load(pb, 64); b1 = v128.load(pb, 80);
    va = v128.load32_splat(pa, 32);
    c00 = f32x4.add(c00, f32x4.mul(va, b0)); c01 = f32x4.add(c01, f32x4.mul(va, b1));
    va = v128.load32_splat(pa, 36);
    c10 = f32x4.add(c10, f32x4.mul(va, b0)); c11 = f32x4.add(c11, f32x4.mul(va, b1));
    va = v128.load32_splat(pa, 40);
    c20 = f32x4.add(c20, f32x4.mul(va, b0)); c21 = f32x4.add(c21, f32x4.mul(va, b1));
    va = v128.load32_splat(pa, 44);
    c30 = f32x4.add(c30, f32x4.mul(va, b0)); c31 = f32x4.add(c31, f32x4.mul(va, b1));
    b0 = v128.load(pb, 96); b1 = v128.load(pb, 112);
    va = v128.load32_splat(pa, 48);
    c00 = f32x4.add(c00, f32x4.mul(va, b0)); c01 = f32x4.add(c01, f32x4.mul(va, b1));
    va = v128.load32_splat(pa, 52);
    c10 = f32x4.add(c10, f32x4.mul(va, b0)); c11 = f32x4.add(c11, f32x4.mul(va, b1));
    va = v128.load32_splat(pa, 56);
    c20 = f32x4.add(c20, f32x4.mul(va, b0)); c21 = f32x4.add(c21, f32x4.mul(va, b1));
    va = v128.load32_splat(pa, 60);
    c30 = f32x4.add(c30, f32x4.mul(va, b0)); c31 = f32x4.add(c31, f32x4.mul(va, b1));
    pa += 64;
    pb += 128;
  }
  if (add) {
    c00 = f32x4.add(v128.load(c), c00);
    c01 = f32x4.add(v128.load(c, 16), c01);
    c10 = f32x4.add(v128.load(c + ldc), c10);
    c11 = f32x4.add(v128.load(c + ldc, 16), c11);
    c20 = f32x4.add(v128.load(c + 2 * ldc), c20);
    c21 = f32x4.add(v128.load(c + 2 * ldc, 16), c21);
    c30 = f32x4.add(v128.load(c + 3 * ldc), c30);
    c31 = f32x4.add(v128.load(c + 3 * ldc, 16), c31);
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldc, c10);
  v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20);
  v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30);
  v128.store(c + 3 * ldc, c31, 16);
}

// Writes the valid mr x nr corner of TILE into C: c (+)= tile.
function corner(c: usize, ldc: usize, mr: i32, nr: i32, add: bool): void {
  for (let r = 0; r < mr; r++) {
    const src = TILE + (<usize>r * NR << 2);
    const dst = c + <usize>r * ldc;
    for (let s = 0; s < nr; s++) {
      const p = load<f32>(src + (<usize>s << 2));
      const at = dst + (<usize>s << 2);
      store<f32>(at, add ? load<f32>(at) + p : p);
    }
  }
}

@inline function transposeStore4(dst: usize, stride: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(dst + stride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

// Zero-fills the k rows of a packed panel from kc up to the next multiple of 4.
@inline function padK(panel: usize, width: i32, kc: i32): void {
  const from = <usize>(kc * width) << 2;
  const to = <usize>(((kc + 3) & ~3) * width) << 2;
  if (to > from) memory.fill(panel + from, 0, to - from);
}

// A[M,K] rows i..i+mr, columns pc..pc+kc -> PACK_A [kp][MR], zero rows past M.
function packA(a: usize, K: i32, i: i32, pc: i32, mr: i32, kc: i32): void {
  const lda = <usize>K << 2;
  const src = a + <usize>i * lda + (<usize>pc << 2);
  let k = 0;
  if (mr == MR) {
    for (; k + 4 <= kc; k += 4) {
      const s = src + (<usize>k << 2);
      transposeStore4(PACK_A + (<usize>k << 4), 16, v128.load(s), v128.load(s + lda), v128.load(s + 2 * lda), v128.load(s + 3 * lda));
    }
  }
  for (; k < kc; k++) {
    for (let r = 0; r < MR; r++) {
      store<f32>(PACK_A + (<usize>(k * MR + r) << 2), r < mr ? load<f32>(src + <usize>r * lda + (<usize>k << 2)) : 0);
    }
  }
  padK(PACK_A, MR, kc);
}

// A[K,M] stored, Aᵀ rows i..i+mr -> PACK_A: each k's MR values are already adjacent.
function packAt(a: usize, M: i32, i: i32, pc: i32, mr: i32, kc: i32): void {
  const lda = <usize>M << 2;
  let src = a + <usize>pc * lda + (<usize>i << 2);
  for (let k = 0; k < kc; k++) {
    const dst = PACK_A + (<usize>k << 4);
    if (mr == MR) {
      v128.store(dst, v128.load(src));
    } else {
      for (let r = 0; r < MR; r++) store<f32>(dst + (<usize>r << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
    }
    src += lda;
  }
  padK(PACK_A, MR, kc);
}

// B[K,N] rows pc.. (kc), columns jc.. (nc) -> PACK_B panels [kp][NR], zero columns past N.
function packB(b: usize, N: i32, jc: i32, pc: i32, nc: i32, kc: i32): void {
  const ldb = <usize>N << 2;
  let dst = PACK_B;
  const kp = (kc + 3) & ~3;
  for (let j = 0; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    let src = b + <usize>pc * ldb + (<usize>(jc + j) << 2);
    if (cols == NR) {
      for (let k = 0; k < kc; k++) {
        const d = dst + (<usize>k << 5);
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
        src += ldb;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let s = 0; s < NR; s++) {
          store<f32>(dst + (<usize>(k * NR + s) << 2), s < cols ? load<f32>(src + (<usize>s << 2)) : 0);
        }
        src += ldb;
      }
    }
    padK(dst, NR, kc);
    dst += <usize>kp * NR << 2;
  }
}

// B[N,K] stored, Bᵀ block -> PACK_B: a transpose, four k at a time per group of four columns.
function packBt(b: usize, K: i32, jc: i32, pc: i32, nc: i32, kc: i32): void {
  const ldb = <usize>K << 2;
  let dst = PACK_B;
  const kp = (kc + 3) & ~3;
  for (let j = 0; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    const src = b + <usize>(jc + j) * ldb + (<usize>pc << 2);
    let k = 0;
    if (cols == NR) {
      const src4 = src + 4 * ldb;
      for (; k + 4 <= kc; k += 4) {
        const ko = <usize>k << 2;
        const d = dst + (<usize>k << 5);
        transposeStore4(d, 32, v128.load(src + ko), v128.load(src + ldb + ko), v128.load(src + 2 * ldb + ko), v128.load(src + 3 * ldb + ko));
        transposeStore4(d + 16, 32, v128.load(src4 + ko), v128.load(src4 + ldb + ko), v128.load(src4 + 2 * ldb + ko), v128.load(src4 + 3 * ldb + ko));
      }
    }
    for (; k < kc; k++) {
      for (let s = 0; s < NR; s++) {
        store<f32>(dst + (<usize>(k * NR + s) << 2), s < cols ? load<f32>(src + <usize>s * ldb + (<usize>k << 2)) : 0);
      }
    }
    padK(dst, NR, kc);
    dst += <usize>kp * NR << 2;
  }
}

// c[N] (+)= a[K]·B[K,N] for one row of A: B is read once, straight from its rows.
function gemvRows(c: usize, a: usize, b: usize, N: i32, K: i32, acc: bool): void {
  const ldb = <usize>N << 2;
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    const add = acc || pc > 0;
    const ak = a + (<usize>pc << 2);
    const bk = b + <usize>pc * ldb;
    let j = 0;
    for (; j + 16 <= N; j += 16) {
      let v0 = f32x4.splat(0), v1 = f32x4.splat(0), v2 = f32x4.splat(0), v3 = f32x4.splat(0);
      let row = bk + (<usize>j << 2);
      for (let k = 0; k < kc; k++) {
        const va = v128.load32_splat(ak + (<usize>k << 2));
        v0 = f32x4.add(v0, f32x4.mul(va, v128.load(row)));
        v1 = f32x4.add(v1, f32x4.mul(va, v128.load(row, 16)));
        v2 = f32x4.add(v2, f32x4.mul(va, v128.load(row, 32)));
        v3 = f32x4.add(v3, f32x4.mul(va, v128.load(row, 48)));
        row += ldb;
      }
      const cj = c + (<usize>j << 2);
      if (add) {
        v0 = f32x4.add(v128.load(cj), v0);
        v1 = f32x4.add(v128.load(cj, 16), v1);
        v2 = f32x4.add(v128.load(cj, 32), v2);
        v3 = f32x4.add(v128.load(cj, 48), v3);
      }
      v128.store(cj, v0);
      v128.store(cj, v1, 16);
      v128.store(cj, v2, 32);
      v128.store(cj, v3, 48);
    }
    for (; j + 4 <= N; j += 4) {
      let v0 = f32x4.splat(0);
      let row = bk + (<usize>j << 2);
      for (let k = 0; k < kc; k++) {
        v0 = f32x4.add(v0, f32x4.mul(v128.load32_splat(ak + (<usize>k << 2)), v128.load(row)));
        row += ldb;
      }
      const cj = c + (<usize>j << 2);
      v128.store(cj, add ? f32x4.add(v128.load(cj), v0) : v0);
    }
    for (; j < N; j++) {
      let s: f32 = 0;
      let at = bk + (<usize>j << 2);
      for (let k = 0; k < kc; k++) {
        s += load<f32>(ak + (<usize>k << 2)) * load<f32>(at);
        at += ldb;
      }
      const cj = c + (<usize>j << 2);
      store<f32>(cj, add ? load<f32>(cj) + s : s);
    }
  }
}

// c[N] (+)= a[K]·B[N,K]ᵀ for one row of A. Each output must still sum in ascending k, so rows
// of B are transposed four by four in registers: lane r of an accumulator is output n + r.
function gemvCols(c: usize, a: usize, b: usize, N: i32, K: i32, acc: bool): void {
  const ldb = <usize>K << 2;
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    const add = acc || pc > 0;
    const ak = a + (<usize>pc << 2);
    let n = 0;
    for (; n + 8 <= N; n += 8) {
      let v0 = f32x4.splat(0), v1 = f32x4.splat(0);
      const r0 = b + <usize>n * ldb + (<usize>pc << 2);
      const r4 = r0 + 4 * ldb;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const ko = <usize>k << 2;
        const x0 = v128.load32_splat(ak + ko);
        const x1 = v128.load32_splat(ak + ko, 4);
        const x2 = v128.load32_splat(ak + ko, 8);
        const x3 = v128.load32_splat(ak + ko, 12);
        let p = v128.load(r0 + ko), q = v128.load(r0 + ldb + ko), r = v128.load(r0 + 2 * ldb + ko), s = v128.load(r0 + 3 * ldb + ko);
        let t0 = v128.shuffle<f32>(p, q, 0, 4, 1, 5);
        let t1 = v128.shuffle<f32>(p, q, 2, 6, 3, 7);
        let t2 = v128.shuffle<f32>(r, s, 0, 4, 1, 5);
        let t3 = v128.shuffle<f32>(r, s, 2, 6, 3, 7);
        v0 = f32x4.add(v0, f32x4.mul(x0, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5)));
        v0 = f32x4.add(v0, f32x4.mul(x1, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7)));
        v0 = f32x4.add(v0, f32x4.mul(x2, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5)));
        v0 = f32x4.add(v0, f32x4.mul(x3, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7)));
        p = v128.load(r4 + ko); q = v128.load(r4 + ldb + ko); r = v128.load(r4 + 2 * ldb + ko); s = v128.load(r4 + 3 * ldb + ko);
        t0 = v128.shuffle<f32>(p, q, 0, 4, 1, 5);
        t1 = v128.shuffle<f32>(p, q, 2, 6, 3, 7);
        t2 = v128.shuffle<f32>(r, s, 0, 4, 1, 5);
        t3 = v128.shuffle<f32>(r, s, 2, 6, 3, 7);
        v1 = f32x4.add(v1, f32x4.mul(x0, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5)));
        v1 = f32x4.add(v1, f32x4.mul(x1, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7)));
        v1 = f32x4.add(v1, f32x4.mul(x2, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5)));
        v1 = f32x4.add(v1, f32x4.mul(x3, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7)));
      }
      for (; k < kc; k++) {
        const ko = <usize>k << 2;
        const x = v128.load32_splat(ak + ko);
        let g = f32x4.splat(load<f32>(r0 + ko));
        g = f32x4.replace_lane(g, 1, load<f32>(r0 + ldb + ko));
        g = f32x4.replace_lane(g, 2, load<f32>(r0 + 2 * ldb + ko));
        g = f32x4.replace_lane(g, 3, load<f32>(r0 + 3 * ldb + ko));
        v0 = f32x4.add(v0, f32x4.mul(x, g));
        g = f32x4.splat(load<f32>(r4 + ko));
        g = f32x4.replace_lane(g, 1, load<f32>(r4 + ldb + ko));
        g = f32x4.replace_lane(g, 2, load<f32>(r4 + 2 * ldb + ko));
        g = f32x4.replace_lane(g, 3, load<f32>(r4 + 3 * ldb + ko));
        v1 = f32x4.add(v1, f32x4.mul(x, g));
      }
      const cn = c + (<usize>n << 2);
      if (add) {
        v0 = f32x4.add(v128.load(cn), v0);
        v1 = f32x4.add(v128.load(cn, 16), v1);
      }
      v128.store(cn, v0);
      v128.store(cn, v1, 16);
    }
    for (; n < N; n++) {
      let s: f32 = 0;
      const row = b + <usize>n * ldb + (<usize>pc << 2);
      for (let k = 0; k < kc; k++) s += load<f32>(ak + (<usize>k << 2)) * load<f32>(row + (<usize>k << 2));
      const cn = c + (<usize>n << 2);
      store<f32>(cn, add ? load<f32>(cn) + s : s);
    }
  }
}

// Scalar twins: the summation order of the header, written as plainly as possible. Element
// (i,j) of the product is Σ_k A(i,k)·B(k,j); strides say where A(i,k) and B(k,j) live.
function gemmRef(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: bool, sai: i32, sak: i32, sbk: i32, sbj: i32): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const at = c + (<usize>(i * N + j) << 2);
      let sum: f32 = acc ? load<f32>(at) : 0;
      for (let pc = 0; pc < K; pc += KC) {
        let part: f32 = 0;
        for (let k = pc; k < min(K, pc + KC); k++) {
          part += load<f32>(a + (<usize>(i * sai + k * sak) << 2)) * load<f32>(b + (<usize>(k * sbk + j * sbj) << 2));
        }
        sum += part;
      }
      store<f32>(at, sum);
    }
  }
}

export function f32_gemm_nn_ref(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  gemmRef(c, a, b, M, N, K, acc != 0, K, 1, N, 1);
}

export function f32_gemm_nt_ref(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  gemmRef(c, a, b, M, N, K, acc != 0, K, 1, 1, K);
}

export function f32_gemm_tn_ref(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  gemmRef(c, a, b, M, N, K, acc != 0, 1, M, N, 1);
}

// The arithmetic ceiling the GEMM is measured against: the micro-tile's arithmetic without its
// memory, 8 accumulators each taking a product per turn, 64 flops per turn. The products do not
// change across turns, but hoisting them would not speed the loop up: the 8 adds per turn
// already need the two add pipes for 4 cycles, the time the 8 multiplies take on theirs.
// x and y come in as arguments so the engine cannot fold the operands into constants.
export function f32_peak_probe(iters: i32, x: f32, y: f32): f32 {
  const p = f32x4.splat(x), q = f32x4.splat(y), r = f32x4.add(p, q), s = f32x4.sub(p, q);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  for (let i = 0; i < iters; i++) {
    c0 = f32x4.add(c0, f32x4.mul(p, q));
    c1 = f32x4.add(c1, f32x4.mul(p, r));
    c2 = f32x4.add(c2, f32x4.mul(p, s));
    c3 = f32x4.add(c3, f32x4.mul(q, r));
    c4 = f32x4.add(c4, f32x4.mul(q, s));
    c5 = f32x4.add(c5, f32x4.mul(r, s));
    c6 = f32x4.add(c6, f32x4.mul(r, r));
    c7 = f32x4.add(c7, f32x4.mul(s, s));
  }
  const u = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(u, 0);
}
