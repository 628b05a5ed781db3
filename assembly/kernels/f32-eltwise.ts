// Element-wise f32 kernels over contiguous arrays: v128 bodies with scalar tails. Each output element
// comes from the same f32 operations in the same order as in its _ref twin (WASM has no fused
// multiply-add to reorder rounding), so SIMD and _ref agree bit for bit. Outputs may alias inputs.

// x[n] = v.
export function f32_fill(x: usize, n: i32, v: f32): void {
  const vv = f32x4.splat(v);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(x + (<usize>i << 2), vv);
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), v);
}

export function f32_fill_ref(x: usize, n: i32, v: f32): void {
  for (let i = 0; i < n; i++) store<f32>(x + (<usize>i << 2), v);
}

// dst[n] = src[n]; the ranges may overlap (memory.copy moves as memmove does).
export function f32_copy(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}

// Forward element loop: equal to f32_copy when the ranges do not overlap or dst <= src.
export function f32_copy_ref(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

// x[n] *= a.
export function f32_scale(x: usize, n: i32, a: f32): void {
  const va = f32x4.splat(a);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(x + o, f32x4.mul(v128.load(x + o), va));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(x + o, load<f32>(x + o) * a);
  }
}

export function f32_scale_ref(x: usize, n: i32, a: f32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(x + o, load<f32>(x + o) * a);
  }
}

// y[n] += a·x[n] (the product rounds, then the sum).
export function f32_axpy(y: usize, x: usize, n: i32, a: f32): void {
  const va = f32x4.splat(a);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + a * load<f32>(x + o));
  }
}

export function f32_axpy_ref(y: usize, x: usize, n: i32, a: f32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + a * load<f32>(x + o));
  }
}

// z[n] = x[n]·y[n].
export function f32_mul(z: usize, x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(z + o, f32x4.mul(v128.load(x + o), v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(z + o, load<f32>(x + o) * load<f32>(y + o));
  }
}

export function f32_mul_ref(z: usize, x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(z + o, load<f32>(x + o) * load<f32>(y + o));
  }
}

// x[rows, cols] += v[cols] on every row (row-major): bias add.
export function f32_add_rowvec(x: usize, v: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * stride;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      v128.store(xr + o, f32x4.add(v128.load(xr + o), v128.load(v + o)));
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      store<f32>(xr + o, load<f32>(xr + o) + load<f32>(v + o));
    }
  }
}

export function f32_add_rowvec_ref(x: usize, v: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const o = (<usize>r * <usize>cols + <usize>c) << 2;
      store<f32>(x + o, load<f32>(x + o) + load<f32>(v + (<usize>c << 2)));
    }
  }
}
