// Model search over MLP architectures and training settings: a study (src/search) whose trials
// each train the MLP a search space's sample describes (objective.ts), are pruned on their
// per-epoch validation scores, and are scored on the validation rows, never on test rows. The
// chosen trial's trained model is kept, so it need not be trained again.
import { checkInteger, checkKnownKeys, checkNumber } from '../core/errors.ts';
import type { Dataset } from '../data/dataset.ts';
import { gradientSearch, type GradientSearchOptions, type GradientSearchResult } from '../gradsearch/search.ts';
import { modelFromBytes } from '../io/model-file.ts';
import type { Sequential, Task } from '../nn/sequential.ts';
import { nonDominatedRanks } from '../search/pareto.ts';
import { optimizeParallel } from '../search/parallel/pool.ts';
import type { Pruner } from '../search/pruners/pruner.ts';
import type { Sampler } from '../search/samplers/sampler.ts';
import type { SpaceSpec } from '../search/space.ts';
import type { StudyStorage } from '../search/storage/storage.ts';
import { createStudy, type Study, type StudyOptions } from '../search/study.ts';
import type { FrozenTrial } from '../search/trial-record.ts';
import type { Trial } from '../search/trial.ts';
import { abortReason, DivergenceError, type EpochLog, type History } from '../train/fit.ts';
import { DEFAULT_PRUNER, DEFAULT_SAMPLER, prunerOf, samplerOf, type PrunerName, type SamplerName } from './components.ts';
import { datasetInit, trainMlp, trainMlpTrial, type MlpArtifact, type MlpJob, type MlpWorkerContext } from './objective.ts';
import { DEFAULT_MLP_SETTINGS, MLP_SETTING_KEYS, mlpSettings, type MlpSettings } from './settings.ts';
import { defaultSpace, OBJECTIVE_DIRECTION, parseMlpSpace, SEARCH_OBJECTIVES, type SearchObjective } from './space.ts';

/** Options of `searchModel`: validation rows, space, objectives, sampler, pruner and budget. */
export interface SearchModelOptions {
  /** Rows every trial is scored on (required): pruning and the objectives see only these. */
  validation: Dataset;
  /** What the models learn; default 'regression' for data with targets, else 'classification'. */
  task?: Task;
  /** Default CONV_SPACE for image rows (a Dataset of shape [c, h, w]), else MLP_SPACE; names
   *  from MLP_SPACE_NAMES. */
  space?: SpaceSpec;
  /** A Sampler or a name: 'tpe' (default; random for the first max(3, min(10, ⌊trials/3⌋))
   *  trials), 'random', 'gp', or 'grid' (every combination of a categorical space). */
  sampler?: Sampler | SamplerName;
  /** A Pruner or a name: 'hyperband' (default: over 1 … epochs, η = 3), 'median',
   *  'successive-halving' (from 1 epoch, η = 3) or 'none'. Single objective only. */
  pruner?: Pruner | PrunerName;
  /** Trials to run in this call. Default 20. */
  trials?: number;
  /** Stop starting trials after this many milliseconds (running trials finish). */
  timeBudgetMs?: number;
  /** Threads training trials at once (default 1: in this thread). With n > 1, trials run in
   *  batches of n on workers (see optimizeParallel); a fixed n repeats exactly for a seed. */
  workers?: number;
  /** 'trials' (default): a study of independently trained MLPs. */
  strategy?: 'trials';
  /** Default ['accuracy'] (['loss'] for regression); several give a Pareto front and turn
   *  pruning off. */
  objectives?: SearchObjective[];
  /** Models of the best `keep` trials of this call to keep, best first, in `topModels` (default 1:
   *  the chosen one only); the others are disposed as soon as they fall out. The pipeline keeps 3
   *  as its ensemble teacher. */
  keep?: number;
  /** Training epochs of a trial that is not pruned (Hyperband's largest resource), unless the
   *  space sets `epochs`. Default 10. */
  epochs?: number;
  /** Settings for names the space leaves out (see DEFAULT_MLP_SETTINGS). */
  defaults?: Partial<MlpSettings>;
  /** Seed of the sampler, the weights and the shuffling. Default 0. */
  seed?: number;
  /** Where the study is kept (default in memory). A storage that already holds `studyName`
   *  resumes it: earlier trials count for the sampler and for the choice of the best. */
  storage?: StudyStorage;
  /** Default 'model-search'. */
  studyName?: string;
  signal?: AbortSignal;
  /** After every epoch of every trial. */
  onTrialEpoch?: (trial: number, log: EpochLog) => void;
  /** After every finished trial, with the trial chosen so far (null before any completes). */
  onTrial?: (trial: FrozenTrial, best: FrozenTrial | null) => void;
}

