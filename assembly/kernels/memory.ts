// Tensor memory for the host. Blocks come from the runtime's TLSF allocator (heap.alloc), which
// reuses freed blocks, so thousands of alloc/free cycles do not grow memory. Blocks are 16-byte
// aligned, which v128 loads like but do not require. The managed GC never sees these blocks.

// Returns the address of `bytes` fresh bytes (contents undefined); 0 bytes still yields a block.
export function mem_alloc(bytes: usize): usize {
  return heap.alloc(bytes == 0 ? 16 : bytes);
}

export function mem_free(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}

// Current size of linear memory in bytes, for leak tests.
export function mem_size(): usize {
  return (<usize>memory.size()) << 16;
}
