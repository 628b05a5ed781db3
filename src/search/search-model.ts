// Model search over MLP architectures and training settings: each trial trains a classifier with
// values drawn from a search space, reports validation accuracy (or loss) after every epoch so a
// pruner can stop it early, and is scored on the validation rows, never on test rows. The best
// trial's trained model is kept, so it need not be trained again.
import { checkInteger, checkKnownKeys, checkNumber } from '../core/errors.ts';
import type { Activation } from '../core/activation.ts';
import type { Dataset, DatasetInit } from '../data/dataset.ts';
import { dense, dropout, type LayerConfig } from '../nn/layers/index.ts';
import { Sequential } from '../nn/sequential.ts';
import { abortReason, DivergenceError, fit, type EpochLog, type History } from '../train/fit.ts';
import { adam, adamw, sgd, type Optimizer } from '../train/optimizers.ts';
import { modelFromBytes } from '../io/model-file.ts';
import { floatFileBytes } from '../pipeline/measure.ts';
import { gradientSearch, type GradientSearchOptions, type GradientSearchResult } from '../gradsearch/search.ts';
import type { ParamValue } from './distributions.ts';
import { nonDominatedRanks } from './pareto.ts';
import { HyperbandPruner } from './pruners/hyperband.ts';
import type { Pruner } from './pruners/pruner.ts';
import type { Sampler } from './samplers/sampler.ts';
import { TpeSampler } from './samplers/tpe.ts';
import { parseSpace, sampleSpace, type SpaceSpec } from './space.ts';
import { createStudy, type Study } from './study.ts';
import { TrialPruned, type Trial } from './trial.ts';
import type { Direction, FrozenTrial } from './trial-record.ts';
import { optimizeParallel } from './parallel/pool.ts';

/** What a trial can be scored on: validation accuracy or loss, or the model's size. */
export type SearchObjective = 'accuracy' | 'loss' | 'parameters' | 'bytes';
/** Every `SearchObjective`. */
export const SEARCH_OBJECTIVES: readonly SearchObjective[] = ['accuracy', 'loss', 'parameters', 'bytes'];
export const OBJECTIVE_DIRECTION: Readonly<Record<SearchObjective, Direction>> = { accuracy: 'maximize', loss: 'minimize', parameters: 'minimize', bytes: 'minimize' };

/** Names a search space may use, each a setting of the MLP or of its training. */
export const MLP_SPACE_NAMES = ['lr', 'layers', 'units', 'units_{i}', 'activation', 'dropout', 'batch_size', 'optimizer', 'momentum', 'weight_decay'] as const;

/** Searched by default: learning rate, depth, widths, activation, dropout and batch size. */
export const MLP_SPACE: SpaceSpec = {
  lr: { float: [3e-4, 3e-2], log: true },
  layers: { int: [1, 2] },
  'units_{i}': { int: [16, 256], log: true, for: 'layers' },
  activation: { categorical: ['relu', 'gelu', 'tanh'] },
  dropout: { float: [0, 0.3], step: 0.05 },
  batch_size: { categorical: [32, 64, 128] },
};

/** One trial's MLP and training settings, resolved from its parameters. */
export interface MlpSettings {
  layers: number[];
  activation: Activation;
  dropout: number;
  lr: number;
  batchSize: number;
  optimizer: 'adam' | 'adamw' | 'sgd';
  momentum: number;
  weightDecay: number;
}

/** The settings a trial uses for names its search space leaves out. */
export const DEFAULT_MLP_SETTINGS: Readonly<MlpSettings> = { layers: [64], activation: 'relu', dropout: 0, lr: 1e-3, batchSize: 64, optimizer: 'adam', momentum: 0.9, weightDecay: 0 };

