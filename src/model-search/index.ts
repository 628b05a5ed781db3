// The public model-search API, named one by one (src/index.ts re-exports these names).
export { searchModel, planModelSearch, accuracyBytesFront } from './search-model.ts';
export type {
  SearchModelOptions,
  SearchModelResult,
  ModelSearchPlan,
  GradientStrategyOptions,
  GradientStrategyResult,
} from './search-model.ts';
export { CONV_SPACE, MLP_SPACE, MLP_SPACE_NAMES, SEARCH_OBJECTIVES, defaultSpace, parseMlpSpace } from './space.ts';
export type { SearchObjective } from './space.ts';
export { mlpSettings, mlpLayers, DEFAULT_MLP_SETTINGS } from './settings.ts';
export type { MlpSettings } from './settings.ts';
export { SAMPLER_NAMES, PRUNER_NAMES, gridOfSpace } from './components.ts';
export type { SamplerName, PrunerName } from './components.ts';
// The entry point of the built package's dist/kiln-mlp-objective.mjs.
export { objective as mlpTrialObjective } from './worker-objective.ts';
