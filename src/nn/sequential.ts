// Sequential: a stack of layers (src/nn/layers/) run by the layer engine, its parameters in the
// WASM core. It is the float model kind of the Predictor interface.
import { checkInteger, checkKnownKeys, shapeText } from '../core/errors.ts';
import { LayerEngine, type LossKind } from '../core/layer-engine.ts';
import { shapeSize, type LayerHooks, type Shape } from '../core/layer.ts';
import type { Tensor } from '../core/tensor.ts';
import { StandardScaler } from '../data/scaler.ts';
import type { Activation } from '../core/activation.ts';
import { buildLayers, checkLayer, type LayerConfig } from './layers/index.ts';
import {
  classesOf,
  flattenRows,
  InputAffine,
  OUTPUT_OF_TASK,
  type Predictor,
  type Preprocessing,
  type Rows,
  type Task,
} from './predictor.ts';

export type { Task, Preprocessing } from './predictor.ts';

/** One layer as `Sequential.summary` describes it. */
export interface LayerSummary {
  name: string;
  inputShape: number[];
  outputShape: number[];
  parameters: number;
}

/** Options of `new Sequential`: input shape, layers, task and seed. */
export interface SequentialOptions {
  /** Values per input row, or the row shape ([channels, height, width] for images). */
  inputs: number | readonly number[];
  layers: LayerConfig[];
  /** classification: softmax over the outputs, cross-entropy; binary: one sigmoid output,
   *  binary cross-entropy; regression: raw outputs, mean squared error. Default classification. */
  task?: Task;
  /** Seed of the initial weights and of dropout and shuffling in training. Default 0. */
  seed?: number;
  preprocessing?: Preprocessing;
}

/** The loss each task trains with. */
export const LOSS_OF_TASK: Readonly<Record<Task, LossKind>> = { classification: 'softmax_xent', binary: 'bce', regression: 'mse' };

/** One dense layer's parameters in place (views into the model, valid until it changes shape). */
export interface DenseView {
  /** Index of the layer in the stack. */
  readonly layer: number;
  readonly inputs: number;
  readonly units: number;
  readonly activation: Activation;
  readonly alpha: number;
  /** [units, inputs] and [units]. */
  readonly weight: Tensor<'f32'>;
  readonly bias: Tensor<'f32'>;
  /** Where they start in `parameterVector()` (and in a pruning mask). */
  readonly weightOffset: number;
  readonly biasOffset: number;
}

/** A feed-forward network. Free its WASM memory with `dispose()` when done.
 *  @example
 *  const model = new Sequential({ inputs: 4, layers: [dense(16, 'relu'), dense(3)], seed: 1 });
 *  const probabilities = model.predict([[5.1, 3.5, 1.4, 0.2]]); */
export class Sequential implements Predictor {
  /** Values per input row. */
  readonly inputs: number;
  /** The shape of one input row. */
  readonly inputShape: Shape;
  readonly layers: readonly LayerConfig[];
  readonly task: Task;
  readonly seed: number;
  preprocessing: Preprocessing;
  /** @internal The layer engine: only the training loop (src/train) drives it. */
  readonly engine: LayerEngine;
  #affine: InputAffine | undefined;
  readonly #where: string;

  constructor(options: SequentialOptions) {
    checkKnownKeys('Sequential', options, ['inputs', 'layers', 'task', 'seed', 'preprocessing']);
    this.inputShape = inputShapeOf(options.inputs);
    this.inputs = shapeSize(this.inputShape);
    if (!Array.isArray(options.layers) || options.layers.length === 0)
      throw new RangeError('Sequential: layers must be a non-empty array of layers (dense(...), dropout(...), ...)');
    this.layers = options.layers.map((l, i) => checkLayer(`Sequential layers[${i}]`, l));
    if (this.layers.at(-1)!.type !== 'dense') throw new RangeError('Sequential: the last layer must be dense');
    this.task = options.task ?? 'classification';
    if (!(this.task in LOSS_OF_TASK))
      throw new TypeError(`Sequential: task must be classification, binary or regression, got ${String(this.task)}`);
    this.seed = checkInteger('Sequential', 'seed', options.seed ?? 0, 0, Number.MAX_SAFE_INTEGER);
    const built = buildLayers('Sequential', this.inputShape, this.layers);
    const outputs = shapeSize(built.at(-1)!.outputShape);
    if (this.task === 'binary' && outputs !== 1) throw new RangeError(`Sequential: a binary model has one output unit, got ${outputs}`);
    if (this.task === 'classification' && outputs < 2)
      throw new RangeError(`Sequential: a classifier needs at least 2 output units, got ${outputs}`);
    this.preprocessing = options.preprocessing ?? {};
    this.engine = new LayerEngine(built, this.seed);
    this.engine.initialize();
    this.#where = `Sequential(${this.inputs}→${this.outputs}).predict`;
  }

