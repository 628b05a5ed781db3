// Gradient-based model search: one super-network mixes every candidate width and activation per
// hidden layer (see core/darts-engine.ts); its weights train on one part of the data and its
// architecture logits on the other, alternating step by step (first-order DARTS). The strongest
// choice per layer then becomes a plain Sequential, retrained from scratch with `fit`. The weight
// steps go through the training loop's own optimizer step (src/train/step.ts).
// see: Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search", arXiv:1806.09055
import { checkInteger, checkKnownKeys, checkNumber } from '../core/errors.ts';
import { Tensor, unscoped } from '../core/tensor.ts';
import { affineColumnsInPlace } from '../core/ops/columns.ts';
import { DartsEngine, type ArchUpdate, type SuperNetSpec } from '../core/darts-engine.ts';
import type { Targets } from '../core/layer-engine.ts';
import type { Dataset } from '../data/dataset.ts';
import { trainTestSplit } from '../data/split.ts';
import { StandardScaler } from '../data/scaler.ts';
import { Sequential } from '../nn/sequential.ts';
import { dense, type DenseConfig } from '../nn/layers/index.ts';
import { fit, type FitOptions, type History } from '../train/fit.ts';
import { adam, type Optimizer } from '../train/optimizers.ts';
import { checkAborted, EpochYield, optimizerStep } from '../train/step.ts';
import {
  discretize,
  expectedParameters,
  layerProbabilities,
  operationNames,
  parameterCount,
  resolveCandidates,
  superNetSpec,
  type GradientCandidates,
  type HiddenLayer,
  type LayerProbabilities,
  type Operation,
  type ResolvedCandidates,
} from './space.ts';

/** Adam over the architecture logits. Defaults: DARTS's betas and decay, and lr 1e-2 (DARTS uses
 *  3e-4 over ~20k steps; MLP searches take a few hundred to a few thousand), β1 0.5, β2 0.999,
 *  L2 weight decay 1e-3. */
export interface ArchOptimizerOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  weightDecay?: number;
}

/** Options of `gradientSearch`: candidates, search epochs, optimizers and retraining. */
export interface GradientSearchOptions {
  candidates?: GradientCandidates;
  /** Search epochs over the training part. Default 10. */
  epochs?: number;
  /** Epochs at the start that train the weights only, so that α is not judged on untrained
   *  operations. Default 0. */
  warmupEpochs?: number;
  /** Rows per weight step and per architecture step. Default 64. */
  batchSize?: number;
  /** λ ≥ 0: the architecture minimises validation loss + λ·E[parameters] / P_max, with E under
   *  the layers' probabilities and P_max the parameter count of the largest network in the
   *  space. Default 0. */
  sizePenalty?: number;
  /** Rows the architecture trains on; default: a `validationFraction` of `data`, split off
   *  with `seed` (stratified for classification). */
  validation?: Dataset;
  /** Default 0.3. */
  validationFraction?: number;
  /** Seed of the split, the initial weights and the shuffling. Default 0. */
  seed?: number;
  /** Optimizer of the super-network's weights. Default adam() (lr 1e-3). */
  optimizer?: Optimizer;
  arch?: ArchOptimizerOptions;
  /** How the chosen network is retrained from scratch on all of `data` (fit options; default
   *  10 epochs at `batchSize` with `seed`); false returns it untrained. */
  retrain?: FitOptions | false;
  onEpoch?: (log: GradientSearchEpoch) => void | Promise<void>;
  signal?: AbortSignal;
}

/** Losses and architecture probabilities after one search epoch. */
export interface GradientSearchEpoch {
  /** 1-based. */
  epoch: number;
  /** Mean super-network loss of the epoch's weight steps. */
  trainLoss: number;
  /** Super-network loss and accuracy (classification) on the architecture data after the epoch. */
  valLoss: number;
  valAccuracy?: number;
  /** Softmax weights per hidden layer, in candidate order (see the record's `operations`). */
  probabilities: LayerProbabilities[];
  expectedParameters: number;
  /** The discrete choice at this point. */
  architecture: HiddenLayer[];
  ms: number;
}

/** The architecture a gradient search chose: hidden layers and the full layer list. */
export interface Architecture {
  hidden: HiddenLayer[];
  /** The layers of the Sequential: the hidden ones and the output layer. */
  layers: DenseConfig[];
  parameterCount: number;
}

/** The full record of a gradient search: candidates, epochs and final probabilities. */
export interface GradientSearchRecord {
  strategy: 'gradient';
  candidates: ResolvedCandidates;
  /** Operation names per hidden layer, the order of `probabilities[l].operations`. */
  operations: Operation[][];
  epochs: GradientSearchEpoch[];
  architecture: Architecture;
  searchMs: number;
  retrainMs: number;
  totalMs: number;
  retrain?: History;
}

