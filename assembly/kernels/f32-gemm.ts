// f32 matrix products over row-major, contiguous operands; acc != 0 adds into C, acc == 0
// overwrites it. f32 multiply then f32 add (SIMD128 has no fused multiply-add):
//   f32_gemm_nn  C[M,N] (+)= A[M,K]·B[K,N]
//   f32_gemm_nt  C[M,N] (+)= A[M,K]·B[N,K]ᵀ
//   f32_gemm_tn  C[M,N] (+)= A[K,M]ᵀ·B[K,N]
//
// Summation order, the numeric contract every path keeps and the _ref twins spell out. K is cut
// into blocks of KC consecutive k; each block's partial sum is added to C (or to 0) in block
// order. nn and tn: a block's partial starts at +0 and adds the products in ascending k. nt: four
// lane sums, lane l taking k = pc + l, pc + l + 4, ... in ascending order from +0, combined as
// (s0 + s1) + (s2 + s3). An element's bits thus depend only on its row of A, its column of B and
// KC: not on M or N (a sample gives the same output alone or in any batch), not on the path
// taken, not on the engine; nn and tn also agree with each other. The other block sizes are free.
//
// nn and tn (after Goto and van de Geijn): B is packed per KC x NC block into panels of NR = 8
// columns, k-major; then each 4-row panel of A is packed (every value splatted to a vector) and
// swept across the block. The 4x8 micro-tile keeps 8 f32x4 accumulators in registers for a whole
// k block: with the two B vectors, the four A vectors V8 loads up front and a product that is 15
// xmm registers, all V8 hands out on x64; a larger tile or a hand-unrolled k loop spills. Panels
// that cross M or N are zero-padded and their tiles land in TILE first; only the valid corner is
// written. Narrow outputs are computed as Cᵀ = Bᵀ·Aᵀ when that pads less. One row of A or one
// column of B is a vector-matrix product: no packing, as every element of the matrix is used once.
// see: Goto & van de Geijn, "Anatomy of high-performance matrix multiplication", ACM TOMS 2008

const MR = 4;
const NR = 8;
const KC = 256;
// B columns per packed block. 256 (a 256 KiB block, half of L2) measured 5-20% faster for N > 64
// than 64, since each A panel is then splatted once per 256 columns; the scratch is zeros, so it
// costs initial memory (asconfig's initialMemory) but no bytes in the .wasm file. The block size
// changes no summation order: every output element still adds its k terms in the same sequence.
const NC = 256;

// The packing scratch. These are the instance's own globals: an instance of the threaded core
// (one per thread, all over one shared memory) is pointed at a scratch block of its own by
// f32_gemm_use_scratch, so threads never pack into each other's buffers.
const PACK_A_BYTES: usize = MR * KC * 16;
const PACK_B_BYTES: usize = KC * NC * 4;
const TILE_BYTES: usize = MR * NR * 4;
let PACK_A: usize = memory.data(<i32>PACK_A_BYTES, 16);
let PACK_B: usize = memory.data(<i32>PACK_B_BYTES, 16);
let TILE: usize = memory.data(<i32>TILE_BYTES, 16);

// Bytes of scratch one thread's GEMMs need (16-byte aligned block).
export function f32_gemm_scratch_bytes(): usize {
  return PACK_A_BYTES + PACK_B_BYTES + TILE_BYTES;
}

// From now on this instance packs into the block at p (f32_gemm_scratch_bytes() bytes, 16-byte
// aligned) instead of its static scratch.
export function f32_gemm_use_scratch(p: usize): void {
  PACK_A = p;
  PACK_B = p + PACK_A_BYTES;
  TILE = p + PACK_A_BYTES + PACK_B_BYTES;
}

// C[M,N] (+)= A[M,K]·B[K,N]. Reference: f32_gemm_nn_ref.
export function f32_gemm_nn(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  gemm(c, <usize>N << 2, a, b, M, N, K, acc != 0, <usize>K << 2, 4, <usize>N << 2, 4);
}

// C[M,N] (+)= A[M,K]·B[N,K]ᵀ, B stored [N,K] (a dense layer's weights). Reference: f32_gemm_nt_ref.
export function f32_gemm_nt(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  dots(c, <usize>N << 2, a, b, <usize>K << 2, M, N, K, acc != 0);
}

