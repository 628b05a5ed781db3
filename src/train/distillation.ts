// Knowledge distillation as a loss of the one training loop: the teacher's outputs become soft
// targets, blended with the hard loss in the core (α·T²·KL at temperature T for classifiers, MSE
// for regression), gathered with each batch's rows.
// see: Hinton, Vinyals, Dean, "Distilling the Knowledge in a Neural Network", arXiv:1503.02531
import { checkFiniteData, checkKnownKeys, checkNumber } from '../core/errors.ts';
import { Tensor } from '../core/tensor.ts';
import type { SoftTargets } from '../core/layer-engine.ts';
import type { Dataset } from '../data/dataset.ts';
import { Sequential } from '../nn/sequential.ts';

/** A teacher outside kiln (another runtime, a remote model, a quantized model): raw feature rows
 *  [rows × inputs] in, outputs [rows × outputs] out: logits for classifiers (log-probabilities
 *  serve as well: softmax(z/T) ignores a constant per row), values for regression. */
export type TeacherFunction = (x: Float32Array, rows: number) => ArrayLike<number> | Promise<ArrayLike<number>>;

/** The distillation loss of `fit`: learn from a teacher's outputs as well as (or instead of) labels. */
export interface DistillationLoss {
  /** A kiln model (its outputs are computed once per fit and gathered with each batch) or a
   *  function returning outputs for a batch of raw rows (called for every batch). */
  teacher: Sequential | TeacherFunction;
  /** Softmax temperature T > 0 of the soft term (classification). Default 4. */
  temperature?: number;
  /** Weight α in [0, 1] of the soft term; the hard loss on the labels gets 1 − α. Default 0.9. */
  alpha?: number;
}

/** The checked loss: teacher, T and α. */
export interface ResolvedDistillation {
  readonly teacher: Sequential | TeacherFunction;
  readonly temperature: number;
  readonly alpha: number;
}

export function checkDistillation(where: string, d: DistillationLoss, student: Sequential): ResolvedDistillation {
  if (d === null || typeof d !== 'object')
    throw new TypeError(`${where}: distill must be an object { teacher, temperature, alpha }, got ${String(d)}`);
  checkKnownKeys(`${where} distill`, d, ['teacher', 'temperature', 'alpha']);
  const temperature = checkNumber(where, 'temperature', d.temperature ?? 4);
  if (!(Math.fround(temperature) > 0))
    throw new RangeError(`${where}: temperature must be > 0 (and not round to 0 in f32), got ${temperature}`);
  const alpha = checkNumber(where, 'alpha', d.alpha ?? 0.9, 0, 1);
  const { teacher } = d;
  if (teacher instanceof Sequential) checkTeacherModel(where, teacher, student);
  else if (typeof teacher !== 'function')
    throw new TypeError(`${where}: teacher must be a Sequential or a function (x, rows) => outputs, got ${kindOf(teacher)}`);
  return { teacher, temperature, alpha };
}

function checkTeacherModel(where: string, teacher: Sequential, student: Sequential): void {
  const arch = (m: Sequential) => `Sequential(${m.inputs}→${m.outputs}, ${m.task})`;
  if (teacher.task !== student.task)
    throw new TypeError(`${where}: the teacher ${arch(teacher)} and the student ${arch(student)} must have the same task`);
  if (teacher.inputs !== student.inputs)
    throw new RangeError(`${where}: the teacher takes ${teacher.inputs} features, the student ${student.inputs}`);
  if (teacher.outputs !== student.outputs)
    throw new RangeError(`${where}: the teacher has ${teacher.outputs} outputs, the student ${student.outputs}`);
}

/** The soft targets of one fit: a kiln teacher's outputs for every row once, or a function
 *  teacher's outputs for each batch as it comes. */
export class SoftTargetSource {
  readonly soft: SoftTargets;
  readonly #teacher: Sequential | TeacherFunction;
  readonly #data: Dataset;
  readonly #outputs: number;

  /** Call inside an unscoped block: the tensor lives until `dispose()`. */
  constructor(d: ResolvedDistillation, data: Dataset, outputs: number, batchCapacity: number) {
    this.#teacher = d.teacher;
    this.#data = data;
    this.#outputs = outputs;
    const cached = d.teacher instanceof Sequential;
    // A kiln teacher has no randomness at inference: its raw outputs for the whole set, once.
    const teacherOut = cached ? teacherOutputs(d.teacher as Sequential, data) : Tensor.empty([batchCapacity, outputs]);
    this.soft = { teacher: teacherOut, rows: cached ? 'data' : 'batch', temperature: d.temperature, alpha: d.alpha };
  }

  /** True when the teacher is called per batch (then `beforeBatch` needs the batch's rows). */
  get perBatch(): boolean {
    return this.soft.rows === 'batch';
  }

  /** Fetches a function teacher's outputs for `rows` (data indices) into the batch buffer. */
  async beforeBatch(rows: Int32Array): Promise<void> {
    if (!this.perBatch) return;
    const teacher = this.#teacher as TeacherFunction;
    const data = this.#data,
      C = this.#outputs;
    const d = data.numFeatures;
    const x = new Float32Array(rows.length * d);
    rows.forEach((r, i) => x.set(data.features.subarray(r * d, (r + 1) * d), i * d));
    const y = await teacher(x, rows.length);
    if (y === null || typeof y !== 'object' || typeof (y as ArrayLike<number>).length !== 'number') {
      throw new TypeError(`distill: the teacher function must return an array of outputs, got ${kindOf(y)}`);
    }
    if (y.length !== rows.length * C) {
      throw new RangeError(
        `distill: the teacher returned ${y.length} values for ${rows.length} rows, expected ${rows.length}×${C} (one per student output)`,
      );
    }
    checkFiniteData('distill: teacher output', y, C);
    this.soft.teacher.view().set(y);
  }

  dispose(): void {
    this.soft.teacher.dispose();
  }
}

// Raw outputs (logits) of a kiln teacher, through its own standardisation.
function teacherOutputs(teacher: Sequential, data: Dataset): Tensor<'f32'> {
  const x = Tensor.from(data.features, [data.numRows, data.numFeatures]);
  try {
    return teacher.engine.predict(x, 'raw', teacher.inputAffine());
  } finally {
    x.dispose();
  }
}

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
