// How much each weight (of a dense or conv2d layer) or hidden neuron matters, higher meaning keep. From the weights alone:
// magnitude (L1 |w|, L2 w²; per neuron the norms of its incoming weights). Measured on data:
// first-order Taylor |w·∂L/∂w| summed over the batches (Molchanov et al., CVPR 2019), and per
// neuron the mean |activation| or 1 − APoZ, the average percentage of zeros after the
// activation (Hu et al. 2016, arXiv:1607.03250).
import { checkInteger, checkKnownKeys } from '../../core/errors.ts';
import { Tensor, scope } from '../../core/tensor.ts';
import { accumulateActivationStats } from '../../core/ops/sparse.ts';
import { Dataset } from '../../data/dataset.ts';
import type { Sequential } from '../../nn/sequential.ts';
import { checkDataFits } from '../../train/fit.ts';
import { absGradientProducts, visitLayerOutputs } from '../../train/gradients.ts';

/** How a single weight's importance is scored. */
export type WeightCriterion = 'l1' | 'l2' | 'taylor';
/** How a hidden unit's importance is scored. */
export type NeuronCriterion = 'l1' | 'l2' | 'taylor' | 'activation' | 'apoz';
/** Every `WeightCriterion`. */
export const WEIGHT_CRITERIA: readonly WeightCriterion[] = ['l1', 'l2', 'taylor'];
/** Every `NeuronCriterion`. */
export const NEURON_CRITERIA: readonly NeuronCriterion[] = ['l1', 'l2', 'taylor', 'activation', 'apoz'];
const NEEDS_DATA = ['taylor', 'activation', 'apoz'];

/** The criterion, and the data the data-driven criteria are measured on. */
export interface ImportanceOptions<C> {
  criterion?: C;
  /** Data the taylor, activation and apoz criteria are measured on. */
  data?: Dataset;
  /** Rows per batch of the measurement (default 64). */
  batchSize?: number;
}

/** Checks the options and the data a criterion needs; returns the criterion. */
export function checkCriterion<C extends string>(
  where: string,
  criteria: readonly C[],
  options: ImportanceOptions<C>,
  fallback: C,
  model: Sequential,
): C {
  const criterion = options.criterion ?? fallback;
  if (!criteria.includes(criterion))
    throw new TypeError(`${where}: criterion must be one of ${criteria.join(', ')}, got ${String(criterion)}`);
  if (NEEDS_DATA.includes(criterion)) {
    if (!(options.data instanceof Dataset))
      throw new TypeError(`${where}: criterion '${criterion}' is measured on data; pass data: a Dataset`);
    checkDataFits(where, model, options.data);
  }
  if (options.batchSize !== undefined) checkInteger(where, 'batchSize', options.batchSize, 1, 1 << 24);
  return criterion;
}

/** One score per weight of every dense and conv2d layer, in layer order (row-major, as the
 *  weight: [units, inputs], [filters, channels/groups, kh, kw]). The 'taylor' scores come from
 *  gradients with dropout active, as in training.
 *  @example const [first] = weightScores(model, { criterion: 'taylor', data: train }); */
export function weightScores(model: Sequential, options: ImportanceOptions<WeightCriterion> = {}): Float32Array[] {
  checkKnownKeys('weightScores', options, ['criterion', 'data', 'batchSize']);
  const criterion = checkCriterion('weightScores', WEIGHT_CRITERIA, options, 'l1', model);
  const source = criterion === 'taylor' ? absGradientProducts(model, options.data!, options.batchSize ?? 64) : model.parameterVector();
  return model.weightSlots().map(({ offset, size }) => {
    const w = source.slice(offset, offset + size);
    if (criterion === 'l1') for (let i = 0; i < w.length; i++) w[i] = Math.abs(w[i]!);
    else if (criterion === 'l2') for (let i = 0; i < w.length; i++) w[i] = w[i]! * w[i]!;
    return w;
  });
}

/** One score per unit of every hidden dense layer (all but the output layer). 'l1' and 'l2' are
 *  the norms of the unit's incoming weights, 'taylor' sums |w·∂L/∂w| over them and the bias.
 *  @example const scores = neuronScores(model, { criterion: 'apoz', data: train }); */
export function neuronScores(model: Sequential, options: ImportanceOptions<NeuronCriterion> = {}): Float32Array[] {
  checkKnownKeys('neuronScores', options, ['criterion', 'data', 'batchSize']);
  const criterion = checkCriterion('neuronScores', NEURON_CRITERIA, options, 'l1', model);
  const hidden = model.denseLayers().slice(0, -1);
  if (criterion === 'activation' || criterion === 'apoz')
    return activationScores(model, options.data!, options.batchSize ?? 256, criterion);
  const source = criterion === 'taylor' ? absGradientProducts(model, options.data!, options.batchSize ?? 64) : model.parameterVector();
  return hidden.map(({ weightOffset: weight, biasOffset: bias, units, inputs }) =>
    Float32Array.from({ length: units }, (_, u) => {
      let s = 0;
      for (let i = weight + u * inputs; i < weight + (u + 1) * inputs; i++)
        s += criterion === 'l2' ? source[i]! * source[i]! : Math.abs(source[i]!);
      if (criterion === 'taylor') s += source[bias + u]!;
      return criterion === 'l2' ? Math.sqrt(s) : s;
    }),
  );
}

// Mean |activation| or 1 − APoZ of every hidden dense unit over the data, at inference (no dropout).
function activationScores(model: Sequential, data: Dataset, chunk: number, criterion: 'activation' | 'apoz'): Float32Array[] {
  const n = data.numRows;
  const hidden = model.denseLayers().slice(0, -1);
  return scope(() => {
    const stats = new Map(hidden.map(({ layer, units }) => [layer, { abs: Tensor.zeros([units]), zeros: Tensor.zeros([units]) }]));
    visitLayerOutputs(model, data, chunk, (layer, y) => {
      const s = stats.get(layer);
      if (s) accumulateActivationStats(s.abs, s.zeros, y);
    });
    return [...stats.values()].map(({ abs, zeros }) => {
      const a = abs.read(),
        z = zeros.read();
      return Float32Array.from(a, (v, u) => (criterion === 'activation' ? v / n : 1 - z[u]! / n));
    });
  });
}