// C[M,N] (+)= A[K,M]ᵀ·B[K,N], A stored [K,M] (weight gradients). Reference: f32_gemm_tn_ref.
export function f32_gemm_tn(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  gemm(c, <usize>N << 2, a, b, M, N, K, acc != 0, 4, <usize>M << 2, <usize>N << 2, 4);
}

const FORM_NN = 0;
const FORM_NT = 1;
const FORM_TN = 2;

// Rows [i0, i1) by columns [j0, j1) of C[M,N] (+)= op(A)·op(B), form 0 nn, 1 nt, 2 tn, with the
// operands of the whole product: the rest of C is not touched. Every element keeps the summation
// order of the header, so the pieces of a split product hold the same bits as the whole; this is
// what threads run. Reference: f32_gemm_part_ref.
export function f32_gemm_part(form: i32, c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32, i0: i32, i1: i32, j0: i32, j1: i32): void {
  const ldc = <usize>N << 2;
  const at = c + <usize>i0 * ldc + (<usize>j0 << 2);
  const m = i1 - i0, n = j1 - j0;
  if (form == FORM_NT) {
    const ld = <usize>K << 2;
    dots(at, ldc, a + <usize>i0 * ld, b + <usize>j0 * ld, ld, m, n, K, acc != 0);
  } else if (form == FORM_TN) {
    gemm(at, ldc, a + (<usize>i0 << 2), b + (<usize>j0 << 2), m, n, K, acc != 0, 4, <usize>M << 2, <usize>N << 2, 4);
  } else {
    gemm(at, ldc, a + <usize>i0 * (<usize>K << 2), b + (<usize>j0 << 2), m, n, K, acc != 0, <usize>K << 2, 4, <usize>N << 2, 4);
  }
}

// C(i,j) at c + i*ldc + j*4 (+)= row i of A · row j of B, both ld bytes apart: the nt form.
function dots(c: usize, ldc: usize, a: usize, b: usize, ld: usize, M: i32, N: i32, K: i32, acc: bool): void {
  if (empty(c, ldc, M, N, K, acc)) return;
  if (M == 1) dotVec(c, a, b, ld, N, K, acc);
  else if (N == 1 && ldc == 4) dotVec(c, b, a, ld, M, K, acc);
  else if (fill(N, M, DR, DC) > fill(M, N, DR, DC) + 0.1) dotBlocked(c, 4, ldc, b, a, ld, N, M, K, acc);
  else dotBlocked(c, ldc, 4, a, b, ld, M, N, K, acc);
}

// Fraction of a padded grid of r x c tiles that holds real elements.
@inline function fill(M: i32, N: i32, r: i32, c: i32): f64 {
  return (<f64>M / <f64>((M + r - 1) / r * r)) * (<f64>N / <f64>((N + c - 1) / c * c));
}

// No products to take: C is left alone (M or N is 0) or is the empty sum (K is 0). True if so.
function empty(c: usize, ldc: usize, M: i32, N: i32, K: i32, acc: bool): bool {
  if (M > 0 && N > 0 && K > 0) return false;
  if (M > 0 && N > 0 && !acc) {
    for (let i = 0; i < M; i++) memory.fill(c + <usize>i * ldc, 0, <usize>N << 2);
  }
  return true;
}

// A(i,k) sits at a + i*sai + k*sak and B(k,j) at b + k*sbk + j*sbj, C(i,j) at c + i*ldc + j*4
// (bytes).
function gemm(c: usize, ldc: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: bool, sai: usize, sak: usize, sbk: usize, sbj: usize): void {
  if (empty(c, ldc, M, N, K, acc)) return;
  // One row of A, or one column of B (then Cᵀ = Bᵀ·Aᵀ is the row): a vector-matrix product,
  // when its vector is contiguous (always for a whole product; a row or column of a block of a
  // larger one may be strided) and so is what it writes: a C row, or the C column when C is one
  // column wide. Otherwise the blocked path takes it, with the same bits.
  if ((M == 1 && sak == 4) || (N == 1 && ldc == 4 && sbk == 4)) {
    const row = M == 1;
    const vec = row ? a : b;
    const mat = row ? b : a;
    const width = row ? N : M;
    const sk = row ? sbk : sak;
    const sj = row ? sbj : sai;
    if (sj == 4) gemvRows(c, vec, mat, sk, width, K, acc);
    else gemvCols(c, vec, mat, sj, width, K, acc);
    return;
  }
  // Narrow C: tiles are 4 rows by 8 columns, so when N pads badly and M does not, compute
  // Cᵀ = Bᵀ·Aᵀ instead. Every element keeps its summation order, so the bits do not change.
  if (fill(N, M, MR, NR) > fill(M, N, MR, NR) + 0.1) {
    blocked(c, 4, ldc, b, sbj, sbk, a, sak, sai, N, M, K, acc);
  } else {
    blocked(c, ldc, 4, a, sai, sak, b, sbk, sbj, M, N, K, acc);
  }
}

