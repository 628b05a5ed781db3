// The public model-search API, named one by one (src/index.ts re-exports these names).
export { createStudy, Study } from './study.ts';
export type { StudyOptions, OptimizeOptions, TellResult, Objective } from './study.ts';
export { Trial, TrialPruned } from './trial.ts';
export type { FrozenTrial, TrialState, Direction } from './trial-record.ts';
export { floatDistribution, intDistribution, categoricalDistribution } from './distributions.ts';
export type {
  Distribution,
  FloatDistribution,
  IntDistribution,
  CategoricalDistribution,
  Choice,
  ParamValue,
  FloatOptions,
  IntOptions,
} from './distributions.ts';
export { parseSpace, sampleSpace } from './space.ts';
export type { SpaceSpec, ParamSpec, FloatSpec, IntSpec, CategoricalSpec, Condition } from './space.ts';
export type { Sampler, SamplerContext } from './samplers/sampler.ts';
export { RandomSampler } from './samplers/random.ts';
export type { RandomSamplerOptions } from './samplers/random.ts';
export { GridSampler } from './samplers/grid.ts';
export type { GridSamplerOptions } from './samplers/grid.ts';
export { TpeSampler } from './samplers/tpe.ts';
export type { TpeSamplerOptions } from './samplers/tpe.ts';
export { GpSampler } from './samplers/gp/gp.ts';
export type { GpSamplerOptions } from './samplers/gp/gp.ts';
export type { Pruner, PrunerContext } from './pruners/pruner.ts';
export { NopPruner } from './pruners/pruner.ts';
export { MedianPruner, PercentilePruner } from './pruners/median.ts';
export type { MedianPrunerOptions, PercentilePrunerOptions } from './pruners/median.ts';
export { SuccessiveHalvingPruner } from './pruners/successive-halving.ts';
export type { SuccessiveHalvingPrunerOptions } from './pruners/successive-halving.ts';
export { HyperbandPruner } from './pruners/hyperband.ts';
export type { HyperbandPrunerOptions } from './pruners/hyperband.ts';
export type { StudyStorage, SharedStudyStorage, Heartbeats } from './storage/storage.ts';
export { InMemoryStorage, isShared } from './storage/storage.ts';
export { JournalFileStorage, JournalError, JournalLockError } from './storage/journal-file.ts';
export { PostgresStorage, StudyLogLostError } from './storage/postgres.ts';
export type { PostgresStorageOptions } from './storage/postgres.ts';
export { RedisStorage } from './storage/redis.ts';
export type { RedisStorageOptions } from './storage/redis.ts';
export { StorageUnavailableError } from './storage/retry.ts';
export type { RetryOptions } from './storage/retry.ts';
export { HttpStorage, HttpStorageError } from './storage/http.ts';
export type { HttpStorageOptions } from './storage/http.ts';
export { serveStudies } from './storage/http-server.ts';
export type { ServeOptions, StudyServer } from './storage/http-server.ts';
export { summarizeStudy } from './export.ts';
export type { StudySummary } from './export.ts';
export { openStorage } from './storage/open.ts';
export type { OpenStorageOptions } from './storage/open.ts';
export { toOptunaJournal, fromOptunaJournal } from './optuna-journal.ts';
export type { FromOptunaJournalOptions } from './optuna-journal.ts';
export type { JournalFileOptions } from './storage/journal-file.ts';
export { IndexedDbStorage } from './storage/indexeddb.ts';
export type { IndexedDbStorageOptions } from './storage/indexeddb.ts';
export type { StudyEvent } from './events.ts';
export { paretoFront, nonDominatedRanks } from './pareto.ts';
export { parameterImportances } from './importance.ts';
export type { ImportanceOptions as ParameterImportanceOptions } from './importance.ts';
export { trialsToCsv } from './export.ts';
export type { StudyJson, TrialJson } from './export.ts';
export { modelLimits } from './limits.ts';
export type { ModelLimits } from './limits.ts';
export { optimizeParallel } from './parallel/pool.ts';
// The entry point of the built package's dist/kiln-worker.mjs.
export { runTrialWorker } from './parallel/worker-main.ts';
export type { OptimizeParallelOptions } from './parallel/pool.ts';
export type { WorkerObjective } from './parallel/worker-objective.ts';
