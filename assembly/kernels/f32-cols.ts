// Per-column affine maps over a row-major matrix, for standardisation inside the core.

// x[r, c] = x[r, c] * scale[c] + shift[c] for x [rows, cols]. v128 over columns, scalar tail.
// Reference: f32_affine_cols_ref (same operations per element, so results match bit for bit).
export function f32_affine_cols(x: usize, scale: usize, shift: usize, rows: i32, cols: i32): void {
  const vecCols = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * cols) << 2);
    let c = 0;
    for (; c < vecCols; c += 4) {
      const at = <usize>c << 2;
      const v = f32x4.add(f32x4.mul(v128.load(row + at), v128.load(scale + at)), v128.load(shift + at));
      v128.store(row + at, v);
    }
    for (; c < cols; c++) {
      const at = <usize>c << 2;
      store<f32>(row + at, load<f32>(row + at) * load<f32>(scale + at) + load<f32>(shift + at));
    }
  }
}

export function f32_affine_cols_ref(x: usize, scale: usize, shift: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const at = x + ((<usize>r * cols + c) << 2);
      store<f32>(at, load<f32>(at) * load<f32>(scale + (<usize>c << 2)) + load<f32>(shift + (<usize>c << 2)));
    }
  }
}
