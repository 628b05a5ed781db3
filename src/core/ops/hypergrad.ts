// Hypergradient descent of the learning rate over a whole parameter arena. The optimizer's step is
// θ_t = θ_{t−1} + α_t·u_t (u_t = −g_t for SGD, the momentum or Nesterov direction, or
// −m̂_t/(√v̂_t + ε) for Adam), so ∂f(θ_{t−1})/∂α_{t−1} = ∇f(θ_{t−1})·u_{t−1} =: h_t and before
// each step the rate moves by α_t = α_{t−1} − β·h_t. Rather than re-deriving u per rule we keep
// Δ = θ_{t−2} − θ_{t−1}, the step the parameters actually took, which is −α_{t−1}·u_{t−1}
// (pruning masks and decoupled decay included): h_t = −⟨g_t, Δ⟩ / α_{t−1}. u_0 = 0, so the first
// step runs at α_0. The gradient is that of the objective the rule minimises: g + wd·θ when
// weight decay is an L2 term (SGD, Adam), g alone when decay is decoupled (AdamW).
// see: Baydin et al., "Online Learning Rate Adaptation with Hypergradient Descent",
//      arXiv:1703.04782 (Algorithms SGD-HD, SGDN-HD and Adam-HD)
import { kernels } from '../wasm.ts';
import { Tensor, unscoped } from '../tensor.ts';

export class Hypergradient {
  #delta: Tensor<'f32'>;
  #lr: number | undefined;

  constructor(size: number) {
    this.#delta = unscoped(() => Tensor.zeros([size]));
  }

  /** α of the last step, undefined before the first. */
  get lr(): number | undefined {
    return this.#lr;
  }

  /** The rate α_t for the step about to run on `params` with `grads`; `initial` is α_0 and is
   *  used only by the first step. Call `after` once the step has been applied. */
  before(params: Tensor<'f32'>, grads: Tensor<'f32'>, beta: number, l2: number, initial: number): number {
    const k = kernels();
    const n = this.#delta.size;
    let lr = initial;
    if (this.#lr !== undefined) {
      let dot = k.f32_dot(grads.ptr, this.#delta.ptr, n);
      if (l2 !== 0) dot += l2 * k.f32_dot(params.ptr, this.#delta.ptr, n);
      // Δ is exactly zero when α_{t−1} = 0 (nothing moved), and so is the hypergradient.
      lr = this.#lr + (this.#lr !== 0 ? (beta * dot) / this.#lr : 0);
    }
    k.f32_copy(this.#delta.ptr, params.ptr, n);
    this.#lr = lr;
    return lr;
  }

  /** Records the step just taken: Δ = θ_{t−1} − θ_t. */
  after(params: Tensor<'f32'>): void {
    kernels().f32_axpy(this.#delta.ptr, params.ptr, this.#delta.size, -1);
  }

  /** The last rate and step, copied out (undefined before the first step). */
  snapshot(): { lr: number; delta: Float32Array } | undefined {
    return this.#lr === undefined ? undefined : { lr: this.#lr, delta: this.#delta.read() };
  }

  /** A Hypergradient continuing from `snapshot`'s rate and step. */
  static restore(size: number, snapshot: { lr: number; delta: Float32Array }): Hypergradient {
    const h = new Hypergradient(size);
    h.#delta.view().set(snapshot.delta);
    h.#lr = snapshot.lr;
    return h;
  }

  dispose(): void {
    this.#delta.dispose();
  }
}