// The packed path for C(i,j) at c + i*sci + j*scj. Per NC-column block and KC-deep slice, B is
// packed once; then each 4-row panel of A is packed and swept across the block's B panels, so
// the A panel stays in L1 while the B panels stream from L2.
function blocked(c: usize, sci: usize, scj: usize, a: usize, sai: usize, sak: usize, b: usize, sbk: usize, sbj: usize, M: i32, N: i32, K: i32, acc: bool): void {
  const direct = scj == 4;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const add = acc || pc > 0;
      packB(b + <usize>pc * sbk + <usize>jc * sbj, sbk, sbj, nc, kc);
      for (let i = 0; i < M; i += MR) {
        const mr = min(MR, M - i);
        packA(a + <usize>i * sai + <usize>pc * sak, sai, sak, mr, kc);
        const crow = c + <usize>i * sci + <usize>jc * scj;
        for (let j = 0; j < nc; j += NR) {
          const nr = min(NR, nc - j);
          const pb = PACK_B + (<usize>j * kc << 2);
          const ct = crow + <usize>j * scj;
          if (direct && mr == MR && nr == NR) {
            micro(pb, kc, ct, sci, add);
          } else {
            micro(pb, kc, TILE, NR << 2, false);
            corner(ct, sci, scj, mr, nr, add);
          }
        }
      }
    }
  }
}

