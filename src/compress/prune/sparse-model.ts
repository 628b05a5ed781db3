// Inference for pruned models: each layer runs through CSR when its sparsity reaches the measured
// threshold for the batch size, through the dense GEMM otherwise. Both paths give the same bits,
// so a SparseModel predicts exactly what its Sequential predicts, only faster when sparse.
import { checkKnownKeys, checkNumber } from '../../core/errors.ts';
import { classesOf, flattenRows, InputAffine, OUTPUT_OF_TASK, type Predictor, type Rows, type Task } from '../../nn/predictor.ts';
import { activationCode } from '../../core/activation.ts';
import { SPARSE_THRESHOLDS, SparseMlp, type SparseSourceLayer, type SparseThresholds } from '../../core/ops/sparse.ts';
import { StandardScaler } from '../../data/scaler.ts';
import { Sequential } from '../../nn/sequential.ts';
import { checkModel } from './rank.ts';

export { SPARSE_THRESHOLDS, type SparseThresholds };

const CSR_LAYERS: readonly string[] = ['dense', 'dropout', 'flatten'];

/** Whether `SparseModel.from` takes the model: dense, dropout and flatten layers only. */
export const runsThroughCsr = (model: Sequential): boolean => model.layers.every((l) => CSR_LAYERS.includes(l.type));

/** Options of `SparseModel`: per-layer sparsity thresholds for CSR. */
export interface SparseModelOptions {
  /** Sparsity from which a layer runs through CSR; default SPARSE_THRESHOLDS (measured). */
  thresholds?: Partial<SparseThresholds>;
}

/** A frozen copy of a model's weights for fast inference of pruned models. Free its WASM memory
 *  with `dispose()`.
 *  @example
 *  const fast = SparseModel.from(prunedModel);
 *  fast.predict(row); // same bits as prunedModel.predict(row) */
export class SparseModel implements Predictor {
  readonly inputs: number;
  readonly outputs: number;
  readonly task: Task;
  readonly featureNames: readonly string[] | undefined;
  readonly classNames: readonly string[] | undefined;
  #mlp: SparseMlp;
  // What toSequential() rebuilds the dense model from: the architecture, names and weights.
  readonly #source: {
    config: ReturnType<Sequential['toConfig']>;
    preprocessing: Sequential['preprocessing'];
    parameters: ReturnType<Sequential['parameters']>;
  };
  #affine: InputAffine | undefined;
  readonly #where: string;

  private constructor(model: Sequential, thresholds: SparseThresholds) {
    this.inputs = model.inputs;
    this.outputs = model.outputs;
    this.task = model.task;
    this.featureNames = model.featureNames;
    this.classNames = model.classNames;
    this.#where = `SparseModel(${this.inputs}→${this.outputs}).predict`;
    const dense = new Map(model.denseLayers().map((d) => [d.layer, d]));
    let size = model.inputs;
    const layers: SparseSourceLayer[] = model.layers.map((config, i) => {
      const d = dense.get(i);
      if (!d) return { kind: config.type as 'dropout' | 'flatten', size };
      size = d.units;
      return {
        kind: 'dense',
        inputs: d.inputs,
        units: d.units,
        act: activationCode(this.#where, d.activation),
        alpha: d.alpha,
        weight: d.weight,
        bias: d.bias,
      };
    });
    this.#mlp = new SparseMlp(layers, thresholds);
    this.#source = { config: model.toConfig(), preprocessing: { ...model.preprocessing }, parameters: model.parameters() };
    const { mean, std } = model.preprocessing;
    if (mean && std) {
      const { scale, shift } = StandardScaler.fromJSON({ kind: 'StandardScaler', mean, std }).affine();
      this.#affine = new InputAffine(scale, shift);
    }
  }

  static from(model: Sequential, options: SparseModelOptions = {}): SparseModel {
    checkModel('SparseModel.from', model);
    const other = model.layers.find((l) => !CSR_LAYERS.includes(l.type));
    if (other)
      throw new TypeError(
        `SparseModel.from: runs dense, dropout and flatten layers through CSR; this model has a ${other.type} layer (predict with the Sequential itself: its pruned weights are zeros)`,
      );
    checkKnownKeys('SparseModel.from', options, ['thresholds']);
    const t = options.thresholds ?? {};
    checkKnownKeys('SparseModel.from thresholds', t, ['batch1', 'batched']);
    return new SparseModel(model, {
      batch1: checkNumber('SparseModel.from', 'thresholds.batch1', t.batch1 ?? SPARSE_THRESHOLDS.batch1, 0, 1),
      batched: checkNumber('SparseModel.from', 'thresholds.batched', t.batched ?? SPARSE_THRESHOLDS.batched, 0, 1),
    });
  }

  /** Weight sparsity of each layer (0 for dropout). */
  get sparsities(): number[] {
    return this.#mlp.sparsities;
  }

  /** The path each layer takes for a batch of `rows`. */
  paths(rows: number): ('csr' | 'dense' | 'dropout' | 'flatten')[] {
    return this.#mlp.paths(rows);
  }

  /** As Sequential.predict: one row (number[]) or many (number[][] or a flat array of n × inputs). */
  predict(x: Rows): Float32Array {
    return this.#mlp.predictArray(flattenRows(this.#where, x, this.inputs), OUTPUT_OF_TASK[this.task], this.#affine?.tensors, this.#where);
  }

  /** A dense Sequential with the weights this model runs (pruned weights as zeros), its
   *  architecture and preprocessing: for export (`exportOnnx`) or further training. The caller
   *  disposes it.
   *  @example const dense = fast.toSequential(); dense.predict(row); dense.dispose(); */
  toSequential(): Sequential {
    const { config, preprocessing, parameters } = this.#source;
    const model = new Sequential({ ...config, preprocessing });
    model.setParameters(Object.fromEntries(parameters.map((p) => [p.name, p.data])));
    return model;
  }

  /** The most probable class of each row (classification and binary models). */
  predictClasses(x: Rows): Int32Array {
    return classesOf(this.predict(x), this.outputs);
  }

  dispose(): void {
    this.#mlp.dispose();
    this.#affine?.dispose();
    this.#affine = undefined;
  }
}
