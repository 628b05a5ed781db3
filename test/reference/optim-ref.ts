// Optimizer references for tests, written from the published rules, independent of the kernels.
//
// f64 references (the rules as stated, in double precision):
//   SGD (torch.optim.SGD documentation): d = g + λθ; b₁ = d, b_t = μ b_{t−1} + (1 − τ) d;
//     d = nesterov ? d + μ b_t : b_t; θ = θ − γ d.
//   Adam (Kingma & Ba 2015, Algorithm 1, with ε added to √v̂ as PyTorch places it):
//     g = g + λθ; m = β₁m + (1 − β₁)g; v = β₂v + (1 − β₂)g²; m̂ = m/(1 − β₁ᵗ); v̂ = v/(1 − β₂ᵗ);
//     θ = θ − γ m̂/(√v̂ + ε).
//   AdamW (Loshchilov & Hutter 2019, Algorithm 2, with PyTorch's schedule multiplier η = γ):
//     θ = θ(1 − γλ) before the moment updates, and no λθ term in g.
//
// sgdTorchF32 / adamTorchF32: the same steps as f32 emulations of torch.optim.Adam's single-tensor
// CPU code, one Math.fround per tensor operation in PyTorch's order (SGD: add(alpha), mul_,
// add_(alpha); Adam: lerp_, mul_, addcmul_, sqrt, div, add_, addcdiv_), scalars formed in double
// and rounded once, as the kernels claim to do.

export interface SgdConfig {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export class SgdRef {
  buf: Float64Array | undefined;
  constructor(readonly config: SgdConfig) {}

  step(p: Float64Array, g: ArrayLike<number>): void {
    const { lr, momentum, dampening, weightDecay, nesterov } = this.config;
    const first = this.buf === undefined;
    if (momentum !== 0 && first) this.buf = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      let d = g[i]! + weightDecay * p[i]!;
      if (momentum !== 0) {
        const b = first ? d : momentum * this.buf![i]! + (1 - dampening) * d;
        this.buf![i] = b;
        d = nesterov ? d + momentum * b : b;
      }
      p[i] = p[i]! - lr * d;
    }
  }
}

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
}

export class AdamRef {
  m: Float64Array;
  v: Float64Array;
  t = 0;
  constructor(
    readonly config: AdamConfig,
    n: number,
  ) {
    this.m = new Float64Array(n);
    this.v = new Float64Array(n);
  }

  step(p: Float64Array, g: ArrayLike<number>): void {
    const { lr, beta1, beta2, eps, weightDecay, decoupled } = this.config;
    this.t++;
    for (let i = 0; i < p.length; i++) {
      let gi = g[i]!;
      if (decoupled) p[i] = p[i]! * (1 - lr * weightDecay);
      else gi += weightDecay * p[i]!;
      this.m[i] = beta1 * this.m[i]! + (1 - beta1) * gi;
      this.v[i] = beta2 * this.v[i]! + (1 - beta2) * gi * gi;
      const mHat = this.m[i]! / (1 - beta1 ** this.t);
      const vHat = this.v[i]! / (1 - beta2 ** this.t);
      p[i] = p[i]! - (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  }
}

/** One Adam/AdamW step on f32 arrays in PyTorch's operation order; t is 1-based. */
export function adamTorchF32(p: Float32Array, g: ArrayLike<number>, m: Float32Array, v: Float32Array, t: number, c: AdamConfig): void {
  const f = Math.fround;
  const w1 = f(1 - c.beta1);
  const stepSize = f(-(c.lr / (1 - c.beta1 ** t)));
  const bc2Sqrt = f(Math.sqrt(1 - c.beta2 ** t));
  for (let i = 0; i < p.length; i++) {
    let x = p[i]!;
    let d = g[i]!;
    if (c.weightDecay !== 0) {
      if (c.decoupled) x = f(x * f(1 - c.lr * c.weightDecay));
      else d = f(d + f(f(c.weightDecay) * x));
    }
    const m0 = m[i]!;
    m[i] = Math.abs(w1) < 0.5 ? f(m0 + f(w1 * f(d - m0))) : f(d - f(f(d - m0) * f(1 - w1)));
    v[i] = f(f(v[i]! * f(c.beta2)) + f(f(f(1 - c.beta2) * d) * d));
    const den = f(f(f(Math.sqrt(v[i]!)) / bc2Sqrt) + f(c.eps));
    p[i] = f(x + f(f(stepSize * m[i]!) / den));
  }
}

/** One SGD step on f32 arrays in PyTorch's operation order; `first` when no buffer exists yet. */
export function sgdTorchF32(p: Float32Array, g: ArrayLike<number>, buf: Float32Array, first: boolean, c: SgdConfig): void {
  const f = Math.fround;
  for (let i = 0; i < p.length; i++) {
    const x = p[i]!;
    let d = g[i]!;
    if (c.weightDecay !== 0) d = f(d + f(f(c.weightDecay) * x));
    if (c.momentum !== 0) {
      buf[i] = first ? d : f(f(buf[i]! * f(c.momentum)) + f(f(1 - c.dampening) * d));
      d = c.nesterov ? f(d + f(f(c.momentum) * buf[i]!)) : buf[i]!;
    }
    p[i] = f(x + f(f(-c.lr) * d));
  }
}
