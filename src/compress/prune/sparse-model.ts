// Inference for pruned models: each layer runs through CSR when its sparsity reaches the measured
// threshold for the batch size, through the dense GEMM otherwise. Both paths give the same bits,
// so a SparseModel predicts exactly what its Sequential predicts, only faster when sparse.
import { checkKnownKeys, checkNumber } from '../../core/errors.ts';
import { classesOf } from '../../nn/classes.ts';
import { Tensor, unscoped } from '../../core/tensor.ts';
import type { OutputTransform } from '../../core/mlp-engine.ts';
import { SPARSE_THRESHOLDS, SparseMlp, type SparseThresholds } from '../../core/ops/sparse.ts';
import { StandardScaler } from '../../data/scaler.ts';
import type { Sequential, Task } from '../../nn/sequential.ts';
import { inputRows } from '../quant/model.ts';
import { checkModel } from './rank.ts';

export { SPARSE_THRESHOLDS, type SparseThresholds };

const OUTPUT: Readonly<Record<Task, OutputTransform>> = { classification: 'softmax', binary: 'sigmoid', regression: 'raw' };

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
export class SparseModel {
  readonly inputs: number;
  readonly outputs: number;
  readonly task: Task;
  #mlp: SparseMlp;
  #affine: { scale: Tensor<'f32'>; shift: Tensor<'f32'> } | undefined;

  private constructor(model: Sequential, thresholds: SparseThresholds) {
    this.inputs = model.inputs;
    this.outputs = model.outputs;
    this.task = model.task;
    this.#mlp = new SparseMlp(model.engine, thresholds);
    const { mean, std } = model.preprocessing;
    if (mean && std) {
      const { scale, shift } = StandardScaler.fromJSON({ kind: 'StandardScaler', mean, std }).affine();
      this.#affine = unscoped(() => ({ scale: Tensor.from(scale), shift: Tensor.from(shift) }));
    }
  }

  static from(model: Sequential, options: SparseModelOptions = {}): SparseModel {
    checkModel('SparseModel.from', model);
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
  paths(rows: number): ('csr' | 'dense' | 'dropout')[] {
    return this.#mlp.paths(rows);
  }

  /** As Sequential.predict: one row (number[]) or many (number[][] or a flat array of n × inputs). */
  predict(x: ArrayLike<number> | readonly ArrayLike<number>[]): Float32Array {
    return this.#mlp.predictArray(inputRows(`SparseModel(${this.inputs}→${this.outputs}).predict`, x, this.inputs), OUTPUT[this.task], this.#affine);
  }

  /** The most probable class of each row (classification and binary models). */
  predictClasses(x: ArrayLike<number> | readonly ArrayLike<number>[]): Int32Array {
    return classesOf(this.predict(x), this.outputs);
  }

  dispose(): void {
    this.#mlp.dispose();
    this.#affine?.scale.dispose();
    this.#affine?.shift.dispose();
    this.#affine = undefined;
  }
}
