// Data augmentation of a training batch, applied per batch by the training loop in raw feature
// space (before standardisation), and the soft-target losses it needs. Random parameters (shifts,
// flips, cutout centres, mixup partners and weights) are drawn by the host from the core's PRNG
// (rng.ts) into small i32/f32 arrays; these kernels apply them deterministically, so each has a
// scalar `_ref` twin that visits element by element.
// Images are rows of shape [C, H, W] stored row-major (a batch is NCHW); padding is zeros.
// see: Zhang et al., "mixup: Beyond Empirical Risk Minimization", arXiv:1710.09412
// see: DeVries & Taylor, "Improved Regularization of CNNs with Cutout", arXiv:1708.04552
import { f32_max, f32_max_ref } from "./f32-reduce";

// out[b, c, i, j] = x[b, c, i − dy_b, j − dx_b] inside the image, 0 outside, for images
// x, out f32[B, C, H, W] (out must not alias x); shifts i32[B, 2] holds (dy, dx) per row, any
// integers (|d| >= the size gives an empty image). A random crop of a zero-padded image with
// padding p is this with dy, dx uniform in [−p, p]. Per image row: one memory.copy of the
// overlapping span and fills of the rest. Reference: f32_image_shift_ref.
export function f32_image_shift(out: usize, x: usize, B: i32, C: i32, H: i32, W: i32, shifts: usize): void {
  const rowBytes = <usize>W << 2;
  for (let b = 0; b < B; b++) {
    const dy = load<i32>(shifts + (<usize>b << 3));
    const dx = load<i32>(shifts + (<usize>b << 3) + 4);
    const j0 = max<i32>(0, dx);
    const j1 = min<i32>(W, W + dx);
    for (let c = 0; c < C; c++) {
      const plane = (<usize>b * C + c) * H * W;
      for (let i = 0; i < H; i++) {
        const dst = out + ((plane + <usize>i * W) << 2);
        const si = i - dy;
        if (si < 0 || si >= H || j0 >= j1) {
          memory.fill(dst, 0, rowBytes);
          continue;
        }
        const src = x + ((plane + <usize>si * W) << 2);
        if (j0 > 0) memory.fill(dst, 0, <usize>j0 << 2);
        memory.copy(dst + (<usize>j0 << 2), src + (<usize>(j0 - dx) << 2), <usize>(j1 - j0) << 2);
        if (j1 < W) memory.fill(dst + (<usize>j1 << 2), 0, <usize>(W - j1) << 2);
      }
    }
  }
}

export function f32_image_shift_ref(out: usize, x: usize, B: i32, C: i32, H: i32, W: i32, shifts: usize): void {
  for (let b = 0; b < B; b++) {
    const dy = load<i32>(shifts + (<usize>(2 * b) << 2));
    const dx = load<i32>(shifts + (<usize>(2 * b + 1) << 2));
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          const si = i - dy;
          const sj = j - dx;
          let v: f32 = 0;
          if (si >= 0 && si < H && sj >= 0 && sj < W) v = load<f32>(x + ((((<usize>b * C + c) * H + si) * W + sj) << 2));
          store<f32>(out + ((((<usize>b * C + c) * H + i) * W + j) << 2), v);
        }
  }
}

// Horizontal flip in place of the images x f32[B, C, H, W] whose flags i32[B] are not 0:
// x[b, c, i, j] ↔ x[b, c, i, W − 1 − j]. Reference: f32_image_flip_ref (through a copy).
export function f32_image_flip(x: usize, B: i32, C: i32, H: i32, W: i32, flags: usize): void {
  const half = W >> 1;
  for (let b = 0; b < B; b++) {
    if (load<i32>(flags + (<usize>b << 2)) == 0) continue;
    for (let r = 0; r < C * H; r++) {
      const row = x + ((<usize>b * C * H + r) * W << 2);
      for (let j = 0; j < half; j++) {
        const a = row + (<usize>j << 2);
        const z = row + (<usize>(W - 1 - j) << 2);
        const t = load<f32>(a);
        store<f32>(a, load<f32>(z));
        store<f32>(z, t);
      }
    }
  }
}

// `scratch` holds W floats.
export function f32_image_flip_ref(x: usize, B: i32, C: i32, H: i32, W: i32, flags: usize, scratch: usize): void {
  for (let b = 0; b < B; b++) {
    if (load<i32>(flags + (<usize>b << 2)) == 0) continue;
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H; i++) {
        const row = x + ((((<usize>b * C + c) * H + i) * W) << 2);
        for (let j = 0; j < W; j++) store<f32>(scratch + (<usize>j << 2), load<f32>(row + (<usize>j << 2)));
        for (let j = 0; j < W; j++) store<f32>(row + (<usize>j << 2), load<f32>(scratch + (<usize>(W - 1 - j) << 2)));
      }
  }
}

