// Quantisation-aware training: while `fit` trains, every dense and conv2d layer runs on fake-quantised
// weights (int8, per output channel or per tensor, from the current weights' exact range) and
// fake-quantised inputs (quint8 affine, range tracked by an exponential moving average of each
// batch's min and max, PyTorch's MovingAverageMinMaxObserver with averaging constant 0.01:
// min ← min + c·(batch min − min), in f32; the first batch sets it). Gradients pass the rounding
// unchanged (the straight-through estimator) and are zeroed where an input was clipped, as
// torch.fake_quantize_per_tensor_affine's backward does. `convert()` then freezes the weights and
// ranges into an int8 QuantizedModel that computes what training saw. Inputs are rewritten in
// place, so the next layer's weight gradient sees the fake-quantised input (as in PyTorch); the
// previous layer's activation derivative reads its pre-activations (ReLU family, GELU) and is
// unaffected, except sigmoid and tanh, which read their output and so see it fake-quantised.
// see: Jacob et al., "Quantization and Training of Neural Networks for Efficient
//      Integer-Arithmetic-Only Inference", arXiv:1712.05877
import { checkKnownKeys, checkNumber } from '../../core/errors.ts';
import type { LayerHooks } from '../../core/layer.ts';
import { fakeQuantize, fakeQuantizeRows, minMaxGroups } from '../../core/ops/quant.ts';
import { maskInPlace } from '../../core/ops/optim.ts';
import { Tensor, unscoped } from '../../core/tensor.ts';
import { Sequential } from '../../nn/sequential.ts';
import { QuantizedModel } from './model.ts';
import { calculateQParams, QINT8, QUINT8, type QParams } from './qparams.ts';
import { describeSource, quantizeWeights } from './quantize.ts';
import { quantSourceLayers } from './layers.ts';

/** Options of `prepareQat`: target scheme, weight symmetry and range momentum. */
export interface QatOptions {
  /** The int8 model convert() makes. Default 'int8-per-channel'. */
  scheme?: 'int8-per-channel' | 'int8-per-tensor';
  /** Weights symmetric (default) or affine. */
  symmetric?: boolean;
  /** Averaging constant of the activation ranges, in (0, 1]. Default 0.01. */
  momentum?: number;
}

interface Observer {
  min: number;
  max: number;
}

const WHERE = 'prepareQat';

/**
 * Puts `model` into quantisation-aware training: train it with `fit` as usual, then call
 * `convert()`. `detach()` restores plain f32 training and inference.
 *
 * @example
 * const qat = prepareQat(model);
 * await fit(model, train, { epochs: 2, optimizer: adam({ lr: 1e-4 }) });
 * const q = qat.convert();
 * qat.detach();
 */
export function prepareQat(model: Sequential, options: QatOptions = {}): QatSession {
  if (!(model instanceof Sequential))
    throw new TypeError(`${WHERE}: model must be a Sequential, got ${model === null ? 'null' : typeof model}`);
  checkKnownKeys(WHERE, options, ['scheme', 'symmetric', 'momentum']);
  const scheme = options.scheme ?? 'int8-per-channel';
  if (scheme !== 'int8-per-channel' && scheme !== 'int8-per-tensor')
    throw new TypeError(`${WHERE}: scheme must be int8-per-channel or int8-per-tensor, got ${String(scheme)}`);
  const symmetric = options.symmetric ?? true;
  if (typeof symmetric !== 'boolean') throw new TypeError(`${WHERE}: symmetric must be a boolean, got ${typeof symmetric}`);
  const momentum = checkNumber(WHERE, 'momentum', options.momentum ?? 0.01, 0, 1);
  if (momentum === 0) throw new RangeError(`${WHERE}: momentum must be in (0, 1], got 0`);
  if (model.hooks) throw new RangeError(`${WHERE}: the model already has hooks installed (another QAT session?); detach it first`);
  return new QatSession(model, scheme, symmetric, momentum);
}

/** Fake quantization attached to a model during training (see `prepareQat`); `convert()` makes the int8 model. */
export class QatSession {
  readonly model: Sequential;
  readonly scheme: 'int8-per-channel' | 'int8-per-tensor';
  readonly symmetric: boolean;
  readonly momentum: number;
  #dense: number[];
  #observers: (Observer | undefined)[];
  #weights: Tensor<'f32'>[];
  #masks: (Tensor<'u8'> | undefined)[];
  #attached = true;

