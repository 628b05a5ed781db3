// Batch-norm folding: the folded model drops the batch norms that follow a linear conv2d or dense
// layer, keeps the others, and predicts what the original predicts in inference mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential } from '../../src/nn/sequential.ts';
import { batchNorm, conv2d, dense, flatten, maxPool2d } from '../../src/nn/layers/index.ts';
import { Dataset } from '../../src/data/dataset.ts';
import { fit } from '../../src/train/fit.ts';
import { adam } from '../../src/train/optimizers.ts';
import { foldBatchNorm } from '../../src/compress/fold-batch-norm.ts';
import { assertClose } from '../helpers/close.ts';
import { ints, mulberry32, uniform } from '../helpers/rand.ts';

test('folding batch norms into the preceding layers keeps the predictions', async () => {
  const rand = mulberry32(12);
  const n = 64;
  const data = new Dataset({ features: uniform(rand, n * 2 * 8 * 8, 0, 2), numFeatures: 128, labels: ints(rand, n, 3) });
  const model = new Sequential({
    inputs: [2, 8, 8],
    seed: 4,
    layers: [
      conv2d(4, 3, { padding: 'same' }),
      batchNorm({ activation: 'leaky_relu', alpha: 0.2 }),
      maxPool2d(2),
      conv2d(4, 3, { activation: 'relu' }),
      batchNorm(),
      flatten(),
      dense(8),
      batchNorm({ activation: 'tanh', eps: 1e-3 }),
      dense(3),
    ],
  });
  await fit(model, data, { optimizer: adam({ lr: 0.02 }), epochs: 3, batchSize: 16 });
  const folded = foldBatchNorm(model);
  assert.deepEqual(
    folded.layers.map((l) => l.type),
    ['conv2d', 'maxPool2d', 'conv2d', 'batchNorm', 'flatten', 'dense', 'dense'],
  );
  assert.deepEqual(folded.layers[0], { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'leaky_relu', alpha: 0.2 });
  assert.equal(folded.layers[5]!.type === 'dense' && folded.layers[5]!.activation, 'tanh');
  const want = model.predict(data.features);
  const got = folded.predict(data.features);
  assertClose(got, want, { atol: 2e-5, rtol: 1e-4 }, 'folded vs original');
  // The folded weights: w·γ/√(σ² + eps) for the first filter's first weight.
  const p = Object.fromEntries(model.parameters().map((t) => [t.name, t.data]));
  const s = p['layers.1.weight']![0]! / Math.sqrt(p['layers.1.running_var']![0]! + 1e-5);
  assertClose([folded.parameters()[0]!.data[0]!], [p['layers.0.weight']![0]! * s], { rtol: 1e-6 }, 'folded weight');
  model.setPruningMask(new Uint8Array(model.parameterCount).fill(1));
  assert.throws(() => foldBatchNorm(model), /pruning mask; fold batch norms before pruning/);
  model.dispose();
  folded.dispose();
});
