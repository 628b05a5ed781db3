// Unstructured pruning: individual weights set to exactly zero and held there by the engine's
// mask, which every optimizer update re-applies (momentum and Adam moments cannot revive them).
// Dense and conv2d weights are pruned alike; biases and batch-norm parameters never are.
import { checkKnownKeys } from '../../core/errors.ts';
import type { Sequential } from '../../nn/sequential.ts';
import { weightScores, type ImportanceOptions, type WeightCriterion } from './importance.ts';
import { checkModel, checkScope, checkSparsity, lowestScores, prunedCount, type PruneScope } from './rank.ts';

/** Options of `pruneWeights`: target sparsity, scope and importance criterion. */
export interface PruneWeightsOptions extends ImportanceOptions<WeightCriterion> {
  /** Fraction of weights at zero afterwards, in [0, 1). */
  sparsity: number;
  /** 'layer': each dense or conv2d layer reaches the sparsity; 'global': the weights of all layers are
   *  ranked together, so layers with many small weights lose more. Default 'layer'. */
  scope?: PruneScope;
}

/** Zeroed and total weights of one dense or conv2d layer, as `layerSparsity` reports them. */
export interface LayerSparsity {
  /** Index of the layer in the model's layers. */
  layer: number;
  /** Kind of the layer: unstructured pruning covers dense and conv2d weights. */
  type: 'dense' | 'conv2d';
  weights: number;
  /** Weights held at zero by the mask. */
  pruned: number;
}

/** The mask as bytes (1 keep, 0 pruned) over every parameter; all ones when there is none. */
export function maskBytes(model: Sequential): Uint8Array {
  return model.pruningMask ?? new Uint8Array(model.parameterCount).fill(1);
}

/** Installs a mask (one byte per parameter) and zeroes the pruned weights. */
export function setMask(model: Sequential, mask: Uint8Array): void {
  model.setPruningMask(mask);
}

/** Pruned weights per dense and conv2d layer, from the mask. */
export function layerSparsity(model: Sequential): LayerSparsity[] {
  const mask = maskBytes(model);
  return model.weightSlots().map(({ layer, type, offset, size }) => {
    let pruned = 0;
    for (let i = offset; i < offset + size; i++) if (mask[i] === 0) pruned++;
    return { layer, type, weights: size, pruned };
  });
}

/**
 * Zeroes the least important weights in place and masks them for later training. Counts are
 * exact: round(sparsity·n) weights per layer ('layer') or of all weights ('global'), ranked by
 * ascending score with ties to the lower index (row-major within a layer, layers in order).
 * The weights are those of every dense and conv2d layer (a conv filter's taps one by one).
 * Weights already masked rank first and stay pruned, so repeated calls only add zeros.
 *
 * @example
 * pruneWeights(model, { sparsity: 0.9, scope: 'global' });
 * await fit(model, train, { epochs: 2, standardize: false }); // pruned weights stay 0
 */
export function pruneWeights(model: Sequential, options: PruneWeightsOptions): LayerSparsity[] {
  const where = 'pruneWeights';
  checkModel(where, model);
  checkKnownKeys(where, options, ['sparsity', 'scope', 'criterion', 'data', 'batchSize']);
  const sparsity = checkSparsity(where, options?.sparsity);
  const scope = checkScope(where, options.scope ?? 'layer');
  const scores = weightScores(model, { criterion: options.criterion, data: options.data, batchSize: options.batchSize });
  const offsets = model.weightSlots();
  const mask = maskBytes(model);
  offsets.forEach(({ offset: weight }, l) => {
    const s = scores[l]!;
    for (let i = 0; i < s.length; i++) if (mask[weight + i] === 0) s[i] = -Infinity;
  });
  if (scope === 'layer') {
    offsets.forEach(({ offset: weight }, l) => {
      for (const i of lowestScores(scores[l]!, prunedCount(sparsity, scores[l]!.length))) mask[weight + i] = 0;
    });
  } else {
    const all = new Float32Array(scores.reduce((n, s) => n + s.length, 0));
    const start: number[] = [];
    scores.reduce((at, s) => (start.push(at), all.set(s, at), at + s.length), 0);
    for (const g of lowestScores(all, prunedCount(sparsity, all.length))) {
      let l = offsets.length - 1;
      while (start[l]! > g) l--;
      mask[offsets[l]!.offset + g - start[l]!] = 0;
    }
  }
  setMask(model, mask);
  return layerSparsity(model);
}
