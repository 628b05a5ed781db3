// Knowledge distillation: a student learns from a teacher's outputs on a transfer set. `distill`
// is `fit` with its distillation loss (src/train/distillation.ts): the same loop, options and
// behaviour (schedules, clipping, hypergradients, early stopping, signals, callbacks).
// see: Hinton, Vinyals, Dean, "Distilling the Knowledge in a Neural Network", arXiv:1503.02531
import { checkKnownKeys } from '../core/errors.ts';
import { Sequential } from '../nn/sequential.ts';
import { fit, type EarlyStopping, type EpochLog, type History } from '../train/fit.ts';
import { kindOf, type Teacher } from '../train/distillation.ts';
import type { Augment } from '../train/augment.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Optimizer } from '../train/optimizers.ts';

export type { Teacher, TeacherFunction } from '../train/distillation.ts';

/** Options of `distill`: the teacher, temperature, loss weighting and training settings. */
export interface DistillOptions {
  /** A kiln model, an ensemble (an array of kiln models: the mean of their probabilities) or a
   *  function returning logits for a batch of raw rows. Without augmentation their outputs are
   *  computed once per row; with it, on every augmented batch (see `fit`'s distill option). */
  teacher: Teacher;
  /** Trained in place; a classification or regression model with the teacher's outputs. */
  student: Sequential;
  /** The transfer set: a Dataset, or raw features only (Float32Array, rows × inputs) with alpha 1. */
  data: Dataset | Float32Array;
  /** Softmax temperature T > 0 of the soft term (classification). Default 4. */
  temperature?: number;
  /** Weight α in [0, 1] of the soft term; the hard loss on the labels gets 1 − α. Default 0.9. */
  alpha?: number;
  optimizer?: Optimizer;
  /** Default 10. */
  epochs?: number;
  /** Default 32; gd() uses the whole transfer set. */
  batchSize?: number;
  /** Labelled held-out data: validation loss (hard) and accuracy per epoch. */
  validation?: Dataset;
  /** Seed of shuffling and dropout. Default: the student's seed. */
  seed?: number;
  /** Standardise the student's inputs with statistics of `data` (default: when it has none yet). */
  standardize?: boolean;
  earlyStopping?: EarlyStopping | boolean;
  /** Augment each batch; the teacher sees the same augmented rows (see `Augment`). */
  augment?: Augment;
  /** Synthetic rows only the teacher labels: one more soft-target update per batch on the
   *  batch's rows augmented by these settings, e.g. `{ mixup: 1, shift: 2 }` (see `fit`'s
   *  `distill.transfer`). Default: off. */
  transfer?: Augment;
  onEpoch?: (log: EpochLog) => void | Promise<void>;
  signal?: AbortSignal;
}

const KEYS = [
  'teacher',
  'student',
  'data',
  'temperature',
  'alpha',
  'transfer',
  'optimizer',
  'epochs',
  'batchSize',
  'validation',
  'seed',
  'standardize',
  'earlyStopping',
  'augment',
  'onEpoch',
  'signal',
];

/**
 * Trains `student` to match `teacher` on `data` and returns the per-epoch history (loss is the
 * blended distillation loss). T and α are plain numbers, so a search can tune them.
 *
 * @example
 * const student = new Sequential({ inputs: 784, layers: [dense(32, 'relu'), dense(10)] });
 * await distill({ teacher, student, data: train, temperature: 4, alpha: 0.9, epochs: 10, validation: test });
 */
export async function distill(options: DistillOptions): Promise<History> {
  checkKnownKeys('distill', options, KEYS);
  const { student, teacher, data, temperature, alpha, transfer, ...training } = options;
  if (!(student instanceof Sequential)) throw new TypeError(`distill: student must be a Sequential, got ${kindOf(student)}`);
  return fit(student, data, { ...training, distill: { teacher, temperature, alpha, ...(transfer === undefined ? {} : { transfer }) } });
}
