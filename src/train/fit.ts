// The training loop, the only one: epochs of shuffled mini-batches, each step a few calls into
// the core; the hard loss, or a teacher's soft targets blended with it (distillation); validation,
// early stopping with best-weight restore, progress events, cancellation and divergence
// detection between steps.
import { checkInteger, checkKnownKeys, checkNumber } from '../core/errors.ts';
import { Tensor, unscoped } from '../core/tensor.ts';
import { affineColumnsInPlace } from '../core/ops/columns.ts';
import type { LossSpec, Targets } from '../core/layer-engine.ts';
import { Dataset } from '../data/dataset.ts';
import { LOSS_OF_TASK, Sequential } from '../nn/sequential.ts';
import { adam, type Optimizer } from './optimizers.ts';
import { StandardScaler } from '../data/scaler.ts';
import { classesOf } from '../nn/predictor.ts';
import { checkAborted, EpochYield, optimizerStep } from './step.ts';
import { checkDistillation, kindOf, SoftTargetSource, type DistillationLoss, type ResolvedDistillation } from './distillation.ts';
import { augmentPlan, type Augment } from './augment.ts';
import type { AugmentPlan, BatchAugment } from '../core/layer-engine.ts';

export { DivergenceError, abortReason } from './step.ts';

/** When `fit` stops early and whether it restores the best epoch's weights. */
export interface EarlyStopping {
  /** Metric to watch. Default 'val_loss'. */
  monitor?: 'val_loss' | 'val_accuracy' | 'loss';
  /** Epochs without improvement before stopping. Default 5. */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Put back the weights of the best epoch when stopping or finishing. Default true. */
  restoreBest?: boolean;
}

/** Losses and metrics of one epoch of `fit`. */
export interface EpochLog {
  /** 1-based. */
  epoch: number;
  loss: number;
  valLoss?: number;
  valAccuracy?: number;
  lr: number;
  /** Optimizer updates so far. */
  steps: number;
  ms: number;
}

/** One optimizer update of `fit`, as `onStep` sees it. */
export interface StepLog {
  /** 1-based epoch of this update. */
  epoch: number;
  /** 1-based update within the epoch. */
  step: number;
  /** Rows in this batch. */
  batchSize: number;
  /** The batch's training loss before the update. */
  loss: number;
  /** The learning rate the update used. */
  lr: number;
  /** Optimizer updates so far, this one included (counted across fits with resumeOptimizer). */
  steps: number;
}

/** Options of `fit`: optimizer, epochs, batches, validation, early stopping and callbacks. */
export interface FitOptions {
  optimizer?: Optimizer;
  /** Default 10. */
  epochs?: number;
  /** Default 32; ignored by gd(), which uses the whole training set. */
  batchSize?: number;
  /** Held-out data for validation metrics and early stopping. */
  validation?: Dataset;
  earlyStopping?: EarlyStopping | boolean;
  /** Seed of shuffling and dropout for this fit. Default: the model's seed. */
  seed?: number;
  /** Shuffle rows every epoch. Default true. */
  shuffle?: boolean;
  /** Standardise features with mean/std fitted on this training data (kept in the model).
   *  Default true when the model has no preprocessing yet. */
  standardize?: boolean;
  /** Per-class loss weights, or 'balanced' (n / (classes · count), as scikit-learn). */
  classWeights?: readonly number[] | 'balanced';
  /** Label smoothing of the cross-entropy, in [0, 1). */
  labelSmoothing?: number;
  /** Learn from a teacher's outputs too: knowledge distillation (see `DistillationLoss`). */
  distill?: DistillationLoss;
  /** Augment each training batch (mixup; shifts, flips, cutout of images): see `Augment`. A
   *  teacher then sees exactly the augmented batch. */
  augment?: Augment;
  onEpoch?: (log: EpochLog) => void | Promise<void>;
  /** Called after every optimizer update, synchronously (keep it cheap: it runs between two
   *  steps of the core). */
  onStep?: (log: StepLog) => void;
  /** Continue the optimizer state (Adam's moments, momentum buffers and the update count that
   *  schedules follow) from this model's previous fit or `applyGradients` call instead of
   *  starting it afresh. Default false: each fit starts a new optimizer, as a new
   *  `torch.optim` optimizer would. Model files keep weights only: a loaded model continues
   *  after `loadOptimizerState` (from the state file `saveOptimizerState` wrote), else afresh. */
  resumeOptimizer?: boolean;
  signal?: AbortSignal;
}