/** What `gradientSearch` returns: the retrained model, its architecture and the record. */
export interface GradientSearchResult {
  model: Sequential;
  architecture: Architecture;
  record: GradientSearchRecord;
}

const WHERE = 'gradientSearch';
const KEYS = [
  'candidates',
  'epochs',
  'warmupEpochs',
  'batchSize',
  'sizePenalty',
  'validation',
  'validationFraction',
  'seed',
  'optimizer',
  'arch',
  'retrain',
  'onEpoch',
  'signal',
];

function archUpdate(o: ArchOptimizerOptions | undefined): ArchUpdate {
  checkKnownKeys(`${WHERE} arch`, o, ['lr', 'beta1', 'beta2', 'weightDecay']);
  return {
    lr: checkNumber(WHERE, 'arch.lr', o?.lr ?? 1e-2, 0),
    beta1: checkNumber(WHERE, 'arch.beta1', o?.beta1 ?? 0.5, 0, 0.999999),
    beta2: checkNumber(WHERE, 'arch.beta2', o?.beta2 ?? 0.999, 0, 0.999999999),
    eps: 1e-8,
    weightDecay: checkNumber(WHERE, 'arch.weightDecay', o?.weightDecay ?? 1e-3, 0),
  };
}

interface Part {
  x: Tensor<'f32'>;
  targets: Targets;
  order: Tensor<'i32'>;
  rows: number;
}

// The rows in the core, standardised with the training part's statistics.
function part(data: Dataset, affine: { scale: Tensor<'f32'>; shift: Tensor<'f32'> }): Part {
  const n = data.numRows;
  const x = Tensor.from(data.features, [n, data.numFeatures]);
  affineColumnsInPlace(x, affine.scale, affine.shift);
  const targets = data.task === 'classification' ? Tensor.from(data.labels, [n], 'i32') : Tensor.from(data.targets, [n, data.numTargets]);
  return {
    x,
    targets,
    order: Tensor.from(
      Int32Array.from({ length: n }, (_, i) => i),
      [n],
      'i32',
    ),
    rows: n,
  };
}

/**
 * Searches widths and activations (and, with 'skip', depth) of an MLP by gradient descent on a
 * super-network, then builds the chosen network and retrains it from scratch.
 *
 * @example
 * const { model, architecture, record } = await gradientSearch(train, {
 *   candidates: { widths: [32, 64, 128], activations: ['relu', 'tanh', 'skip'], layers: 2 },
 *   epochs: 8, sizePenalty: 0.05, seed: 1 });
 * console.log(architecture.hidden, record.searchMs);
 */
