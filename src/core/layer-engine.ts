// The layer engine: trains and runs any stack of layers (see layer.ts). Parameters, gradients and
// optimizer state each live in one arena in WASM memory, laid out layer by layer and slot by slot;
// activations live in a workspace sized for the largest batch seen. A training step is each
// layer's forward calls, one loss call, each layer's backward calls and one update over the whole
// arena; nothing is allocated in the core per step and no JS touches an element. The engine knows
// no layer by name.
import { kernels } from './wasm.ts';
import { shapeSize, type Layer, type LayerHooks, type Pass } from './layer.ts';
import { Tensor, scope, unscoped } from './tensor.ts';
import { clipGlobalNorm } from './ops/optim.ts';
import { predictInChunks, transformOutputs, type OutputTransform } from './ops/infer.ts';
import { shapeText } from './errors.ts';
import { OptimizerState, type OptimizerSnapshot } from './ops/optimizer-state.ts';

import { AugmentBuffers, augmentBatch, augments, type AugmentPlan } from './ops/augment.ts';
import { initCode, seedWords, INIT_KINDS, type InitKind } from './ops/random.ts';
export { INIT_KINDS, type InitKind };

export type LossKind = 'softmax_xent' | 'mse' | 'bce';
export interface LossSpec {
  readonly kind: LossKind;
  readonly smoothing: number;
  /** f32[C] class weights, or undefined. */
  readonly classWeights: Tensor<'f32'> | undefined;
}

/** Hypergradient descent of the learning rate with hyper-rate β (see ops/hypergrad.ts). */
export interface HypergradientRule {
  readonly beta: number;
}

export type UpdateRule =
  | {
      readonly kind: 'sgd';
      readonly momentum: number;
      readonly dampening: number;
      readonly nesterov: boolean;
      readonly weightDecay: number;
      readonly hypergradient?: HypergradientRule;
    }
  | {
      readonly kind: 'adam';
      readonly beta1: number;
      readonly beta2: number;
      readonly eps: number;
      readonly weightDecay: number;
      readonly decoupled: boolean;
      readonly hypergradient?: HypergradientRule;
    };

/** Knowledge distillation: a teacher's outputs as soft targets, blended with the hard loss. */
export interface SoftTargets {
  /** Teacher outputs (logits for classifiers): [n, outputs] for every row of x when `rows` is
   *  'data' (gathered with the batch's rows), or [batch, outputs] already in batch order. */
  readonly teacher: Tensor<'f32'>;
  readonly rows: 'data' | 'batch';
  /** Softmax temperature T > 0 of the classification KL term; unused by regression (MSE). */
  readonly temperature: number;
  /** Weight α in [0, 1] of the soft term; 1 − α weighs the hard loss on the targets. */
  readonly alpha: number;
}

/** Augmentation of training batches (ops/augment.ts), applied to raw rows; `input` then
 *  standardises the augmented batch (the data set is then kept raw); `smoothing` is the label
 *  smoothing of the distributions mixup makes from class labels. */
export interface BatchAugment {
  readonly plan: AugmentPlan;
  readonly input: ColumnAffine | undefined;
  readonly smoothing: number;
}

export type { AugmentPlan };

/** Targets of a batch or data set: class ids (i32 [n]) or values (f32 [n, k]). */
export type Targets = Tensor<'i32'> | Tensor<'f32'>;

export type { OutputTransform };
/** Per-column x·scale + shift (standardisation), each f32 [inputs]. */
export interface ColumnAffine {
  readonly scale: Tensor<'f32'>;
  readonly shift: Tensor<'f32'>;
}

/** Where one parameter tensor sits in the arena. */
export interface ParamLocation {
  /** Index of the layer in the stack. */
  readonly layer: number;
  /** Slot name within the layer ('weight', 'bias'). */
  readonly name: string;
  readonly shape: readonly number[];
  /** First element in `params` / `grads`. */
  readonly offset: number;
  readonly size: number;
  /** False for a non-trainable slot: `offset` is then into `state`, not `params`. */
  readonly trainable: boolean;
}

// Per-layer activation buffers for a batch capacity, and the one Pass of each layer over them.
interface Workspace {
  capacity: number;
  x: Tensor<'f32'>;
  targets: Tensor<'f32'> | Tensor<'i32'>;
  passes: Pass[];
  /** Every buffer, to free together. */
  owned: Tensor[];
  /** Distillation only: gathered teacher rows and the soft gradient, [capacity, outputs]. */
  teacher?: Tensor<'f32'>;
  softGrad?: Tensor<'f32'>;
  /** Augmentation only: scratch, and what the loaded batch needs before its forward pass. */
  aug?: AugmentBuffers;
  /** The loaded batch's targets are distributions in aug.targets (mixup of class labels). */
  probs: boolean;
  input: ColumnAffine | undefined;
}

