// Knowledge distillation: a student learns from a teacher's outputs on a transfer set. Each step
// is one engine call: forward, the blended loss α·soft + (1 − α)·hard with its gradient in the
// core (KL at temperature T for classifiers, MSE for regression), backward, update.
// see: Hinton, Vinyals, Dean, "Distilling the Knowledge in a Neural Network", arXiv:1503.02531
import { checkFiniteData, checkInteger, checkKnownKeys, checkNumber } from '../core/errors.ts';
import { Tensor, unscoped } from '../core/tensor.ts';
import type { LossSpec, SoftTargets } from '../core/layer-engine.ts';
import { Dataset } from '../data/dataset.ts';
import { StandardScaler } from '../data/scaler.ts';
import { LOSS_OF_TASK, Sequential } from '../nn/sequential.ts';
import { abortReason, checkDataFits, deviceData, DivergenceError, validate, type EpochLog, type History } from '../train/fit.ts';
import { adam, type Optimizer } from '../train/optimizers.ts';
import { learningRate } from '../train/schedules.ts';

/** A teacher outside kiln (another runtime, a remote model, a quantized model): raw feature rows
 *  [rows × inputs] in, outputs [rows × outputs] out: logits for classifiers (log-probabilities
 *  serve as well: softmax(z/T) ignores a constant per row), values for regression. */
export type TeacherFunction = (x: Float32Array, rows: number) => ArrayLike<number> | Promise<ArrayLike<number>>;

/** Options of `distill`: the teacher, temperature, loss weighting and training settings. */
export interface DistillOptions {
  /** A kiln model (its outputs are computed once per call and reused every epoch) or a function
   *  returning logits for a batch of raw rows (called for every batch). */
  teacher: Sequential | TeacherFunction;
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
  onEpoch?: (log: EpochLog) => void | Promise<void>;
  signal?: AbortSignal;
}

const KEYS = ['teacher', 'student', 'data', 'temperature', 'alpha', 'optimizer', 'epochs', 'batchSize', 'validation', 'seed', 'standardize', 'onEpoch', 'signal'];
const WHERE = 'distill';

/**
 * Trains `student` to match `teacher` on `data` and returns the per-epoch history (loss is the
 * blended distillation loss). T and α are plain numbers, so a search can tune them.
 *
 * @example
 * const student = new Sequential({ inputs: 784, layers: [dense(32, 'relu'), dense(10)] });
 * await distill({ teacher, student, data: train, temperature: 4, alpha: 0.9, epochs: 10, validation: test });
 */