export async function gradientSearch(data: Dataset, options: GradientSearchOptions = {}): Promise<GradientSearchResult> {
  checkKnownKeys(WHERE, options, KEYS);
  const started = performance.now();
  const candidates = resolveCandidates(WHERE, options.candidates);
  const epochs = checkInteger(WHERE, 'epochs', options.epochs ?? 10, 1, 1e6);
  const warmup = checkInteger(WHERE, 'warmupEpochs', options.warmupEpochs ?? 0, 0, epochs - 1);
  const batchSize = checkInteger(WHERE, 'batchSize', options.batchSize ?? 64, 1, 1 << 20);
  const penalty = checkNumber(WHERE, 'sizePenalty', options.sizePenalty ?? 0, 0);
  const seed = checkInteger(WHERE, 'seed', options.seed ?? 0, 0);
  const optimizer = options.optimizer ?? adam();
  const arch = archUpdate(options.arch);
  if (options.retrain !== undefined && options.retrain !== false && (typeof options.retrain !== 'object' || options.retrain === null))
    throw new TypeError(`${WHERE}: retrain must be fit options or false, got ${String(options.retrain)}`);

  let train = data,
    val = options.validation;
  if (!val) {
    const fraction = checkNumber(WHERE, 'validationFraction', options.validationFraction ?? 0.3, 0, 1);
    if (fraction <= 0 || fraction >= 1)
      throw new RangeError(`${WHERE}: validationFraction must lie strictly between 0 and 1, got ${fraction}`);
    ({ train, test: val } = trainTestSplit(data, { testFraction: fraction, seed }));
  } else if (options.validationFraction !== undefined) {
    throw new RangeError(`${WHERE}: give validation or validationFraction, not both`);
  }
  if (val.numFeatures !== data.numFeatures || val.task !== data.task)
    throw new RangeError(
      `${WHERE}: validation must have the data's ${data.numFeatures} features and task '${data.task}', got ${val.numFeatures} and '${val.task}'`,
    );
  if (train.numRows === 0 || val.numRows === 0)
    throw new RangeError(`${WHERE}: the training and validation parts need rows, got ${train.numRows} and ${val.numRows}`);

  const classification = data.task === 'classification';
  const outputs = classification ? Math.max(2, data.numClasses, val.numClasses) : data.numTargets;
  const spec = superNetSpec(data.numFeatures, outputs, classification ? 'softmax_xent' : 'mse', candidates);
  const largest = parameterCount(
    data.numFeatures,
    spec.layers.map(() => ({ units: Math.max(...candidates.widths), activation: 'relu' as const })),
    outputs,
  );
  const record: GradientSearchRecord = {
    strategy: 'gradient',
    candidates,
    operations: spec.layers.map((l) => operationNames(candidates, l)),
    epochs: [],
    architecture: { hidden: [], layers: [], parameterCount: 0 },
    searchMs: 0,
    retrainMs: 0,
    totalMs: 0,
  };

  const engine = new DartsEngine(spec, seed);
  const tensors = unscoped(() => {
    const { scale, shift } = StandardScaler.fit(train).affine();
    const affine = { scale: Tensor.from(scale), shift: Tensor.from(shift) };
    return { affine, train: part(train, affine), val: part(val!, affine) };
  });
  try {
    await searchLoop(engine, spec, tensors.train, tensors.val, {
      epochs,
      warmup,
      batchSize,
      penalty: penalty / largest,
      optimizer,
      arch,
      options,
      record,
      candidates,
      classification,
    });
  } finally {
    engine.dispose();
    const { affine, train: t, val: v } = tensors;
    for (const x of [affine.scale, affine.shift, t.x, t.targets, t.order, v.x, v.targets, v.order]) x.dispose();
  }
  record.searchMs = performance.now() - started;

  const hidden = record.epochs.at(-1)!.architecture;
  const layers = [...hidden.map((h) => dense(h.units, h.activation)), dense(outputs)];
  record.architecture = { hidden, layers, parameterCount: parameterCount(data.numFeatures, hidden, outputs) };
  const model = new Sequential({ inputs: data.numFeatures, layers, task: classification ? 'classification' : 'regression', seed });
  if (options.retrain !== false) {
    const retrainStarted = performance.now();
    try {
      record.retrain = await fit(model, data, {
        epochs: 10,
        batchSize,
        seed,
        ...(options.retrain ?? {}),
        ...(options.signal && !options.retrain?.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      model.dispose();
      throw error;
    }
    record.retrainMs = performance.now() - retrainStarted;
  }
  record.totalMs = performance.now() - started;
  return { model, architecture: record.architecture, record };
}

interface LoopSettings {
  epochs: number;
  warmup: number;
  batchSize: number;
  /** λ / P_max. */
  penalty: number;
  optimizer: Optimizer;
  arch: ArchUpdate;
  options: GradientSearchOptions;
  record: GradientSearchRecord;
  candidates: ResolvedCandidates;
  classification: boolean;
}

async function searchLoop(engine: DartsEngine, spec: SuperNetSpec, train: Part, val: Part, s: LoopSettings): Promise<void> {
  const { optimizer, signal } = { optimizer: s.optimizer, signal: s.options.signal };
  const batch = Math.min(s.batchSize, train.rows);
  const valBatch = Math.min(s.batchSize, val.rows);
  const steps = Math.ceil(train.rows / batch);
  let valAt = val.rows;
  const pause = new EpochYield();
  for (let epoch = 0; epoch < s.epochs; epoch++) {
    const started = performance.now();
    engine.shuffle(train.order);
    let sum = 0;
    for (let step = 0; step < steps; step++) {
      checkAborted(signal);
      if (epoch >= s.warmup && spec.layers.length > 0) {
        if (valAt + valBatch > val.rows) {
          engine.shuffle(val.order);
          valAt = 0;
        }
        const extra = s.penalty > 0 ? expectedParameters(spec, engine.probs.view()).gradient.map((g) => g * s.penalty) : undefined;
        engine.computeArchGradients(val.x, val.targets, val.order, valAt, valBatch, extra);
        engine.updateArch(s.arch);
        valAt += valBatch;
      }
      const start = step * batch;
      const rows = Math.min(batch, train.rows - start);
      const loss = engine.computeWeightGradients(train.x, train.targets, train.order, start, rows);
      optimizerStep(engine, optimizer, loss, epoch, step, s.epochs * steps);
      sum += loss * rows;
    }
    const evaluation = engine.evaluate(val.x, val.targets);
    const probabilities = layerProbabilities(spec, engine.probs.view());
    const log: GradientSearchEpoch = {
      epoch: epoch + 1,
      trainLoss: sum / train.rows,
      valLoss: evaluation.loss,
      ...(s.classification ? { valAccuracy: evaluation.correct / val.rows } : {}),
      probabilities,
      expectedParameters: expectedParameters(spec, engine.probs.view()).value,
      architecture: discretize(spec, s.candidates, probabilities),
      ms: performance.now() - started,
    };
    s.record.epochs.push(log);
    await s.options.onEpoch?.(log);
    await pause.maybeYield();
  }
}
