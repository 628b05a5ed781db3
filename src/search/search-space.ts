// The parameters every finished trial shares, with the same distribution: the space that joint
// samplers (multivariate TPE, GP) model. Names come back sorted so the order never depends on the
// order an objective happened to suggest them in.
import { isSingle, sameDistribution, type Distribution } from './distributions.ts';
import type { FrozenTrial } from './trial-record.ts';

export type SearchSpace = Readonly<Record<string, Distribution>>;

export function intersectionSpace(trials: readonly FrozenTrial[], includePruned = false): SearchSpace {
  let space: Map<string, Distribution> | undefined;
  for (const t of trials) {
    if (!(t.state === 'complete' || (includePruned && t.state === 'pruned'))) continue;
    if (!space) {
      space = new Map(Object.entries(t.distributions));
      continue;
    }
    for (const [name, d] of space) {
      const other = Object.hasOwn(t.distributions, name) ? t.distributions[name] : undefined;
      if (!other || !sameDistribution(d, other)) space.delete(name);
    }
  }
  const out: Record<string, Distribution> = {};
  for (const name of [...(space?.keys() ?? [])].sort()) {
    const d = space!.get(name)!;
    if (!isSingle(d)) out[name] = d;
  }
  return out;
}
