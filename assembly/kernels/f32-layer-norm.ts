// Layer normalisation over each row of x [B, D] (Ba, Kiros & Hinton 2016, as torch.nn.LayerNorm
// over the whole row): y = (x − μ)·r·γ + β with μ the row mean and r = 1/√(σ² + ε), σ² the biased
// variance. Row statistics accumulate sequentially in f64 (two passes) and round once to f32; the
// per-element work is f32 in a fixed order ((x − μ)·r, then ·γ, then + β, no fused multiply-add),
// so the v128 forward and the scalar _ref twin agree bit for bit. The backward pass is scalar in
// both: per row, dx = r·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ, its means in f64.
// see: arXiv:1607.06450

// μ and r of the last row given to rowStats, as f32 (globals: kernels never allocate).
let rowMean: f32 = 0;
let rowRstd: f32 = 0;

@inline function rowStats(x: usize, D: i32, eps: f32): void {
  let s: f64 = 0;
  for (let j = 0; j < D; j++) s += <f64>load<f32>(x + (<usize>j << 2));
  const mean = s / <f64>D;
  let v: f64 = 0;
  for (let j = 0; j < D; j++) {
    const d = <f64>load<f32>(x + (<usize>j << 2)) - mean;
    v += d * d;
  }
  rowMean = <f32>mean;
  rowRstd = <f32>(1.0 / Math.sqrt(v / <f64>D + <f64>eps));
}

// Forward: y[B,D]; in training (xhat != 0) also x̂ [B,D] and r [B] for the backward pass.
export function f32_layer_norm_fwd(y: usize, xhat: usize, rstd: usize, x: usize, gamma: usize, beta: usize, B: i32, D: i32, eps: f32): void {
  for (let b = 0; b < B; b++) {
    const row = <usize>b * <usize>D << 2;
    rowStats(x + row, D, eps);
    const mean = rowMean, r = rowRstd;
    if (rstd != 0) store<f32>(rstd + (<usize>b << 2), r);
    const vm = f32x4.splat(mean), vr = f32x4.splat(r);
    let j = 0;
    for (; j + 4 <= D; j += 4) {
      const o = <usize>j << 2;
      const vh = f32x4.mul(f32x4.sub(v128.load(x + row + o), vm), vr);
      if (xhat != 0) v128.store(xhat + row + o, vh);
      v128.store(y + row + o, f32x4.add(f32x4.mul(vh, v128.load(gamma + o)), v128.load(beta + o)));
    }
    for (; j < D; j++) {
      const o = <usize>j << 2;
      const h = (load<f32>(x + row + o) - mean) * r;
      if (xhat != 0) store<f32>(xhat + row + o, h);
      store<f32>(y + row + o, h * load<f32>(gamma + o) + load<f32>(beta + o));
    }
  }
}

export function f32_layer_norm_fwd_ref(y: usize, xhat: usize, rstd: usize, x: usize, gamma: usize, beta: usize, B: i32, D: i32, eps: f32): void {
  for (let b = 0; b < B; b++) {
    const row = <usize>b * <usize>D << 2;
    rowStats(x + row, D, eps);
    const mean = rowMean, r = rowRstd;
    if (rstd != 0) store<f32>(rstd + (<usize>b << 2), r);
    for (let j = 0; j < D; j++) {
      const o = <usize>j << 2;
      const h = (load<f32>(x + row + o) - mean) * r;
      if (xhat != 0) store<f32>(xhat + row + o, h);
      store<f32>(y + row + o, h * load<f32>(gamma + o) + load<f32>(beta + o));
    }
  }
}

// Backward from dy [B,D], x̂ and r of the forward: dγ[D] = Σ_b dy·x̂ and dβ[D] = Σ_b dy, summed in
// f32 in ascending b (overwritten, not accumulated); dx [B,D] when dx != 0.
export function f32_layer_norm_bwd(dx: usize, dgamma: usize, dbeta: usize, dy: usize, xhat: usize, rstd: usize, gamma: usize, B: i32, D: i32): void {
  for (let j = 0; j < D; j++) {
    store<f32>(dgamma + (<usize>j << 2), 0);
    store<f32>(dbeta + (<usize>j << 2), 0);
  }
  for (let b = 0; b < B; b++) {
    const row = <usize>b * <usize>D << 2;
    let m1: f64 = 0, m2: f64 = 0;
    for (let j = 0; j < D; j++) {
      const o = <usize>j << 2;
      const d = load<f32>(dy + row + o), h = load<f32>(xhat + row + o);
      store<f32>(dgamma + o, load<f32>(dgamma + o) + d * h);
      store<f32>(dbeta + o, load<f32>(dbeta + o) + d);
      const g = <f64>(d * load<f32>(gamma + o));
      m1 += g;
      m2 += g * <f64>h;
    }
    if (dx == 0) continue;
    m1 /= <f64>D;
    m2 /= <f64>D;
    const r = <f64>load<f32>(rstd + (<usize>b << 2));
    for (let j = 0; j < D; j++) {
      const o = <usize>j << 2;
      const g = <f64>(load<f32>(dy + row + o) * load<f32>(gamma + o));
      store<f32>(dx + row + o, <f32>(r * (g - m1 - <f64>load<f32>(xhat + row + o) * m2)));
    }
  }
}

export function f32_layer_norm_bwd_ref(dx: usize, dgamma: usize, dbeta: usize, dy: usize, xhat: usize, rstd: usize, gamma: usize, B: i32, D: i32): void {
  f32_layer_norm_bwd(dx, dgamma, dbeta, dy, xhat, rstd, gamma, B, D);
}
