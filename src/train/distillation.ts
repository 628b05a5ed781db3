// Knowledge distillation as a loss of the one training loop: the teacher's outputs become soft
// targets, blended with the hard loss in the core (α·T²·KL at temperature T for classifiers, MSE
// for regression), gathered with each batch's rows.
// see: Hinton, Vinyals, Dean, "Distilling the Knowledge in a Neural Network", arXiv:1503.02531
import { checkFiniteData, checkKnownKeys, checkNumber } from '../core/errors.ts';
import { Tensor, scope } from '../core/tensor.ts';
import { combineOutputs } from '../core/ops/ensemble.ts';
import type { SoftTargets } from '../core/layer-engine.ts';
import type { Dataset } from '../data/dataset.ts';
import { Sequential } from '../nn/sequential.ts';
import type { Augment } from './augment.ts';

/** A teacher outside kiln (another runtime, a remote model, a quantized model): raw feature rows
 *  [rows × inputs] in, outputs [rows × outputs] out: logits for classifiers (log-probabilities
 *  serve as well: softmax(z/T) ignores a constant per row), values for regression. */
export type TeacherFunction = (x: Float32Array, rows: number) => ArrayLike<number> | Promise<ArrayLike<number>>;

/** Who teaches: a kiln model, an ensemble of kiln models (the average of their probabilities;
 *  of their values for regression), or a function called in batches. */
export type Teacher = Sequential | readonly Sequential[] | TeacherFunction;

/** The distillation loss of `fit`: learn from a teacher's outputs as well as (or instead of) labels.
 *  With `augment` the teacher sees exactly the batch the student sees (a consistent teacher,
 *  Beyer et al. 2022), computed per batch; without, its outputs are computed once per row. */
export interface DistillationLoss {
  /** A kiln model, an array of kiln models (an ensemble: the mean of their probabilities), or a
   *  function returning outputs for a batch of raw rows. Without augmentation a function's
   *  outputs are cached by row, so it is asked about each row once per fit. */
  teacher: Teacher;
  /** Softmax temperature T > 0 of the soft term (classification). Default 4. */
  temperature?: number;
  /** Weight α in [0, 1] of the soft term; the hard loss on the labels gets 1 − α. Default 0.9. */
  alpha?: number;
  /** Synthetic rows that only the teacher labels: after each batch's update the student takes
   *  one more, on soft targets alone (α = 1), on that batch's rows augmented by these settings
   *  (e.g. `{ mixup: 1, shift: 2 }`: strong mixes and shifts no label describes), the teacher
   *  run on exactly those rows. Each batch then costs two updates and a teacher pass more; the
   *  learning-rate schedule spans both. The image shape comes from `shape`, else from `augment`,
   *  else from the model. Default: off. */
  transfer?: Augment;
}

/** Defaults chosen by measurement on the digits (`npm run bench -- distill`, README). */
export const DISTILL_DEFAULTS = { temperature: 4, alpha: 0.9 } as const;

/** The checked loss: teacher, T and α (the transfer augmentation is checked by `fit`, which
 *  knows the image shape). */
export interface ResolvedDistillation {
  readonly teacher: Sequential | readonly Sequential[] | TeacherFunction;
  readonly temperature: number;
  readonly alpha: number;
  readonly transfer: Augment | undefined;
}

export function checkDistillation(where: string, d: DistillationLoss, student: Sequential): ResolvedDistillation {
  if (d === null || typeof d !== 'object')
    throw new TypeError(`${where}: distill must be an object { teacher, temperature, alpha }, got ${String(d)}`);
  checkKnownKeys(`${where} distill`, d, ['teacher', 'temperature', 'alpha', 'transfer']);
  const temperature = checkNumber(where, 'temperature', d.temperature ?? DISTILL_DEFAULTS.temperature);
  if (!(Math.fround(temperature) > 0))
    throw new RangeError(`${where}: temperature must be > 0 (and not round to 0 in f32), got ${temperature}`);
  const alpha = checkNumber(where, 'alpha', d.alpha ?? DISTILL_DEFAULTS.alpha, 0, 1);
  const { teacher } = d;
  if (teacher instanceof Sequential) checkTeacherModel(where, 'teacher', teacher, student);
  else if (Array.isArray(teacher)) {
    if (teacher.length === 0) throw new RangeError(`${where}: an ensemble teacher needs at least one model, got an empty array`);
    teacher.forEach((m: unknown, i) => {
      if (!(m instanceof Sequential)) throw new TypeError(`${where}: teacher[${i}] must be a Sequential, got ${kindOf(m)}`);
      checkTeacherModel(where, `teacher[${i}]`, m, student);
    });
  } else if (typeof teacher !== 'function')
    throw new TypeError(
      `${where}: teacher must be a Sequential, an array of them (an ensemble) or a function (x, rows) => outputs, got ${kindOf(teacher)}`,
    );
  return { teacher, temperature, alpha, transfer: d.transfer };
}

function checkTeacherModel(where: string, name: string, teacher: Sequential, student: Sequential): void {
  const arch = (m: Sequential) => `Sequential(${m.inputs}→${m.outputs}, ${m.task})`;
  if (teacher.task !== student.task)
    throw new TypeError(`${where}: the ${name} ${arch(teacher)} and the student ${arch(student)} must have the same task`);
  if (teacher.inputs !== student.inputs)
    throw new RangeError(`${where}: the ${name} takes ${teacher.inputs} features, the student ${student.inputs}`);
  if (teacher.outputs !== student.outputs)
    throw new RangeError(`${where}: the ${name} has ${teacher.outputs} outputs, the student ${student.outputs}`);
}

