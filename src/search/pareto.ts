// Pareto dominance over objective vectors, all turned into minimisation first.
import { directionSign, isFeasible, type Direction, type FrozenTrial } from './trial-record.ts';

/** a dominates b: no worse in every objective and better in at least one (minimising). */
export function dominates(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  let better = false;
  for (let m = 0; m < a.length; m++) {
    if (a[m]! > b[m]!) return false;
    if (a[m]! < b[m]!) better = true;
  }
  return better;
}

/** Non-domination rank of each point (0 for the Pareto front, 1 for the front once 0 is
 *  removed, …), by Deb's fast non-dominated sort; O(M·N²). */
export function nonDominatedRanks(points: readonly ArrayLike<number>[]): Int32Array {
  const n = points.length;
  const ranks = new Int32Array(n);
  const dominatedBy = new Int32Array(n);
  const dominating: number[][] = points.map(() => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (dominates(points[i]!, points[j]!)) {
        dominating[i]!.push(j);
        dominatedBy[j]!++;
      } else if (dominates(points[j]!, points[i]!)) {
        dominating[j]!.push(i);
        dominatedBy[i]!++;
      }
    }
  }
  let front: number[] = [];
  for (let i = 0; i < n; i++) if (dominatedBy[i] === 0) front.push(i);
  for (let rank = 0; front.length > 0; rank++) {
    const next: number[] = [];
    for (const i of front) {
      ranks[i] = rank;
      for (const j of dominating[i]!) if (--dominatedBy[j]! === 0) next.push(j);
    }
    front = next;
  }
  return ranks;
}

/** NSGA-II crowding distance within one front: boundary points get Infinity. */
export function crowdingDistance(points: readonly ArrayLike<number>[]): Float64Array {
  const n = points.length;
  const dist = new Float64Array(n);
  if (n === 0) return dist;
  const objectives = points[0]!.length;
  for (let m = 0; m < objectives; m++) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => points[a]![m]! - points[b]![m]! || a - b);
    const lo = points[order[0]!]![m]!;
    const hi = points[order[n - 1]!]![m]!;
    dist[order[0]!] = Infinity;
    dist[order[n - 1]!] = Infinity;
    if (hi === lo) continue;
    for (let k = 1; k < n - 1; k++) dist[order[k]!]! += (points[order[k + 1]!]![m]! - points[order[k - 1]!]![m]!) / (hi - lo);
  }
  return dist;
}

/** A trial's values turned into minimisation. */
export const minimizedValues = (t: FrozenTrial, directions: readonly Direction[]): number[] =>
  t.values!.map((v, m) => v * directionSign(directions[m]!));

/** The complete, feasible trials no other complete, feasible trial dominates, in number order.
 *  Trials with equal values are all kept. */
export function paretoFront(trials: readonly FrozenTrial[], directions: readonly Direction[]): FrozenTrial[] {
  const done = trials.filter((t) => t.state === 'complete' && isFeasible(t));
  const ranks = nonDominatedRanks(done.map((t) => minimizedValues(t, directions)));
  return done.filter((_, i) => ranks[i] === 0);
}
