// The sampler and pruner a model search uses, by name or as given. One place holds the defaults:
// TPE after a few random trials, and Hyperband over the trial's epochs.
import type { ParamValue } from '../search/distributions.ts';
import { HyperbandPruner } from '../search/pruners/hyperband.ts';
import { MedianPruner } from '../search/pruners/median.ts';
import { NopPruner, type Pruner } from '../search/pruners/pruner.ts';
import { SuccessiveHalvingPruner } from '../search/pruners/successive-halving.ts';
import { GpSampler } from '../search/samplers/gp/gp.ts';
import { GridSampler } from '../search/samplers/grid.ts';
import { RandomSampler } from '../search/samplers/random.ts';
import type { Sampler } from '../search/samplers/sampler.ts';
import { TpeSampler } from '../search/samplers/tpe.ts';
import type { SpaceSpec } from '../search/space.ts';

/** Samplers the model search builds by name. */
export const SAMPLER_NAMES = ['tpe', 'random', 'gp', 'grid'] as const;
/** A sampler `searchModel` builds by name. */
export type SamplerName = (typeof SAMPLER_NAMES)[number];
/** Pruners the model search builds by name. */
export const PRUNER_NAMES = ['hyperband', 'median', 'successive-halving', 'none'] as const;
/** A pruner `searchModel` builds by name. */
export type PrunerName = (typeof PRUNER_NAMES)[number];

/** The default sampler: TPE. The default pruner: Hyperband (see src/model-search/README.md). */
export const DEFAULT_SAMPLER: SamplerName = 'tpe';
export const DEFAULT_PRUNER: PrunerName = 'hyperband';

/** The sampler a name stands for. TPE starts after max(3, min(10, ⌊trials/3⌋)) random trials, so
 *  small budgets still get guided trials; grid takes every combination of a categorical space. */
export function samplerOf(sampler: Sampler | SamplerName, space: SpaceSpec, seed: number, trials: number): Sampler {
  if (typeof sampler !== 'string') return sampler;
  switch (sampler) {
    case 'tpe':
      return new TpeSampler({ seed, nStartupTrials: Math.max(3, Math.min(10, Math.floor(trials / 3))) });
    case 'random':
      return new RandomSampler({ seed });
    case 'gp':
      return new GpSampler({ seed });
    case 'grid':
      return new GridSampler({ space: gridOfSpace(space), seed });
    default:
      throw new TypeError(`searchModel: sampler must be a Sampler or one of ${SAMPLER_NAMES.join(', ')}, got ${JSON.stringify(sampler)}`);
  }
}

/** The pruner a name stands for; `epochs` is the resource of a trial that runs to the end. */
export function prunerOf(pruner: Pruner | PrunerName, epochs: number): Pruner {
  if (typeof pruner !== 'string') return pruner;
  switch (pruner) {
    case 'hyperband':
      return new HyperbandPruner({ minResource: 1, maxResource: epochs, reductionFactor: 3 });
    case 'median':
      return new MedianPruner();
    case 'successive-halving':
      return new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 3 });
    case 'none':
      return new NopPruner();
    default:
      throw new TypeError(`searchModel: pruner must be a Pruner or one of ${PRUNER_NAMES.join(', ')}, got ${JSON.stringify(pruner)}`);
  }
}

/** The grid of a space of plain categorical parameters (what the 'grid' sampler walks).
 *  @example gridOfSpace({ lr: { categorical: [0.01, 0.1] } }); // { lr: [0.01, 0.1] } */
export function gridOfSpace(space: SpaceSpec): Record<string, ParamValue[]> {
  const grid: Record<string, ParamValue[]> = {};
  for (const [param, spec] of Object.entries(space)) {
    if (!('categorical' in spec) || spec.if !== undefined || spec.for !== undefined)
      throw new RangeError(`grid sampler needs a space of plain categorical parameters; '${param}' is not one`);
    grid[param] = spec.categorical;
  }
  return grid;
}
