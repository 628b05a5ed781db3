// The LeNet-like network, the one `bench -- conv` measures and `bench -- distill` teaches
// with: conv 5x5x32 same → max-pool 2 → conv 5x5x64 same → max-pool 2 → dense 128 → 10, ReLU.
import { Sequential, conv2d, dense, flatten, maxPool2d } from '../src/index.ts';

export const lenet = (seed = 1): Sequential =>
  new Sequential({
    inputs: [1, 28, 28],
    layers: [
      conv2d(32, 5, { padding: 'same', activation: 'relu' }),
      maxPool2d(2),
      conv2d(64, 5, { padding: 'same', activation: 'relu' }),
      maxPool2d(2),
      flatten(),
      dense(128, 'relu'),
      dense(10),
    ],
    seed,
  });
