// Optimizer updates over flat f32 parameter blocks, following torch.optim's single-tensor CPU
// code operation by operation: scalar coefficients (1 − dampening, 1 − lr·wd, lr / (1 − β1^t),
// √(1 − β2^t)) are formed in f64 as Python does and rounded once to f32, then every tensor
// operation rounds to f32 in PyTorch's order. Hyperparameters therefore cross the boundary as f64,
// unlike other kernels' f32 scalars: an f32 β1 would already move 1 − β1^t by 2·10^-7 relative.
// WASM has no fused multiply-add (SIMD128 without relaxed), so where PyTorch's AVX2 path fuses
// a + α·b we round twice: results may differ from PyTorch by an ulp per operation; they never
// differ between the v128 kernels and their _ref twins, which perform the same operations in
// the same order (each correctly rounded: add, mul, div, sqrt), so the two match bit for bit.
// see: torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW documentation (algorithm boxes)

// p[n] -= lr·update, SGD with momentum, dampening, L2 weight decay and Nesterov (PyTorch's rule):
//   d = g + wd·p                                      (when wd != 0)
//   buf = first ? d : μ·buf + (1 − dampening)·d        (when μ != 0; first = no buffer yet)
//   d = nesterov ? d + μ·buf : buf                     (when μ != 0)
//   p = p + (−lr)·d
// g is only read; buf is read and written when μ != 0 and may be 0 otherwise. Full-batch gradient
// descent is this with μ = 0. v128 in steps of 4 with a scalar tail; f32_sgd_step_ref is the oracle.
export function f32_sgd_step(p: usize, g: usize, buf: usize, n: i32, lr: f64, momentum: f64, dampening: f64, weightDecay: f64, nesterov: i32, first: i32): void {
  const negLr = <f32>-lr, mu = <f32>momentum, keep = <f32>(1.0 - dampening), wd = <f32>weightDecay;
  const useWd = weightDecay != 0, useMu = momentum != 0;
  const vNegLr = f32x4.splat(negLr), vMu = f32x4.splat(mu), vKeep = f32x4.splat(keep), vWd = f32x4.splat(wd);
  const n4 = <usize>(n & ~3) << 2;
  let at: usize = 0;
  for (; at < n4; at += 16) {
    const vp = v128.load(p + at);
    let vd = v128.load(g + at);
    if (useWd) vd = f32x4.add(vd, f32x4.mul(vWd, vp));
    if (useMu) {
      const vb = first ? vd : f32x4.add(f32x4.mul(v128.load(buf + at), vMu), f32x4.mul(vKeep, vd));
      v128.store(buf + at, vb);
      vd = nesterov ? f32x4.add(vd, f32x4.mul(vMu, vb)) : vb;
    }
    v128.store(p + at, f32x4.add(vp, f32x4.mul(vNegLr, vd)));
  }
  const end = <usize>n << 2;
  for (; at < end; at += 4) sgdOne(p + at, g + at, buf + at, negLr, mu, keep, wd, useWd, useMu, nesterov, first);
}

export function f32_sgd_step_ref(p: usize, g: usize, buf: usize, n: i32, lr: f64, momentum: f64, dampening: f64, weightDecay: f64, nesterov: i32, first: i32): void {
  const negLr = <f32>-lr, mu = <f32>momentum, keep = <f32>(1.0 - dampening), wd = <f32>weightDecay;
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    sgdOne(p + at, g + at, buf + at, negLr, mu, keep, wd, weightDecay != 0, momentum != 0, nesterov, first);
  }
}

@inline function sgdOne(p: usize, g: usize, buf: usize, negLr: f32, mu: f32, keep: f32, wd: f32, useWd: bool, useMu: bool, nesterov: i32, first: i32): void {
  const x = load<f32>(p);
  let d = load<f32>(g);
  if (useWd) d = d + wd * x;
  if (useMu) {
    const b: f32 = first ? d : load<f32>(buf) * mu + keep * d;
    store<f32>(buf, b);
    d = nesterov ? d + mu * b : b;
  }
  store<f32>(p, x + negLr * d);
}