  constructor(model: Sequential, scheme: 'int8-per-channel' | 'int8-per-tensor', symmetric: boolean, momentum: number) {
    this.model = model;
    this.scheme = scheme;
    this.symmetric = symmetric;
    this.momentum = momentum;
    const offsets = quantSourceLayers(model, WHERE);
    this.#dense = offsets.map((o) => o.layer);
    this.#observers = offsets.map(() => undefined);
    this.#masks = offsets.map(() => undefined);
    this.#weights = unscoped(() => offsets.map((o) => Tensor.empty([o.units, o.inputs])));
    const hooks: LayerHooks = {
      weights: (layer, forward) => this.#fakeWeights(this.#dense.indexOf(layer), forward),
      input: (layer, x, training) => this.#fakeInput(this.#dense.indexOf(layer), x, training),
      inputGrad: (layer, dx) => {
        const mask = this.#masks[this.#dense.indexOf(layer)];
        if (mask) maskInPlace(dx, mask.slice(0, [dx.size]));
      },
      // The model was disposed while attached: free this session's buffers with it.
      dispose: () => this.detach(),
    };
    model.setHooks(hooks);
  }

  /** The tracked range of each dense layer's input (undefined before its first training batch). */
  ranges(): ({ min: number; max: number } | undefined)[] {
    return this.#observers.map((o) => (o ? { ...o } : undefined));
  }

  #fakeWeights(j: number, forward: boolean): Tensor<'f32'> {
    const out = this.#weights[j]!;
    if (!forward) return out;
    // Fetched per pass: a view made earlier would not survive a change of the model's arena.
    const [units] = this.#weights[j]!.shape;
    const w = this.model.engine.layerParams(this.#dense[j]!)[0]!.reshape([units!, this.#weights[j]!.size / units!]);
    if (this.scheme === 'int8-per-tensor') {
      const [lo, hi] = minMaxGroups(w.reshape([1, w.size]));
      const p = calculateQParams(lo!, hi!, QINT8, this.symmetric);
      fakeQuantize(w, { ...p, ...QINT8 }, { out });
      return out;
    }
    const mm = minMaxGroups(w);
    const ps: QParams[] = [];
    for (let r = 0; r < mm.length / 2; r++) ps.push(calculateQParams(mm[2 * r]!, mm[2 * r + 1]!, QINT8, this.symmetric));
    const zeroPoints = this.symmetric ? undefined : Int32Array.from(ps, (p) => p.zeroPoint);
    fakeQuantizeRows(w, { scales: Float32Array.from(ps, (p) => p.scale), zeroPoints, ...QINT8 }, { out });
    return out;
  }

  #fakeInput(j: number, x: Tensor<'f32'>, training: boolean): void {
    if (training) {
      const [lo, hi] = minMaxGroups(x.reshape([1, x.size]));
      const c = Math.fround(this.momentum);
      const o = this.#observers[j];
      if (!o) this.#observers[j] = { min: lo!, max: hi! };
      else {
        o.min = Math.fround(o.min + Math.fround(c * Math.fround(lo! - o.min)));
        o.max = Math.fround(o.max + Math.fround(c * Math.fround(hi! - o.max)));
      }
    }
    const o = this.#observers[j];
    if (!o) return;
    const p = { ...calculateQParams(o.min, o.max, QUINT8, false), ...QUINT8 };
    if (!training) {
      fakeQuantize(x, p, { out: x });
      return;
    }
    let mask = this.#masks[j];
    if (!mask || mask.size < x.size) {
      mask?.dispose();
      mask = this.#masks[j] = unscoped(() => Tensor.empty([x.size], 'u8'));
    }
    fakeQuantize(x, p, { out: x, mask: mask.slice(0, [x.size]) });
  }

  /** The int8 model: weights quantised as training saw them, activation parameters from the
   *  tracked ranges. Every dense layer must have seen at least one training batch. */
  convert(): QuantizedModel {
    const ranges = this.#observers;
    const missing = ranges.findIndex((o) => !o);
    if (missing >= 0)
      throw new RangeError(`QatSession.convert: dense layer ${missing} has no activation range yet; train with fit() first`);
    const weights = quantizeWeights(this.model, this.scheme, this.symmetric, undefined);
    return new QuantizedModel({
      scheme: this.scheme,
      symmetric: this.symmetric,
      ...describeSource(this.model),
      layers: weights.map((w, i) => ({ ...w, input: calculateQParams(ranges[i]!.min, ranges[i]!.max, QUINT8, false) })),
      calibration: 'qat',
    });
  }

  /** Removes the hooks (the model trains and predicts in plain f32 again) and frees the buffers. */
  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.model.setHooks(undefined);
    for (const t of [...this.#weights, ...this.#masks]) t?.dispose();
  }
}
