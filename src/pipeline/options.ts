// Options of runPipeline with every default in one place, checked before any work starts.
import { checkInteger, checkKnownKeys, checkNumber } from '../core/errors.ts';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../compress/quant/calibrate.ts';
import { QUANT_SCHEMES, type QuantScheme } from '../compress/quant/model.ts';
import type { Pruner } from '../search/pruners/pruner.ts';
import type { Sampler } from '../search/samplers/sampler.ts';
import type { SpaceSpec } from '../search/space.ts';
import { ACTIVATIONS } from '../core/activation.ts';
import type { PrunerName, SamplerName } from '../model-search/components.ts';
import { DEFAULT_MLP_SETTINGS, MLP_SETTING_KEYS, type MlpSettings } from '../model-search/settings.ts';
import type { SearchObjective } from '../model-search/space.ts';
import { STAGE_NAMES, type StageName } from './types.ts';
import type { Augment } from '../train/augment.ts';

/** Options of `runPipeline`: seed, stages and the settings of each stage. */
export interface PipelineOptions {
  /** Seed of the split, the search, every model's weights and shuffling. Default 0. */
  seed?: number;
  /** Stages to run, in this order; default all four. Without 'search' a model with the
   *  `baseline` settings is trained instead. */
  stages?: StageName[];
  /** Objectives of the search on the validation rows; default ['accuracy']. */
  objectives?: SearchObjective[];
  /** Shares of the rows held out, stratified by class: test 0.2, validation 0.1 by default. */
  split?: { testFraction?: number; validationFraction?: number };
  /** The search: its budget, space and components, named as `searchModel` names them. */
  search?: {
    /** Default 20. */
    trials?: number;
    /** Milliseconds after which no trial starts (running trials finish). */
    timeBudgetMs?: number;
    /** Default: CONV_SPACE for image rows ([c, h, w]), else MLP_SPACE (searchModel's default). */
    space?: SpaceSpec;
    /** Epochs of a trial that is not pruned (default 10). */
    epochs?: number;
    /** Default 'tpe' (see searchModel). */
    sampler?: Sampler | SamplerName;
    /** Default 'hyperband' (see searchModel). */
    pruner?: Pruner | PrunerName;
    /** Threads training trials at once (default 1: in this thread). With n > 1 trials run in
     *  batches of n on workers and a seed repeats exactly for the same n (not across n
     *  values); within a batch, 'trial-epoch' events of its trials interleave and 'trial'
     *  events come in the order the trials end, not by number. */
    workers?: number;
  };
  /** The model trained when 'search' is not run (and the settings a space leaves out);
   *  default DEFAULT_MLP_SETTINGS with one hidden layer of 128 units. */
  baseline?: Partial<MlpSettings>;
  distill?: {
    /** Hidden widths of the student; default each teacher width / 4 (at least 8). */
    widths?: number[];
    /** Default 10. */
    epochs?: number;
    /** Default 4. */
    temperature?: number;
    /** Default 0.9. */
    alpha?: number;
    /** Augment the distillation batches (the teacher sees the same rows): see `Augment`. */
    augment?: Augment;
    /** The teacher: the mean probabilities of the search's best `teachers` trials, whose models
     *  the search has trained already (default 3; 1: the searched model alone). Without the
     *  search stage the trained baseline teaches alone. */
    teachers?: number;
  };
  prune?: {
    /** 'structured' (default) removes whole hidden neurons, so the model, its file and its
     *  latency shrink, and the int8 model after it stays small; 'unstructured' zeroes single
     *  weights (sparse file, CSR inference), which quantisation then stores densely. */
    method?: 'structured' | 'unstructured';
    /** Share of hidden neurons and filters (structured) or of weights (unstructured) removed;
     *  default 0.5. With `maxDrop`, the shares the study tries, each pruned further from the one
     *  before (a list, or one number; default [0.3, 0.5, 0.7]). */
    sparsity?: number | number[];
    /** Pruning steps along the cubic schedule, each followed by fine-tuning; default 4. */
    steps?: number;
    /** Epochs of fine-tuning after each step; default 4. */
    fineTuneEpochs?: number;
  };
  quantize?: {
    /** Default 'int8-per-channel'. */
    scheme?: QuantScheme;
    /** Training rows that set the activation ranges of static schemes; default 1000. */
    calibrationRows?: number;
    /** Default 'percentile' (99.99th): on MNIST it loses a tenth of the accuracy min-max loses. */
    method?: CalibrationMethod;
  };
  /** Timed rounds per latency median (default 60). */
  latencyRepeats?: number;
  /** The accuracy budget: with it, distil, prune and quantize become a study over candidate
   *  student widths (½, ¼ and ⅛ of the searched model's, or distill.widths), pruned or not (at
   *  each share of prune.sparsity's ladder) and quantised or not, each measured on the validation rows (accuracy, bytes, batch-1 latency);
   *  the pipeline keeps the smallest (see optimizeFor) whose validation accuracy is at most
   *  `maxDrop` (a fraction: 0.01 = 1 point) below the searched model's. */
  maxDrop?: number;
  /** What the budget minimises: 'bytes' (default) or 'latency'. */
  optimizeFor?: 'bytes' | 'latency';
}