/** What `fit` returns: one log per epoch and the epoch whose weights the model keeps. */
export interface History {
  epochs: EpochLog[];
  /** 1-based epoch whose weights the model holds at the end (the best one with restoreBest). */
  bestEpoch: number;
  stoppedEarly: boolean;
}

const FIT_KEYS = [
  'optimizer',
  'epochs',
  'batchSize',
  'validation',
  'earlyStopping',
  'seed',
  'shuffle',
  'standardize',
  'classWeights',
  'labelSmoothing',
  'distill',
  'augment',
  'onEpoch',
  'onStep',
  'resumeOptimizer',
  'signal',
];

/** Trains `model` on `data` in place and returns the per-epoch history. The one training loop:
 *  with `distill` it learns from a teacher as well (knowledge distillation), and `data` may then
 *  be features only (a Float32Array of rows × inputs) when `distill.alpha` is 1.
 *  @example
 *  const history = await fit(model, train, { optimizer: adam({ lr: 1e-3 }), epochs: 20, batchSize: 64, validation: val,
 *    earlyStopping: { patience: 3 }, onEpoch: (e) => console.log(e.epoch, e.valAccuracy) });
 *  await fit(student, train, { distill: { teacher, temperature: 4, alpha: 0.9 }, epochs: 10 }); */