// The 4x8 micro-tile over one k slice: C tile (+)= PACK_A panel · B panel at pb. Each turn is
// one k: two B vectors, four splatted A vectors, 8 products into 8 accumulators. Unrolling by
// hand does not pay under V8: it schedules a block's loads ahead of its arithmetic, so a second
// k in the body needs 12 live loaded vectors beside the 8 accumulators and spills.
function micro(pb: usize, kc: i32, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let pa = PACK_A;
  const end = pb + (<usize>kc << 5);
  while (pb < end) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let va = v128.load(pa);
    c00 = f32x4.add(c00, f32x4.mul(va, b0));
    c01 = f32x4.add(c01, f32x4.mul(va, b1));
    va = v128.load(pa, 16);
    c10 = f32x4.add(c10, f32x4.mul(va, b0));
    c11 = f32x4.add(c11, f32x4.mul(va, b1));
    va = v128.load(pa, 32);
    c20 = f32x4.add(c20, f32x4.mul(va, b0));
    c21 = f32x4.add(c21, f32x4.mul(va, b1));
    va = v128.load(pa, 48);
    c30 = f32x4.add(c30, f32x4.mul(va, b0));
    c31 = f32x4.add(c31, f32x4.mul(va, b1));
    pa += 64;
    pb += 32;
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

// Writes the valid mr x nr corner of TILE to C(r,s) at c + r*sci + s*scj: C (+)= tile.
function corner(c: usize, sci: usize, scj: usize, mr: i32, nr: i32, add: bool): void {
  for (let r = 0; r < mr; r++) {
    const src = TILE + (<usize>r * NR << 2);
    for (let s = 0; s < nr; s++) {
      const p = load<f32>(src + (<usize>s << 2));
      const at = c + <usize>r * sci + <usize>s * scj;
      store<f32>(at, add ? load<f32>(at) + p : p);
    }
  }
}

// A(0..mr, 0..kc) -> PACK_A, A(r,k) at a + r*sr + k*sk: every value splatted to a whole vector,
// k-major, MR vectors per k, rows past mr as zeros. The micro-tile then reads A with plain
// vector loads whose offsets fold into the instruction (V8 computes each splat load's address
// separately). The splats here are loads, not shuffles, so they leave the FP pipes alone.
function packA(a: usize, sr: usize, sk: usize, mr: i32, kc: i32): void {
  let dst = PACK_A;
  let src = a;
  if (mr == MR) {
    for (let k = 0; k < kc; k++) {
      v128.store(dst, v128.load32_splat(src));
      v128.store(dst, v128.load32_splat(src + sr), 16);
      v128.store(dst, v128.load32_splat(src + 2 * sr), 32);
      v128.store(dst, v128.load32_splat(src + 3 * sr), 48);
      src += sk;
      dst += MR << 4;
    }
  } else {
    for (let k = 0; k < kc; k++) {
      for (let r = 0; r < MR; r++) {
        v128.store(dst + (<usize>r << 4), r < mr ? v128.load32_splat(src + <usize>r * sr) : f32x4.splat(0));
      }
      src += sk;
      dst += MR << 4;
    }
  }
}

// B(0..kc, 0..nc), B(k,j) at b + k*sk + j*sj -> PACK_B panels of NR columns, k-major, columns
// past nc as zeros. Rows contiguous (sj == 4): vector copies. Columns contiguous (sk == 4, the
// nt form): 4x4 transposes in registers, four k at a time.
function packB(b: usize, sk: usize, sj: usize, nc: i32, kc: i32): void {
  let dst = PACK_B;
  for (let j = 0; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    const src = b + <usize>j * sj;
    let k = 0;
    if (cols == NR && sj == 4) {
      for (; k < kc; k++) {
        const s = src + <usize>k * sk;
        const d = dst + (<usize>k << 5);
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      }
    } else if (cols == NR && sk == 4) {
      const src4 = src + 4 * sj;
      for (; k + 4 <= kc; k += 4) {
        const ko = <usize>k << 2;
        const d = dst + (<usize>k << 5);
        transposeStore4(d, 32, v128.load(src + ko), v128.load(src + sj + ko), v128.load(src + 2 * sj + ko), v128.load(src + 3 * sj + ko));
        transposeStore4(d + 16, 32, v128.load(src4 + ko), v128.load(src4 + sj + ko), v128.load(src4 + 2 * sj + ko), v128.load(src4 + 3 * sj + ko));
      }
    }
    for (; k < kc; k++) {
      for (let s = 0; s < NR; s++) {
        store<f32>(dst + (<usize>(k * NR + s) << 2), s < cols ? load<f32>(src + <usize>k * sk + <usize>s * sj) : 0);
      }
    }
    dst += <usize>kc * NR << 2;
  }
}

// Four rows r0..r3 (four k each) stored as four columns: dst + t*stride receives k = t.
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

// c[N] (+)= a[K]·B, B(k,j) at b + k*ldb + j*4 (rows contiguous): B is read once, in place.
// 32 columns per pass keep 8 independent add chains in flight.
function gemvRows(c: usize, a: usize, b: usize, ldb: usize, N: i32, K: i32, acc: bool): void {
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    const add = acc || pc > 0;
    const ak = a + (<usize>pc << 2);
    const end = ak + (<usize>kc << 2);
    const bk = b + <usize>pc * ldb;
    let j = 0;
    for (; j + 32 <= N; j += 32) {
      let v0 = f32x4.splat(0), v1 = f32x4.splat(0), v2 = f32x4.splat(0), v3 = f32x4.splat(0);
      let v4 = f32x4.splat(0), v5 = f32x4.splat(0), v6 = f32x4.splat(0), v7 = f32x4.splat(0);
      let row = bk + (<usize>j << 2);
      for (let p = ak; p < end; p += 4) {
        const va = v128.load32_splat(p);
        v0 = f32x4.add(v0, f32x4.mul(va, v128.load(row)));
        v1 = f32x4.add(v1, f32x4.mul(va, v128.load(row, 16)));
        v2 = f32x4.add(v2, f32x4.mul(va, v128.load(row, 32)));
        v3 = f32x4.add(v3, f32x4.mul(va, v128.load(row, 48)));
        v4 = f32x4.add(v4, f32x4.mul(va, v128.load(row, 64)));
        v5 = f32x4.add(v5, f32x4.mul(va, v128.load(row, 80)));
        v6 = f32x4.add(v6, f32x4.mul(va, v128.load(row, 96)));
        v7 = f32x4.add(v7, f32x4.mul(va, v128.load(row, 112)));
        row += ldb;
      }
      const cj = c + (<usize>j << 2);
      putVec(cj, v0, add);
      putVec(cj + 16, v1, add);
      putVec(cj + 32, v2, add);
      putVec(cj + 48, v3, add);
      putVec(cj + 64, v4, add);
      putVec(cj + 80, v5, add);
      putVec(cj + 96, v6, add);
      putVec(cj + 112, v7, add);
    }
    for (; j + 4 <= N; j += 4) {
      let v0 = f32x4.splat(0);
      let row = bk + (<usize>j << 2);
      for (let p = ak; p < end; p += 4) {
        v0 = f32x4.add(v0, f32x4.mul(v128.load32_splat(p), v128.load(row)));
        row += ldb;
      }
      putVec(c + (<usize>j << 2), v0, add);
    }
    for (; j < N; j++) {
      let s: f32 = 0;
      let at = bk + (<usize>j << 2);
      for (let p = ak; p < end; p += 4) {
        s += load<f32>(p) * load<f32>(at);
        at += ldb;
      }
      putScalar(c + (<usize>j << 2), s, add);
    }
  }
}

