// The pair-interleaved layout of the int8 GEMM's x operand (see i8-gemm.ts), shared by the GEMM's
// own packing and by the convolution's window packing (i8-conv.ts): blocks of 4 rows, each pair of
// k as 4 × (x[m,2t], x[m,2t+1]) in i16. Not re-exported by index.ts: helpers, not kernels.

// Eight u8 or i8 values from p, widened to i16, minus the zero point vz (i16x8).
@inline export function row8(p: usize, signed: bool, vz: v128): v128 {
  return i16x8.sub(signed ? v128.load8x8_s(p) : v128.load8x8_u(p), vz);
}

// Four rows of eight k (i16) as the four pairs' vectors of a block, at dst, dst + 16, ... dst + 48
// (the first two only when half: k 4-7 lie past the packed depth).
@inline export function pairStore4(dst: usize, r0: v128, r1: v128, r2: v128, r3: v128, half: bool = false): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(dst, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
  if (half) return;
  v128.store(dst, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
  v128.store(dst, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
}

// Byte offset of (row r of its block, k) inside a block of the layout.
@inline export function pairAt(r: i32, k: i32): usize {
  return (<usize>(k >> 1) * 8 + <usize>(r * 2 + (k & 1))) << 1;
}
