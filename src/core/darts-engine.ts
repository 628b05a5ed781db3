// The super-network of a differentiable architecture search over MLPs. Each hidden layer l holds
// one shared dense map z = x·Wᵀ + b onto its widest candidate (N_l units) and mixes
//   y = m ⊙ Σ_a π_a·act_a(z) + π_skip·x,    m_j = Σ_i ρ_i·[j < width_i]
// with π = softmax(αᵒᵖ) over the candidate activations (plus an identity op when the layer's input
// is N_l wide) and ρ = softmax(αʷ) over the candidate widths: m_j is the probability that unit j
// exists, so a width of w keeps the first w units (zero-padding the narrower candidates). The
// mixture is differentiable in W, b, α and x, and its discrete choice is argmax ρ and argmax π per
// layer (the identity removes the layer). An output dense layer maps the last mixture to the
// outputs. Weights, gradients, architecture logits and their optimizer state each live in one
// arena in WASM memory; a step is a few kernel calls per layer and allocates nothing.
// see: Liu, Simonyan & Yang, "DARTS", arXiv:1806.09055 (first-order alternation of w and α)
// see: Wan et al., "FBNetV2", arXiv:2004.05565 (widths as weighted prefix masks over shared units)
import { kernels } from './wasm.ts';
import { Tensor, unscoped } from './tensor.ts';
import { clipGlobalNorm } from './ops/optim.ts';
import { seedWords } from './ops/random.ts';
import { INIT_GLOROT_UNIFORM, INIT_HE_UNIFORM } from '../../assembly/codes.ts';
import { OptimizerState } from './ops/optimizer-state.ts';
import type { Targets, UpdateRule } from './layer-engine.ts';

export interface MixedLayerSpec {
  /** Input width: the data's features for the first layer, the previous layer's units after. */
  readonly inputs: number;
  /** Candidate widths; the layer holds max(widths) units. */
  readonly widths: readonly number[];
  /** Activation codes of the candidate operations (see activation.ts). */
  readonly acts: readonly number[];
  /** An identity candidate; needs inputs === max(widths). */
  readonly skip: boolean;
}

export interface SuperNetSpec {
  readonly inputs: number;
  readonly outputs: number;
  readonly layers: readonly MixedLayerSpec[];
  readonly loss: 'softmax_xent' | 'mse';
}

/** Adam over the architecture logits (DARTS: lr 3e-4, β = (0.5, 0.999), weight decay 1e-3). */
export interface ArchUpdate {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

const LEAKY_SLOPE = 0.01;

interface Slot {
  readonly spec: MixedLayerSpec;
  /** Units N = max(widths). */
  readonly units: number;
  readonly w: number;
  readonly b: number;
  /** Offsets of the width logits and of the op logits in the architecture arena. */
  readonly widthAt: number;
  readonly opAt: number;
  readonly ops: number;
  readonly widths: Tensor<'i32'>;
  readonly mask: Tensor<'f32'>;
}

interface Workspace {
  capacity: number;
  x: Tensor<'f32'>;
  targets: Targets;
  z: Tensor<'f32'>[];
  branches: Tensor<'f32'>[];
  y: Tensor<'f32'>[];
  dy: Tensor<'f32'>[];
  /** Scratch shared by the layers, [capacity, max units]: dy ⊙ m, dz, one branch's gradient. */
  dmix: Tensor<'f32'>;
  dz: Tensor<'f32'>;
  tmp: Tensor<'f32'>;
  dmask: Tensor<'f32'>;
  logits: Tensor<'f32'>;
  dlogits: Tensor<'f32'>;
  classes: Tensor<'i32'>;
}

export class DartsEngine {
  readonly spec: SuperNetSpec;
  /** Every hidden W [N, inputs] and b [N], layer by layer, then the output W [outputs, N] and b. */
  readonly params: Tensor<'f32'>;
  readonly grads: Tensor<'f32'>;
  /** Architecture logits, per layer: the width logits, then the op logits (activations in spec
   *  order, then the identity when the layer has one). */
  readonly alpha: Tensor<'f32'>;
  /** softmax of each group of `alpha`. */
  readonly probs: Tensor<'f32'>;
  readonly dprobs: Tensor<'f32'>;
  readonly dalpha: Tensor<'f32'>;
  #slots: Slot[];
  #out: { w: number; b: number; inputs: number };
  #groups: [number, number][];
  #weightOpt = new OptimizerState();
  #archOpt = new OptimizerState();
  #ws: Workspace | undefined;
  #rngState: Tensor<'u8'>;

