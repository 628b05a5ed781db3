// What `kiln search` searches: a JSON search space (the library's format) whose parameter names
// are training settings, and how one trial's sampled values combine with the fixed flags.
import { readFile } from 'node:fs/promises';
import type { ParamValue } from '../search/distributions.ts';
import type { parseSpace as ParseSpace, SpaceSpec } from '../search/space.ts';
import type { Activation } from '../index.ts';
import type { ArchitectureFlags } from './architecture-flags.ts';
import { CliError } from './errors.ts';
import type { TrainingFlags } from './training-flags.ts';

/** The names a space may use, each the JSON twin of a flag. */
export const SPACE_NAMES: Readonly<Record<string, string>> = {
  lr: '--lr',
  optimizer: '--optimizer',
  momentum: '--momentum',
  nesterov: '--nesterov',
  weight_decay: '--weight-decay',
  clip_norm: '--clip-norm',
  batch_size: '--batch-size',
  epochs: '--epochs',
  dropout: '--dropout',
  activation: '--activation',
  layers: 'the number of hidden layers',
  units: 'the width of every hidden layer',
  'units_{i}': 'the width of hidden layer i (with "for": "layers")',
  label_smoothing: '--label-smoothing',
};

/** Searched when no --space is given: learning rate and the shape of the network. */
export const DEFAULT_SPACE: SpaceSpec = {
  lr: { float: [1e-4, 1e-1], log: true },
  layers: { int: [1, 3] },
  'units_{i}': { int: [8, 256], log: true, for: 'layers' },
  activation: { categorical: ['relu', 'tanh', 'gelu'] },
  dropout: { float: [0, 0.5], step: 0.05 },
  batch_size: { categorical: [16, 32, 64, 128] },
};

/** Reads and checks a --space file; every name must be one of SPACE_NAMES. */
export async function readSpace(path: string | undefined, parseSpace: typeof ParseSpace): Promise<SpaceSpec> {
  if (path === undefined) return DEFAULT_SPACE;
  const text = await readFile(path, 'utf8');
  let space: SpaceSpec;
  try {
    space = parseSpace(JSON.parse(text));
  } catch (error) {
    throw new CliError(`${path}: ${(error as Error).message}`);
  }
  for (const name of Object.keys(space)) {
    if (!(name in SPACE_NAMES)) throw new CliError(`${path}: unknown parameter '${name}'; a search space may set ${Object.keys(SPACE_NAMES).join(', ')}`);
  }
  return space;
}

export interface TrialSettings extends TrainingFlags, ArchitectureFlags {
  labelSmoothing?: number;
}

/** The flags with one trial's sampled values put in place. */
export function trialSettings(params: Readonly<Record<string, ParamValue>>, flags: TrialSettings): TrialSettings {
  // Values were drawn from the space's distributions; the library checks their kinds when the
  // model and optimizer are built.
  const pick = <T>(name: string, fallback: T): T => (name in params ? (params[name] as T) : fallback);
  let layers = flags.layers;
  if ('layers' in params) {
    const fallback = pick('units', flags.layers[0] ?? 64);
    layers = Array.from({ length: params.layers as number }, (_, i) => pick(`units_${i}`, fallback));
  } else if ('units' in params) {
    const units = params.units as number;
    layers = (flags.layers.length ? flags.layers : [units]).map(() => units);
  }
  return {
    ...flags,
    layers,
    lr: pick('lr', flags.lr),
    optimizer: pick('optimizer', flags.optimizer),
    momentum: pick('momentum', flags.momentum),
    nesterov: pick('nesterov', flags.nesterov),
    weightDecay: pick('weight_decay', flags.weightDecay),
    clipNorm: pick('clip_norm', flags.clipNorm),
    batchSize: pick('batch_size', flags.batchSize),
    epochs: pick('epochs', flags.epochs),
    dropout: pick('dropout', flags.dropout),
    activation: pick<Activation>('activation', flags.activation),
    labelSmoothing: pick('label_smoothing', flags.labelSmoothing),
  };
}
