// A tiny CNN on [1, 8, 8] rows for the channel-pruning tests: two convolutions (6 and 5 filters)
// with an optional batch norm after the first, a max-pool, flatten and a 7-unit hidden dense layer.
import { Sequential } from '../../src/nn/sequential.ts';
import { batchNorm, conv2d, dense, flatten, maxPool2d } from '../../src/nn/layers/index.ts';

export const tinyCnn = (withBn: boolean, classes: number) =>
  new Sequential({
    inputs: [1, 8, 8],
    layers: [
      conv2d(6, 3, { padding: 'same', activation: withBn ? 'linear' : 'relu' }),
      ...(withBn ? [batchNorm({ activation: 'relu' })] : []),
      maxPool2d(2),
      conv2d(5, 3, { padding: 1, activation: 'relu' }),
      flatten(),
      dense(7, 'relu'),
      dense(classes),
    ],
    seed: 11,
  });