// c[N] (+)= a[K]·B, B(k,j) at b + j*ldb + k*4 (columns contiguous, the nt form). Each output
// must still sum in ascending k, so lanes are outputs: 16 rows of B are transposed four by four
// in registers, and their four accumulators keep four add chains in flight.
function gemvCols(c: usize, a: usize, b: usize, ldb: usize, N: i32, K: i32, acc: bool): void {
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    const add = acc || pc > 0;
    const ak = a + (<usize>pc << 2);
    let n = 0;
    for (; n + 16 <= N; n += 16) {
      const r = b + <usize>n * ldb + (<usize>pc << 2);
      let v0 = f32x4.splat(0), v1 = f32x4.splat(0), v2 = f32x4.splat(0), v3 = f32x4.splat(0);
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const ko = <usize>k << 2;
        const x0 = v128.load32_splat(ak + ko);
        const x1 = v128.load32_splat(ak + ko, 4);
        const x2 = v128.load32_splat(ak + ko, 8);
        const x3 = v128.load32_splat(ak + ko, 12);
        v0 = dot4(v0, r + ko, ldb, x0, x1, x2, x3);
        v1 = dot4(v1, r + 4 * ldb + ko, ldb, x0, x1, x2, x3);
        v2 = dot4(v2, r + 8 * ldb + ko, ldb, x0, x1, x2, x3);
        v3 = dot4(v3, r + 12 * ldb + ko, ldb, x0, x1, x2, x3);
      }
      for (; k < kc; k++) {
        const ko = <usize>k << 2;
        const x = v128.load32_splat(ak + ko);
        v0 = f32x4.add(v0, f32x4.mul(x, gather4(r + ko, ldb)));
        v1 = f32x4.add(v1, f32x4.mul(x, gather4(r + 4 * ldb + ko, ldb)));
        v2 = f32x4.add(v2, f32x4.mul(x, gather4(r + 8 * ldb + ko, ldb)));
        v3 = f32x4.add(v3, f32x4.mul(x, gather4(r + 12 * ldb + ko, ldb)));
      }
      const cn = c + (<usize>n << 2);
      putVec(cn, v0, add);
      putVec(cn + 16, v1, add);
      putVec(cn + 32, v2, add);
      putVec(cn + 48, v3, add);
    }
    for (; n < N; n++) {
      let s: f32 = 0;
      const row = b + <usize>n * ldb + (<usize>pc << 2);
      for (let k = 0; k < kc; k++) s += load<f32>(ak + (<usize>k << 2)) * load<f32>(row + (<usize>k << 2));
      putScalar(c + (<usize>n << 2), s, add);
    }
  }
}

// v + x0·col0 + x1·col1 + x2·col2 + x3·col3 (in that order) where col t holds k = t of the four
// rows at p, p + ldb, p + 2·ldb, p + 3·ldb.
@inline function dot4(v: v128, p: usize, ldb: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const r0 = v128.load(p), r1 = v128.load(p + ldb), r2 = v128.load(p + 2 * ldb), r3 = v128.load(p + 3 * ldb);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v = f32x4.add(v, f32x4.mul(x0, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5)));
  v = f32x4.add(v, f32x4.mul(x1, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7)));
  v = f32x4.add(v, f32x4.mul(x2, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5)));
  return f32x4.add(v, f32x4.mul(x3, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7)));
}

// The four values p, p + ldb, p + 2·ldb, p + 3·ldb as one vector.
@inline function gather4(p: usize, ldb: usize): v128 {
  let g = v128.load32_zero(p);
  g = f32x4.replace_lane(g, 1, load<f32>(p + ldb));
  g = f32x4.replace_lane(g, 2, load<f32>(p + 2 * ldb));
  return f32x4.replace_lane(g, 3, load<f32>(p + 3 * ldb));
}

