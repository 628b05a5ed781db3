// The core's analytic gradients of a classifier's mean cross-entropy on one batch, all rows in
// order, as one flat copy in arena order (what finite differences are compared against).
import { Tensor, scope } from '../../src/core/tensor.ts';
import { LOSS_OF_TASK, type Sequential } from '../../src/nn/sequential.ts';

export function classifierGradients(model: Sequential, x: Float32Array, labels: Int32Array): Float32Array {
  const B = labels.length;
  return scope(() => {
    const order = Tensor.from(
      Int32Array.from({ length: B }, (_, i) => i),
      [B],
      'i32',
    );
    model.engine.computeGradients(Tensor.from(x, [B, model.inputs]), Tensor.from(labels, [B], 'i32'), order, 0, B, {
      kind: LOSS_OF_TASK.classification,
      smoothing: 0,
      classWeights: undefined,
    });
    return model.engine.grads.read();
  });
}
