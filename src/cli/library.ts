// The parts of the library that the search and pipeline commands take as a unit. The command line
// reaches kiln only through src/index.ts: dist/cli.mjs imports the library from ./kiln.mjs, and a
// second copy of the core would not share its memory.
import * as kiln from '../index.ts';

export type SearchApi = Pick<
  typeof kiln,
  | 'searchModel'
  | 'planModelSearch'
  | 'createStudy'
  | 'openStorage'
  | 'serveStudies'
  | 'summarizeStudy'
  | 'toOptunaJournal'
  | 'fromOptunaJournal'
  | 'parseMlpSpace'
  | 'SEARCH_OBJECTIVES'
  | 'SAMPLER_NAMES'
  | 'PRUNER_NAMES'
  | 'MLP_SPACE_NAMES'
  | 'MLP_SPACE'
  | 'defaultSpace'
  | 'gridOfSpace'
>;
export type PipelineApi = Pick<
  typeof kiln,
  'runPipeline' | 'savePipeline' | 'pipelineJson' | 'SEARCH_OBJECTIVES' | 'STAGE_NAMES' | 'parseMlpSpace'
>;

export const searchApi: SearchApi = kiln;
export const pipelineApi: PipelineApi = kiln;