export interface ResolvedOptions {
  seed: number;
  stages: StageName[];
  trials: number;
  timeBudgetMs: number | undefined;
  objectives: SearchObjective[];
  testFraction: number;
  validationFraction: number;
  /** Undefined: searchModel's default for the data's rows. */
  space: SpaceSpec | undefined;
  searchEpochs: number;
  sampler: Sampler | SamplerName | undefined;
  pruner: Pruner | PrunerName | undefined;
  workers: number;
  baseline: MlpSettings;
  studentWidths: number[] | undefined;
  distillEpochs: number;
  temperature: number;
  alpha: number;
  teachers: number;
  pruneMethod: 'structured' | 'unstructured';
  sparsity: number;
  /** The study's pruning ladder, ascending. */
  sparsities: number[];
  pruneSteps: number;
  fineTuneEpochs: number;
  scheme: QuantScheme;
  calibrationRows: number;
  calibrationMethod: CalibrationMethod;
  latencyRepeats: number;
  maxDrop: number | undefined;
  optimizeFor: 'bytes' | 'latency';
  augment: Augment | undefined;
}

const WHERE = 'runPipeline';
const KEYS = [
  'seed',
  'stages',
  'objectives',
  'split',
  'search',
  'baseline',
  'distill',
  'prune',
  'quantize',
  'latencyRepeats',
  'maxDrop',
  'optimizeFor',
];