  get outputs(): number {
    return this.engine.outputs;
  }

  get parameterCount(): number {
    return this.engine.parameterCount;
  }

  get featureNames(): readonly string[] | undefined {
    return this.preprocessing.featureNames;
  }

  /** Each layer's name, the shapes of one row going in and coming out, and its parameter count
   *  (running statistics included), in order.
   *  @example model.summary()[0]; // { name: 'conv2d(32, 5x5 same, relu)', inputShape: [1, 28, 28], outputShape: [32, 28, 28], parameters: 832 } */
  summary(): LayerSummary[] {
    return this.engine.layers.map((l) => ({
      name: l.name,
      inputShape: [...l.inputShape],
      outputShape: [...l.outputShape],
      parameters: l.params.reduce((n, p) => n + shapeSize(p.shape), 0),
    }));
  }

  get classNames(): readonly string[] | undefined {
    return this.preprocessing.classNames;
  }

  /** The architecture as JSON (what a model file stores). */
  toConfig(): { inputs: number | number[]; layers: LayerConfig[]; task: Task; seed: number } {
    const inputs = this.inputShape.length === 1 ? this.inputs : [...this.inputShape];
    return { inputs, layers: this.layers.map((l) => ({ ...l })), task: this.task, seed: this.seed };
  }

  /** Sets standardisation applied to every input before the first layer. */
  setPreprocessing(p: Preprocessing): void {
    this.preprocessing = p;
    this.#affine?.dispose();
    this.#affine = undefined;
  }

  /** @internal Per-column scale and shift equivalent to the standardisation, or undefined. */
  inputAffine(): { scale: Tensor<'f32'>; shift: Tensor<'f32'> } | undefined {
    const { mean, std } = this.preprocessing;
    if (!mean || !std) return undefined;
    if (mean.length !== this.inputs || std.length !== this.inputs) {
      throw new RangeError(`Sequential: preprocessing has ${mean.length} means and ${std.length} stds for ${this.inputs} inputs`);
    }
    if (!this.#affine) {
      const { scale, shift } = StandardScaler.fromJSON({ kind: 'StandardScaler', mean, std }).affine();
      this.#affine = new InputAffine(scale, shift);
    }
    return this.#affine.tensors;
  }

