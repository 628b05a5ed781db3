// The command line reaches kiln only through src/index.ts: dist/cli.mjs imports the library from
// ./kiln.mjs, and a second copy of the core would not share its memory. Trial search and the
// pipeline are not exported there yet, so `kiln search --strategy trials` and `kiln pipeline` read
// them off the index at run time (with the library's own types) and exist only once the index
// exports them. When it does, these lookups can become plain named imports from '../index.ts'.
import * as kiln from '../index.ts';
import type * as Hyperband from '../search/pruners/hyperband.ts';
import type * as Median from '../search/pruners/median.ts';
import type * as PrunerBase from '../search/pruners/pruner.ts';
import type * as Halving from '../search/pruners/successive-halving.ts';
import type * as Gp from '../search/samplers/gp/gp.ts';
import type * as Grid from '../search/samplers/grid.ts';
import type * as Random from '../search/samplers/random.ts';
import type * as Tpe from '../search/samplers/tpe.ts';
import type * as Space from '../search/space.ts';
import type * as Journal from '../search/storage/journal-file.ts';
import type * as StudyModule from '../search/study.ts';
import type * as TrialModule from '../search/trial.ts';
import type * as PipelineModule from '../pipeline/pipeline.ts';
import type * as PipelineSave from '../pipeline/save.ts';
import type * as SearchModel from '../pipeline/search-model.ts';
import type * as PipelineTypes from '../pipeline/types.ts';

export interface SearchApi {
  createStudy: typeof StudyModule.createStudy;
  TpeSampler: typeof Tpe.TpeSampler;
  RandomSampler: typeof Random.RandomSampler;
  GpSampler: typeof Gp.GpSampler;
  GridSampler: typeof Grid.GridSampler;
  MedianPruner: typeof Median.MedianPruner;
  SuccessiveHalvingPruner: typeof Halving.SuccessiveHalvingPruner;
  HyperbandPruner: typeof Hyperband.HyperbandPruner;
  NopPruner: typeof PrunerBase.NopPruner;
  JournalFileStorage: typeof Journal.JournalFileStorage;
  TrialPruned: typeof TrialModule.TrialPruned;
  sampleSpace: typeof Space.sampleSpace;
  parseSpace: typeof Space.parseSpace;
}

export interface PipelineApi {
  runPipeline: typeof PipelineModule.runPipeline;
  savePipeline: typeof PipelineSave.savePipeline;
  pipelineJson: typeof PipelineSave.pipelineJson;
  SEARCH_OBJECTIVES: typeof SearchModel.SEARCH_OBJECTIVES;
  STAGE_NAMES: typeof PipelineTypes.STAGE_NAMES;
  parseSpace: typeof Space.parseSpace;
}

const SEARCH_NAMES: readonly (keyof SearchApi)[] = ['createStudy', 'TpeSampler', 'RandomSampler', 'GpSampler', 'GridSampler', 'MedianPruner', 'SuccessiveHalvingPruner', 'HyperbandPruner', 'NopPruner', 'JournalFileStorage', 'TrialPruned', 'sampleSpace', 'parseSpace'];

const PIPELINE_NAMES: readonly (keyof PipelineApi)[] = ['runPipeline', 'savePipeline', 'pipelineJson', 'SEARCH_OBJECTIVES', 'STAGE_NAMES', 'parseSpace'];

// All of a group or nothing: a command never runs half-wired.
function lookup<T>(names: readonly (keyof T)[]): T | undefined {
  const index = kiln as unknown as Partial<T>;
  return names.every((n) => index[n] !== undefined) ? (index as T) : undefined;
}

/** The trial-search API when src/index.ts exports all of it, else undefined. */
export const searchApi: SearchApi | undefined = lookup<SearchApi>(SEARCH_NAMES);

/** The pipeline API when src/index.ts exports all of it, else undefined. */
export const pipelineApi: PipelineApi | undefined = lookup<PipelineApi>(PIPELINE_NAMES);
