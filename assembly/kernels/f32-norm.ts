// Batch normalisation over x[B, C, S] (S = height·width for images, 1 for flat rows), per
// channel c over its B·S values, row-major contiguous f32:
//   training:  y = (x − μ_c)·r_c·γ_c + β_c, μ and σ² the batch's mean and biased variance,
//              r = 1/√(σ² + eps); running statistics move by `momentum` (PyTorch's convention:
//              run ← (1 − m)·run + m·stat, the variance unbiased by n/(n − 1));
//   inference: the same map with the running statistics.
// Statistics and gradient sums are f64 in ascending (b, s) and rounded once; the element maps
// are the same f32 operations in the same order in both twins (SIMD lanes apply them per
// element), so the twins agree bit for bit.
// see: Ioffe & Szegedy, "Batch Normalization", ICML 2015

// y[b, c, :] = (x − m)·r·g + t for one channel's scalars, over S values.
@inline function applyChannel(y: usize, x: usize, S: i32, m: f32, r: f32, g: f32, t: f32): void {
  const vm = f32x4.splat(m), vr = f32x4.splat(r), vg = f32x4.splat(g), vt = f32x4.splat(t);
  let s = 0;
  for (; s + 4 <= S; s += 4) {
    const at = <usize>s << 2;
    v128.store(y + at, f32x4.add(f32x4.mul(f32x4.mul(f32x4.sub(v128.load(x + at), vm), vr), vg), vt));
  }
  for (; s < S; s++) {
    const at = <usize>s << 2;
    store<f32>(y + at, (load<f32>(x + at) - m) * r * g + t);
  }
}

// mean[C], invstd[C] ← the batch's statistics; y as above; runMean/runVar updated unless 0.
export function f32_batchnorm_train_fwd(y: usize, x: usize, gamma: usize, beta: usize, mean: usize, invstd: usize, runMean: usize, runVar: usize, B: i32, C: i32, S: i32, eps: f32, momentum: f32): void {
  const n = <f64>B * <f64>S;
  for (let c = 0; c < C; c++) {
    let sum: f64 = 0;
    for (let b = 0; b < B; b++) {
      const row = x + ((<usize>(b * C + c) * S) << 2);
      for (let s = 0; s < S; s++) sum += <f64>load<f32>(row + (<usize>s << 2));
    }
    const mu = sum / n;
    let sq: f64 = 0;
    for (let b = 0; b < B; b++) {
      const row = x + ((<usize>(b * C + c) * S) << 2);
      for (let s = 0; s < S; s++) {
        const d = <f64>load<f32>(row + (<usize>s << 2)) - mu;
        sq += d * d;
      }
    }
    storeStats(c, mu, sq, n, eps, momentum, mean, invstd, runMean, runVar);
    const m = load<f32>(mean + (<usize>c << 2)), r = load<f32>(invstd + (<usize>c << 2));
    const g = load<f32>(gamma + (<usize>c << 2)), t = load<f32>(beta + (<usize>c << 2));
    for (let b = 0; b < B; b++) {
      const at = (<usize>(b * C + c) * S) << 2;
      applyChannel(y + at, x + at, S, m, r, g, t);
    }
  }
}

export function f32_batchnorm_train_fwd_ref(y: usize, x: usize, gamma: usize, beta: usize, mean: usize, invstd: usize, runMean: usize, runVar: usize, B: i32, C: i32, S: i32, eps: f32, momentum: f32): void {
  const n = <f64>B * <f64>S;
  for (let c = 0; c < C; c++) {
    let sum: f64 = 0;
    for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) sum += <f64>load<f32>(x + ((<usize>(b * C + c) * S + s) << 2));
    const mu = sum / n;
    let sq: f64 = 0;
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        const d = <f64>load<f32>(x + ((<usize>(b * C + c) * S + s) << 2)) - mu;
        sq += d * d;
      }
    }
    storeStats(c, mu, sq, n, eps, momentum, mean, invstd, runMean, runVar);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        const at = (<usize>(b * C + c) * S + s) << 2;
        store<f32>(y + at, (load<f32>(x + at) - load<f32>(mean + (<usize>c << 2))) * load<f32>(invstd + (<usize>c << 2)) * load<f32>(gamma + (<usize>c << 2)) + load<f32>(beta + (<usize>c << 2)));
      }
    }
  }
}

function storeStats(c: i32, mu: f64, sq: f64, n: f64, eps: f32, momentum: f32, mean: usize, invstd: usize, runMean: usize, runVar: usize): void {
  const at = <usize>c << 2;
  const variance = sq / n;
  store<f32>(mean + at, <f32>mu);
  store<f32>(invstd + at, <f32>(1 / Math.sqrt(variance + <f64>eps)));
  if (runMean == 0) return;
  const m = <f64>momentum;
  const unbiased = n > 1 ? sq / (n - 1) : variance;
  store<f32>(runMean + at, <f32>((1 - m) * <f64>load<f32>(runMean + at) + m * mu));
  store<f32>(runVar + at, <f32>((1 - m) * <f64>load<f32>(runVar + at) + m * unbiased));
}

