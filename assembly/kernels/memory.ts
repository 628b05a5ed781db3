// Tensor memory for the host. Blocks come from the runtime's TLSF allocator (heap.alloc), which
// reuses freed blocks, so thousands of alloc/free cycles do not grow memory. Blocks are 16-byte
// aligned, which v128 loads like but do not require. The managed GC never sees these blocks.

// The largest block: TLSF serves blocks below 1 GiB (its BLOCK_MAXSIZE is 2^30 minus a header);
// the margin covers its rounding to 16 bytes. The host reads this through mem_max_block, so the
// two sides share one limit.
const MAX_BLOCK_BYTES: usize = (1 << 30) - 64;

// Returns the address of `bytes` fresh bytes (contents undefined); 0 bytes still yields a block.
// A request above the limit returns 0 (the host turns it into a RangeError), never an abort.
export function mem_alloc(bytes: usize): usize {
  if (bytes > MAX_BLOCK_BYTES) return 0;
  return heap.alloc(bytes == 0 ? 16 : bytes);
}

export function mem_free(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}

// The largest block mem_alloc serves, in bytes.
export function mem_max_block(): usize {
  return MAX_BLOCK_BYTES;
}

// Current size of linear memory in 64 KiB pages (a byte count would wrap at 4 GiB), for leak tests.
export function mem_size(): usize {
  return <usize>memory.size();
}
