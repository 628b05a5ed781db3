// Sequential: a stack of dense and dropout layers whose parameters live in the WASM core.
import { activationCode } from '../core/activation.ts';
import { checkInteger, checkKnownKeys, shapeText } from '../core/errors.ts';
import { MlpEngine, type LayerSpec, type LossKind, type OutputTransform } from '../core/mlp-engine.ts';
import { Tensor, unscoped } from '../core/tensor.ts';
import { StandardScaler } from '../data/scaler.ts';
import { classesOf } from './classes.ts';
import { checkLayer, defaultInit, type LayerConfig } from './layers.ts';

/** What a model predicts: class probabilities, one binary probability, or regression values. */
export type Task = 'classification' | 'binary' | 'regression';

/** What a model needs to turn raw rows into predictions and names: saved with the model. */
export interface Preprocessing {
  /** Standardisation fitted on the training data: x' = (x − mean) / std per column. */
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  readonly featureNames?: readonly string[];
  readonly classNames?: readonly string[];
}

/** Options of `new Sequential`: input width, layers, task and seed. */
export interface SequentialOptions {
  /** Number of input features. */
  inputs: number;
  layers: LayerConfig[];
  /** classification: softmax over the outputs, cross-entropy; binary: one sigmoid output,
   *  binary cross-entropy; regression: raw outputs, mean squared error. Default classification. */
  task?: Task;
  /** Seed of the initial weights and of dropout and shuffling in training. Default 0. */
  seed?: number;
  preprocessing?: Preprocessing;
}

export const LOSS_OF_TASK: Readonly<Record<Task, LossKind>> = { classification: 'softmax_xent', binary: 'bce', regression: 'mse' };
const OUTPUT_OF_TASK: Readonly<Record<Task, OutputTransform>> = { classification: 'softmax', binary: 'sigmoid', regression: 'raw' };

/** A feed-forward network. Free its WASM memory with `dispose()` when done.
 *  @example
 *  const model = new Sequential({ inputs: 4, layers: [dense(16, 'relu'), dense(3)], seed: 1 });
 *  const probabilities = model.predict([[5.1, 3.5, 1.4, 0.2]]); */
export class Sequential {
  readonly inputs: number;
  readonly layers: readonly LayerConfig[];
  readonly task: Task;
  readonly seed: number;
  preprocessing: Preprocessing;
  /** @internal */
  readonly engine: MlpEngine;
  #affine: { scale: Tensor<'f32'>; shift: Tensor<'f32'> } | undefined;

  constructor(options: SequentialOptions) {
    checkKnownKeys('Sequential', options, ['inputs', 'layers', 'task', 'seed', 'preprocessing']);
    this.inputs = checkInteger('Sequential', 'inputs', options.inputs, 1, 1 << 24);
    if (!Array.isArray(options.layers) || options.layers.length === 0) throw new RangeError('Sequential: layers must be a non-empty array of dense(...) / dropout(...)');
    this.layers = options.layers.map((l, i) => checkLayer(`Sequential layers[${i}]`, l));
    if (this.layers.at(-1)!.type !== 'dense') throw new RangeError('Sequential: the last layer must be dense');
    this.task = options.task ?? 'classification';
    if (!(this.task in LOSS_OF_TASK)) throw new TypeError(`Sequential: task must be classification, binary or regression, got ${String(this.task)}`);
    this.seed = checkInteger('Sequential', 'seed', options.seed ?? 0, 0, Number.MAX_SAFE_INTEGER);
    if (this.task === 'binary' && this.outputs !== 1) throw new RangeError(`Sequential: a binary model has one output unit, got ${this.outputs}`);
    if (this.task === 'classification' && this.outputs < 2) throw new RangeError(`Sequential: a classifier needs at least 2 output units, got ${this.outputs}`);
    this.preprocessing = options.preprocessing ?? {};

    let width = this.inputs;
    const specs: LayerSpec[] = this.layers.map((l, i) => {
      if (l.type === 'dropout') return { kind: 'dropout', size: width, rate: l.rate };
      const spec = { kind: 'dense' as const, inputs: width, units: l.units, act: activationCode(`Sequential layers[${i}]`, l.activation), alpha: l.alpha ?? 0.01 };
      width = l.units;
      return spec;
    });
    this.engine = new MlpEngine(specs, this.seed);
    this.engine.initialize(this.layers.map((l) => (l.type === 'dense' ? l.init ?? defaultInit(l.activation) : 'glorot_uniform')));
  }