export async function fit(model: Sequential, data: Dataset | Float32Array, options: FitOptions = {}): Promise<History> {
  checkKnownKeys('fit', options, FIT_KEYS);
  if (!(model instanceof Sequential)) throw new TypeError(`fit: model must be a Sequential, got ${kindOf(model)}`);
  // Errors about the teacher and the transfer set name distillation, as users call it.
  const where = options.distill === undefined ? 'fit' : 'distill';
  if (options.distill !== undefined && model.task === 'binary')
    throw new TypeError(`${where}: binary students are not supported; use a 2-class classification student (dense(2)) instead`);
  const labelled = data instanceof Dataset;
  if (labelled) checkDataFits(where, model, data);
  const distillation = options.distill === undefined ? undefined : checkDistillation(where, options.distill, model);
  const train = labelled ? data : unlabeledTransferSet(where, model, data, distillation);
  const optimizer = options.optimizer ?? adam();
  const epochs = checkInteger('fit', 'epochs', options.epochs ?? 10, 1, 1e7);
  const n = train.numRows;
  if (n === 0) throw new RangeError('fit: the training data has no rows');
  const batchSize = optimizer.name === 'gd' ? n : Math.min(n, checkInteger('fit', 'batchSize', options.batchSize ?? 32, 1, 1 << 24));
  const smoothing = checkNumber('fit', 'labelSmoothing', options.labelSmoothing ?? 0, 0, 0.999999);
  const early = earlyStoppingOptions(options.earlyStopping, options.validation !== undefined);
  const plan = augmentPlan(where, options.augment, model);
  const transferPlan =
    distillation?.transfer === undefined ? undefined : checkTransfer(where, distillation.transfer, options.augment, model);
  if (plan && plan.mixup > 0 && options.classWeights !== undefined)
    throw new RangeError(`${where}: classWeights do not combine with augment.mixup (mixed rows have no single class); drop one`);
  if (options.validation) checkDataFits(`${where} validation`, model, options.validation);
  if (options.standardize ?? !model.preprocessing.mean) {
    const { mean, std } = StandardScaler.fit(train);
    model.setPreprocessing({ ...model.preprocessing, mean, std });
  }
  if (labelled)
    model.setPreprocessing({
      ...model.preprocessing,
      featureNames: train.featureNames,
      ...(train.task === 'classification' ? { classNames: train.classNames } : {}),
    });

  const engine = model.engine;
  engine.reseed(options.seed ?? model.seed);
  if (options.resumeOptimizer !== undefined && typeof options.resumeOptimizer !== 'boolean')
    throw new TypeError(`fit: resumeOptimizer must be a boolean, got ${typeof options.resumeOptimizer}`);
  if (options.onStep !== undefined && typeof options.onStep !== 'function')
    throw new TypeError(`fit: onStep must be a function, got ${typeof options.onStep}`);
  if (!options.resumeOptimizer) engine.resetOptimizer();
  const stepsPerEpoch = Math.ceil(n / batchSize);
  // A transfer augmentation adds a second update per batch; the schedule spans them all.
  const updatesPerBatch = transferPlan ? 2 : 1;
  const totalSteps = stepsPerEpoch * epochs * updatesPerBatch;
  const history: History = { epochs: [], bestEpoch: 0, stoppedEarly: false };

  return unscoped(() => {
    // Augmented rows stay raw on the device and are standardised per batch, after augmenting
    // (synthetic transfer rows too: a shift brings in zeros of the raw image, not of the mean).
    const raw = plan !== undefined || transferPlan !== undefined;
    const device = deviceData(model, train, !raw);
    const input = model.inputAffine();
    const augment: BatchAugment | undefined = raw ? { plan: plan ?? NO_AUGMENT, input, smoothing } : undefined;
    const transfer: BatchAugment | undefined = transferPlan ? { plan: transferPlan, input, smoothing } : undefined;
    const val = options.validation ? deviceData(model, options.validation) : undefined;
    const loss: LossSpec = {
      kind: LOSS_OF_TASK[model.task],
      smoothing,
      classWeights: classWeightTensor(options.classWeights, train, model),
    };
    const order = Tensor.from(
      Int32Array.from({ length: n }, (_, i) => i),
      [n],
      'i32',
    );
    // The best epoch's parameters, then its running statistics (batch norm), restored together.
    const P = engine.parameterCount;
    const best = early ? Tensor.empty([P + engine.state.size]) : undefined;
    const teacher = distillation
      ? new SoftTargetSource(distillation, train, model, batchSize, plan !== undefined, transfer !== undefined)
      : undefined;
    let bestScore = Infinity,
      sinceBest = 0;

    const run = async (): Promise<History> => {
      const pause = new EpochYield();
      for (let epoch = 0; epoch < epochs; epoch++) {
        const started = performance.now();
        if (options.shuffle ?? true) engine.shuffle(order);
        const rows = teacher ? order.read() : undefined;
        let sum = 0,
          lr = optimizer.lr;
        for (let s = 0; s < stepsPerEpoch; s++) {
          checkAborted(options.signal);
          const start = s * batchSize;
          const batch = Math.min(batchSize, n - start);
          const view = engine.loadBatch(device.x, device.targets, order, start, batch, augment);
          if (rows) await teacher!.beforeBatch(view, rows.subarray(start, start + batch));
          const value = engine.batchGradients(batch, loss, teacher?.soft, order, start);
          lr = optimizerStep(engine, optimizer, value, epoch, s, totalSteps);
          if (transfer) {
            // The same rows again, remade by the transfer augmentation (drawing from the fit's
            // stream) and labelled by the teacher alone: one soft-target update more.
            const synthetic = engine.loadBatch(device.x, device.targets, order, start, batch, transfer);
            await teacher!.beforeTransferBatch(synthetic);
            const softValue = engine.batchGradients(batch, loss, teacher!.transfer, order, start);
            optimizerStep(engine, optimizer, softValue, epoch, s, totalSteps);
          }
          sum += value * batch;
          options.onStep?.({ epoch: epoch + 1, step: s + 1, batchSize: batch, loss: value, lr, steps: engine.updates });
        }
        const log: EpochLog = { epoch: epoch + 1, loss: sum / n, lr, steps: engine.updates, ms: 0 };
        if (val) Object.assign(log, validate(model, val, loss));
        log.ms = performance.now() - started;
        history.epochs.push(log);
        await options.onEpoch?.(log);
        if (early && best) {
          const score = monitored(log, early.monitor);
          if (score < bestScore - early.minDelta) {
            bestScore = score;
            sinceBest = 0;
            history.bestEpoch = log.epoch;
            best.view().set(engine.params.view());
            best.view().set(engine.state.view(), P);
          } else if (++sinceBest > early.patience) {
            history.stoppedEarly = true;
            break;
          }
        } else {
          history.bestEpoch = log.epoch;
        }
        await pause.maybeYield();
      }
      if (early?.restoreBest && best && history.bestEpoch > 0) {
        engine.params.view().set(best.view().subarray(0, P));
        engine.state.view().set(best.view().subarray(P));
      }
      return history;
    };
    return run().finally(() => {
      for (const t of [device.x, device.targets, val?.x, val?.targets, loss.classWeights, order, best, teacher]) t?.dispose();
    });
  });
}