function group<T extends object>(name: string, value: T | undefined, keys: string[]): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new TypeError(
      `${WHERE}: ${name} must be an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  checkKnownKeys(`${WHERE} ${name}`, value, keys);
  return value;
}

function widths(where: string, value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new TypeError(`${where} must be a non-empty array of layer widths, got ${JSON.stringify(value)}`);
  return value.map((w, i) => checkInteger(where, `[${i}]`, w, 1, 1 << 20));
}

/** Checks `options` and fills in the defaults. */
export function resolveOptions(options: PipelineOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${WHERE}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  checkKnownKeys(WHERE, options, KEYS);
  const stages = options.stages ?? STAGE_NAMES.slice();
  if (!Array.isArray(stages)) throw new TypeError(`${WHERE}: stages must be an array of ${STAGE_NAMES.join(', ')}`);
  stages.forEach((s, i) => {
    if (!STAGE_NAMES.includes(s))
      throw new TypeError(`${WHERE}: stages[${i}] must be one of ${STAGE_NAMES.join(', ')}, got ${JSON.stringify(s)}`);
    if (i > 0 && STAGE_NAMES.indexOf(s) <= STAGE_NAMES.indexOf(stages[i - 1]!))
      throw new RangeError(`${WHERE}: stages must be in the order ${STAGE_NAMES.join(', ')} without repeats, got ${stages.join(', ')}`);
  });
  const split = group('split', options.split, ['testFraction', 'validationFraction']);
  const search = group('search', options.search, ['trials', 'timeBudgetMs', 'space', 'epochs', 'sampler', 'pruner', 'workers']);
  const baseline = group('baseline', options.baseline, [...MLP_SETTING_KEYS]);
  const distill = group('distill', options.distill, ['widths', 'epochs', 'temperature', 'alpha', 'augment', 'teachers']);
  const prune = group('prune', options.prune, ['method', 'sparsity', 'steps', 'fineTuneEpochs']);
  const quantize = group('quantize', options.quantize, ['scheme', 'calibrationRows', 'method']);

  const testFraction = checkNumber(WHERE, 'split.testFraction', split.testFraction ?? 0.2, Number.MIN_VALUE, 0.9);
  const validationFraction = checkNumber(WHERE, 'split.validationFraction', split.validationFraction ?? 0.1, Number.MIN_VALUE, 0.9);
  if (testFraction + validationFraction >= 1)
    throw new RangeError(
      `${WHERE}: split.testFraction + split.validationFraction must leave training rows, got ${testFraction} + ${validationFraction}`,
    );
  const settings: MlpSettings = { ...DEFAULT_MLP_SETTINGS, layers: [128], ...baseline };
  checkInteger(WHERE, 'baseline.epochs', settings.epochs, 1, 1e6);
  widths(`${WHERE}: baseline.layers`, settings.layers);
  if (!ACTIVATIONS.includes(settings.activation))
    throw new TypeError(
      `${WHERE}: baseline.activation must be one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(settings.activation)}`,
    );
  const method = prune.method ?? 'structured';
  if (method !== 'structured' && method !== 'unstructured')
    throw new TypeError(`${WHERE}: prune.method must be 'structured' or 'unstructured', got ${JSON.stringify(method)}`);
  const scheme = quantize.scheme ?? 'int8-per-channel';
  if (!QUANT_SCHEMES.includes(scheme))
    throw new TypeError(`${WHERE}: quantize.scheme must be one of ${QUANT_SCHEMES.join(', ')}, got ${JSON.stringify(scheme)}`);
  const calibrationMethod = quantize.method ?? 'percentile';
  if (!CALIBRATION_METHODS.includes(calibrationMethod))
    throw new TypeError(
      `${WHERE}: quantize.method must be one of ${CALIBRATION_METHODS.join(', ')}, got ${JSON.stringify(calibrationMethod)}`,
    );

  const sparsityList = Array.isArray(prune.sparsity) ? prune.sparsity : undefined;
  if (sparsityList && options.maxDrop === undefined)
    throw new RangeError(`${WHERE}: a list of prune.sparsity values is the accuracy budget's ladder; give maxDrop too, or one number`);
  if (sparsityList && sparsityList.length === 0) throw new RangeError(`${WHERE}: prune.sparsity must not be an empty list`);
  const sparsities = [
    ...new Set(
      (sparsityList ?? (prune.sparsity === undefined ? [0.3, 0.5, 0.7] : [prune.sparsity])).map((v, i) =>
        checkNumber(WHERE, sparsityList ? `prune.sparsity[${i}]` : 'prune.sparsity', v, Number.MIN_VALUE, 0.99),
      ),
    ),
  ].sort((a, b) => a - b);
  const optimizeFor = options.optimizeFor ?? 'bytes';
  if (optimizeFor !== 'bytes' && optimizeFor !== 'latency')
    throw new TypeError(`${WHERE}: optimizeFor must be 'bytes' or 'latency', got ${JSON.stringify(optimizeFor)}`);
  if (options.optimizeFor !== undefined && options.maxDrop === undefined)
    throw new RangeError(`${WHERE}: optimizeFor applies to the accuracy budget; give maxDrop too`);

  return {
    maxDrop: options.maxDrop === undefined ? undefined : checkNumber(WHERE, 'maxDrop', options.maxDrop, 0, 1),
    optimizeFor,
    augment: distill.augment,
    seed: checkInteger(WHERE, 'seed', options.seed ?? 0),
    stages,
    trials: checkInteger(WHERE, 'search.trials', search.trials ?? 20, 1, 1e6),
    timeBudgetMs: search.timeBudgetMs === undefined ? undefined : checkNumber(WHERE, 'search.timeBudgetMs', search.timeBudgetMs, 0),
    // searchModel checks the objectives themselves.
    objectives: options.objectives ?? ['accuracy'],
    testFraction,
    validationFraction,
    space: search.space,
    searchEpochs: checkInteger(WHERE, 'search.epochs', search.epochs ?? 10, 1, 1e6),
    sampler: search.sampler,
    pruner: search.pruner,
    workers: checkInteger(WHERE, 'search.workers', search.workers ?? 1, 1, 1024),
    baseline: settings,
    studentWidths: distill.widths === undefined ? undefined : widths(`${WHERE}: distill.widths`, distill.widths),
    distillEpochs: checkInteger(WHERE, 'distill.epochs', distill.epochs ?? 10, 1, 1e6),
    temperature: checkNumber(WHERE, 'distill.temperature', distill.temperature ?? 4, Number.MIN_VALUE),
    alpha: checkNumber(WHERE, 'distill.alpha', distill.alpha ?? 0.9, 0, 1),
    pruneMethod: method,
    sparsity: sparsityList ? sparsities.at(-1)! : checkNumber(WHERE, 'prune.sparsity', prune.sparsity ?? 0.5, 0, 0.99),
    sparsities,
    teachers: checkInteger(WHERE, 'distill.teachers', distill.teachers ?? 3, 1, 64),
    pruneSteps: checkInteger(WHERE, 'prune.steps', prune.steps ?? 4, 1, 1000),
    fineTuneEpochs: checkInteger(WHERE, 'prune.fineTuneEpochs', prune.fineTuneEpochs ?? 4, 1, 1e6),
    scheme,
    calibrationRows: checkInteger(WHERE, 'quantize.calibrationRows', quantize.calibrationRows ?? 1000, 1),
    calibrationMethod,
    latencyRepeats: checkInteger(WHERE, 'latencyRepeats', options.latencyRepeats ?? 60, 1, 1e6),
  };
}