  constructor(spec: SuperNetSpec, seed: number) {
    this.spec = spec;
    let offset = 0;
    let arch = 0;
    this.#groups = [];
    const slots: Omit<Slot, 'widths' | 'mask'>[] = spec.layers.map((layer) => {
      const units = Math.max(...layer.widths);
      const ops = layer.acts.length + (layer.skip ? 1 : 0);
      const slot = {
        spec: layer,
        units,
        w: offset,
        b: offset + units * layer.inputs,
        widthAt: arch,
        opAt: arch + layer.widths.length,
        ops,
      };
      offset = slot.b + units;
      this.#groups.push([slot.widthAt, layer.widths.length], [slot.opAt, ops]);
      arch = slot.opAt + ops;
      return slot;
    });
    const last = slots.at(-1)?.units ?? spec.inputs;
    this.#out = { w: offset, b: offset + spec.outputs * last, inputs: last };
    offset = this.#out.b + spec.outputs;
    [this.params, this.grads, this.alpha, this.probs, this.dprobs, this.dalpha, this.#rngState, this.#slots] = unscoped(
      () =>
        [
          Tensor.zeros([offset]),
          Tensor.zeros([offset]),
          Tensor.zeros([arch]),
          Tensor.zeros([arch]),
          Tensor.zeros([arch]),
          Tensor.zeros([arch]),
          Tensor.zeros([16], 'u8'),
          slots.map((s) => ({ ...s, widths: Tensor.from(s.spec.widths, [s.spec.widths.length], 'i32'), mask: Tensor.zeros([s.units]) })),
        ] as const,
    );
    const [lo, hi] = seedWords('DartsEngine', seed);
    kernels().rng_seed(this.#rngState.ptr, lo, hi);
    this.initialize();
  }

  get parameterCount(): number {
    return this.params.size;
  }

  /** He-uniform hidden weights, Glorot-uniform output weights, zero biases, zero logits. */
  initialize(): void {
    const k = kernels();
    this.params.view().fill(0);
    this.alpha.view().fill(0);
    for (const s of this.#slots)
      k.f32_init(this.#rngState.ptr, this.params.ptr + s.w * 4, s.units * s.spec.inputs, INIT_HE_UNIFORM, s.spec.inputs, s.units);
    const o = this.#out;
    k.f32_init(
      this.#rngState.ptr,
      this.params.ptr + o.w * 4,
      this.spec.outputs * o.inputs,
      INIT_GLOROT_UNIFORM,
      o.inputs,
      this.spec.outputs,
    );
    this.refreshProbabilities();
  }

  /** Recomputes the softmax of every logit group and each layer's width mask from `alpha`. */
  refreshProbabilities(): void {
    const k = kernels();
    for (const [at, len] of this.#groups) k.f32_softmax_rows(this.probs.ptr + at * 4, this.alpha.ptr + at * 4, 1, len, 1);
    for (const s of this.#slots) k.f32_prefix_mask(s.mask.ptr, this.probs.ptr + s.widthAt * 4, s.widths.ptr, s.spec.widths.length, s.units);
  }

  /** Offsets and lengths of the softmax groups in the architecture arena: per layer, widths then ops. */
  groups(): readonly (readonly [number, number])[] {
    return this.#groups;
  }

  /** Restarts the random stream of shuffling. */
  shuffle(order: Tensor<'i32'>): void {
    kernels().i32_permutation(this.#rngState.ptr, order.ptr, order.size);
  }

  #workspace(batch: number, targets: Targets): Workspace {
    const ws = this.#ws;
    const cols = targets.dtype === 'i32' ? 1 : targets.size / targets.shape[0]!;
    if (ws && ws.capacity >= batch && ws.targets.dtype === targets.dtype && ws.targets.size >= batch * cols) return ws;
    this.#freeWorkspace();
    const capacity = Math.max(batch, ws?.capacity ?? 0);
    const widest = Math.max(1, ...this.#slots.map((s) => s.units));
    this.#ws = unscoped(() => ({
      capacity,
      x: Tensor.empty([capacity, this.spec.inputs]),
      targets: (targets.dtype === 'i32' ? Tensor.empty([capacity], 'i32') : Tensor.empty([capacity, cols])) as Targets,
      z: this.#slots.map((s) => Tensor.empty([capacity, s.units])),
      branches: this.#slots.map((s) => Tensor.empty([Math.max(1, s.spec.acts.length), capacity, s.units])),
      y: this.#slots.map((s) => Tensor.empty([capacity, s.units])),
      dy: this.#slots.map((s) => Tensor.empty([capacity, s.units])),
      dmix: Tensor.empty([capacity, widest]),
      dz: Tensor.empty([capacity, widest]),
      tmp: Tensor.empty([capacity, widest]),
      dmask: Tensor.empty([widest]),
      logits: Tensor.empty([capacity, this.spec.outputs]),
      dlogits: Tensor.empty([capacity, this.spec.outputs]),
      classes: Tensor.empty([capacity], 'i32'),
    }));
    return this.#ws!;
  }

  #freeWorkspace(): void {
    const ws = this.#ws;
    if (!ws) return;
    for (const t of [
      ws.x,
      ws.targets,
      ...ws.z,
      ...ws.branches,
      ...ws.y,
      ...ws.dy,
      ws.dmix,
      ws.dz,
      ws.tmp,
      ws.dmask,
      ws.logits,
      ws.dlogits,
      ws.classes,
    ])
      t.dispose();
    this.#ws = undefined;
  }

  #prob(at: number): number {
    return this.probs.view()[at]!;
  }

  // Runs the super-network on ws.x[0:B]; leaves the logits in ws.logits.
  #forward(ws: Workspace, B: number): void {
    const k = kernels();
    const P = this.params.ptr;
    let input = ws.x.ptr;
    this.#slots.forEach((s, l) => {
      const N = s.units,
        K = s.spec.inputs,
        n = B * N;
      const z = ws.z[l]!.ptr,
        br = ws.branches[l]!.ptr,
        y = ws.y[l]!.ptr;
      k.f32_dense_fwd(z, 0, input, P + s.w * 4, P + s.b * 4, B, N, K, 0, 0);
      s.spec.acts.forEach((act, a) => k.f32_act_fwd(br + a * n * 4, z, n, act, LEAKY_SLOPE));
      k.f32_mix_fwd(y, br, this.probs.ptr + s.opAt * 4, s.mask.ptr, s.spec.acts.length, B, N);
      if (s.spec.skip) k.f32_axpy(y, input, n, this.#prob(s.opAt + s.spec.acts.length));
      input = y;
    });
    const o = this.#out;
    k.f32_dense_fwd(ws.logits.ptr, 0, input, P + o.w * 4, P + o.b * 4, B, this.spec.outputs, o.inputs, 0, 0);
  }