// Nothing to do to a batch: its rows are only standardised after loading (kept raw on the device
// for the transfer augmentation).
const NO_AUGMENT: AugmentPlan = { mixup: 0, shift: 0, flip: false, cutout: 0, image: undefined };

// The transfer augmentation must make rows unlike the batch's (else its update only repeats the
// batch's); its image shape defaults to the fit's augment's.
function checkTransfer(where: string, transfer: Augment, augment: Augment | undefined, model: Sequential): AugmentPlan {
  if (transfer === null || typeof transfer !== 'object')
    throw new TypeError(`${where}: distill.transfer must be an object { mixup, shift, flip, cutout, shape }, got ${String(transfer)}`);
  const shape = transfer.shape ?? (augment !== null && typeof augment === 'object' ? augment.shape : undefined);
  const plan = augmentPlan(`${where} transfer`, { ...transfer, ...(shape ? { shape } : {}) }, model);
  if (!plan)
    throw new RangeError(
      `${where} transfer: the synthetic rows need at least one of mixup, shift, flip or cutout (e.g. { mixup: 1, shift: 2 }), got ${JSON.stringify(transfer)}`,
    );
  return plan;
}

// Features-only data gets placeholder targets, never read: α = 1 skips the hard term.
function unlabeledTransferSet(where: string, student: Sequential, data: unknown, distillation: ResolvedDistillation | undefined): Dataset {
  if (!(data instanceof Float32Array))
    throw new TypeError(`${where}: data must be a Dataset or a Float32Array of features, got ${kindOf(data)}`);
  if (!distillation)
    throw new TypeError(
      `${where}: features-only data (a Float32Array) needs a teacher: pass distill: { teacher, alpha: 1 }, or a Dataset with labels`,
    );
  if (distillation.alpha !== 1)
    throw new RangeError(
      `${where}: features-only data has no labels for the hard term; set alpha to 1 (got ${distillation.alpha}) or pass a Dataset`,
    );
  const d = student.inputs;
  if (data.length === 0 || data.length % d !== 0)
    throw new RangeError(`${where}: data has ${data.length} values, not a positive multiple of the student's ${d} inputs`);
  const n = data.length / d;
  if (student.task === 'regression')
    return new Dataset({ features: data, numFeatures: d, targets: new Float32Array(n * student.outputs), numTargets: student.outputs });
  return new Dataset({ features: data, numFeatures: d, labels: new Int32Array(n) });
}

export interface DeviceData {
  x: Tensor<'f32'>;
  targets: Targets;
  labels?: Int32Array;
}

/** Copies a data set into the core, standardised as the model expects (raw when `standardize` is false). */
export function deviceData(model: Sequential, data: Dataset, standardize = true): DeviceData {
  const x = Tensor.from(data.features, [data.numRows, data.numFeatures]);
  const affine = standardize ? model.inputAffine() : undefined;
  if (affine) affineColumnsInPlace(x, affine.scale, affine.shift);
  if (data.task === 'regression') return { x, targets: Tensor.from(data.targets, [data.numRows, data.numTargets], 'f32') };
  if (model.task === 'binary')
    return { x, targets: Tensor.from(Float32Array.from(data.labels), [data.numRows, 1], 'f32'), labels: data.labels };
  return { x, targets: Tensor.from(data.labels, [data.numRows], 'i32'), labels: data.labels };
}

