// The one interface every model kind predicts through (float, sparse and quantised models), and
// the one place for what they share: flattening input rows, standardising them, and the output
// transform each task asks for.
import type { ColumnAffine, OutputTransform } from '../core/layer-engine.ts';
import { Tensor, unscoped } from '../core/tensor.ts';
import type { TableEncoderJSON } from '../data/table-encoder.ts';

/** What a model predicts: class probabilities, one binary probability, or regression values. */
export type Task = 'classification' | 'binary' | 'regression';

/** Input rows: one sample (number[]), many (number[][]), or a flat array of n × inputs values. */
export type Rows = ArrayLike<number> | readonly ArrayLike<number>[];

/** What a model needs to turn raw rows into predictions and names: saved with the model. */
export interface Preprocessing {
  /** Standardisation fitted on the training data: x' = (x − mean) / std per column. */
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  readonly featureNames?: readonly string[];
  readonly classNames?: readonly string[];
  /** How raw table rows become the inputs (before standardisation), by column name: see `tableInputs`. */
  readonly table?: TableEncoderJSON;
}

/** A trained model of any kind, as callers use it: rows in, predictions out.
 *  @example
 *  const models: Predictor[] = [model, SparseModel.from(model), quantize(model)];
 *  for (const m of models) console.log(m.predictClasses(test.features)); */
export interface Predictor {
  /** Values per input row. */
  readonly inputs: number;
  readonly outputs: number;
  readonly task: Task;
  /** Names of the features and classes, when the model was trained on named data. */
  readonly featureNames: readonly string[] | undefined;
  readonly classNames: readonly string[] | undefined;
  /** Class probabilities (classification), one probability (binary) or values (regression), row-major. */
  predict(x: Rows): Float32Array;
  /** The most probable class of each row (classification and binary models). */
  predictClasses(x: Rows): Int32Array;
  /** Frees the model's WASM memory. */
  dispose(): void;
}

/** The transform of the last layer's raw outputs each task predicts through. */
export const OUTPUT_OF_TASK: Readonly<Record<Task, OutputTransform>> = { classification: 'softmax', binary: 'sigmoid', regression: 'raw' };

/** Rows (number[][]) or a flat array of n × inputs as one flat array (the caller's own Float32Array
 *  when it is one: engines copy it into WASM memory). Finiteness is checked in the core. */
export function flattenRows(where: string, x: Rows, inputs: number): Float32Array {
  let flat: Float32Array;
  if (Array.isArray(x) && x.length > 0 && typeof x[0] === 'object') {
    const rows = x as readonly ArrayLike<number>[];
    flat = new Float32Array(rows.length * inputs);
    rows.forEach((row, r) => {
      if (row.length !== inputs) throw new RangeError(`${where}: row ${r} has ${row.length} features, expected ${inputs}`);
      flat.set(row, r * inputs);
    });
  } else {
    // f32 first, then the core's finiteness check: 1e39 in a Float64Array is finite but becomes Infinity.
    flat = x instanceof Float32Array ? x : Float32Array.from(x as ArrayLike<number>);
  }
  if (flat.length % inputs !== 0) throw new RangeError(`${where}: input has ${flat.length} values, not a multiple of ${inputs} features`);
  return flat;
}

/** The first largest value of each row of `outputs` ([rows, cols] row-major), or for one output
 *  column (a binary model) 1 when the value reaches `threshold`: the rule every model kind shares. */
export function classesOf(outputs: ArrayLike<number>, cols: number, threshold = 0.5): Int32Array {
  const rows = outputs.length / cols;
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    if (cols === 1) {
      out[i] = outputs[i]! >= threshold ? 1 : 0;
      continue;
    }
    let best = 0;
    for (let c = 1; c < cols; c++) if (outputs[i * cols + c]! > outputs[i * cols + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/** The per-column map x·scale + shift a model applies to its inputs, held in the core. */
export class InputAffine {
  #tensors: ColumnAffine | undefined;

  constructor(scale: ArrayLike<number>, shift: ArrayLike<number>) {
    this.#tensors = unscoped(() => ({ scale: Tensor.from(scale), shift: Tensor.from(shift) }));
  }

  get tensors(): ColumnAffine {
    if (!this.#tensors) throw new Error('InputAffine: used after dispose()');
    return this.#tensors;
  }

  dispose(): void {
    this.#tensors?.scale.dispose();
    this.#tensors?.shift.dispose();
    this.#tensors = undefined;
  }
}