  /** Predictions for one sample (number[]) or many (number[][] or a flat Float32Array of
   *  n × inputs): class probabilities, a sigmoid probability, or regression outputs, row-major. */
  predict(x: Rows): Float32Array {
    if (this.engine.disposed)
      throw new Error(`${this.#where}: this model was disposed (dispose() was called); load or build it again to predict`);
    return this.engine.predictArray(flattenRows(this.#where, x, this.inputs), OUTPUT_OF_TASK[this.task], this.inputAffine(), this.#where);
  }

  /** The most probable class of each sample (classification and binary models). */
  predictClasses(x: Rows): Int32Array {
    return classesOf(this.predict(x), this.outputs);
  }

  /** Every saved tensor as a named copy, in layer and slot order ("layers.<i>.weight",
   *  "layers.<i>.bias", ...): the trainable parameters and any running statistics. */
  parameters(): { name: string; shape: number[]; data: Float32Array }[] {
    return this.engine.locations.map((l) => ({
      name: `layers.${l.layer}.${l.name}`,
      shape: [...l.shape],
      data: this.engine.slotView(l).read(),
    }));
  }

  /** Replaces parameters by name; every shape must match. */
  setParameters(values: Record<string, ArrayLike<number>>): void {
    const byName = new Map(this.engine.locations.map((l) => [`layers.${l.layer}.${l.name}`, l]));
    for (const [name, data] of Object.entries(values)) {
      const l = byName.get(name);
      if (!l) throw new RangeError(`Sequential.setParameters: no parameter named '${name}' (have ${[...byName.keys()].join(', ')})`);
      if (data.length !== l.size)
        throw new RangeError(`Sequential.setParameters: '${name}' has shape ${shapeText(l.shape)} (${l.size} values), got ${data.length}`);
      (l.trainable ? this.engine.params : this.engine.state).view().set(data, l.offset);
    }
    this.engine.applyMask();
  }

  /** All trainable parameters as one flat copy, in arena order (see `parameters()` for the names). */
  parameterVector(): Float32Array {
    return this.engine.params.read();
  }

  /** Sets all parameters from one flat array in arena order (pruned ones stay zero). */
  setParameterVector(values: ArrayLike<number>): void {
    if (values.length !== this.parameterCount)
      throw new RangeError(`Sequential.setParameterVector: the model has ${this.parameterCount} parameters, got ${values.length}`);
    this.engine.params.view().set(values);
    this.engine.applyMask();
  }

  /** The dense layers with views of their parameters, for compression and export. */
  denseLayers(): DenseView[] {
    return this.layers.flatMap((config, layer) => {
      if (config.type !== 'dense') return [];
      const [weight, bias] = this.engine.layerParams(layer) as [Tensor<'f32'>, Tensor<'f32'>];
      const [wl, bl] = this.engine.locations.filter((l) => l.layer === layer);
      return [
        {
          layer,
          inputs: weight.shape[1]!,
          units: config.units,
          activation: config.activation,
          alpha: config.alpha ?? 0.01,
          weight,
          bias,
          weightOffset: wl!.offset,
          biasOffset: bl!.offset,
        },
      ];
    });
  }

  /** The weight tensors of the dense and conv2d layers, where unstructured pruning ranks
   *  weights and sparse files keep a bitmask: each layer's place in `parameterVector()` (biases,
   *  batch-norm scales and running statistics are never pruned). */
  weightSlots(): { layer: number; type: 'dense' | 'conv2d'; offset: number; size: number; shape: readonly number[] }[] {
    return this.engine.locations.flatMap((l) => {
      const type = this.layers[l.layer]!.type;
      return l.trainable && l.name === 'weight' && (type === 'dense' || type === 'conv2d')
        ? [{ layer: l.layer, type, offset: l.offset, size: l.size, shape: l.shape }]
        : [];
    });
  }

  /** The pruning mask (1 keeps a parameter, 0 holds it at exactly zero, in arena order), or
   *  undefined when nothing is pruned. */
  get pruningMask(): Uint8Array | undefined {
    return this.engine.mask?.read();
  }

  /** Installs a pruning mask (applied at once and after every optimizer update) or removes it. */
  setPruningMask(mask: Uint8Array | undefined): void {
    this.engine.setMask(mask);
  }

  /** The training hooks in force (quantisation-aware training), if any. */
  get hooks(): LayerHooks | undefined {
    return this.engine.hooks;
  }

  /** Installs hooks into the dense and conv2d layers' passes (see LayerHooks), or removes them. One set at a
   *  time: installing over another set is an error, so two sessions cannot silently mix. */
  setHooks(hooks: LayerHooks | undefined): void {
    if (hooks && this.engine.hooks && hooks !== this.engine.hooks)
      throw new RangeError('Sequential.setHooks: the model already has hooks installed (another QAT session?); detach them first');
    this.engine.hooks = hooks;
  }

  dispose(): void {
    this.setPreprocessing(this.preprocessing);
    this.engine.dispose();
  }
}

function inputShapeOf(inputs: unknown): Shape {
  if (typeof inputs === 'number') return [checkInteger('Sequential', 'inputs', inputs, 1, 1 << 24)];
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > 3)
    throw new TypeError(
      `Sequential: inputs must be a number of features or a row shape of 1 to 3 dimensions, got ${JSON.stringify(inputs)}`,
    );
  inputs.forEach((d, i) => checkInteger('Sequential', `inputs[${i}]`, d, 1, 1 << 24));
  if (shapeSize(inputs) > 1 << 24) throw new RangeError(`Sequential: inputs ${shapeText(inputs)} has more than 2^24 values per row`);
  return Object.freeze([...inputs]);
}
