// Optimizer state over one parameter arena, shared by every engine that trains one.
import { kernels } from '../wasm.ts';
import { Tensor, unscoped } from '../tensor.ts';
import { Hypergradient } from './hypergrad.ts';
import type { UpdateRule } from '../layer-engine.ts';

/** An optimizer state copied out of the core, to save it or to put it back: the update count,
 *  the first (momentum or Adam's m) and second (Adam's v) moments when the rule keeps them, and
 *  hypergradient descent's last rate and last parameter step. */
export interface OptimizerSnapshot {
  steps: number;
  m?: Float32Array;
  v?: Float32Array;
  hypergradient?: { lr: number; delta: Float32Array };
}

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

  /** Copies of the state (see OptimizerSnapshot). */
  snapshot(): OptimizerSnapshot {
    const hd = this.#hd?.snapshot();
    return {
      steps: this.steps,
      ...(this.#m ? { m: this.#m.read() } : {}),
      ...(this.#v ? { v: this.#v.read() } : {}),
      ...(hd ? { hypergradient: hd } : {}),
    };
  }

  /** Replaces the state with `s`, whose arrays hold one value per parameter (`size`). */
  restore(s: OptimizerSnapshot, size: number): void {
    for (const a of [s.m, s.v, s.hypergradient?.delta])
      if (a && a.length !== size) throw new RangeError(`OptimizerState: a moment has ${a.length} values, the arena ${size}`);
    this.dispose();
    this.steps = s.steps;
    if (s.m) this.#m = unscoped(() => Tensor.from(s.m!, [size]));
    if (s.v) this.#v = unscoped(() => Tensor.from(s.v!, [size]));
    if (s.hypergradient) this.#hd = Hypergradient.restore(size, s.hypergradient);
  }

  dispose(): void {
    for (const t of [this.#m, this.#v, this.#hd]) t?.dispose();
    this.#m = this.#v = this.#hd = undefined;
    this.steps = 0;
  }
}