/** The soft targets of one fit. Without augmentation, every row's teacher outputs once ('data'
 *  rows gathered with each batch; a function teacher is asked about rows as they first come).
 *  With augmentation, the teacher's outputs on each augmented batch ('batch' rows). With a
 *  transfer augmentation, also the teacher's outputs on each synthetic batch (`transfer`). */
export class SoftTargetSource {
  readonly soft: SoftTargets;
  /** Soft targets alone (α = 1) of the synthetic batch, when the fit has a transfer augmentation. */
  readonly transfer: SoftTargets | undefined;
  readonly #teacher: ResolvedDistillation['teacher'];
  readonly #data: Dataset;
  readonly #outputs: number;
  readonly #regression: boolean;
  /** Function teacher without augmentation: which rows' outputs are cached. */
  readonly #seen: Uint8Array | undefined;

  /** Call inside an unscoped block: the tensors live until `dispose()`. */
  constructor(d: ResolvedDistillation, data: Dataset, student: Sequential, batchCapacity: number, augmented: boolean, transfer = false) {
    this.#teacher = d.teacher;
    this.#data = data;
    this.#outputs = student.outputs;
    this.#regression = student.task === 'regression';
    const C = student.outputs;
    let teacherOut: Tensor<'f32'>;
    if (augmented) teacherOut = Tensor.empty([batchCapacity, C]);
    else if (typeof d.teacher === 'function') {
      teacherOut = Tensor.zeros([data.numRows, C]);
      this.#seen = new Uint8Array(data.numRows);
    } else {
      // Kiln teachers have no randomness at inference: their outputs for the whole set, once.
      const x = Tensor.from(data.features, [data.numRows, data.numFeatures]);
      try {
        teacherOut = Tensor.empty([data.numRows, C]);
        this.#modelOutputs(x, teacherOut);
      } finally {
        x.dispose();
      }
    }
    this.soft = { teacher: teacherOut, rows: augmented ? 'batch' : 'data', temperature: d.temperature, alpha: d.alpha };
    if (transfer) this.transfer = { teacher: Tensor.empty([batchCapacity, C]), rows: 'batch', temperature: d.temperature, alpha: 1 };
  }

  /** Before each batch: `x` the rows the student will see (raw, [batch, inputs]), `rows` their
   *  data-set row numbers. Fills the soft targets the batch needs. */
  async beforeBatch(x: Tensor<'f32'>, rows: Int32Array): Promise<void> {
    const teacher = this.#teacher;
    if (this.soft.rows === 'batch') return this.#batchOutputs(x, rows.length, this.soft.teacher);
    const seen = this.#seen;
    if (!seen || typeof teacher !== 'function') return;
    const fresh = rows.filter((r) => !seen[r]);
    if (fresh.length === 0) return;
    const d = this.#data.numFeatures,
      C = this.#outputs;
    const features = this.#data.features;
    const xs = new Float32Array(fresh.length * d);
    fresh.forEach((r, i) => xs.set(features.subarray(r * d, (r + 1) * d), i * d));
    const y = await callTeacher(teacher, xs, fresh.length, C);
    const cache = this.soft.teacher.view();
    fresh.forEach((r, i) => {
      cache.set(y.subarray(i * C, (i + 1) * C), r * C);
      seen[r] = 1;
    });
  }

  /** Before the synthetic batch's update: `x` its rows (raw, [batch, inputs]) as the student
   *  will see them. Fills `transfer`'s soft targets. */
  async beforeTransferBatch(x: Tensor<'f32'>): Promise<void> {
    if (!this.transfer) throw new RangeError('distill: this fit has no transfer augmentation');
    await this.#batchOutputs(x, x.shape[0]!, this.transfer.teacher);
  }

  // The teacher's outputs for the batch x [rows, inputs] (raw), into out.
  async #batchOutputs(x: Tensor<'f32'>, rows: number, out: Tensor<'f32'>): Promise<void> {
    const teacher = this.#teacher;
    if (typeof teacher === 'function') out.view().set(await callTeacher(teacher, x.read(), rows, this.#outputs));
    else scope(() => this.#modelOutputs(x, out));
  }

  // Raw outputs of a kiln teacher (or the ensemble's mean) for raw rows x [n, inputs], into out.
  #modelOutputs(x: Tensor<'f32'>, out: Tensor<'f32'>): void {
    const teacher = this.#teacher as Sequential | readonly Sequential[];
    const models = Array.isArray(teacher) ? teacher : [teacher as Sequential];
    scope(() =>
      combineOutputs(
        out,
        models.map((m) => m.engine.predict(x, 'raw', m.inputAffine())),
        this.#regression,
      ),
    );
  }

  dispose(): void {
    this.soft.teacher.dispose();
    this.transfer?.teacher.dispose();
  }
}

async function callTeacher(teacher: TeacherFunction, x: Float32Array, rows: number, C: number): Promise<Float32Array> {
  const y = await teacher(x, rows);
  if (y === null || typeof y !== 'object' || typeof (y as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`distill: the teacher function must return an array of outputs, got ${kindOf(y)}`);
  }
  if (y.length !== rows * C) {
    throw new RangeError(
      `distill: the teacher returned ${y.length} values for ${rows} rows, expected ${rows}×${C} (one per student output)`,
    );
  }
  checkFiniteData('distill: teacher output', y, C);
  return y instanceof Float32Array ? y : Float32Array.from(y);
}

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