export async function distill(options: DistillOptions): Promise<History> {
  checkKnownKeys(WHERE, options, KEYS);
  const { student, teacher } = options;
  if (!(student instanceof Sequential)) throw new TypeError(`${WHERE}: student must be a Sequential, got ${kind(student)}`);
  if (student.task === 'binary') throw new TypeError(`${WHERE}: binary students are not supported; use a 2-class classification student (dense(2)) instead`);
  const temperature = checkNumber(WHERE, 'temperature', options.temperature ?? 4);
  if (!(Math.fround(temperature) > 0)) throw new RangeError(`${WHERE}: temperature must be > 0 (and not round to 0 in f32), got ${temperature}`);
  const alpha = checkNumber(WHERE, 'alpha', options.alpha ?? 0.9, 0, 1);
  const data = transferSet(student, options.data, alpha);
  if (teacher instanceof Sequential) checkTeacherModel(teacher, student);
  else if (typeof teacher !== 'function') throw new TypeError(`${WHERE}: teacher must be a Sequential or a function (x, rows) => outputs, got ${kind(teacher)}`);
  const optimizer = options.optimizer ?? adam();
  const epochs = checkInteger(WHERE, 'epochs', options.epochs ?? 10, 1, 1e7);
  const n = data.numRows;
  const batchSize = optimizer.name === 'gd' ? n : Math.min(n, checkInteger(WHERE, 'batchSize', options.batchSize ?? 32, 1, 1 << 24));
  if (options.validation) checkDataFits(`${WHERE} validation`, student, options.validation);
  const labelled = options.data instanceof Dataset;
  if (options.standardize ?? !student.preprocessing.mean) {
    const { mean, std } = StandardScaler.fit(data);
    student.setPreprocessing({ ...student.preprocessing, mean, std });
  }
  if (labelled) student.setPreprocessing({ ...student.preprocessing, featureNames: data.featureNames, ...(data.task === 'classification' ? { classNames: data.classNames } : {}) });

  const engine = student.engine;
  engine.reseed(options.seed ?? student.seed);
  engine.resetOptimizer();
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const totalSteps = stepsPerEpoch * epochs;
  const C = student.outputs;
  const history: History = { epochs: [], bestEpoch: 0, stoppedEarly: false };

  return unscoped(() => {
    const train = deviceData(student, data);
    const val = options.validation ? deviceData(student, options.validation) : undefined;
    const hard: LossSpec = { kind: LOSS_OF_TASK[student.task], smoothing: 0, classWeights: undefined };
    const order = Tensor.from(Int32Array.from({ length: n }, (_, i) => i), [n], 'i32');
    const cached = teacher instanceof Sequential;
    // A kiln teacher has no randomness at inference: its outputs for the whole set, once.
    const teacherOut = cached ? teacherOutputs(teacher, data) : Tensor.empty([batchSize, C]);
    const soft: SoftTargets = { teacher: teacherOut, rows: cached ? 'data' : 'batch', temperature, alpha };

    const run = async (): Promise<History> => {
      for (let epoch = 0; epoch < epochs; epoch++) {
        const started = performance.now();
        engine.shuffle(order);
        const rows = cached ? undefined : order.read();
        let sum = 0, lr = optimizer.lr;
        for (let s = 0; s < stepsPerEpoch; s++) {
          if (options.signal?.aborted) throw abortReason(options.signal);
          const start = s * batchSize;
          const batch = Math.min(batchSize, n - start);
          if (rows) await callTeacher(teacher as TeacherFunction, data, rows.subarray(start, start + batch), C, teacherOut);
          const value = engine.computeGradients(train.x, train.targets, order, start, batch, hard, soft);
          if (!Number.isFinite(value)) throw new DivergenceError(epoch + 1, s + 1, value);
          sum += value * batch;
          if (optimizer.clipNorm !== Infinity) engine.clipGradients(optimizer.clipNorm);
          lr = learningRate(optimizer.lr, optimizer.schedule, engine.updates, epoch, totalSteps);
          engine.update(optimizer.rule, lr);
        }
        const log: EpochLog = { epoch: epoch + 1, loss: sum / n, lr, steps: engine.updates, ms: 0 };
        if (val) Object.assign(log, validate(student, val, hard));
        log.ms = performance.now() - started;
        history.epochs.push(log);
        history.bestEpoch = log.epoch;
        await options.onEpoch?.(log);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      return history;
    };
    return run().finally(() => {
      for (const t of [train.x, train.targets, val?.x, val?.targets, order, teacherOut]) t?.dispose();
    });
  });
}

// Features-only data gets placeholder targets, never read: α = 1 skips the hard term.
function transferSet(student: Sequential, data: unknown, alpha: number): Dataset {
  if (data instanceof Dataset) {
    checkDataFits(WHERE, student, data);
    return data;
  }
  if (!(data instanceof Float32Array)) throw new TypeError(`${WHERE}: data must be a Dataset or a Float32Array of features, got ${kind(data)}`);
  if (alpha !== 1) throw new RangeError(`${WHERE}: features-only data has no labels for the hard term; set alpha to 1 (got ${alpha}) or pass a Dataset`);
  const d = student.inputs;
  if (data.length === 0 || data.length % d !== 0) throw new RangeError(`${WHERE}: data has ${data.length} values, not a positive multiple of the student's ${d} inputs`);
  const n = data.length / d;
  if (student.task === 'regression') return new Dataset({ features: data, numFeatures: d, targets: new Float32Array(n * student.outputs), numTargets: student.outputs });
  return new Dataset({ features: data, numFeatures: d, labels: new Int32Array(n) });
}

function checkTeacherModel(teacher: Sequential, student: Sequential): void {
  const arch = (m: Sequential) => `Sequential(${m.inputs}→${m.outputs}, ${m.task})`;
  if (teacher.task !== student.task) throw new TypeError(`${WHERE}: the teacher ${arch(teacher)} and the student ${arch(student)} must have the same task`);
  if (teacher.inputs !== student.inputs) throw new RangeError(`${WHERE}: the teacher takes ${teacher.inputs} features, the student ${student.inputs}`);
  if (teacher.outputs !== student.outputs) throw new RangeError(`${WHERE}: the teacher has ${teacher.outputs} outputs, the student ${student.outputs}`);
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

// One batch of raw rows through a foreign teacher; its outputs land in `out` in batch order.
async function callTeacher(teacher: TeacherFunction, data: Dataset, rows: Int32Array, C: number, out: Tensor<'f32'>): Promise<void> {
  const d = data.numFeatures;
  const x = new Float32Array(rows.length * d);
  rows.forEach((r, i) => x.set(data.features.subarray(r * d, (r + 1) * d), i * d));
  const y = await teacher(x, rows.length);
  if (y === null || typeof y !== 'object' || typeof (y as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`${WHERE}: the teacher function must return an array of outputs, got ${kind(y)}`);
  }
  if (y.length !== rows.length * C) {
    throw new RangeError(`${WHERE}: the teacher returned ${y.length} values for ${rows.length} rows, expected ${rows.length}×${C} (one per student output)`);
  }
  checkFiniteData(`${WHERE}: teacher output`, y, C);
  out.view().set(y);
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