@inline function putVec(at: usize, v: v128, add: bool): void {
  v128.store(at, add ? f32x4.add(v128.load(at), v) : v);
}

@inline function putScalar(at: usize, s: f32, add: bool): void {
  store<f32>(at, add ? load<f32>(at) + s : s);
}

// ---- the nt form: dot products ----
// Both operands hold k contiguously, so each C element is a dot product of two rows, taken with
// k across the four lanes: lane l sums the products of k = pc + l, pc + l + 4, ... of a KC block
// in ascending order from +0; the block's partial is (s0 + s1) + (s2 + s3), then added to C as
// above. No transposes are needed, for one row (dense inference) or many. A 2x4 tile of rows
// (8 accumulators, 6 loads per four k) matches the 4x8 tile's instruction mix; its rows are
// packed k-quad-interleaved with zeros past kc, which leave every lane sum's bits unchanged.

const DR = 2;
const DC = 4;

// C(i,j) at c + i*sci + j*scj (+)= row i of A · row j of B, both rows ld bytes apart.
function dotBlocked(c: usize, sci: usize, scj: usize, a: usize, b: usize, ld: usize, M: i32, N: i32, K: i32, acc: bool): void {
  const direct = scj == 4;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const kq = (kc + 3) & ~3;
      const add = acc || pc > 0;
      packQuads(PACK_B, b + <usize>jc * ld + (<usize>pc << 2), ld, nc, kc, DC);
      for (let i = 0; i < M; i += DR) {
        const mr = min(DR, M - i);
        packQuads(PACK_A, a + <usize>i * ld + (<usize>pc << 2), ld, mr, kc, DR);
        const crow = c + <usize>i * sci + <usize>jc * scj;
        for (let j = 0; j < nc; j += DC) {
          const nr = min(DC, nc - j);
          const ct = crow + <usize>j * scj;
          if (direct && mr == DR && nr == DC) {
            dotMicro(PACK_B + (<usize>j * kq << 2), kq, ct, sci, add);
          } else {
            dotMicro(PACK_B + (<usize>j * kq << 2), kq, TILE, NR << 2, false);
            corner(ct, sci, scj, mr, nr, add);
          }
        }
      }
    }
  }
}

// rows x kc floats, row r at src + r*ld -> dst panels of R rows: per k-quad, R runs of four
// floats; rows past `rows` and k past kc are zeros.
function packQuads(dst: usize, src: usize, ld: usize, rows: i32, kc: i32, R: i32): void {
  const kq = (kc + 3) & ~3;
  for (let r0 = 0; r0 < rows; r0 += R) {
    for (let r = 0; r < R; r++) {
      let d = dst + (<usize>r << 4);
      if (r0 + r >= rows) {
        for (let k = 0; k < kq; k += 4) {
          v128.store(d, f32x4.splat(0));
          d += <usize>R << 4;
        }
        continue;
      }
      const s = src + <usize>(r0 + r) * ld;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        v128.store(d, v128.load(s + (<usize>k << 2)));
        d += <usize>R << 4;
      }
      if (k < kc) v128.store(d, loadHead(s + (<usize>k << 2), kc - k));
    }
    dst += <usize>(R * kq) << 2;
  }
}

