// Samplers and objectives shared by the sampler contract suite and the child process it spawns
// to check that a fresh process samples the same trials.
import { createStudy } from '../../src/search/study.ts';
import type { Sampler } from '../../src/search/samplers/sampler.ts';
import { RandomSampler } from '../../src/search/samplers/random.ts';
import { GridSampler } from '../../src/search/samplers/grid.ts';
import { TpeSampler } from '../../src/search/samplers/tpe.ts';
import { GpSampler } from '../../src/search/samplers/gp/gp.ts';
import type { Trial } from '../../src/search/trial.ts';
import type { ParamValue } from '../../src/search/distributions.ts';

export const KINDS = ['a', 'b', 'c'] as const;
export const GRID = { kind: ['a', 'b', 'c'], units: [16, 64, 128], lr: [0.001, 0.01] };

export const SAMPLERS: Record<string, { make: (seed: number) => Sampler; trials: number; grid?: boolean }> = {
  random: { make: (seed) => new RandomSampler({ seed }), trials: 25 },
  tpe: { make: (seed) => new TpeSampler({ seed, nStartupTrials: 5 }), trials: 25 },
  'tpe-multivariate': { make: (seed) => new TpeSampler({ seed, nStartupTrials: 5, multivariate: true }), trials: 25 },
  'tpe-liar': { make: (seed) => new TpeSampler({ seed, nStartupTrials: 5, constantLiar: true }), trials: 25 },
  gp: { make: (seed) => new GpSampler({ seed, nStartupTrials: 5, nPreliminarySamples: 128, nLocalSearch: 3 }), trials: 14 },
  grid: { make: (seed) => new GridSampler({ space: GRID, shuffle: seed !== 0, seed }), trials: 18, grid: true },
};

/** A mixed space: log float, stepped int, log int, stepped float, categorical, and a parameter
 *  that exists only when kind is 'b'. */
export function mixedObjective(trial: Trial): number {
  const kind = trial.suggestCategorical('kind', KINDS);
  const lr = trial.suggestFloat('lr', 1e-4, 1e-1, { log: true });
  const units = trial.suggestInt('units', 8, 128, { step: 8 });
  const layers = trial.suggestInt('layers', 1, 64, { log: true });
  const drop = trial.suggestFloat('drop', 0, 0.5, { step: 0.05 });
  const momentum = kind === 'b' ? trial.suggestFloat('momentum', 0.5, 0.99) : 0.9;
  return (
    (Math.log10(lr) + 2.5) ** 2 +
    Math.abs(units - 64) / 64 +
    Math.abs(Math.log2(layers) - 3) / 3 +
    (drop - 0.2) ** 2 +
    (kind === 'b' ? (momentum - 0.9) ** 2 : 0.5)
  );
}

export function gridObjective(trial: Trial): number {
  const kind = trial.suggestCategorical('kind', GRID.kind);
  const units = trial.suggestInt('units', 16, 128);
  const lr = trial.suggestFloat('lr', 0.001, 0.01, { log: true });
  return units / 128 + (kind === 'b' ? 0 : 1) + lr;
}

/** Runs `name` with `seed` and returns every trial's parameters and value. */
export async function runContract(name: string, seed: number): Promise<{ params: Record<string, ParamValue>; value: number | null }[]> {
  const spec = SAMPLERS[name]!;
  const study = await createStudy({ sampler: spec.make(seed), seed });
  await study.optimize(spec.grid ? gridObjective : mixedObjective, { trials: spec.trials });
  return study.trials.map((t) => ({ params: { ...t.params }, value: t.values?.[0] ?? null }));
}
