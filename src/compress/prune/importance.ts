// How much each weight or hidden neuron matters, higher meaning keep. From the weights alone:
// magnitude (L1 |w|, L2 w²; per neuron the norms of its incoming weights). Measured on data:
// first-order Taylor |w·∂L/∂w| summed over the batches (Molchanov et al., CVPR 2019), and per
// neuron the mean |activation| or 1 − APoZ, the average percentage of zeros after the
// activation (Hu et al. 2016, arXiv:1607.03250).
import { checkInteger, checkKnownKeys } from '../../core/errors.ts';
import { Tensor, scope } from '../../core/tensor.ts';
import { ACTIVATIONS } from '../../core/activation.ts';
import { denseForward } from '../../core/ops/linalg.ts';
import { accumulateAbsProduct, accumulateActivationStats } from '../../core/ops/sparse.ts';
import type { LossSpec } from '../../core/mlp-engine.ts';
import { Dataset } from '../../data/dataset.ts';
import { LOSS_OF_TASK, type Sequential } from '../../nn/sequential.ts';
import { checkDataFits, deviceData } from '../../train/fit.ts';

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
export function checkCriterion<C extends string>(where: string, criteria: readonly C[], options: ImportanceOptions<C>, fallback: C, model: Sequential): C {
  const criterion = options.criterion ?? fallback;
  if (!criteria.includes(criterion)) throw new TypeError(`${where}: criterion must be one of ${criteria.join(', ')}, got ${String(criterion)}`);
  if (NEEDS_DATA.includes(criterion)) {
    if (!(options.data instanceof Dataset)) throw new TypeError(`${where}: criterion '${criterion}' is measured on data; pass data: a Dataset`);
    checkDataFits(where, model, options.data);
  }
  if (options.batchSize !== undefined) checkInteger(where, 'batchSize', options.batchSize, 1, 1 << 24);
  return criterion;
}

/** One score per weight of every dense layer ([units·inputs] row-major, as the weight). The
 *  'taylor' scores come from gradients with dropout active, as in training.
 *  @example const [first] = weightScores(model, { criterion: 'taylor', data: train }); */
export function weightScores(model: Sequential, options: ImportanceOptions<WeightCriterion> = {}): Float32Array[] {
  checkKnownKeys('weightScores', options, ['criterion', 'data', 'batchSize']);
  const criterion = checkCriterion('weightScores', WEIGHT_CRITERIA, options, 'l1', model);
  const engine = model.engine;
  const source = criterion === 'taylor' ? taylor(model, options.data!, options.batchSize ?? 64) : engine.params.read();
  return engine.denseOffsets().map(({ weight, units, inputs }) => {
    const w = source.slice(weight, weight + units * inputs);
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
  const hidden = model.engine.denseOffsets().slice(0, -1);
  if (criterion === 'activation' || criterion === 'apoz') return activationScores(model, options.data!, options.batchSize ?? 256, criterion);
  const source = criterion === 'taylor' ? taylor(model, options.data!, options.batchSize ?? 64) : model.engine.params.read();
  return hidden.map(({ weight, bias, units, inputs }) => Float32Array.from({ length: units }, (_, u) => {
    let s = 0;
    for (let i = weight + u * inputs; i < weight + (u + 1) * inputs; i++) s += criterion === 'l2' ? source[i]! * source[i]! : Math.abs(source[i]!);
    if (criterion === 'taylor') s += source[bias + u]!;
    return criterion === 'l2' ? Math.sqrt(s) : s;
  }));
}

// Σ over batches of |w·∂L/∂w| for every parameter, rows in data order.
function taylor(model: Sequential, data: Dataset, batchSize: number): Float32Array {
  const engine = model.engine;
  return scope(() => {
    const { x, targets } = deviceData(model, data);
    const n = data.numRows;
    const order = Tensor.from(Int32Array.from({ length: n }, (_, i) => i), [n], 'i32');
    const loss: LossSpec = { kind: LOSS_OF_TASK[model.task], smoothing: 0, classWeights: undefined };
    const acc = Tensor.zeros([engine.parameterCount]);
    for (let start = 0; start < n; start += batchSize) {
      engine.computeGradients(x, targets, order, start, Math.min(batchSize, n - start), loss);
      accumulateAbsProduct(acc, engine.params, engine.grads);
    }
    return acc.read();
  });
}

// Mean |activation| or 1 − APoZ of every hidden unit over the data, at inference (no dropout).
function activationScores(model: Sequential, data: Dataset, chunk: number, criterion: 'activation' | 'apoz'): Float32Array[] {
  const engine = model.engine;
  const n = data.numRows;
  const dense = engine.denseOffsets().slice(0, -1);
  return scope(() => {
    const { x } = deviceData(model, data);
    const stats = dense.map(({ units }) => ({ abs: Tensor.zeros([units]), zeros: Tensor.zeros([units]) }));
    for (let start = 0; start < n; start += chunk) {
      scope(() => {
        const rows = Math.min(chunk, n - start);
        let h = x.slice(start * engine.inputs, [rows, engine.inputs]);
        let d = 0;
        for (let i = 0; i < engine.layers.length - 1 && d < dense.length; i++) {
          const spec = engine.layers[i]!;
          if (spec.kind !== 'dense') continue;
          const { weight, bias } = engine.denseParams(i);
          h = denseForward(h, weight, { bias, activation: ACTIVATIONS[spec.act], alpha: spec.alpha });
          accumulateActivationStats(stats[d]!.abs, stats[d]!.zeros, h);
          d++;
        }
      });
    }
    return stats.map(({ abs, zeros }) => {
      const a = abs.read(), z = zeros.read();
      return Float32Array.from(a, (v, u) => (criterion === 'activation' ? v / n : 1 - z[u]! / n));
    });
  });
}