export class LayerEngine {
  readonly layers: readonly Layer[];
  /** Values per row at the input and at the output. */
  readonly inputs: number;
  readonly outputs: number;
  /** Every parameter, layer by layer and slot by slot (a dense layer: W [units, inputs], then b). */
  readonly params: Tensor<'f32'>;
  readonly grads: Tensor<'f32'>;
  /** Non-trainable slots (running statistics), layer by layer; the optimizer never sees them. */
  readonly state: Tensor<'f32'>;
  /** Every slot, trainable or not, in layer and slot order. */
  readonly locations: readonly ParamLocation[];
  /** 1 keeps a parameter, 0 holds it at exactly zero (pruning); undefined when nothing is pruned. */
  mask: Tensor<'u8'> | undefined;
  #hooks: LayerHooks | undefined;
  #paramViews: Tensor<'f32'>[][];
  #gradViews: Tensor<'f32'>[][];
  #stateViews: Tensor<'f32'>[][];
  #optimizer = new OptimizerState();
  #ws: Workspace | undefined;
  #rngState: Tensor<'u8'>;
  #disposed = false;

  constructor(layers: readonly Layer[], seed: number) {
    if (layers.length === 0) throw new RangeError('LayerEngine: no layers');
    layers.forEach((layer, i) => {
      const previous = layers[i - 1];
      if (previous && shapeSize(previous.outputShape) !== shapeSize(layer.inputShape)) {
        throw new RangeError(
          `LayerEngine: layer ${i} ${layer.name} takes ${shapeText(layer.inputShape)}, layer ${i - 1} ${previous.name} gives ${shapeText(previous.outputShape)}`,
        );
      }
    });
    this.layers = layers;
    this.inputs = shapeSize(layers[0]!.inputShape);
    this.outputs = shapeSize(layers.at(-1)!.outputShape);
    const locations: ParamLocation[] = [];
    let offset = 0,
      stateOffset = 0;
    layers.forEach((layer, i) => {
      for (const slot of layer.params) {
        const size = shapeSize(slot.shape);
        const trainable = slot.trainable ?? true;
        locations.push({ layer: i, name: slot.name, shape: slot.shape, offset: trainable ? offset : stateOffset, size, trainable });
        if (trainable) offset += size;
        else stateOffset += size;
      }
    });
    this.locations = locations;
    [this.params, this.grads, this.state, this.#rngState] = unscoped(
      () => [Tensor.zeros([offset]), Tensor.zeros([offset]), Tensor.zeros([stateOffset]), Tensor.zeros([16], 'u8')] as const,
    );
    const views = (arena: Tensor<'f32'>, trainable: boolean) =>
      layers.map((_, i) => locations.filter((l) => l.layer === i && l.trainable === trainable).map((l) => arena.slice(l.offset, l.shape)));
    this.#paramViews = unscoped(() => views(this.params, true));
    this.#gradViews = unscoped(() => views(this.grads, true));
    this.#stateViews = unscoped(() => views(this.state, false));
    this.reseed(seed);
  }

  get parameterCount(): number {
    return this.params.size;
  }

  /** See LayerHooks; undefined runs the plain layers. */
  get hooks(): LayerHooks | undefined {
    return this.#hooks;
  }