  #loss(ws: Workspace, B: number, grad: number): number {
    const k = kernels();
    const C = this.spec.outputs;
    return this.spec.loss === 'softmax_xent'
      ? k.f32_softmax_xent(grad, ws.logits.ptr, ws.targets.ptr, B, C, 0, 0)
      : k.f32_mse(grad, ws.logits.ptr, ws.targets.ptr, B * C);
  }

  // Backpropagates ws.dlogits: weight gradients into `grads` when `weights`, probability
  // gradients (∂loss/∂π, ∂loss/∂ρ) into `dprobs` when `arch`.
  #backward(ws: Workspace, B: number, weights: boolean, arch: boolean): void {
    const k = kernels();
    const P = this.params.ptr,
      G = this.grads.ptr,
      D = this.dprobs.ptr;
    const L = this.#slots.length;
    const o = this.#out;
    const lastY = L > 0 ? ws.y[L - 1]!.ptr : ws.x.ptr;
    k.f32_dense_bwd(
      L > 0 ? ws.dy[L - 1]!.ptr : 0,
      weights ? G + o.w * 4 : 0,
      weights ? G + o.b * 4 : 0,
      ws.dlogits.ptr,
      lastY,
      P + o.w * 4,
      0,
      0,
      B,
      this.spec.outputs,
      o.inputs,
      0,
      0,
      0,
    );
    for (let l = L - 1; l >= 0; l--) {
      const s = this.#slots[l]!;
      const N = s.units,
        K = s.spec.inputs,
        n = B * N,
        A = s.spec.acts.length;
      const input = l > 0 ? ws.y[l - 1]!.ptr : ws.x.ptr;
      const dx = l > 0 ? ws.dy[l - 1]!.ptr : 0;
      const dy = ws.dy[l]!.ptr,
        br = ws.branches[l]!.ptr,
        z = ws.z[l]!.ptr;
      k.f32_mix_bwd(
        ws.dmix.ptr,
        arch ? D + s.opAt * 4 : 0,
        arch ? ws.dmask.ptr : 0,
        dy,
        br,
        this.probs.ptr + s.opAt * 4,
        s.mask.ptr,
        A,
        B,
        N,
      );
      if (arch) {
        k.f32_prefix_mask_bwd(D + s.widthAt * 4, ws.dmask.ptr, s.widths.ptr, s.spec.widths.length, N);
        if (s.spec.skip) this.dprobs.view()[s.opAt + A] = k.f32_dot(dy, input, n);
      }
      if (!weights && dx === 0) continue;
      // dz = Σ_a π_a·act_a'(z) ⊙ (dy ⊙ m)
      k.f32_fill(ws.dz.ptr, n, 0);
      for (let a = 0; a < A; a++) {
        k.f32_act_bwd(ws.tmp.ptr, ws.dmix.ptr, z, br + a * n * 4, n, s.spec.acts[a]!, LEAKY_SLOPE);
        k.f32_axpy(ws.dz.ptr, ws.tmp.ptr, n, this.#prob(s.opAt + a));
      }
      k.f32_dense_bwd(dx, weights ? G + s.w * 4 : 0, weights ? G + s.b * 4 : 0, ws.dz.ptr, input, P + s.w * 4, 0, 0, B, N, K, 0, 0, 0);
      if (s.spec.skip && dx !== 0) k.f32_axpy(dx, dy, n, this.#prob(s.opAt + A));
    }
  }

  #gather(ws: Workspace, x: Tensor<'f32'>, targets: Targets, order: Tensor<'i32'>, start: number, batch: number): void {
    const k = kernels();
    const idx = order.ptr + start * 4;
    k.f32_gather_rows(ws.x.ptr, x.ptr, idx, batch, this.spec.inputs);
    if (targets.dtype === 'i32') k.i32_gather(ws.targets.ptr, targets.ptr, idx, batch);
    else k.f32_gather_rows(ws.targets.ptr, targets.ptr, idx, batch, targets.size / targets.shape[0]!);
  }

  /** Loss and weight gradients (into `grads`) on rows order[start:start+batch], α held fixed. */
  computeWeightGradients(x: Tensor<'f32'>, targets: Targets, order: Tensor<'i32'>, start: number, batch: number): number {
    const ws = this.#workspace(batch, targets);
    this.#gather(ws, x, targets, order, start, batch);
    this.#forward(ws, batch);
    const loss = this.#loss(ws, batch, ws.dlogits.ptr);
    this.#backward(ws, batch, true, false);
    return loss;
  }

  /** Loss and ∂loss/∂α (into `dalpha`) on rows order[start:start+batch], weights held fixed.
   *  `extra`, when given, is added to ∂/∂(probabilities) first: a penalty's gradient. */
  computeArchGradients(
    x: Tensor<'f32'>,
    targets: Targets,
    order: Tensor<'i32'>,
    start: number,
    batch: number,
    extra?: ArrayLike<number>,
  ): number {
    const ws = this.#workspace(batch, targets);
    this.#gather(ws, x, targets, order, start, batch);
    this.#forward(ws, batch);
    const loss = this.#loss(ws, batch, ws.dlogits.ptr);
    this.#backward(ws, batch, false, true);
    if (extra) {
      const d = this.dprobs.view();
      for (let i = 0; i < d.length; i++) d[i] = d[i]! + extra[i]!;
    }
    const k = kernels();
    for (const [at, len] of this.#groups)
      k.f32_softmax_rows_bwd(this.dalpha.ptr + at * 4, this.dprobs.ptr + at * 4, this.probs.ptr + at * 4, 1, len);
    return loss;
  }

  /** Scales the weight gradients down to global L2 norm `maxNorm` when above it (as
   *  MlpEngine.clipGradients); returns the norm before clipping. */
  clipGradients(maxNorm: number): number {
    return clipGlobalNorm(this.grads, maxNorm);
  }

  /** One optimizer step of the weights with `grads`; returns the learning rate used. */
  update(rule: UpdateRule, lr: number): number {
    return this.#weightOpt.step(this.params, this.grads, rule, lr);
  }

  /** Weight updates applied so far. */
  get updates(): number {
    return this.#weightOpt.steps;
  }

  /** One Adam step of the architecture logits with `dalpha`, then fresh probabilities. */
  updateArch(u: ArchUpdate): void {
    this.#archOpt.step(
      this.alpha,
      this.dalpha,
      { kind: 'adam', beta1: u.beta1, beta2: u.beta2, eps: u.eps, weightDecay: u.weightDecay, decoupled: false },
      u.lr,
    );
    this.refreshProbabilities();
  }

  /** Mean loss and, for class labels, the number of correct argmax predictions on x. */
  evaluate(x: Tensor<'f32'>, targets: Targets, chunk = 1024): { loss: number; correct: number } {
    const k = kernels();
    const n = x.shape[0]!;
    const cols = targets.dtype === 'i32' ? 1 : targets.size / n;
    let total = 0,
      correct = 0;
    for (let start = 0; start < n; start += chunk) {
      const B = Math.min(chunk, n - start);
      const ws = this.#workspace(B, targets);
      k.f32_copy(ws.x.ptr, x.ptr + start * this.spec.inputs * 4, B * this.spec.inputs);
      k.f32_copy(ws.targets.ptr, targets.ptr + start * cols * 4, B * cols);
      this.#forward(ws, B);
      total += this.#loss(ws, B, 0) * B;
      if (targets.dtype === 'i32') {
        k.f32_argmax_rows(ws.classes.ptr, ws.logits.ptr, B, this.spec.outputs);
        const predicted = ws.classes.view(),
          labels = ws.targets.view();
        for (let i = 0; i < B; i++) if (predicted[i] === labels[i]) correct++;
      }
    }
    return { loss: n > 0 ? total / n : NaN, correct };
  }

  dispose(): void {
    this.#freeWorkspace();
    this.#weightOpt.dispose();
    this.#archOpt.dispose();
    for (const t of [
      this.params,
      this.grads,
      this.alpha,
      this.probs,
      this.dprobs,
      this.dalpha,
      this.#rngState,
      ...this.#slots.flatMap((s) => [s.widths, s.mask]),
    ])
      t.dispose();
  }
}