/** The settings a trial's parameters give; names the space does not set keep their defaults. */
export function mlpSettings(params: Readonly<Record<string, ParamValue>>, defaults: Readonly<MlpSettings> = DEFAULT_MLP_SETTINGS): MlpSettings {
  const pick = <T>(name: string, fallback: T): T => (name in params ? (params[name] as T) : fallback);
  let layers = defaults.layers.slice();
  if ('layers' in params) {
    const fallback = pick('units', defaults.layers[0] ?? 64);
    layers = Array.from({ length: params.layers as number }, (_, i) => pick(`units_${i}`, fallback));
  } else if ('units' in params) {
    layers = layers.map(() => params.units as number);
  }
  return {
    layers,
    activation: pick('activation', defaults.activation),
    dropout: pick('dropout', defaults.dropout),
    lr: pick('lr', defaults.lr),
    batchSize: pick('batch_size', defaults.batchSize),
    optimizer: pick('optimizer', defaults.optimizer),
    momentum: pick('momentum', defaults.momentum),
    weightDecay: pick('weight_decay', defaults.weightDecay),
  };
}

/** The hidden layers (with dropout after each when set) and the class output layer. */
export function mlpLayers(settings: MlpSettings, classes: number): LayerConfig[] {
  return [...settings.layers.flatMap((u) => (settings.dropout > 0 ? [dense(u, settings.activation), dropout(settings.dropout)] : [dense(u, settings.activation)])), dense(classes)];
}

export function mlpOptimizer(settings: MlpSettings): Optimizer {
  if (settings.optimizer === 'sgd') return sgd({ lr: settings.lr, momentum: settings.momentum, weightDecay: settings.weightDecay });
  if (settings.optimizer === 'adamw') return adamw({ lr: settings.lr, weightDecay: settings.weightDecay });
  if (settings.optimizer === 'adam') return adam({ lr: settings.lr, weightDecay: settings.weightDecay });
  throw new TypeError(`searchModel: optimizer must be 'adam', 'adamw' or 'sgd', got ${JSON.stringify(settings.optimizer)}`);
}

/** Options of `searchModel`: validation rows, space, objectives, strategy and budget. */
export interface SearchModelOptions {
  /** Rows every trial is scored on (required): pruning and the objectives see only these. */
  validation: Dataset;
  /** Default MLP_SPACE; names from MLP_SPACE_NAMES. */
  space?: SpaceSpec;
  /** Default: TpeSampler with the seed, starting after max(3, min(10, ⌊trials/3⌋)) random trials. */
  sampler?: Sampler;
  /** Default: HyperbandPruner over 1 … epochs, η = 3 (single objective only). */
  pruner?: Pruner;
  /** Default 20. */
  trials?: number;
  /** Stop starting trials after this long (running trials finish). */
  timeoutMs?: number;
  /** Threads training trials at once (default 1: in this thread). With n > 1, trials run in
   *  batches of n on workers (see optimizeParallel); a fixed n repeats exactly for a seed. */
  workers?: number;
  /** 'trials' (default): a study of independently trained MLPs. */
  strategy?: 'trials';
  /** Default ['accuracy']; several give a Pareto front and turn pruning off. */
  objectives?: SearchObjective[];
  /** Training epochs of a trial that is not pruned (Hyperband's largest resource). Default 10. */
  epochs?: number;
  /** Settings for names the space leaves out. */
  defaults?: Partial<MlpSettings>;
  /** Seed of the sampler, the weights and the shuffling. Default 0. */
  seed?: number;
  signal?: AbortSignal;
  /** After every epoch of every trial. */
  onTrialEpoch?: (trial: number, log: EpochLog) => void;
  /** After every finished trial, with the number of the trial chosen so far (null before any
   *  completes). */
  onTrial?: (trial: FrozenTrial, best: number | null) => void;
}

/** What `searchModel` returns: the study, the chosen trial and its trained model. */
export interface SearchModelResult {
  strategy: 'trials';
  study: Study;
  objectives: SearchObjective[];
  /** The chosen trial: the best one, or with several objectives the Pareto trial best on the first. */
  best: FrozenTrial;
  settings: MlpSettings;
  /** The chosen trial's trained model (the caller disposes it). */
  model: Sequential;
  history: History;
  /** Complete trials no other beats on both validation accuracy and file bytes, by bytes. */
  accuracyBytesFront: FrozenTrial[];
}

