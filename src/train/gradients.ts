// Passes over a data set that training's machinery serves beyond training itself: gradient
// statistics and layer outputs, for pruning criteria measured on data.
import { scope, Tensor } from '../core/tensor.ts';
import { accumulateAbsProduct } from '../core/ops/sparse.ts';
import type { LossSpec } from '../core/layer-engine.ts';
import type { LayerHooks } from '../core/layer.ts';
import type { Dataset } from '../data/dataset.ts';
import { LOSS_OF_TASK, type Sequential } from '../nn/sequential.ts';
import { deviceData } from './fit.ts';

/** Σ over batches (rows in data order) of |θ·∂L/∂θ| for every parameter, in arena order: the
 *  first-order Taylor importance (Molchanov et al., CVPR 2019). Dropout is active, as in training. */
export function absGradientProducts(model: Sequential, data: Dataset, batchSize: number): Float32Array {
  const engine = model.engine;
  return scope(() => {
    const acc = Tensor.zeros([engine.parameterCount]);
    eachBatchGradient(model, data, batchSize, () => accumulateAbsProduct(acc, engine.params, engine.grads));
    return acc.read();
  });
}

// Forward, loss and backward on each batch of rows in data order, then `after` (inside a scope).
function eachBatchGradient(model: Sequential, data: Dataset, batchSize: number, after: () => void): void {
  scope(() => {
    const { x, targets } = deviceData(model, data);
    const n = data.numRows;
    const order = Tensor.from(
      Int32Array.from({ length: n }, (_, i) => i),
      [n],
      'i32',
    );
    const loss: LossSpec = { kind: LOSS_OF_TASK[model.task], smoothing: 0, classWeights: undefined };
    for (let start = 0; start < n; start += batchSize) {
      model.engine.computeGradients(x, targets, order, start, Math.min(batchSize, n - start), loss);
      after();
    }
  });
}

/** Forward, loss and backward over the data in batches (rows in data order, dropout active, as in
 *  training), handing the input x [batch, inputs] of every dense and conv2d layer but the first
 *  and the loss gradient ∂L/∂x (of the batch's mean loss) to `visit`, views valid during the call.
 *  Hooks in force (a QAT session's) keep running around the visit. */
export function visitInputGradients(
  model: Sequential,
  data: Dataset,
  batchSize: number,
  visit: (layer: number, x: Tensor<'f32'>, dx: Tensor<'f32'>) => void,
): void {
  const previous = model.hooks;
  const inputs = new Map<number, Tensor<'f32'>>();
  const hooks: LayerHooks = {
    weights: (layer, forward) => previous?.weights(layer, forward),
    input: (layer, x, training) => {
      previous?.input(layer, x, training);
      inputs.set(layer, x);
    },
    inputGrad: (layer, dx) => {
      previous?.inputGrad(layer, dx);
      visit(layer, inputs.get(layer)!, dx);
    },
  };
  model.setHooks(undefined);
  model.setHooks(hooks);
  try {
    eachBatchGradient(model, data, batchSize, () => {});
  } finally {
    model.setHooks(undefined);
    model.setHooks(previous);
  }
}

/** Runs the model at inference over the data (standardised as it expects) in chunks of rows and
 *  hands every layer's output [rows, size] to `visit`, a view valid during the call. */
export function visitLayerOutputs(model: Sequential, data: Dataset, chunk: number, visit: (layer: number, y: Tensor<'f32'>) => void): void {
  scope(() => model.engine.visitOutputs(deviceData(model, data).x, visit, chunk));
}