// Cutout in place: in every channel of image b of x f32[B, C, H, W], zeroes the size×size square
// whose top-left corner is (cy_b − ⌊size/2⌋, cx_b − ⌊size/2⌋), clipped to the image; cy, cx
// i32[B] (any integers; a square wholly outside changes nothing). Reference: f32_image_cutout_ref.
export function f32_image_cutout(x: usize, B: i32, C: i32, H: i32, W: i32, cy: usize, cx: usize, size: i32): void {
  for (let b = 0; b < B; b++) {
    const top = load<i32>(cy + (<usize>b << 2)) - (size >> 1);
    const left = load<i32>(cx + (<usize>b << 2)) - (size >> 1);
    const i0 = max<i32>(0, top);
    const i1 = min<i32>(H, top + size);
    const j0 = max<i32>(0, left);
    const j1 = min<i32>(W, left + size);
    if (i0 >= i1 || j0 >= j1) continue;
    for (let c = 0; c < C; c++)
      for (let i = i0; i < i1; i++) memory.fill(x + ((((<usize>b * C + c) * H + i) * W + j0) << 2), 0, <usize>(j1 - j0) << 2);
  }
}

export function f32_image_cutout_ref(x: usize, B: i32, C: i32, H: i32, W: i32, cy: usize, cx: usize, size: i32): void {
  for (let b = 0; b < B; b++) {
    const y = load<i32>(cy + (<usize>b << 2));
    const z = load<i32>(cx + (<usize>b << 2));
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          const inside = i >= y - size / 2 && i < y - size / 2 + size && j >= z - size / 2 && j < z - size / 2 + size;
          if (inside) store<f32>(x + ((((<usize>b * C + c) * H + i) * W + j) << 2), 0);
        }
  }
}

// Mixup of rows: out[i, :] = λ_i·x[i, :] + (1 − λ_i)·x[p_i, :] for x, out f32[B, D] (out must not
// alias x), partners p i32[B] in [0, B), weights λ f32[B]. Each element is rounded once from f64
// (v128 f32 math would round twice). Used for inputs and for target distributions alike.
// Reference: f32_mixup_rows_ref.
export function f32_mixup_rows(out: usize, x: usize, partners: usize, lambdas: usize, B: i32, D: i32): void {
  const rowBytes = <usize>D << 2;
  for (let i = 0; i < B; i++) {
    const l = <f64>load<f32>(lambdas + (<usize>i << 2));
    const m = 1.0 - l;
    const a = x + <usize>i * rowBytes;
    const p = x + <usize>load<i32>(partners + (<usize>i << 2)) * rowBytes;
    const o = out + <usize>i * rowBytes;
    for (let at: usize = 0; at < rowBytes; at += 4) store<f32>(o + at, <f32>(l * <f64>load<f32>(a + at) + m * <f64>load<f32>(p + at)));
  }
}

export function f32_mixup_rows_ref(out: usize, x: usize, partners: usize, lambdas: usize, B: i32, D: i32): void {
  for (let i = 0; i < B; i++) {
    const l = <f64>load<f32>(lambdas + (<usize>i << 2));
    const p = load<i32>(partners + (<usize>i << 2));
    for (let j = 0; j < D; j++) {
      const v = l * <f64>load<f32>(x + ((<usize>i * D + j) << 2)) + (1.0 - l) * <f64>load<f32>(x + ((<usize>p * D + j) << 2));
      store<f32>(out + ((<usize>i * D + j) << 2), <f32>v);
    }
  }
}

// Target distributions from labels i32[B] in [0, C): out f32[B, C] = (1 − ε)·onehot + ε/C
// (label smoothing ε as CrossEntropyLoss applies it).
export function f32_one_hot(out: usize, labels: usize, B: i32, C: i32, smoothing: f32): void {
  const eps = <f64>smoothing;
  const off = <f32>(eps / <f64>C);
  const on = <f32>(1.0 - eps + eps / <f64>C);
  for (let i = 0; i < B; i++) {
    const y = load<i32>(labels + (<usize>i << 2));
    for (let j = 0; j < C; j++) store<f32>(out + ((<usize>i * C + j) << 2), j == y ? on : off);
  }
}

