// Batch-norm folding for inference: a batchNorm right after a conv2d or dense layer with a linear
// activation is an affine map per output channel, so it folds into that layer's weights and bias
// and the layer takes over the batch norm's activation. The folded model computes the same
// function with one pass fewer (up to f32 rounding: the scale is applied to the weights instead of
// the outputs).
import type { LayerConfig } from '../nn/layers/index.ts';
import { Sequential } from '../nn/sequential.ts';

/** A copy of `model` in which every batchNorm that follows a conv2d or dense layer with a linear
 *  activation is folded into it: w′ = w·s, b′ = (b − μ)·s + β per output channel with
 *  s = γ/√(σ² + eps) from the running statistics. Other batch norms stay as they are. The model
 *  must not be pruned yet (fold first, then prune).
 *  @example const fast = foldBatchNorm(trained); // same predictions, no batchNorm layers */
export function foldBatchNorm(model: Sequential): Sequential {
  if (model.pruningMask) throw new RangeError('foldBatchNorm: the model has a pruning mask; fold batch norms before pruning');
  const values = new Map(model.parameters().map((p) => [p.name, p.data]));
  const get = (i: number, slot: string) => values.get(`layers.${i}.${slot}`)!;
  const layers: LayerConfig[] = [];
  const params: Record<string, Float32Array> = {};
  const configs = model.layers;
  for (let i = 0; i < configs.length; i++) {
    const config = configs[i]!;
    const next = configs[i + 1];
    const at = layers.length;
    const foldable = (config.type === 'conv2d' || config.type === 'dense') && config.activation === 'linear' && next?.type === 'batchNorm';
    for (const p of model.engine.locations.filter((l) => l.layer === i)) params[`layers.${at}.${p.name}`] = get(i, p.name);
    if (!foldable) {
      layers.push(config);
      continue;
    }
    const { activation = 'linear', alpha, eps = 1e-5 } = next;
    layers.push({ ...config, activation, ...(alpha !== undefined ? { alpha } : {}) } as LayerConfig);
    const w = Float32Array.from(get(i, 'weight')),
      b = Float32Array.from(get(i, 'bias'));
    const gamma = get(i + 1, 'weight'),
      beta = get(i + 1, 'bias'),
      mean = get(i + 1, 'running_mean'),
      variance = get(i + 1, 'running_var');
    const per = w.length / b.length;
    for (let o = 0; o < b.length; o++) {
      const s = gamma[o]! / Math.sqrt(variance[o]! + eps);
      for (let k = o * per; k < (o + 1) * per; k++) w[k] = w[k]! * s;
      b[o] = (b[o]! - mean[o]!) * s + beta[o]!;
    }
    params[`layers.${at}.weight`] = w;
    params[`layers.${at}.bias`] = b;
    i++;
  }
  const { inputs, task, seed } = model.toConfig();
  const folded = new Sequential({ inputs, layers, task, seed, preprocessing: model.preprocessing });
  folded.setParameters(params);
  return folded;
}