// The first n (1..3) floats at p, zeros after: the k tail of a row, without reading past it.
@inline function loadHead(p: usize, n: i32): v128 {
  let v = v128.load32_zero(p);
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// The 2x4 dot tile over one k block: C(0..2, 0..4) (+)= PACK_A panel · panel at pb.
function dotMicro(pb: usize, kq: i32, c: usize, ldc: usize, add: bool): void {
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
  let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
  let pa = PACK_A;
  const end = pb + (<usize>kq << 4);
  while (pb < end) {
    const a0 = v128.load(pa), a1 = v128.load(pa, 16);
    let vb = v128.load(pb);
    s00 = f32x4.add(s00, f32x4.mul(a0, vb));
    s10 = f32x4.add(s10, f32x4.mul(a1, vb));
    vb = v128.load(pb, 16);
    s01 = f32x4.add(s01, f32x4.mul(a0, vb));
    s11 = f32x4.add(s11, f32x4.mul(a1, vb));
    vb = v128.load(pb, 32);
    s02 = f32x4.add(s02, f32x4.mul(a0, vb));
    s12 = f32x4.add(s12, f32x4.mul(a1, vb));
    vb = v128.load(pb, 48);
    s03 = f32x4.add(s03, f32x4.mul(a0, vb));
    s13 = f32x4.add(s13, f32x4.mul(a1, vb));
    pa += 32;
    pb += 64;
  }
  putVec(c, lanesSum4(s00, s01, s02, s03), add);
  putVec(c + ldc, lanesSum4(s10, s11, s12, s13), add);
}

// Lane j of the result is (vj.0 + vj.1) + (vj.2 + vj.3): a 4x4 transpose, then three adds.
@inline function lanesSum4(v0: v128, v1: v128, v2: v128, v3: v128): v128 {
  const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
  const l0 = v128.shuffle<f32>(t0, t2, 0, 1, 4, 5);
  const l1 = v128.shuffle<f32>(t0, t2, 2, 3, 6, 7);
  const l2 = v128.shuffle<f32>(t1, t3, 0, 1, 4, 5);
  const l3 = v128.shuffle<f32>(t1, t3, 2, 3, 6, 7);
  return f32x4.add(f32x4.add(l0, l1), f32x4.add(l2, l3));
}

// c[N] (+)= x[K]·row j of B, rows ld bytes apart, read in place (no packing for one vector).
// Eight rows per pass keep eight add chains in flight.
function dotVec(c: usize, x: usize, b: usize, ld: usize, N: i32, K: i32, acc: bool): void {
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    const kq = kc & ~3;
    const add = acc || pc > 0;
    const xk = x + (<usize>pc << 2);
    const xend = xk + (<usize>kq << 2);
    const xt = kc > kq ? loadHead(xend, kc - kq) : f32x4.splat(0);
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      let r0 = b + <usize>j * ld + (<usize>pc << 2);
      let r1 = r0 + ld, r2 = r0 + 2 * ld, r3 = r0 + 3 * ld;
      let r4 = r0 + 4 * ld, r5 = r0 + 5 * ld, r6 = r0 + 6 * ld, r7 = r0 + 7 * ld;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let s4 = f32x4.splat(0), s5 = f32x4.splat(0), s6 = f32x4.splat(0), s7 = f32x4.splat(0);
      for (let p = xk; p < xend; p += 16) {
        const vx = v128.load(p);
        s0 = f32x4.add(s0, f32x4.mul(vx, v128.load(r0)));
        s1 = f32x4.add(s1, f32x4.mul(vx, v128.load(r1)));
        s2 = f32x4.add(s2, f32x4.mul(vx, v128.load(r2)));
        s3 = f32x4.add(s3, f32x4.mul(vx, v128.load(r3)));
        s4 = f32x4.add(s4, f32x4.mul(vx, v128.load(r4)));
        s5 = f32x4.add(s5, f32x4.mul(vx, v128.load(r5)));
        s6 = f32x4.add(s6, f32x4.mul(vx, v128.load(r6)));
        s7 = f32x4.add(s7, f32x4.mul(vx, v128.load(r7)));
        r0 += 16; r1 += 16; r2 += 16; r3 += 16;
        r4 += 16; r5 += 16; r6 += 16; r7 += 16;
      }
      if (kc > kq) {
        const n = kc - kq;
        s0 = f32x4.add(s0, f32x4.mul(xt, loadHead(r0, n)));
        s1 = f32x4.add(s1, f32x4.mul(xt, loadHead(r1, n)));
        s2 = f32x4.add(s2, f32x4.mul(xt, loadHead(r2, n)));
        s3 = f32x4.add(s3, f32x4.mul(xt, loadHead(r3, n)));
        s4 = f32x4.add(s4, f32x4.mul(xt, loadHead(r4, n)));
        s5 = f32x4.add(s5, f32x4.mul(xt, loadHead(r5, n)));
        s6 = f32x4.add(s6, f32x4.mul(xt, loadHead(r6, n)));
        s7 = f32x4.add(s7, f32x4.mul(xt, loadHead(r7, n)));
      }
      const cj = c + (<usize>j << 2);
      putVec(cj, lanesSum4(s0, s1, s2, s3), add);
      putVec(cj + 16, lanesSum4(s4, s5, s6, s7), add);
    }
    for (; j < N; j++) {
      let r = b + <usize>j * ld + (<usize>pc << 2);
      let s = f32x4.splat(0);
      for (let p = xk; p < xend; p += 16) {
        s = f32x4.add(s, f32x4.mul(v128.load(p), v128.load(r)));
        r += 16;
      }
      if (kc > kq) s = f32x4.add(s, f32x4.mul(xt, loadHead(r, kc - kq)));
      const sum = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
      putScalar(c + (<usize>j << 2), sum, add);
    }
  }
}

