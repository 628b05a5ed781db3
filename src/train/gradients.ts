// Passes over a data set that training's machinery serves beyond training itself: gradient
// statistics and layer outputs, for pruning criteria measured on data.
import { scope, Tensor } from '../core/tensor.ts';
import { accumulateAbsProduct } from '../core/ops/sparse.ts';
import type { LossSpec } from '../core/layer-engine.ts';
import type { Dataset } from '../data/dataset.ts';
import { LOSS_OF_TASK, type Sequential } from '../nn/sequential.ts';
import { deviceData } from './fit.ts';

/** Σ over batches (rows in data order) of |θ·∂L/∂θ| for every parameter, in arena order: the
 *  first-order Taylor importance (Molchanov et al., CVPR 2019). Dropout is active, as in training. */
export function absGradientProducts(model: Sequential, data: Dataset, batchSize: number): Float32Array {
  const engine = model.engine;
  return scope(() => {
    const { x, targets } = deviceData(model, data);
    const n = data.numRows;
    const order = Tensor.from(
      Int32Array.from({ length: n }, (_, i) => i),
      [n],
      'i32',
    );
    const loss: LossSpec = { kind: LOSS_OF_TASK[model.task], smoothing: 0, classWeights: undefined };
    const acc = Tensor.zeros([engine.parameterCount]);
    for (let start = 0; start < n; start += batchSize) {
      engine.computeGradients(x, targets, order, start, Math.min(batchSize, n - start), loss);
      accumulateAbsProduct(acc, engine.params, engine.grads);
    }
    return acc.read();
  });
}

/** Runs the model at inference over the data (standardised as it expects) in chunks of rows and
 *  hands every layer's output [rows, size] to `visit`, a view valid during the call. */
export function visitLayerOutputs(model: Sequential, data: Dataset, chunk: number, visit: (layer: number, y: Tensor<'f32'>) => void): void {
  scope(() => model.engine.visitOutputs(deviceData(model, data).x, visit, chunk));
}