// One Adam (decoupled = 0) or AdamW (decoupled = 1) step t = step >= 1 over p, g, m, v [n]:
//   AdamW: p = p·(1 − lr·wd)          Adam: d = g + wd·p          (when wd != 0)
//   m = lerp(m, d, 1 − β1)            as torch.lerp: m + w·(d − m) if |w| < 0.5, else d − (d − m)·(1 − w)
//   v = v·β2 + ((1 − β2)·d)·d
//   p = p + ((−lr / (1 − β1^t))·m) / (√v / √(1 − β2^t) + ε)
// which is m̂ / (√v̂ + ε) with ε outside the square root, as PyTorch places it. g is only read.
// v128 in steps of 4 with a scalar tail; f32_adam_step_ref is the oracle.
// see: Kingma & Ba, "Adam", arXiv:1412.6980 (Algorithm 1)
// see: Loshchilov & Hutter, "Decoupled Weight Decay Regularization", arXiv:1711.05101
export function f32_adam_step(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f64, beta1: f64, beta2: f64, eps: f64, weightDecay: f64, step: i32, decoupled: i32): void {
  assert(step >= 1, "f32_adam_step: step must be >= 1");
  const c = adamCoefficients(lr, beta1, beta2, eps, weightDecay, step);
  const small = Mathf.abs(c.w1) < 0.5;
  const useWd = weightDecay != 0;
  const vDecay = f32x4.splat(c.decay), vWd = f32x4.splat(c.wd), vW1 = f32x4.splat(c.w1), vW1c = f32x4.splat(1.0 - c.w1);
  const vB2 = f32x4.splat(c.b2), vW2 = f32x4.splat(c.w2), vNegStep = f32x4.splat(c.negStep);
  const vBc2 = f32x4.splat(c.bc2Sqrt), vEps = f32x4.splat(c.eps);
  const n4 = <usize>(n & ~3) << 2;
  let at: usize = 0;
  for (; at < n4; at += 16) {
    let vp = v128.load(p + at);
    let vd = v128.load(g + at);
    if (useWd) {
      if (decoupled) vp = f32x4.mul(vp, vDecay);
      else vd = f32x4.add(vd, f32x4.mul(vWd, vp));
    }
    const vm0 = v128.load(m + at);
    const vm = small ? f32x4.add(vm0, f32x4.mul(vW1, f32x4.sub(vd, vm0))) : f32x4.sub(vd, f32x4.mul(f32x4.sub(vd, vm0), vW1c));
    const vv = f32x4.add(f32x4.mul(v128.load(v + at), vB2), f32x4.mul(f32x4.mul(vW2, vd), vd));
    const vDen = f32x4.add(f32x4.div(f32x4.sqrt(vv), vBc2), vEps);
    v128.store(m + at, vm);
    v128.store(v + at, vv);
    v128.store(p + at, f32x4.add(vp, f32x4.div(f32x4.mul(vNegStep, vm), vDen)));
  }
  const end = <usize>n << 2;
  for (; at < end; at += 4) adamOne(p + at, g + at, m + at, v + at, c, small, useWd, decoupled);
}

export function f32_adam_step_ref(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f64, beta1: f64, beta2: f64, eps: f64, weightDecay: f64, step: i32, decoupled: i32): void {
  assert(step >= 1, "f32_adam_step_ref: step must be >= 1");
  const c = adamCoefficients(lr, beta1, beta2, eps, weightDecay, step);
  const small = Mathf.abs(c.w1) < 0.5;
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    adamOne(p + at, g + at, m + at, v + at, c, small, weightDecay != 0, decoupled);
  }
}

// The per-call f32 coefficients, each formed in f64 and rounded once. Lives in static memory
// (one instance, rewritten per call) so kernels allocate nothing. Threads splitting one update
// all write it at once, with the same arguments and so the same bytes: WebAssembly's shared
// memory gives a racing read one of the values written, and every one is the same.
@unmanaged class AdamCoefficients {
  decay: f32 = 0;
  wd: f32 = 0;
  w1: f32 = 0;
  b2: f32 = 0;
  w2: f32 = 0;
  negStep: f32 = 0;
  bc2Sqrt: f32 = 0;
  eps: f32 = 0;
}

const ADAM = memory.data(offsetof<AdamCoefficients>(), 16);

@inline function adamCoefficients(lr: f64, beta1: f64, beta2: f64, eps: f64, weightDecay: f64, step: i32): AdamCoefficients {
  const c = changetype<AdamCoefficients>(ADAM);
  c.decay = <f32>(1.0 - lr * weightDecay);
  c.wd = <f32>weightDecay;
  c.w1 = <f32>(1.0 - beta1);
  c.b2 = <f32>beta2;
  c.w2 = <f32>(1.0 - beta2);
  c.negStep = <f32>-(lr / (1.0 - Math.pow(beta1, <f64>step)));
  c.bc2Sqrt = <f32>Math.sqrt(1.0 - Math.pow(beta2, <f64>step));
  c.eps = <f32>eps;
  return c;
}

@inline function adamOne(p: usize, g: usize, m: usize, v: usize, c: AdamCoefficients, small: bool, useWd: bool, decoupled: i32): void {
  let x = load<f32>(p);
  let d = load<f32>(g);
  if (useWd) {
    if (decoupled) x = x * c.decay;
    else d = d + c.wd * x;
  }
  const m0 = load<f32>(m);
  const mt: f32 = small ? m0 + c.w1 * (d - m0) : d - (d - m0) * (<f32>1.0 - c.w1);
  const vt: f32 = load<f32>(v) * c.b2 + (c.w2 * d) * d;
  const den: f32 = Mathf.sqrt(vt) / c.bc2Sqrt + c.eps;
  store<f32>(m, mt);
  store<f32>(v, vt);
  store<f32>(p, x + (c.negStep * mt) / den);
}

// x[n] f32 = mask[n] u8 != 0 ? x : +0, so pruned weights stay exactly zero after each update.
// v128 over 4 elements: 4 mask bytes widened to i32 lanes, compared with 0 and ANDed with x.
// f32_mask_u8_ref is the oracle (bit-identical: a kept weight is copied, a pruned one is +0).
export function f32_mask_u8(x: usize, mask: usize, n: i32): void {
  const zero = i32x4.splat(0);
  const n4 = <usize>(n & ~3);
  let i: usize = 0;
  for (; i < n4; i += 4) {
    const wide = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(mask + i)));
    const at = x + (i << 2);
    v128.store(at, v128.and(v128.load(at), i32x4.ne(wide, zero)));
  }
  for (; i < <usize>n; i++) if (load<u8>(mask + i) == 0) store<f32>(x + (i << 2), 0);
}

export function f32_mask_u8_ref(x: usize, mask: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = x + (<usize>i << 2);
    store<f32>(at, load<u8>(mask + <usize>i) != 0 ? load<f32>(at) : 0);
  }
}