export function validate(model: Sequential, val: DeviceData, loss: LossSpec): Pick<EpochLog, 'valLoss' | 'valAccuracy'> {
  const valLoss = model.engine.evaluateLoss(val.x, val.targets, loss);
  if (!val.labels) return { valLoss };
  const n = val.labels.length;
  const out = model.engine.predict(val.x, 'raw');
  // Raw outputs: a binary model's logit decides at 0, not at probability 0.5.
  const predicted = classesOf(out.view(), model.outputs, 0);
  out.dispose();
  let correct = 0;
  for (let i = 0; i < n; i++) if (predicted[i] === val.labels[i]) correct++;
  return { valLoss, valAccuracy: correct / n };
}

function monitored(log: EpochLog, monitor: NonNullable<EarlyStopping['monitor']>): number {
  if (monitor === 'val_accuracy') return -(log.valAccuracy ?? NaN);
  if (monitor === 'val_loss') return log.valLoss ?? NaN;
  return log.loss;
}

function earlyStoppingOptions(e: FitOptions['earlyStopping'], hasValidation: boolean): Required<EarlyStopping> | undefined {
  if (e === undefined || e === false) return undefined;
  const o = e === true ? {} : e;
  checkKnownKeys('fit earlyStopping', o, ['monitor', 'patience', 'minDelta', 'restoreBest']);
  const monitor = o.monitor ?? (hasValidation ? 'val_loss' : 'loss');
  if (!['val_loss', 'val_accuracy', 'loss'].includes(monitor))
    throw new TypeError(`fit earlyStopping: monitor must be val_loss, val_accuracy or loss, got ${String(monitor)}`);
  if (monitor !== 'loss' && !hasValidation) throw new RangeError(`fit earlyStopping: monitor '${monitor}' needs validation data`);
  return {
    monitor,
    patience: checkInteger('fit earlyStopping', 'patience', o.patience ?? 5, 0),
    minDelta: checkNumber('fit earlyStopping', 'minDelta', o.minDelta ?? 0, 0),
    restoreBest: o.restoreBest ?? true,
  };
}

/** The data must suit the model: same features, a task the model's loss can learn. */
export function checkDataFits(where: string, model: Sequential, data: Dataset): void {
  const arch = `Sequential(${model.inputs}→${model.outputs}, ${model.task})`;
  if (data.numFeatures !== model.inputs)
    throw new RangeError(`${where}: ${arch} takes ${model.inputs} features, the data has ${data.numFeatures}`);
  // Rows of one shape read as another (a [3, 8, 8] image as [1, 24, 8]) would train silently wrong.
  if (data.shape.length > 1 && model.inputShape.length > 1 && data.shape.join() !== model.inputShape.join())
    throw new RangeError(
      `${where}: ${arch} takes rows of shape [${model.inputShape.join(', ')}], the data's rows are [${data.shape.join(', ')}]`,
    );
  if (model.task === 'regression') {
    if (data.task !== 'regression') throw new TypeError(`${where}: ${arch} is a regression model, the data is classification (labels)`);
    if (data.numTargets !== model.outputs)
      throw new RangeError(`${where}: ${arch} has ${model.outputs} outputs, the data has ${data.numTargets} targets`);
    return;
  }
  if (data.task !== 'classification') throw new TypeError(`${where}: ${arch} is a ${model.task} model, the data is regression (targets)`);
  const classes = model.task === 'binary' ? 2 : model.outputs;
  if (data.numClasses > classes) throw new RangeError(`${where}: ${arch} predicts ${classes} classes, the data has ${data.numClasses}`);
}

function classWeightTensor(w: FitOptions['classWeights'], data: Dataset, model: Sequential): Tensor<'f32'> | undefined {
  if (w === undefined) return undefined;
  if (model.task !== 'classification') throw new TypeError(`fit: classWeights apply to classification models, this one is ${model.task}`);
  const C = model.outputs;
  let weights: number[];
  if (w === 'balanced') {
    const counts = new Array<number>(C).fill(0);
    for (const y of data.labels) counts[y]!++;
    weights = counts.map((c) => (c > 0 ? data.numRows / (C * c) : 0));
  } else {
    if (!Array.isArray(w) || w.length !== C)
      throw new RangeError(`fit: classWeights must have one weight per class (${C}), got ${Array.isArray(w) ? w.length : typeof w}`);
    weights = w.map((v, i) => checkNumber('fit', `classWeights[${i}]`, v, 0));
  }
  return Tensor.from(weights);
}
