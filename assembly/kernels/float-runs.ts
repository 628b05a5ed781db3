// Short runs of floats copied or zeroed inline. Not a kernel module: index.ts does not re-export it.
// The runs of im2col and of the Winograd planes are one row, often a few floats (14 for a 14x14
// map): under V8 a memory.copy or memory.fill is a call costing more than copying them, and im2col
// of a batch makes hundreds of thousands, so short runs are copied inline and only long ones use
// the bulk ops.
const BULK_FLOATS = 64;

@inline export function copyRun(dst: usize, src: usize, n: i32): void {
  if (n >= BULK_FLOATS) {
    memory.copy(dst, src, <usize>n << 2);
    return;
  }
  if (n < 4) {
    for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
    return;
  }
  // Vectors up to the last full one, then one more ending at n (overlapping the previous one):
  // the same floats land twice instead of a scalar tail.
  for (let i = 0; i + 4 < n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  const last = <usize>(n - 4) << 2;
  v128.store(dst + last, v128.load(src + last));
}

@inline export function zeroRun(dst: usize, n: i32): void {
  if (n >= BULK_FLOATS) {
    memory.fill(dst, 0, <usize>n << 2);
    return;
  }
  if (n < 4) {
    for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
    return;
  }
  for (let i = 0; i + 4 < n; i += 4) v128.store(dst + (<usize>i << 2), f32x4.splat(0));
  v128.store(dst + (<usize>(n - 4) << 2), f32x4.splat(0));
}