/** `searchModel` with `strategy: 'gradient'`: the options of `gradientSearch`. */
export type GradientStrategyOptions = GradientSearchOptions & { strategy: 'gradient' };
/** What `searchModel` returns with `strategy: 'gradient'`. */
export type GradientStrategyResult = GradientSearchResult & { strategy: 'gradient' };

const KEYS = ['validation', 'space', 'sampler', 'pruner', 'trials', 'timeoutMs', 'workers', 'strategy', 'objectives', 'epochs', 'defaults', 'seed', 'signal', 'onTrialEpoch', 'onTrial'];
const WHERE = 'searchModel';

/**
 * Searches MLP classifiers on `data` (the training rows), scoring trials on `validation`.
 *
 * @example
 * const { train, validation } = trainTestSplit(iris(), { validationFraction: 0.2, seed: 0 });
 * const { model, best } = await searchModel(train, { validation: validation!, trials: 20, epochs: 30 });
 * console.log(best.values, best.params);
 */
export async function searchModel(data: Dataset, options: SearchModelOptions): Promise<SearchModelResult>;
export async function searchModel(data: Dataset, options: GradientStrategyOptions): Promise<GradientStrategyResult>;
export async function searchModel(data: Dataset, options: SearchModelOptions | GradientStrategyOptions): Promise<SearchModelResult | GradientStrategyResult>;
export async function searchModel(data: Dataset, options: SearchModelOptions | GradientStrategyOptions): Promise<SearchModelResult | GradientStrategyResult> {
  if (options === null || typeof options !== 'object') throw new TypeError(`${WHERE}: options must be an object with validation rows`);
  if (options.strategy === 'gradient') {
    const { strategy, ...rest } = options;
    return { strategy, ...(await gradientSearch(data, rest)) };
  }
  if (options.strategy !== undefined && options.strategy !== 'trials') throw new TypeError(`${WHERE}: strategy must be 'trials' or 'gradient', got ${JSON.stringify(options.strategy)}`);
  checkKnownKeys(WHERE, options, KEYS);
  const { validation } = options;
  if (data?.task !== 'classification') throw new TypeError(`${WHERE}: data must be a classification Dataset, got ${data?.task ?? typeof data}`);
  if (validation?.task !== 'classification' || validation.numRows === 0) throw new TypeError(`${WHERE}: validation must be a non-empty classification Dataset`);
  if (validation.numFeatures !== data.numFeatures) throw new RangeError(`${WHERE}: validation has ${validation.numFeatures} features, data ${data.numFeatures}`);
  const space = parseSpace(options.space ?? MLP_SPACE);
  for (const name of Object.keys(space)) {
    if (!(MLP_SPACE_NAMES as readonly string[]).includes(name)) throw new RangeError(`${WHERE}: space parameter '${name}' is not an MLP setting; use ${MLP_SPACE_NAMES.join(', ')}`);
  }
  const trials = checkInteger(WHERE, 'trials', options.trials ?? 20, 1, 1e6);
  if (options.timeoutMs !== undefined) checkNumber(WHERE, 'timeoutMs', options.timeoutMs, 0);
  const epochs = checkInteger(WHERE, 'epochs', options.epochs ?? 10, 1, 1e6);
  const workers = checkInteger(WHERE, 'workers', options.workers ?? 1, 1, 1024);
  const seed = checkInteger(WHERE, 'seed', options.seed ?? 0);
  const objectives = checkObjectives(options.objectives ?? ['accuracy']);
  const single = objectives.length === 1;
  if (!single && options.pruner !== undefined) throw new RangeError(`${WHERE}: pruning needs a single objective; ${objectives.length} were given`);
  const reported = single && (objectives[0] === 'accuracy' || objectives[0] === 'loss') ? objectives[0] : undefined;
  const defaults = { ...DEFAULT_MLP_SETTINGS, ...options.defaults };
  const classes = Math.max(data.numClasses, validation.numClasses);

  const study = await createStudy({
    name: 'model-search', directions: objectives.map((o) => OBJECTIVE_DIRECTION[o]), seed,
    sampler: options.sampler ?? new TpeSampler({ seed, nStartupTrials: Math.max(3, Math.min(10, Math.floor(trials / 3))) }),
    ...(reported ? { pruner: options.pruner ?? new HyperbandPruner({ minResource: 1, maxResource: epochs, reductionFactor: 3 }) } : {}),
  });
  const sign = objectives.map((o) => (OBJECTIVE_DIRECTION[o] === 'maximize' ? -1 : 1));
  // Lexicographically best values: always on the Pareto front, and the plain best for one objective.
  const better = (a: readonly number[], b: readonly number[]) => {
    for (let m = 0; m < a.length; m++) if (a[m] !== b[m]) return a[m]! * sign[m]! < b[m]! * sign[m]!;
    return false;
  };
  let kept: { number: number; values: number[]; model: Sequential; history: History; settings: MlpSettings } | undefined;
  // Ties go to the lower trial number, so the choice does not depend on which worker ended first.
  const offer = (number: number, values: number[], model: () => Sequential, history: History, settings: MlpSettings): boolean => {
    if (values.some(Number.isNaN) || (kept && !better(values, kept.values) && !(number < kept.number && !better(kept.values, values)))) return false;
    kept?.model.dispose();
    kept = { number, values, model: model(), history, settings };
    return true;
  };
  const job: MlpJob = { epochs, seed, classes, defaults, objectives, reported, space: options.space ?? MLP_SPACE };
  const callbacks = [(_: Study, t: FrozenTrial) => options.onTrial?.(t, kept?.number ?? null)];
  // A learning rate that diverges is a bad trial, not a reason to stop searching.
  const diverged = (error: unknown) => error instanceof DivergenceError || (error as Error)?.name === 'DivergenceError';
  const limits = { trials, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}), ...(options.signal ? { signal: options.signal } : {}), catch: diverged, callbacks };

  try {
    if (workers > 1) {
      await optimizeParallel(study, {
        ...limits, workers, space: job.space,
        module: new URL(import.meta.url.endsWith('.ts') ? './parallel/mlp-objective.ts' : './kiln-mlp-objective.mjs', import.meta.url),
        context: { ...job, data: datasetInit(data), validation: datasetInit(validation) } satisfies MlpWorkerContext,
        onProgress: (number, log) => options.onTrialEpoch?.(number, log as EpochLog),
        onArtifact: (t, artifact) => {
          const a = artifact as MlpArtifact;
          offer(t.number, t.values!.slice(), () => modelFromBytes(a.bytes), a.history, a.settings);
        },
      });
    } else {
      await study.optimize(async (trial) => {
        const run = await trainMlpTrial(trial, data, validation, job, (log) => options.onTrialEpoch?.(trial.number, log), options.signal);
        if (!offer(trial.number, run.values, () => run.model, run.history, run.settings)) run.model.dispose();
        return run.values;
      }, limits);
    }
    if (options.signal?.aborted) throw abortReason(options.signal);
  } catch (error) {
    kept?.model.dispose();
    throw error;
  }
  if (!kept) {
    kept = undefined;
    const failed = study.trials.find((t) => t.state === 'failed');
    throw new Error(`${WHERE}: no trial completed (${study.trials.length} ran)${failed?.error ? `; trial ${failed.number} failed: ${failed.error}` : ''}`);
  }
  const { number, model, history, settings } = kept;
  return { strategy: 'trials', study, objectives, best: study.trials[number]!, settings, model, history, accuracyBytesFront: accuracyBytesFront(study.trials) };
}

