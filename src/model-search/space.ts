// What the model search searches and scores: the default space over MLP and training settings,
// the names a space may use, and the objectives a trial can be scored on.
import { parseSpace, type SpaceSpec } from '../search/space.ts';
import type { Direction } from '../search/trial-record.ts';

/** What a trial can be scored on: validation accuracy or loss, or the model's size. */
export type SearchObjective = 'accuracy' | 'loss' | 'parameters' | 'bytes';
/** Every `SearchObjective`. */
export const SEARCH_OBJECTIVES: readonly SearchObjective[] = ['accuracy', 'loss', 'parameters', 'bytes'];
/** The direction each objective is optimised in. */
export const OBJECTIVE_DIRECTION: Readonly<Record<SearchObjective, Direction>> = {
  accuracy: 'maximize',
  loss: 'minimize',
  parameters: 'minimize',
  bytes: 'minimize',
};

/** Names a search space may use, each a setting of the MLP or of its training (the JSON twin of
 *  a `kiln search` flag: `lr` is `--lr`, `batch_size` is `--batch-size`, …). */
export const MLP_SPACE_NAMES = [
  'lr',
  'optimizer',
  'momentum',
  'nesterov',
  'weight_decay',
  'clip_norm',
  'batch_size',
  'epochs',
  'dropout',
  'activation',
  'layers',
  'units',
  'units_{i}',
  'label_smoothing',
  'conv_blocks',
  'filters',
  'filters_{i}',
  'kernel_size',
  'pooling',
  'batch_norm',
] as const;

/** Searched by default: learning rate, depth, widths, activation, dropout and batch size. */
export const MLP_SPACE: SpaceSpec = {
  lr: { float: [3e-4, 3e-2], log: true },
  layers: { int: [1, 2] },
  'units_{i}': { int: [16, 256], log: true, for: 'layers' },
  activation: { categorical: ['relu', 'gelu', 'tanh'] },
  dropout: { float: [0, 0.3], step: 0.05 },
  batch_size: { categorical: [32, 64, 128] },
};

/** Searched by default on image rows ([channels, height, width]): 1 to 3 convolution blocks of
 *  8 to 64 filters each, kernel size, pooling, batch norm, the dense head's width, dropout and
 *  learning rate. */
export const CONV_SPACE: SpaceSpec = {
  lr: { float: [3e-4, 1e-2], log: true },
  conv_blocks: { int: [1, 3] },
  'filters_{i}': { int: [8, 64], log: true, for: 'conv_blocks' },
  kernel_size: { categorical: [3, 5] },
  pooling: { categorical: ['max', 'avg'] },
  batch_norm: { categorical: [false, true] },
  units: { int: [32, 256], log: true },
  dropout: { float: [0, 0.3], step: 0.05 },
};

/** The default space for rows of `shape`: CONV_SPACE for images ([c, h, w]), else MLP_SPACE. */
export function defaultSpace(shape: readonly number[]): SpaceSpec {
  return shape.length === 3 ? CONV_SPACE : MLP_SPACE;
}

/**
 * Parses a JSON search space (see `parseSpace`) and checks that every name is an MLP setting.
 * Errors name the parameter; `where` prefixes them when given.
 *
 * @example
 * const space = parseMlpSpace(JSON.parse(await readFile('space.json', 'utf8')));
 */
export function parseMlpSpace(json: unknown, where?: string): SpaceSpec {
  const space = parseSpace(json);
  for (const name of Object.keys(space)) {
    if (!(MLP_SPACE_NAMES as readonly string[]).includes(name))
      throw new RangeError(`${where ? `${where}: ` : ''}unknown parameter '${name}'; a search space may set ${MLP_SPACE_NAMES.join(', ')}`);
  }
  return space;
}