// Scalar twins: the summation order of the header, written as plainly as possible. Element
// (i,j) of the product is Σ_k A(i,k)·B(k,j); strides say where A(i,k) and B(k,j) live.
// Rows [i0, i1) and columns [j0, j1) of C (row-major, N wide) only.
function gemmRef(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: bool, sai: i32, sak: i32, sbk: i32, sbj: i32, i0: i32, i1: i32, j0: i32, j1: i32): void {
  for (let i = i0; i < i1; i++) {
    for (let j = j0; j < j1; j++) {
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
  gemmRef(c, a, b, M, N, K, acc != 0, K, 1, N, 1, 0, M, 0, N);
}

// The nt order: four lane sums per KC block (k - pc ≡ l mod 4), combined as (s0 + s1) + (s2 + s3).
export function f32_gemm_nt_ref(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  ntRef(c, a, b, M, N, K, acc != 0, 0, M, 0, N);
}

function ntRef(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: bool, i0: i32, i1: i32, j0: i32, j1: i32): void {
  for (let i = i0; i < i1; i++) {
    for (let j = j0; j < j1; j++) {
      const at = c + (<usize>(i * N + j) << 2);
      let sum: f32 = acc ? load<f32>(at) : 0;
      for (let pc = 0; pc < K; pc += KC) {
        let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
        for (let k = pc; k < min(K, pc + KC); k++) {
          const p = load<f32>(a + (<usize>(i * K + k) << 2)) * load<f32>(b + (<usize>(j * K + k) << 2));
          const l = (k - pc) & 3;
          if (l == 0) s0 += p;
          else if (l == 1) s1 += p;
          else if (l == 2) s2 += p;
          else s3 += p;
        }
        sum += (s0 + s1) + (s2 + s3);
      }
      store<f32>(at, sum);
    }
  }
}

export function f32_gemm_tn_ref(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32): void {
  gemmRef(c, a, b, M, N, K, acc != 0, 1, M, N, 1, 0, M, 0, N);
}

export function f32_gemm_part_ref(form: i32, c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, acc: i32, i0: i32, i1: i32, j0: i32, j1: i32): void {
  if (form == FORM_NT) ntRef(c, a, b, M, N, K, acc != 0, i0, i1, j0, j1);
  else if (form == FORM_TN) gemmRef(c, a, b, M, N, K, acc != 0, 1, M, N, 1, i0, i1, j0, j1);
  else gemmRef(c, a, b, M, N, K, acc != 0, K, 1, N, 1, i0, i1, j0, j1);
}

// The arithmetic ceiling the GEMM is measured against: the micro-tile's arithmetic without its
// memory traffic, 8 accumulators each taking a product per turn, 64 flops per turn. The products
// repeat every turn, and hoisting them would not speed the loop up: the 8 adds per turn keep the
// two add pipes busy as long as the 8 multiplies keep theirs. The operands pass through memory so
// the engine keeps them as plain registers instead of rebuilding splats inside the loop.
const PROBE: usize = memory.data(64, 16);

// The 4x8 micro-tile alone: `iters` turns over one KC-deep slice of the packing scratch (zeros),
// held in L1, added into TILE; KC·64 flops a turn. What the packed path would reach with free
// packing and no cache misses, measured beside the peak probe.
export function f32_gemm_tile_probe(iters: i32): void {
  for (let i = 0; i < iters; i++) micro(PACK_B, KC, TILE, NR << 2, true);
}

export function f32_peak_probe(iters: i32, x: f32, y: f32): f32 {
  v128.store(PROBE, f32x4.splat(x));
  v128.store(PROBE, f32x4.splat(y), 16);
  v128.store(PROBE, f32x4.splat(x + y), 32);
  v128.store(PROBE, f32x4.splat(x - y), 48);
  const p = v128.load(PROBE), q = v128.load(PROBE, 16), r = v128.load(PROBE, 32), s = v128.load(PROBE, 48);
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
