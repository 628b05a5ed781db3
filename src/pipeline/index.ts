// The public pipeline API, named one by one (src/index.ts re-exports these names).
export { runPipeline } from './pipeline.ts';
export type { PipelineOptions } from './options.ts';
export type {
  PipelineResult,
  PipelineEvent,
  PipelineHooks,
  StageRow,
  StageName,
  RowStage,
  TrialSummary,
  CurvePoint,
  StageCurve,
  ParetoPoint,
  StageSettings,
  SettingValue,
  FinalEvaluation,
} from './types.ts';
export { STAGE_NAMES } from './types.ts';
export { savePipeline, pipelineJson } from './save.ts';
export type { SavedPipeline } from './save.ts';
