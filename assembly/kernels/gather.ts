// Row gathers for mini-batching: the data set lives in WASM memory once, and each batch is
// copied out by index in one call instead of a JS loop over rows.

// dst[r, :] = src[idx[r], :] for r < rows; src and dst are row-major f32 with `cols` columns.
// idx holds i32 row numbers that the host has validated. Reference: f32_gather_rows_ref.
export function f32_gather_rows(dst: usize, src: usize, idx: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const from = src + <usize>load<i32>(idx + (<usize>r << 2)) * rowBytes;
    memory.copy(dst + <usize>r * rowBytes, from, rowBytes);
  }
}

export function f32_gather_rows_ref(dst: usize, src: usize, idx: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const s = load<i32>(idx + (<usize>r << 2));
    for (let c = 0; c < cols; c++) {
      store<f32>(dst + ((<usize>r * cols + c) << 2), load<f32>(src + ((<usize>s * cols + c) << 2)));
    }
  }
}

// dst[r] = src[idx[r]] for i32 labels.
export function i32_gather(dst: usize, src: usize, idx: usize, n: i32): void {
  for (let r = 0; r < n; r++) {
    store<i32>(dst + (<usize>r << 2), load<i32>(src + (<usize>load<i32>(idx + (<usize>r << 2)) << 2)));
  }
}