function checkObjectives(list: unknown): SearchObjective[] {
  if (!Array.isArray(list) || list.length === 0) throw new TypeError(`${WHERE}: objectives must be a non-empty array of ${SEARCH_OBJECTIVES.join(', ')}`);
  for (const o of list) if (!SEARCH_OBJECTIVES.includes(o)) throw new TypeError(`${WHERE}: unknown objective ${JSON.stringify(o)}; use ${SEARCH_OBJECTIVES.join(', ')}`);
  if (new Set(list).size !== list.length) throw new RangeError(`${WHERE}: objectives name one twice: ${list.join(', ')}`);
  if (!list.includes('accuracy') && !list.includes('loss')) throw new RangeError(`${WHERE}: objectives need accuracy or loss (size alone would pick the smallest untrained model), got ${list.join(', ')}`);
  return list.slice();
}

/** Complete trials not dominated on (validation accuracy ↑, file bytes ↓), ordered by bytes. */
export function accuracyBytesFront(trials: readonly FrozenTrial[]): FrozenTrial[] {
  const done = trials.filter((t) => t.state === 'complete' && typeof t.userAttrs.accuracy === 'number' && typeof t.userAttrs.bytes === 'number');
  const ranks = nonDominatedRanks(done.map((t) => [-(t.userAttrs.accuracy as number), t.userAttrs.bytes as number]));
  return done.filter((_, i) => ranks[i] === 0).sort((a, b) => (a.userAttrs.bytes as number) - (b.userAttrs.bytes as number) || a.number - b.number);
}

