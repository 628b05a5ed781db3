// What a pipeline run returns and the events it streams while it runs. Everything here is plain
// JSON-safe data apart from the final model's bytes, so a UI can draw from it as it arrives.
import type { ParamValue } from '../search/distributions.ts';
import type { Direction, TrialState } from '../search/trial-record.ts';
import type { MlpSettings } from '../model-search/settings.ts';
import type { SearchObjective } from '../model-search/space.ts';
import type { CompressionStudy } from './budget.ts';

/** Stages that can be switched on and off, in the order they run. */
export type StageName = 'search' | 'distill' | 'prune' | 'quantize';
/** The pipeline stages, in the order they run. */
export const STAGE_NAMES: readonly StageName[] = ['search', 'distill', 'prune', 'quantize'];
/** A row of the stage table: 'train' is the first stage when the search is switched off. */
export type RowStage = StageName | 'train';

/** One stage's model, measured on the test rows. */
export interface StageRow {
  stage: RowStage;
  /** Architecture and number format, e.g. "784-128-10 f32" or "784-16-10 int8-per-channel". */
  model: string;
  /** Test accuracy. */
  accuracy: number;
  parameters: number;
  nonZeros: number;
  /** Bytes of the stage's model file. */
  bytes: number;
  /** Median batch-1 latency in microseconds, every stage timed in the same rounds (in a
   *  stage-end event: provisional, timed against the first stage only). */
  latencyUs: number;
  /** The first stage's latency over this one's. */
  speedup: number;
  /** Wall time the stage took. */
  seconds: number;
}

/** One search trial as the pipeline result keeps it. */
export interface TrialSummary {
  number: number;
  state: TrialState;
  params: Readonly<Record<string, ParamValue>>;
  /** One value per objective for complete trials; the last reported value for pruned ones. */
  values: readonly number[] | null;
  /** [step, value] pairs the trial reported (validation accuracy or loss after each epoch). */
  intermediate: [number, number][];
  /** Validation accuracy, parameters and file bytes of complete trials. */
  accuracy: number | null;
  parameters: number | null;
  bytes: number | null;
  /** Milliseconds since the epoch when the trial started (the report's timeline). */
  startedAt?: number;
  durationMs: number | null;
}

/** A training epoch of a stage (the search stage shows its chosen trial's epochs). */
export interface CurvePoint {
  epoch: number;
  /** Training loss (blended with the soft targets' term while distilling). */
  loss: number;
  valLoss?: number;
  valAccuracy?: number;
}

/** The training curve of one stage. */
export interface StageCurve {
  stage: RowStage;
  points: CurvePoint[];
}

/** A complete trial no other beats on both validation accuracy and file bytes. */
export interface ParetoPoint {
  trial: number;
  accuracy: number;
  bytes: number;
}

/** A setting of a stage as the report lists it. */
export type SettingValue = string | number | boolean | readonly number[];

/** The settings one stage ran with (architecture, optimizer, schedule, scheme, …). */
export interface StageSettings {
  stage: RowStage;
  settings: Readonly<Record<string, SettingValue>>;
}

/** The final model on the test rows: confusion matrix (rows true, columns predicted) and
 *  per-class precision, recall, F1 and support, from src/metrics. */
export interface FinalEvaluation {
  stage: RowStage;
  classNames: readonly string[];
  confusion: number[][];
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
}

/** What `runPipeline` returns: the stage table, curves, trials and the final model. */
export interface PipelineResult {
  seed: number;
  data: { features: number; classes: readonly string[]; rows: { train: number; validation: number; test: number } };
  /** The stage table, in the order the stages ran. */
  stages: StageRow[];
  /** The search (empty, with no objectives, when it did not run). */
  objectives: SearchObjective[];
  directions: Direction[];
  trials: TrialSummary[];
  /** The trial whose model went on to the next stages. */
  bestTrial: number | null;
  paretoFront: ParetoPoint[];
  importances: Record<string, number> | null;
  /** Settings of the first stage's model (searched or given). */
  settings: MlpSettings;
  curves: StageCurve[];
  /** With an accuracy budget (maxDrop): the compression study's candidates, front and choice. */
  compression?: CompressionStudy | null;
  /** Each stage's settings, in the order the stages ran (absent in results from older runs). */
  stageSettings?: StageSettings[];
  /** The last stage's model on the test rows (absent in results from older runs). */
  evaluation?: FinalEvaluation;
  /** The last stage's model file. */
  model: { stage: RowStage; format: string; bytes: Uint8Array };
  seconds: number;
}

/** Streamed in this order: start; per stage stage-start, its progress, stage-end; latency (the
 *  final latencies of all stages, timed together); end. With an accuracy budget (maxDrop) start
 *  names the stages that may run and only the kept candidate's stages start and end, after the
 *  study. */
export type PipelineEvent =
  | { type: 'start'; stages: RowStage[]; rows: { train: number; validation: number; test: number }; features: number; classes: number }
  | { type: 'stage-start'; stage: RowStage }
  | { type: 'trial-epoch'; trial: number; epoch: number; loss: number; valLoss: number; valAccuracy: number }
  | { type: 'trial'; trial: TrialSummary; bestTrial: number | null }
  | { type: 'epoch'; stage: RowStage; point: CurvePoint }
  | { type: 'stage-end'; stage: RowStage; row: StageRow }
  | { type: 'latency'; stages: StageRow[] }
  | { type: 'end'; seconds: number };

/** Progress events and cancellation for `runPipeline`. */
export interface PipelineHooks {
  onEvent?(event: PipelineEvent): void;
  signal?: AbortSignal;
}