/** What `searchModel` returns: the study, the chosen trial and its trained model. */
export interface SearchModelResult {
  strategy: 'trials';
  study: Study;
  objectives: SearchObjective[];
  /** The chosen trial: the best one, or with several objectives the Pareto trial best on the
   *  first objective (then the second, …; ties to the lower trial number). */
  best: FrozenTrial;
  settings: MlpSettings;
  /** The chosen trial's trained model (the caller disposes it; it is `topModels[0].model`). */
  model: Sequential;
  /** The trained models of the best `keep` trials, best first (the caller disposes them). Trials
   *  of an earlier call of a resumed study are not among them, but for the chosen one. */
  topModels: { trial: number; model: Sequential }[];
  history: History;
  /** Complete trials no other beats on both validation accuracy and file bytes, by bytes. */
  accuracyBytesFront: FrozenTrial[];
}

/** `searchModel` with `strategy: 'gradient'`: the options of `gradientSearch`. */
export type GradientStrategyOptions = GradientSearchOptions & { strategy: 'gradient' };
/** What `searchModel` returns with `strategy: 'gradient'`. */
export type GradientStrategyResult = GradientSearchResult & { strategy: 'gradient' };

const KEYS = [
  'validation',
  'task',
  'space',
  'sampler',
  'pruner',
  'trials',
  'timeBudgetMs',
  'workers',
  'strategy',
  'objectives',
  'keep',
  'epochs',
  'defaults',
  'seed',
  'storage',
  'studyName',
  'signal',
  'onTrialEpoch',
  'onTrial',
];
const TASKS: readonly Task[] = ['classification', 'binary', 'regression'];
const WHERE = 'searchModel';

/**
 * Searches MLPs on `data` (the training rows), scoring trials on `validation`.
 *
 * @example
 * const { train, validation } = trainTestSplit(iris(), { validationFraction: 0.2, seed: 0 });
 * const { model, best } = await searchModel(train, { validation: validation!, trials: 20, epochs: 30 });
 * console.log(best.values, best.params);
 */
