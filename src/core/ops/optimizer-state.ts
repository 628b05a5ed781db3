// Optimizer state over one parameter arena, shared by every engine that trains one.
import { kernels } from '../wasm.ts';
import { Tensor, unscoped } from '../tensor.ts';
import { Hypergradient } from './hypergrad.ts';
import type { UpdateRule } from '../layer-engine.ts';

/** One arena's optimizer state (moments, step count, hypergradient) and its update: PyTorch's
 *  SGD (momentum, dampening, Nesterov), Adam and AdamW in one call over the whole arena. */
export class OptimizerState {
  #m: Tensor<'f32'> | undefined;
  #v: Tensor<'f32'> | undefined;
  #hd: Hypergradient | undefined;
  steps = 0;

  /** The learning rate hypergradient descent has reached, if in use. */
  get hypergradientLr(): number | undefined {
    return this.#hd?.lr;
  }

  /** One update of `params` with `grads`; `constrain` runs right after it (re-applying a pruning
   *  mask), before the hypergradient records the step. Returns the learning rate used. */
  step(params: Tensor<'f32'>, grads: Tensor<'f32'>, rule: UpdateRule, lr: number, constrain?: () => void): number {
    const k = kernels();
    const n = params.size;
    this.steps++;
    if (rule.hypergradient) {
      this.#hd ??= new Hypergradient(n);
      lr = this.#hd.before(params, grads, rule.hypergradient.beta, rule.kind === 'adam' && rule.decoupled ? 0 : rule.weightDecay, lr);
    }
    if (rule.kind === 'sgd') {
      const first = !this.#m;
      if (rule.momentum !== 0) this.#m ??= unscoped(() => Tensor.zeros([n]));
      k.f32_sgd_step(
        params.ptr,
        grads.ptr,
        this.#m ? this.#m.ptr : 0,
        n,
        lr,
        rule.momentum,
        rule.dampening,
        rule.weightDecay,
        rule.nesterov ? 1 : 0,
        first ? 1 : 0,
      );
    } else {
      this.#m ??= unscoped(() => Tensor.zeros([n]));
      this.#v ??= unscoped(() => Tensor.zeros([n]));
      k.f32_adam_step(
        params.ptr,
        grads.ptr,
        this.#m.ptr,
        this.#v.ptr,
        n,
        lr,
        rule.beta1,
        rule.beta2,
        rule.eps,
        rule.weightDecay,
        this.steps,
        rule.decoupled ? 1 : 0,
      );
    }
    constrain?.();
    this.#hd?.after(params);
    return lr;
  }

  dispose(): void {
    for (const t of [this.#m, this.#v, this.#hd]) t?.dispose();
    this.#m = this.#v = this.#hd = undefined;
    this.steps = 0;
  }
}