// Cross-entropy against target distributions q f32[B, C] (rows summing to 1, as mixup makes them)
// on logits f32[B, C]: loss = −(1/B)·Σ_i Σ_j q_ij·log softmax(z_i)_j, and its exact gradient
// dlogits_ij = (p_ij·Σ_k q_ik − q_ij)/B (= (p − q)/B when rows sum to 1). Classes with q = 0 contribute 0 (logits of −Infinity stay finite).
// Per row: max (v128), log-sum-exp and p in f64. Reference: f32_softmax_xent_soft_ref.
export function f32_softmax_xent_soft(dlogits: usize, logits: usize, q: usize, B: i32, C: i32): f32 {
  const stride = <usize>C << 2;
  const invB = 1.0 / <f64>B;
  let total: f64 = 0;
  for (let i = 0; i < B; i++) {
    const zr = logits + <usize>i * stride;
    const qr = q + <usize>i * stride;
    const dr = dlogits + <usize>i * stride;
    const m = <f64>f32_max(zr, C);
    let s: f64 = 0;
    let mass: f64 = 0;
    for (let j = 0; j < C; j++) {
      s += Math.exp(<f64>load<f32>(zr + (<usize>j << 2)) - m);
      mass += <f64>load<f32>(qr + (<usize>j << 2));
    }
    const lse = m + Math.log(s);
    for (let j = 0; j < C; j++) {
      const o = <usize>j << 2;
      const z = <f64>load<f32>(zr + o);
      const t = <f64>load<f32>(qr + o);
      if (t != 0) total += t * (lse - z);
      if (dlogits != 0) store<f32>(dr + o, <f32>((Math.exp(z - lse) * mass - t) * invB));
    }
  }
  return <f32>(total * invB);
}

// Loss and gradient summed term by term with probabilities normalised by a division.
export function f32_softmax_xent_soft_ref(dlogits: usize, logits: usize, q: usize, B: i32, C: i32): f32 {
  let total: f64 = 0;
  for (let i = 0; i < B; i++) {
    const zr = logits + ((<usize>i * C) << 2);
    const qr = q + ((<usize>i * C) << 2);
    const m = <f64>f32_max_ref(zr, C);
    let s: f64 = 0;
    for (let j = 0; j < C; j++) s += Math.exp(<f64>load<f32>(zr + (<usize>j << 2)) - m);
    let mass: f64 = 0;
    for (let j = 0; j < C; j++) mass += <f64>load<f32>(qr + (<usize>j << 2));
    for (let j = 0; j < C; j++) {
      const z = <f64>load<f32>(zr + (<usize>j << 2));
      const t = <f64>load<f32>(qr + (<usize>j << 2));
      const p = Math.exp(z - m) / s;
      if (t != 0) total -= t * (z - m - Math.log(s));
      if (dlogits != 0) store<f32>(dlogits + ((<usize>i * C + j) << 2), <f32>((p * mass - t) / <f64>B));
    }
  }
  return <f32>(total / <f64>B);
}

// Ensemble of K classifiers: out f32[B, C] = log((1/K)·Σ_k softmax(z_k)) for logits z f32[K, B, C]
// (model k's outputs for the batch, one after another). The result serves as the teacher's
// logits: softmax(out) is the average probability, softmax(out/T) its tempered form. Each
// model's log-sum-exp in f64 (kept in scratch f64[K]), the mean probability summed over k in
// ascending order in f64, its log rounded once to f32. A class every model gives probability 0
// becomes −Infinity (f32_kl_distill weighs it 0). Reference: f32_log_mean_softmax_ref.
export function f32_log_mean_softmax(out: usize, z: usize, K: i32, B: i32, C: i32, scratch: usize): void {
  const stride = <usize>C << 2;
  const modelBytes = <usize>B * stride;
  const invK = 1.0 / <f64>K;
  for (let i = 0; i < B; i++) {
    for (let k = 0; k < K; k++) {
      const zr = z + <usize>k * modelBytes + <usize>i * stride;
      const m = <f64>f32_max(zr, C);
      let s: f64 = 0;
      for (let j = 0; j < C; j++) s += Math.exp(<f64>load<f32>(zr + (<usize>j << 2)) - m);
      store<f64>(scratch + (<usize>k << 3), m + Math.log(s));
    }
    const or = out + <usize>i * stride;
    for (let j = 0; j < C; j++) {
      let p: f64 = 0;
      for (let k = 0; k < K; k++)
        p += Math.exp(<f64>load<f32>(z + <usize>k * modelBytes + <usize>i * stride + (<usize>j << 2)) - load<f64>(scratch + (<usize>k << 3)));
      store<f32>(or + (<usize>j << 2), <f32>Math.log(p * invK));
    }
  }
}

// Probabilities by explicit division per model, averaged, then the log.
export function f32_log_mean_softmax_ref(out: usize, z: usize, K: i32, B: i32, C: i32, scratch: usize): void {
  for (let i = 0; i < B; i++)
    for (let j = 0; j < C; j++) {
      let p: f64 = 0;
      for (let k = 0; k < K; k++) {
        const zr = z + ((<usize>k * B + i) * C << 2);
        const m = <f64>f32_max_ref(zr, C);
        let s: f64 = 0;
        for (let c = 0; c < C; c++) s += Math.exp(<f64>load<f32>(zr + (<usize>c << 2)) - m);
        p += Math.exp(<f64>load<f32>(zr + (<usize>j << 2)) - m) / s;
      }
      store<f32>(out + ((<usize>i * C + j) << 2), <f32>Math.log(p / <f64>K));
    }
}