// y = (x − runMean)·r·γ + β with r = 1/√(runVar + eps) formed in f64 and rounded once.
export function f32_batchnorm_eval_fwd(y: usize, x: usize, gamma: usize, beta: usize, runMean: usize, runVar: usize, B: i32, C: i32, S: i32, eps: f32): void {
  for (let c = 0; c < C; c++) {
    const at = <usize>c << 2;
    const m = load<f32>(runMean + at), r = <f32>(1 / Math.sqrt(<f64>load<f32>(runVar + at) + <f64>eps));
    const g = load<f32>(gamma + at), t = load<f32>(beta + at);
    for (let b = 0; b < B; b++) {
      const row = (<usize>(b * C + c) * S) << 2;
      applyChannel(y + row, x + row, S, m, r, g, t);
    }
  }
}

export function f32_batchnorm_eval_fwd_ref(y: usize, x: usize, gamma: usize, beta: usize, runMean: usize, runVar: usize, B: i32, C: i32, S: i32, eps: f32): void {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const at = <usize>c << 2;
      const r = <f32>(1 / Math.sqrt(<f64>load<f32>(runVar + at) + <f64>eps));
      for (let s = 0; s < S; s++) {
        const e = (<usize>(b * C + c) * S + s) << 2;
        store<f32>(y + e, (load<f32>(x + e) - load<f32>(runMean + at)) * r * load<f32>(gamma + at) + load<f32>(beta + at));
      }
    }
  }
}

// From the training forward's mean and invstd: x̂ = (x − μ)·r, dβ = Σ dy, dγ = Σ dy·x̂ (f64,
// ascending (b, s)), dx = (γ·r/n)·(n·dy − dβ − x̂·dγ), each skipped when its pointer is 0.
export function f32_batchnorm_bwd(dx: usize, dgamma: usize, dbeta: usize, dy: usize, x: usize, gamma: usize, mean: usize, invstd: usize, B: i32, C: i32, S: i32): void {
  const n = <f64>B * <f64>S;
  for (let c = 0; c < C; c++) {
    const at = <usize>c << 2;
    const m = load<f32>(mean + at), r = load<f32>(invstd + at);
    let sdy: f64 = 0, sdyx: f64 = 0;
    for (let b = 0; b < B; b++) {
      const row = (<usize>(b * C + c) * S) << 2;
      for (let s = 0; s < S; s++) {
        const e = row + (<usize>s << 2);
        const g = <f64>load<f32>(dy + e);
        sdy += g;
        sdyx += g * <f64>((load<f32>(x + e) - m) * r);
      }
    }
    if (dbeta != 0) store<f32>(dbeta + at, <f32>sdy);
    if (dgamma != 0) store<f32>(dgamma + at, <f32>sdyx);
    if (dx == 0) continue;
    // dx = k·(dy − a − x̂·q) with k = γ·r, a = Σdy/n, q = Σdy·x̂/n: f32 element maps.
    const k = load<f32>(gamma + at) * r, a = <f32>(sdy / n), q = <f32>(sdyx / n);
    const vk = f32x4.splat(k), va = f32x4.splat(a), vq = f32x4.splat(q), vm = f32x4.splat(m), vr = f32x4.splat(r);
    for (let b = 0; b < B; b++) {
      const row = (<usize>(b * C + c) * S) << 2;
      let s = 0;
      for (; s + 4 <= S; s += 4) {
        const e = row + (<usize>s << 2);
        const xh = f32x4.mul(f32x4.sub(v128.load(x + e), vm), vr);
        v128.store(dx + e, f32x4.mul(vk, f32x4.sub(f32x4.sub(v128.load(dy + e), va), f32x4.mul(xh, vq))));
      }
      for (; s < S; s++) {
        const e = row + (<usize>s << 2);
        const xh = (load<f32>(x + e) - m) * r;
        store<f32>(dx + e, k * ((load<f32>(dy + e) - a) - xh * q));
      }
    }
  }
}

export function f32_batchnorm_bwd_ref(dx: usize, dgamma: usize, dbeta: usize, dy: usize, x: usize, gamma: usize, mean: usize, invstd: usize, B: i32, C: i32, S: i32): void {
  const n = <f64>B * <f64>S;
  for (let c = 0; c < C; c++) {
    const at = <usize>c << 2;
    let sdy: f64 = 0, sdyx: f64 = 0;
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        const e = (<usize>(b * C + c) * S + s) << 2;
        sdy += <f64>load<f32>(dy + e);
        sdyx += <f64>load<f32>(dy + e) * <f64>((load<f32>(x + e) - load<f32>(mean + at)) * load<f32>(invstd + at));
      }
    }
    if (dbeta != 0) store<f32>(dbeta + at, <f32>sdy);
    if (dgamma != 0) store<f32>(dgamma + at, <f32>sdyx);
    if (dx == 0) continue;
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        const e = (<usize>(b * C + c) * S + s) << 2;
        const xh = (load<f32>(x + e) - load<f32>(mean + at)) * load<f32>(invstd + at);
        store<f32>(dx + e, load<f32>(gamma + at) * load<f32>(invstd + at) * ((load<f32>(dy + e) - <f32>(sdy / n)) - xh * <f32>(sdyx / n)));
      }
    }
  }
}