  set hooks(hooks: LayerHooks | undefined) {
    this.#hooks = hooks;
    for (const p of this.#ws?.passes ?? []) p.hooks = hooks;
  }

  /** Number of optimizer updates applied since the state was last reset. */
  get updates(): number {
    return this.#optimizer.steps;
  }

  /** Restarts the engine's random stream (init, dropout, shuffling) from `seed`. */
  reseed(seed: number): void {
    const [lo, hi] = seedWords('seed', seed);
    kernels().rng_seed(this.#rngState.ptr, lo, hi);
  }

  /** Draws fresh parameters, slot by slot in arena order, as each slot's `init` says. */
  initialize(): void {
    const k = kernels();
    this.params.view().fill(0);
    this.state.view().fill(0);
    this.layers.forEach((layer, i) => {
      let trainable = 0,
        fixed = 0;
      for (const slot of layer.params) {
        const view = (slot.trainable ?? true) ? this.#paramViews[i]![trainable++]! : this.#stateViews[i]![fixed++]!;
        if (slot.init === 'ones') view.view().fill(1);
        else if (slot.init !== 'zeros')
          k.f32_init(this.#rngState.ptr, view.ptr, view.size, initCode(slot.init.kind), slot.init.fanIn, slot.init.fanOut);
      }
    });
    this.applyMask();
  }

  /** The view of one slot (trainable or not) by location. */
  slotView(l: ParamLocation): Tensor<'f32'> {
    const arena = l.trainable ? this.params : this.state;
    return arena.slice(l.offset, l.shape);
  }

  /** Views of layer `layer`'s parameters (or gradients), in slot order. */
  layerParams(layer: number): readonly Tensor<'f32'>[] {
    return this.#paramViews[layer] ?? [];
  }

  layerGrads(layer: number): readonly Tensor<'f32'>[] {
    return this.#gradViews[layer] ?? [];
  }

  /** Installs a pruning mask over the whole arena (applied at once) or removes it. */
  setMask(mask: Uint8Array | undefined): void {
    if (mask && mask.length !== this.params.size)
      throw new RangeError(`LayerEngine: a mask has one byte per parameter (${this.params.size}), got ${mask.length}`);
    this.mask?.dispose();
    this.mask = mask ? unscoped(() => Tensor.from(mask, [mask.length], 'u8')) : undefined;
    this.applyMask();
  }

  applyMask(): void {
    if (this.mask) kernels().f32_mask_u8(this.params.ptr, this.mask.ptr, this.params.size);
  }

  /** Forgets optimizer moments and the update count (a new fit starts from here). */
  resetOptimizer(): void {
    this.#optimizer.dispose();
  }

  /** Copies of the optimizer state (moments, update count), to save it. */
  optimizerSnapshot(): OptimizerSnapshot {
    return this.#optimizer.snapshot();
  }

  /** Replaces the optimizer state with a saved one over this arena. */
  restoreOptimizer(snapshot: OptimizerSnapshot): void {
    this.#optimizer.restore(snapshot, this.params.size);
  }

  #workspace(batch: number, targetKind: 'i32' | 'f32', targetCols: number): Workspace {
    // Before any allocation: a disposed engine must not grow a workspace it will never free.
    if (this.#disposed) throw new Error('LayerEngine: the model was disposed (dispose() was called); it cannot run');
    const ws = this.#ws;
    const targetsFit = ws && ws.targets.dtype === targetKind && ws.targets.size >= batch * targetCols;
    if (ws && ws.capacity >= batch && targetsFit) return ws;
    this.#freeWorkspace();
    return unscoped(() => this.#allocateWorkspace(Math.max(batch, ws?.capacity ?? 0), targetKind, targetCols));
  }

  #allocateWorkspace(capacity: number, targetKind: 'i32' | 'f32', targetCols: number): Workspace {
    const sized = (cols: number) => Tensor.empty([capacity, cols]);
    const x = sized(this.inputs);
    const targets = targetKind === 'i32' ? Tensor.empty([capacity], 'i32') : Tensor.empty([capacity, Math.max(1, targetCols)], 'f32');
    const owned: Tensor[] = [x, targets];
    const passes: Pass[] = [];
    this.layers.forEach((layer, index) => {
      const out = shapeSize(layer.outputShape);
      const y = sized(out),
        dy = sized(out);
      const scratch = layer.scratch.map((n) => sized(n));
      // Zeroed: a layer may keep values between calls in its workspace, valid only once it wrote them.
      const workspace = (layer.workspace ?? []).map((n) => Tensor.zeros([n]));
      owned.push(y, dy, ...scratch, ...workspace);
      const previous = passes[index - 1];
      passes.push({
        index,
        batch: 0,
        training: false,
        x: previous ? previous.y : x,
        y,
        dy,
        dx: previous?.dy,
        params: this.#paramViews[index]!,
        grads: this.#gradViews[index]!,
        state: this.#stateViews[index]!,
        scratch,
        workspace,
        rng: this.#rngState,
        hooks: this.#hooks,
      });
    });
    const fresh: Workspace = { capacity, x, targets, passes, owned, probs: false, input: undefined };
    this.#ws = fresh;
    return fresh;
  }

  #freeWorkspace(): void {
    const ws = this.#ws;
    if (!ws) return;
    for (const t of [...ws.owned, ws.teacher, ws.softGrad, ws.aug]) t?.dispose();
    this.#ws = undefined;
  }

  // Runs the layers on ws.x[0:B]; in training they keep what backward needs and draw dropout masks.
  #forward(ws: Workspace, batch: number, training: boolean): Tensor<'f32'> {
    const layers = this.layers,
      passes = ws.passes;
    for (let i = 0; i < layers.length; i++) {
      const p = passes[i]!;
      p.batch = batch;
      p.training = training;
      layers[i]!.forward(p);
    }
    return passes[passes.length - 1]!.y;
  }

  #backward(ws: Workspace, batch: number): void {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const p = ws.passes[i]!;
      p.batch = batch;
      this.layers[i]!.backward(p);
    }
  }

  #loss(ws: Workspace, batch: number, loss: LossSpec, output: number, grad: number): number {
    const k = kernels();
    const C = this.outputs;
    switch (loss.kind) {
      case 'softmax_xent':
        if (ws.probs) return k.f32_softmax_xent_soft(grad, output, ws.aug!.targets.ptr, batch, C);
        return k.f32_softmax_xent(grad, output, ws.targets.ptr, batch, C, loss.smoothing, loss.classWeights ? loss.classWeights.ptr : 0);
      case 'mse':
        return k.f32_mse(grad, output, ws.targets.ptr, batch * C);
      case 'bce':
        return k.f32_bce_logits(grad, output, ws.targets.ptr, batch * C, 1);
    }
  }

  /** Copies rows `order[start:start+batch]` of the data set into the batch buffers. */
  #gather(ws: Workspace, x: Tensor<'f32'>, targets: Targets, order: Tensor<'i32'>, start: number, batch: number): void {
    const k = kernels();
    const idx = order.ptr + start * 4;
    k.f32_gather_rows(ws.x.ptr, x.ptr, idx, batch, this.inputs);
    if (targets.dtype === 'i32') k.i32_gather(ws.targets.ptr, targets.ptr, idx, batch);
    else k.f32_gather_rows(ws.targets.ptr, targets.ptr, idx, batch, targets.size / targets.shape[0]!);
  }

  /** A fresh permutation of 0..n-1 from the engine's stream (epoch shuffling). */
  shuffle(order: Tensor<'i32'>): void {
    kernels().i32_permutation(this.#rngState.ptr, order.ptr, order.size);
  }

  /** Forward, loss and backward on rows `order[start:start+batch]`; fills `grads`; returns the loss.
   *  With `soft`, the loss is α·soft + (1 − α)·hard (see #distillLoss). */
  computeGradients(
    x: Tensor<'f32'>,
    targets: Targets,
    order: Tensor<'i32'>,
    start: number,
    batch: number,
    loss: LossSpec,
    soft?: SoftTargets,
  ): number {
    this.loadBatch(x, targets, order, start, batch);
    return this.batchGradients(batch, loss, soft, order, start);
  }

  /** Copies rows `order[start:start+batch]` into the batch buffers and, with `augment`, augments
   *  them (draws from the engine's stream). Returns the loaded rows [batch, inputs] as the model
   *  will see them before standardisation: the view a teacher must see too (valid until the
   *  next call into the engine). `batchGradients` then trains on them. */
  loadBatch(x: Tensor<'f32'>, targets: Targets, order: Tensor<'i32'>, start: number, batch: number, augment?: BatchAugment): Tensor<'f32'> {
    const classes = targets.dtype === 'i32';
    const cols = classes ? 1 : targets.size / targets.shape[0]!;
    const ws = this.#workspace(batch, classes ? 'i32' : 'f32', cols);
    this.#gather(ws, x, targets, order, start, batch);
    ws.probs = false;
    ws.input = augment?.input;
    if (augment && augments(augment.plan)) {
      const mixLabels = classes && augment.plan.mixup > 0;
      const targetCols = mixLabels ? this.outputs : cols;
      // Grown, never shrunk: a fit's transfer batches may mix labels where its batches do not.
      if (!ws.aug || ws.aug.capacity < ws.capacity || ws.aug.targets.size < ws.aug.capacity * targetCols) {
        ws.aug?.dispose();
        ws.aug = new AugmentBuffers(ws.capacity, this.inputs, targetCols);
      }
      let targetsPtr = ws.targets.ptr;
      if (mixLabels) {
        kernels().f32_one_hot(ws.aug.targets.ptr, ws.targets.ptr, batch, this.outputs, augment.smoothing);
        targetsPtr = ws.aug.targets.ptr;
        ws.probs = true;
      }
      augmentBatch(augment.plan, ws.aug, this.#rngState.ptr, ws.x, batch, this.inputs, classes && !mixLabels ? 0 : targetsPtr, targetCols);
    }
    return ws.x.slice(0, [batch, this.inputs]);
  }

  /** Forward, loss and backward on the batch `loadBatch` loaded (standardised first when it was
   *  given an input affine); fills `grads`; returns the loss. With `soft`, the loss is
   *  α·soft + (1 − α)·hard (see #distillLoss); `order[start:]` holds the batch's data-set row
   *  numbers, needed when the soft targets are per data-set row. */
  batchGradients(batch: number, loss: LossSpec, soft?: SoftTargets, order?: Tensor<'i32'>, start = 0): number {
    const ws = this.#ws;
    if (!ws || ws.capacity < batch) throw new RangeError(`LayerEngine.batchGradients: no batch of ${batch} rows is loaded`);
    if (ws.input) kernels().f32_affine_cols(ws.x.ptr, ws.input.scale.ptr, ws.input.shift.ptr, batch, this.inputs);
    const output = this.#forward(ws, batch, true).ptr;
    const dy = ws.passes[ws.passes.length - 1]!.dy.ptr;
    const value =
      soft && soft.alpha > 0
        ? this.#distillLoss(ws, batch, loss, output, dy, soft, order ? order.ptr + start * 4 : 0)
        : this.#loss(ws, batch, loss, output, dy);
    this.#backward(ws, batch);
    return value;
  }

  // Hinton et al. 2015: α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·hard for classifiers, whose
  // soft gradient T·(p_s − p_t)/B keeps its size across T; α·MSE(s, t) + (1 − α)·hard for
  // regression. The hard part is skipped at α = 1, so unlabeled transfer data needs no labels.
  #distillLoss(ws: Workspace, batch: number, loss: LossSpec, output: number, dy: number, soft: SoftTargets, rowsPtr: number): number {
    const k = kernels();
    const C = this.outputs;
    if (!ws.teacher || !ws.softGrad)
      [ws.teacher, ws.softGrad] = unscoped(() => [Tensor.empty([ws.capacity, C]), Tensor.empty([ws.capacity, C])]);
    let teacher = soft.teacher.ptr;
    if (soft.rows === 'data') {
      if (rowsPtr === 0) throw new RangeError('LayerEngine: soft targets per data-set row need the batch order');
      k.f32_gather_rows(ws.teacher.ptr, teacher, rowsPtr, batch, C);
      teacher = ws.teacher.ptr;
    }
    const hardToo = soft.alpha < 1;
    const softGrad = hardToo ? ws.softGrad.ptr : dy;
    const softLoss =
      loss.kind === 'mse'
        ? k.f32_mse(softGrad, output, teacher, batch * C)
        : k.f32_kl_distill(softGrad, output, teacher, batch, C, soft.temperature);
    if (!hardToo) return softLoss;
    const hard = this.#loss(ws, batch, loss, output, dy);
    k.f32_scale(dy, batch * C, 1 - soft.alpha);
    k.f32_axpy(dy, softGrad, batch * C, soft.alpha);
    return soft.alpha * softLoss + (1 - soft.alpha) * hard;
  }

  /** Global L2 norm of the gradients; scales them down to `maxNorm` when above it (PyTorch's
   *  clip_grad_norm_: factor maxNorm / (norm + 1e-6)). Returns the norm before clipping. */
  clipGradients(maxNorm: number): number {
    return clipGlobalNorm(this.grads, maxNorm);
  }

  /** The learning rate hypergradient descent has reached (the last update's), if in use. */
  get hypergradientLr(): number | undefined {
    return this.#optimizer.hypergradientLr;
  }

  /** One optimizer update of every parameter with the current gradients, the pruning mask
   *  re-applied; returns the learning rate used: `lr`, or with `rule.hypergradient` the adapted
   *  rate (`lr` starts it). */
  update(rule: UpdateRule, lr: number): number {
    return this.#optimizer.step(this.params, this.grads, rule, lr, () => this.applyMask());
  }

  /** Runs the model on x [n, inputs] in chunks of `chunk` rows; returns the outputs [n, outputs],
   *  raw or through softmax / sigmoid. `input`, when given, standardises x (x·scale + shift per
   *  column) on the way in without touching x. */
  predict(x: Tensor<'f32'>, output: OutputTransform = 'raw', input?: ColumnAffine, chunk = 1024): Tensor<'f32'> {
    const n = x.shape[0] ?? 0;
    if (x.size !== n * this.inputs)
      throw new RangeError(`LayerEngine.predict: input ${shapeText(x.shape)} does not have ${this.inputs} features`);
    const out = Tensor.empty([n, this.outputs]);
    for (let start = 0; start < n; start += chunk) {
      const batch = Math.min(chunk, n - start);
      const ws = this.#inferenceWorkspace(batch);
      kernels().f32_copy(ws.x.ptr, x.ptr + start * this.inputs * 4, batch * this.inputs);
      this.#inferChunk(ws, batch, output, input, out.ptr + start * this.outputs * 4);
    }
    return out;
  }

  /** As `predict`, from and to JS arrays: the rows are copied straight into the workspace, so a
   *  batch-1 call allocates nothing in the core. With `where`, NaN or infinite inputs throw a
   *  RangeError naming it, the row and the column. */
  predictArray(x: ArrayLike<number>, output: OutputTransform = 'raw', input?: ColumnAffine, where?: string, chunk = 1024): Float32Array {
    return predictInChunks(x, this.inputs, this.outputs, chunk, where, (batch) => {
      const ws = this.#inferenceWorkspace(batch);
      return {
        input: () => ws.x.ptr,
        run: () => {
          const to = ws.passes[ws.passes.length - 1]!.dy.ptr;
          this.#inferChunk(ws, batch, output, input, to);
          return to;
        },
      };
    });
  }

  /** Runs the layers at inference on x [n, inputs] (already standardised) in chunks, handing each
   *  layer's output [rows, output size] to `visit` as it is made (a view, valid during the call). */
  visitOutputs(x: Tensor<'f32'>, visit: (layer: number, y: Tensor<'f32'>) => void, chunk = 256): void {
    const n = x.shape[0] ?? 0;
    for (let start = 0; start < n; start += chunk) {
      const batch = Math.min(chunk, n - start);
      const ws = this.#inferenceWorkspace(batch);
      kernels().f32_copy(ws.x.ptr, x.ptr + start * this.inputs * 4, batch * this.inputs);
      this.layers.forEach((layer, i) => {
        const p = ws.passes[i]!;
        p.batch = batch;
        p.training = false;
        layer.forward(p);
        const cols = shapeSize(layer.outputShape);
        scope(() => visit(i, p.y.slice(0, [batch, cols])));
      });
    }
  }

  #inferenceWorkspace(batch: number): Workspace {
    return this.#workspace(batch, this.#ws?.targets.dtype === 'f32' ? 'f32' : 'i32', 1);
  }

  // Standardise ws.x in place, run the layers, write the transformed outputs to `to`.
  #inferChunk(ws: Workspace, batch: number, output: OutputTransform, input: ColumnAffine | undefined, to: number): void {
    const k = kernels();
    if (input) k.f32_affine_cols(ws.x.ptr, input.scale.ptr, input.shift.ptr, batch, this.inputs);
    transformOutputs(to, this.#forward(ws, batch, false).ptr, batch, this.outputs, output);
  }

  /** Mean loss over a data set without touching gradients or parameters. */
  evaluateLoss(x: Tensor<'f32'>, targets: Targets, loss: LossSpec, chunk = 1024): number {
    const n = x.shape[0]!;
    const cols = targets.dtype === 'i32' ? 1 : targets.size / n;
    const k = kernels();
    let total = 0;
    for (let start = 0; start < n; start += chunk) {
      const batch = Math.min(chunk, n - start);
      const ws = this.#workspace(batch, targets.dtype === 'i32' ? 'i32' : 'f32', cols);
      k.f32_copy(ws.x.ptr, x.ptr + start * this.inputs * 4, batch * this.inputs);
      k.f32_copy(ws.targets.ptr, targets.ptr + start * cols * 4, batch * cols);
      const y = this.#forward(ws, batch, false).ptr;
      total += this.#loss(ws, batch, loss, y, 0) * batch;
    }
    return n > 0 ? total / n : NaN;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    // Hooks that own memory (a QAT session) free it with the model, detached or not.
    this.#hooks?.dispose?.();
    this.#hooks = undefined;
    this.#freeWorkspace();
    this.resetOptimizer();
    for (const t of [this.params, this.grads, this.state, this.mask, this.#rngState]) t?.dispose();
  }
}