  get outputs(): number {
    const last = this.layers.at(-1) as { units: number };
    return last.units;
  }

  get parameterCount(): number {
    return this.engine.parameterCount;
  }

  /** The architecture as JSON (what a model file stores). */
  toConfig(): { inputs: number; layers: LayerConfig[]; task: Task; seed: number } {
    return { inputs: this.inputs, layers: this.layers.map((l) => ({ ...l })), task: this.task, seed: this.seed };
  }

  /** Sets standardisation applied to every input before the first layer. */
  setPreprocessing(p: Preprocessing): void {
    this.preprocessing = p;
    this.#affine?.scale.dispose();
    this.#affine?.shift.dispose();
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
      this.#affine = unscoped(() => ({ scale: Tensor.from(scale), shift: Tensor.from(shift) }));
    }
    return this.#affine;
  }

  /** Predictions for one sample (number[]) or many (number[][] or a flat Float32Array of
   *  n × inputs): class probabilities, a sigmoid probability, or regression outputs, row-major. */
  predict(x: ArrayLike<number> | readonly ArrayLike<number>[]): Float32Array {
    return this.engine.predictArray(this.#inputRows(x), OUTPUT_OF_TASK[this.task], this.inputAffine(), `Sequential(${this.inputs}→${this.outputs}).predict`);
  }

  /** The most probable class of each sample (classification and binary models). */
  predictClasses(x: ArrayLike<number> | readonly ArrayLike<number>[]): Int32Array {
    return classesOf(this.predict(x), this.outputs);
  }

  #inputRows(x: ArrayLike<number> | readonly ArrayLike<number>[]): ArrayLike<number> {
    const where = `Sequential(${this.inputs}→${this.outputs}).predict`;
    let flat: ArrayLike<number>;
    if (Array.isArray(x) && x.length > 0 && typeof x[0] === 'object') {
      const rows = x as readonly ArrayLike<number>[];
      const data = new Float32Array(rows.length * this.inputs);
      rows.forEach((row, r) => {
        if (row.length !== this.inputs) throw new RangeError(`${where}: row ${r} has ${row.length} features, expected ${this.inputs}`);
        data.set(row, r * this.inputs);
      });
      flat = data;
    } else {
      flat = x as ArrayLike<number>;
    }
    if (flat.length % this.inputs !== 0) throw new RangeError(`${where}: input has ${flat.length} values, not a multiple of ${this.inputs} features`);
    return flat;
  }

  /** Weights and biases as named copies ("layers.<i>.weight" [units, inputs], "layers.<i>.bias"). */
  parameters(): { name: string; shape: number[]; data: Float32Array }[] {
    return this.engine.denseOffsets().flatMap(({ layer, weight, bias, units, inputs }) => {
      const all = this.engine.params.view();
      return [
        { name: `layers.${layer}.weight`, shape: [units, inputs], data: all.slice(weight, weight + units * inputs) },
        { name: `layers.${layer}.bias`, shape: [units], data: all.slice(bias, bias + units) },
      ];
    });
  }

  /** Replaces parameters by name; every shape must match. */
  setParameters(values: Record<string, ArrayLike<number>>): void {
    const params = this.parameters();
    const offsets = new Map<string, number>(this.engine.denseOffsets().flatMap((o) => [[`layers.${o.layer}.weight`, o.weight], [`layers.${o.layer}.bias`, o.bias]]));
    for (const [name, data] of Object.entries(values)) {
      const p = params.find((q) => q.name === name);
      if (!p) throw new RangeError(`Sequential.setParameters: no parameter named '${name}' (have ${params.map((q) => q.name).join(', ')})`);
      if (data.length !== p.data.length) throw new RangeError(`Sequential.setParameters: '${name}' has shape ${shapeText(p.shape)} (${p.data.length} values), got ${data.length}`);
      this.engine.params.view().set(data, offsets.get(name)!);
    }
    this.engine.applyMask();
  }

  dispose(): void {
    this.setPreprocessing(this.preprocessing);
    this.engine.dispose();
  }
}
