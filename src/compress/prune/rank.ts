// Choosing what to prune: the k lowest scores with a fixed tie rule, and the shared checks.
import { checkNumber } from '../../core/errors.ts';
import { Sequential } from '../../nn/sequential.ts';
import { roundHalfEven } from '../quant/qparams.ts';

/**
 * Indices of the `k` lowest scores, in pruning order. Ties go to the lower index first, so the
 * choice never depends on the sort's internals; -Infinity (already pruned) comes first.
 *
 * @example
 * lowestScores(Float32Array.of(3, 1, 1, 2), 2); // Int32Array [1, 2]
 */
export function lowestScores(scores: ArrayLike<number>, k: number): Int32Array {
  const order = Int32Array.from({ length: scores.length }, (_, i) => i);
  // A NaN difference (-Infinity against itself) falls through to the index, as a tie should.
  order.sort((a, b) => scores[a]! - scores[b]! || a - b);
  return order.subarray(0, Math.max(0, Math.min(k, scores.length)));
}

/** The number pruned at `sparsity` (a fraction of all n weights or units, pruned or not) out of
 *  `n`: the nearest integer, halves to even, as PyTorch's prune (Python's round) counts. */
export const prunedCount = (sparsity: number, n: number): number => roundHalfEven(sparsity * n);

export function checkSparsity(where: string, value: unknown): number {
  const s = checkNumber(where, 'sparsity', value, 0, 1);
  if (s >= 1) throw new RangeError(`${where}: sparsity must be in [0, 1) (1 would remove everything), got ${s}`);
  return s;
}

export function checkModel(where: string, model: unknown): Sequential {
  if (!(model instanceof Sequential))
    throw new TypeError(
      `${where}: model must be a Sequential, got ${model === null ? 'null' : typeof model === 'object' ? ((model as object).constructor?.name ?? 'object') : typeof model}`,
    );
  return model;
}

/** 'layer': each layer reaches the sparsity; 'global': one ranking across all layers. */
export type PruneScope = 'layer' | 'global';

export function checkScope(where: string, scope: unknown): PruneScope {
  if (scope !== 'layer' && scope !== 'global') throw new TypeError(`${where}: scope must be 'layer' or 'global', got ${String(scope)}`);
  return scope;
}

/** Each dense layer's place in the parameter vector: weight [units, inputs] and bias offsets. */
export function denseSlots(model: Sequential): { layer: number; units: number; inputs: number; weight: number; bias: number }[] {
  return model.denseLayers().map((d) => ({ layer: d.layer, units: d.units, inputs: d.inputs, weight: d.weightOffset, bias: d.biasOffset }));
}