export async function searchModel(data: Dataset, options: SearchModelOptions): Promise<SearchModelResult>;
export async function searchModel(data: Dataset, options: GradientStrategyOptions): Promise<GradientStrategyResult>;
export async function searchModel(
  data: Dataset,
  options: SearchModelOptions | GradientStrategyOptions,
): Promise<SearchModelResult | GradientStrategyResult>;
export async function searchModel(
  data: Dataset,
  options: SearchModelOptions | GradientStrategyOptions,
): Promise<SearchModelResult | GradientStrategyResult> {
  if (options === null || typeof options !== 'object') throw new TypeError(`${WHERE}: options must be an object with validation rows`);
  if (options.strategy === 'gradient') {
    const { strategy, ...rest } = options;
    return { strategy, ...(await gradientSearch(data, rest)) };
  }
  if (options.strategy !== undefined && options.strategy !== 'trials')
    throw new TypeError(`${WHERE}: strategy must be 'trials' or 'gradient', got ${JSON.stringify(options.strategy)}`);
  const plan = planModelSearch(data, options);
  const { validation } = options;
  const { job, objectives, trials, workers } = plan;
  const study = await createStudy(plan.study);
  const better = lexicographic(objectives);
  const keep = plan.keep;
  // The best `keep` models trained in this call, best first. Ties go to the lower trial number,
  // so the choice does not depend on which worker ended first.
  interface Kept {
    number: number;
    values: number[];
    model: Sequential;
    history: History;
    settings: MlpSettings;
  }
  let kept: Kept[] = [];
  const ahead = (a: Pick<Kept, 'number' | 'values'>, b: Pick<Kept, 'number' | 'values'>) =>
    better(a.values, b.values) || (!better(b.values, a.values) && a.number < b.number);
  const offer = (number: number, values: number[], model: () => Sequential, history: History, settings: MlpSettings): boolean => {
    if (values.some(Number.isNaN)) return false;
    let at = kept.findIndex((k) => ahead({ number, values }, k));
    if (at < 0) at = kept.length;
    if (at >= keep) return false;
    kept.splice(at, 0, { number, values, model: model(), history, settings });
    for (const out of kept.splice(keep)) out.model.dispose();
    return true;
  };
  const disposeKept = () => {
    for (const k of kept) k.model.dispose();
    kept = [];
  };
  const callbacks = [(s: Study, t: FrozenTrial) => options.onTrial?.(t, chosenTrial(s.trials, better) ?? null)];
  // A learning rate that diverges is a bad trial, not a reason to stop searching.
  const diverged = (error: unknown) => error instanceof DivergenceError || (error as Error)?.name === 'DivergenceError';
  const limits = {
    trials,
    ...(options.timeBudgetMs !== undefined ? { timeBudgetMs: options.timeBudgetMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    catch: diverged,
    callbacks,
  };

  try {
    if (workers > 1) {
      await optimizeParallel(study, {
        ...limits,
        workers,
        space: job.space,
        module: new URL(import.meta.url.endsWith('.ts') ? './worker-objective.ts' : './kiln-mlp-objective.mjs', import.meta.url),
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
    const best = chosenTrial(study.trials, better);
    if (!best) {
      const failed = study.trials.find((t) => t.state === 'failed');
      throw new Error(
        `${WHERE}: no trial completed (${study.trials.length} ran)${failed?.error ? `; trial ${failed.number} failed: ${failed.error}` : ''}`,
      );
    }
    if (kept[0]?.number !== best.number) {
      // The best trial ran before this call (a resumed study): train it again; the same seed
      // and settings give the same model. It goes first; this call's models follow.
      const settings = mlpSettings(best.params, job.defaults);
      const again = await trainMlp(settings, data, validation, job, undefined, options.signal);
      kept.unshift({ number: best.number, values: best.values!.slice(), ...again, settings });
      for (const out of kept.splice(keep)) out.model.dispose();
    }
    const { model, history, settings } = kept[0]!;
    return {
      strategy: 'trials',
      study,
      objectives,
      best,
      settings,
      model,
      topModels: kept.map((k) => ({ trial: k.number, model: k.model })),
      history,
      accuracyBytesFront: accuracyBytesFront(study.trials),
    };
  } catch (error) {
    disposeKept();
    throw error;
  } finally {
    // Every trial is in the storage before the caller sees the result (or the error).
    await study.flush();
  }
}

/** A model search before any trial runs: the study to create and the objective its trials run.
 *  `searchModel` runs it; so can any loop over a study, such as `kiln worker` sharing a study in
 *  a storage with other processes (spread `study` into `createStudy` with the storage's options). */
export interface ModelSearchPlan {
  /** `createStudy`'s options: name, directions, seed, sampler, pruner, storage; reopens the study. */
  study: StudyOptions;
  /** Trains one trial in this thread and returns its values (the model is disposed). */
  objective: (trial: Trial) => Promise<number[]>;
  job: MlpJob;
  objectives: SearchObjective[];
  trials: number;
  workers: number;
  /** Trained models `searchModel` keeps (its `keep` option). */
  keep: number;
}

/**
 * Checks `searchModel`'s options and resolves them into the study and the objective, without
 * running a trial.
 *
 * @example
 * const plan = planModelSearch(train, { validation, storage: openStorage('postgres://db/kiln'), studyName: 'mnist' });
 * const study = await createStudy({ ...plan.study, heartbeatMs: 5_000 });
 * await study.optimize(plan.objective, { trials: 1 });
 */
export function planModelSearch(data: Dataset, options: SearchModelOptions): ModelSearchPlan {
  if (options === null || typeof options !== 'object') throw new TypeError(`${WHERE}: options must be an object with validation rows`);
  checkKnownKeys(WHERE, options, KEYS);
  const { validation } = options;
  if (data?.task !== 'classification' && data?.task !== 'regression')
    throw new TypeError(`${WHERE}: data must be a Dataset, got ${typeof data}`);
  const task = options.task ?? (data.task === 'regression' ? 'regression' : 'classification');
  if (!TASKS.includes(task)) throw new TypeError(`${WHERE}: task must be one of ${TASKS.join(', ')}, got ${JSON.stringify(task)}`);
  if ((task === 'regression') !== (data.task === 'regression'))
    throw new TypeError(
      `${WHERE}: task '${task}' needs ${task === 'regression' ? 'regression targets' : 'class labels'}; the data has ${data.task === 'regression' ? 'targets' : 'labels'}`,
    );
  if (validation?.task !== data.task || validation.numRows === 0)
    throw new TypeError(`${WHERE}: validation must be a non-empty ${data.task} Dataset`);
  if (validation.numFeatures !== data.numFeatures)
    throw new RangeError(`${WHERE}: validation has ${validation.numFeatures} features, data ${data.numFeatures}`);
  if (validation.shape.join() !== data.shape.join())
    throw new RangeError(`${WHERE}: validation rows are [${validation.shape.join(', ')}], data rows [${data.shape.join(', ')}]`);
  const space = parseMlpSpace(options.space ?? defaultSpace(data.shape), `${WHERE}: space`);
  const trials = checkInteger(WHERE, 'trials', options.trials ?? 20, 1, 1e6);
  if (options.timeBudgetMs !== undefined) checkNumber(WHERE, 'timeBudgetMs', options.timeBudgetMs, 0);
  const workers = checkInteger(WHERE, 'workers', options.workers ?? 1, 1, 1024);
  const keep = checkInteger(WHERE, 'keep', options.keep ?? 1, 1, 1024);
  const seed = checkInteger(WHERE, 'seed', options.seed ?? 0);
  if (options.defaults !== undefined) checkKnownKeys(`${WHERE} defaults`, options.defaults, MLP_SETTING_KEYS);
  const epochs = checkInteger(WHERE, 'epochs', options.epochs ?? options.defaults?.epochs ?? DEFAULT_MLP_SETTINGS.epochs, 1, 1e6);
  const objectives = checkObjectives(options.objectives ?? [task === 'regression' ? 'loss' : 'accuracy'], task);
  const single = objectives.length === 1;
  const pruning = options.pruner !== undefined && options.pruner !== 'none';
  if (!single && pruning) throw new RangeError(`${WHERE}: pruning needs a single objective; ${objectives.length} were given`);
  const reported = single && (objectives[0] === 'accuracy' || objectives[0] === 'loss') ? objectives[0] : undefined;
  const defaults: MlpSettings = { ...DEFAULT_MLP_SETTINGS, ...options.defaults, epochs };
  const outputs = task === 'regression' ? data.numTargets : task === 'binary' ? 1 : Math.max(2, data.numClasses, validation.numClasses);

  const job: MlpJob = { task, outputs, seed, defaults, objectives, reported, space };
  return {
    study: {
      name: options.studyName ?? 'model-search',
      directions: objectives.map((o) => OBJECTIVE_DIRECTION[o]),
      seed,
      loadIfExists: true,
      sampler: samplerOf(options.sampler ?? DEFAULT_SAMPLER, space, seed, trials),
      pruner: prunerOf(reported ? (options.pruner ?? DEFAULT_PRUNER) : 'none', epochs),
      ...(options.storage ? { storage: options.storage } : {}),
    },
    objective: async (trial) => {
      const run = await trainMlpTrial(trial, data, validation, job, (log) => options.onTrialEpoch?.(trial.number, log), options.signal);
      run.model.dispose();
      return run.values;
    },
    job,
    objectives,
    trials,
    workers,
    keep,
  };
}

function checkObjectives(list: unknown, task: Task): SearchObjective[] {
  if (!Array.isArray(list) || list.length === 0)
    throw new TypeError(`${WHERE}: objectives must be a non-empty array of ${SEARCH_OBJECTIVES.join(', ')}`);
  for (const o of list)
    if (!SEARCH_OBJECTIVES.includes(o))
      throw new TypeError(`${WHERE}: unknown objective ${JSON.stringify(o)}; use ${SEARCH_OBJECTIVES.join(', ')}`);
  if (new Set(list).size !== list.length) throw new RangeError(`${WHERE}: objectives name one twice: ${list.join(', ')}`);
  if (!list.includes('accuracy') && !list.includes('loss'))
    throw new RangeError(
      `${WHERE}: objectives need accuracy or loss (size alone would pick the smallest untrained model), got ${list.join(', ')}`,
    );
  if (task === 'regression' && list.includes('accuracy'))
    throw new RangeError(`${WHERE}: objective accuracy needs classification; use loss for regression`);
  return list.slice();
}

type Better = (a: readonly number[], b: readonly number[]) => boolean;

/** Lexicographic order of value vectors in the objectives' directions: the best vector is on the
 *  Pareto front, and for one objective it is the plain best. */
function lexicographic(objectives: readonly SearchObjective[]): Better {
  const sign = objectives.map((o) => (OBJECTIVE_DIRECTION[o] === 'maximize' ? -1 : 1));
  return (a, b) => {
    for (let m = 0; m < a.length; m++) if (a[m] !== b[m]) return a[m]! * sign[m]! < b[m]! * sign[m]!;
    return false;
  };
}

/** The chosen complete trial: lexicographically best, ties to the lower number. */
function chosenTrial(trials: readonly FrozenTrial[], better: Better): FrozenTrial | undefined {
  let best: FrozenTrial | undefined;
  for (const t of trials) {
    if (t.state !== 'complete' || t.values!.some(Number.isNaN)) continue;
    if (!best || better(t.values!, best.values!)) best = t;
  }
  return best;
}

/** Complete trials not dominated on (validation accuracy ↑, file bytes ↓), ordered by bytes. */
export function accuracyBytesFront(trials: readonly FrozenTrial[]): FrozenTrial[] {
  const done = trials.filter(
    (t) => t.state === 'complete' && typeof t.userAttrs.accuracy === 'number' && typeof t.userAttrs.bytes === 'number',
  );
  const ranks = nonDominatedRanks(done.map((t) => [-(t.userAttrs.accuracy as number), t.userAttrs.bytes as number]));
  return done
    .filter((_, i) => ranks[i] === 0)
    .sort((a, b) => (a.userAttrs.bytes as number) - (b.userAttrs.bytes as number) || a.number - b.number);
}