/** What one trial needs besides its rows: shared by the in-thread objective and the workers. */
export interface MlpJob {
  epochs: number;
  seed: number;
  classes: number;
  defaults: MlpSettings;
  objectives: SearchObjective[];
  /** The validation metric reported per epoch for pruning (single accuracy or loss objective). */
  reported: 'accuracy' | 'loss' | undefined;
  space: SpaceSpec;
}

/** The structured-cloneable context searchModel hands its workers. */
export interface MlpWorkerContext extends MlpJob {
  data: DatasetInit;
  validation: DatasetInit;
}

/** What a worker sends back with a complete trial's values. */
export interface MlpArtifact {
  bytes: Uint8Array;
  history: History;
  settings: MlpSettings;
}

export function datasetInit(d: Dataset): DatasetInit {
  return { features: d.features, numFeatures: d.numFeatures, featureNames: d.featureNames, labels: d.labels, classNames: d.classNames };
}

/** Trains one trial's MLP, reporting the validation metric after every epoch for the pruner. The
 *  caller owns the returned model; on error or pruning it is already disposed. */
export async function trainMlpTrial(trial: Trial, data: Dataset, validation: Dataset, job: MlpJob, onEpoch?: (log: EpochLog) => void, signal?: AbortSignal): Promise<{ values: number[]; model: Sequential; history: History; settings: MlpSettings }> {
  const settings = mlpSettings(sampleSpace(trial, parseSpace(job.space)), job.defaults);
  const model = new Sequential({ inputs: data.numFeatures, layers: mlpLayers(settings, job.classes), seed: job.seed });
  try {
    const history = await fit(model, data, {
      optimizer: mlpOptimizer(settings), epochs: job.epochs, batchSize: settings.batchSize, validation, seed: job.seed, ...(signal ? { signal } : {}),
      onEpoch: (log) => {
        onEpoch?.(log);
        if (!job.reported) return;
        trial.report(job.reported === 'accuracy' ? log.valAccuracy! : log.valLoss!, log.epoch - 1);
        if (trial.shouldPrune()) throw new TrialPruned(`pruned after epoch ${log.epoch}`);
      },
    });
    const last = history.epochs.at(-1)!;
    const bytes = floatFileBytes(model).length;
    trial.setUserAttr('parameters', model.parameterCount);
    trial.setUserAttr('bytes', bytes);
    trial.setUserAttr('accuracy', last.valAccuracy!);
    const values = job.objectives.map((o) => (o === 'accuracy' ? last.valAccuracy! : o === 'loss' ? last.valLoss! : o === 'parameters' ? model.parameterCount : bytes));
    return { values, model, history, settings };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
