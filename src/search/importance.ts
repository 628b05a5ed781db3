// Parameter importances as Optuna's MeanDecreaseImpurityImportanceEvaluator computes them: fit a
// random forest of regression trees from parameters to objective value, and credit each
// parameter with the variance reduction of the splits on it (categoricals one-hot encoded, their
// columns summed). Chosen over fANOVA because it needs no functional ANOVA decomposition over
// the forest's leaves, and over permutation importance because it needs no held-out data; like
// any impurity measure it favours parameters with many distinct values, which the docs note.
// see: Breiman, "Random Forests", Machine Learning 45 (2001); Optuna's importance module
import { checkInteger, checkKnownKeys } from '../core/errors.ts';
import { contains, numericScale, toScale, type Distribution } from './distributions.ts';
import { withDraws, type Draws } from './random.ts';
import { intersectionSpace } from './search-space.ts';
import type { Direction, FrozenTrial } from './trial-record.ts';

/** Options of `parameterImportances`. */
export interface ImportanceOptions {
  /** Parameters to rate (default: those every complete trial shares). */
  params?: string[];
  /** Objective index for multi-objective studies (default 0). */
  objective?: number;
  /** Trees in the forest (default 64). */
  trees?: number;
  /** Maximum tree depth (default 64). */
  maxDepth?: number;
  seed?: number;
}

interface Column {
  readonly param: number;
  readonly x: Float64Array;
}

// Best variance-reducing threshold split of rows `idx` on column x: [gain, threshold].
function bestSplit(x: Float64Array, y: Float64Array, idx: Int32Array): [number, number] {
  const order = Array.from(idx).sort((a, b) => x[a]! - x[b]!);
  const n = order.length;
  let total = 0;
  let totalSq = 0;
  for (const i of order) {
    total += y[i]!;
    totalSq += y[i]! * y[i]!;
  }
  const parentSse = totalSq - (total * total) / n;
  let best = 0;
  let threshold = NaN;
  let left = 0;
  let leftSq = 0;
  for (let k = 0; k < n - 1; k++) {
    const v = y[order[k]!]!;
    left += v;
    leftSq += v * v;
    const xa = x[order[k]!]!;
    const xb = x[order[k + 1]!]!;
    if (xa === xb) continue;
    const nl = k + 1;
    const nr = n - nl;
    const right = total - left;
    const sse = leftSq - (left * left) / nl + (totalSq - leftSq) - (right * right) / nr;
    const gain = parentSse - sse;
    if (gain > best) {
      best = gain;
      threshold = 0.5 * (xa + xb);
    }
  }
  return [best, threshold];
}

// Grows one tree on the rows `idx`, adding each split's decrease in total squared error to its
// parameter's score.
function grow(columns: readonly Column[], y: Float64Array, idx: Int32Array, depth: number, maxDepth: number, score: Float64Array): void {
  if (idx.length < 2 || depth >= maxDepth) return;
  let bestGain = 0;
  let bestCol = -1;
  let bestThreshold = NaN;
  columns.forEach((c, j) => {
    const [gain, threshold] = bestSplit(c.x, y, idx);
    if (gain > bestGain * (1 + 1e-12)) {
      bestGain = gain;
      bestCol = j;
      bestThreshold = threshold;
    }
  });
  if (bestCol < 0 || !(bestGain > 0)) return;
  score[columns[bestCol]!.param]! += bestGain;
  const x = columns[bestCol]!.x;
  const left = idx.filter((i) => x[i]! <= bestThreshold);
  const right = idx.filter((i) => x[i]! > bestThreshold);
  grow(columns, y, left, depth + 1, maxDepth, score);
  grow(columns, y, right, depth + 1, maxDepth, score);
}

function bootstrap(draws: Draws, n: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = draws.int(n);
  return idx;
}

/**
 * Importance of each parameter for the objective, normalised to sum to 1, largest first.
 *
 * @example
 * const importances = study.importances(); // { lr: 0.71, units: 0.22, dropout: 0.07 }
 */
export function parameterImportances(
  trials: readonly FrozenTrial[],
  directions: readonly Direction[],
  options: ImportanceOptions = {},
): Record<string, number> {
  const where = 'importances';
  checkKnownKeys(where, options, ['params', 'objective', 'trees', 'maxDepth', 'seed']);
  const objective = checkInteger(where, 'objective', options.objective ?? 0, 0, directions.length - 1);
  const nTrees = checkInteger(where, 'trees', options.trees ?? 64, 1, 10000);
  const maxDepth = checkInteger(where, 'maxDepth', options.maxDepth ?? 64, 1, 1000);
  const seed = checkInteger(where, 'seed', options.seed ?? 0);
  const complete = trials.filter((t) => t.state === 'complete');
  const space = intersectionSpace(complete);
  const names = options.params ?? Object.keys(space);
  if (!Array.isArray(names) || names.length === 0)
    throw new RangeError(`${where}: no parameter to rate (the complete trials share none with more than one value)`);
  const dists: Distribution[] = names.map((n) => {
    const d = space[n] ?? complete.find((t) => Object.hasOwn(t.distributions, n))?.distributions[n];
    if (!d) throw new RangeError(`${where}: no complete trial has parameter '${n}'`);
    return d;
  });
  const rows = complete.filter(
    (t) => names.every((n, j) => Object.hasOwn(t.params, n) && contains(dists[j]!, t.params[n])) && Number.isFinite(t.values![objective]!),
  );
  if (rows.length < 2)
    throw new RangeError(`${where}: need at least 2 complete trials with all of ${names.join(', ')}, got ${rows.length}`);
  const y = Float64Array.from(rows, (t) => t.values![objective]!);
  const columns: Column[] = [];
  dists.forEach((d, j) => {
    const name = names[j]!;
    if (d.kind === 'categorical') {
      d.choices.forEach((c) => columns.push({ param: j, x: Float64Array.from(rows, (t) => (t.params[name] === c ? 1 : 0)) }));
    } else {
      const s = numericScale(d);
      columns.push({ param: j, x: Float64Array.from(rows, (t) => toScale(s, t.params[name] as number)) });
    }
  });
  const total = new Float64Array(names.length);
  withDraws(seed, 0, 'importance', (draws) => {
    for (let tree = 0; tree < nTrees; tree++) {
      const score = new Float64Array(names.length);
      grow(columns, y, bootstrap(draws, rows.length), 0, maxDepth, score);
      const sum = score.reduce((a, b) => a + b, 0);
      if (sum > 0) for (let j = 0; j < names.length; j++) total[j]! += score[j]! / sum;
    }
  });
  const sum = total.reduce((a, b) => a + b, 0);
  const order = names.map((_, j) => j).sort((a, b) => total[b]! - total[a]! || a - b);
  const out: Record<string, number> = {};
  for (const j of order) out[names[j]!] = sum > 0 ? total[j]! / sum : 1 / names.length;
  return out;
}
