// The digit pad's models, in the worker: a small CNN trained on the MNIST digits, a copy with half
// of its conv and dense weights pruned away and fine-tuned, and that pruned model quantised to
// int8 (per-channel weights, static activations calibrated on training digits): integer
// convolutions, pooling and dense layers end to end.
import {
  accuracy,
  adam,
  conv2d,
  dense,
  fit,
  flatten,
  maxPool2d,
  mnist,
  modelFromBytes,
  modelToBytes,
  nonZeros,
  pruneIteratively,
  quantize,
  Sequential,
  trainTestSplit,
  type Predictor,
} from '../../src/index.ts';
import type { DigitBudget, DigitStage } from './protocol.ts';

/** Two 5×5 convolutions with max pooling and a small dense head: LeNet's shape, narrowed so that
 *  a browser trains it in seconds. */
export function digitCnn(seed: number): Sequential {
  return new Sequential({
    inputs: [1, 28, 28],
    seed,
    layers: [
      conv2d(8, 5, { padding: 'same', activation: 'relu' }),
      maxPool2d(2),
      conv2d(16, 5, { padding: 'same', activation: 'relu' }),
      maxPool2d(2),
      flatten(),
      dense(64, 'relu'),
      dense(10),
    ],
  });
}

export interface DigitModels {
  stages: DigitStage[];
  /** One per stage. */
  predictors: Predictor[];
  dispose(): void;
}

/** Prune to this share of zero weights, of the conv and dense layers alike. */
const SPARSITY = 0.5;

export async function trainDigitModels(
  budget: DigitBudget,
  source: URL,
  status: (text: string) => void,
  signal: AbortSignal,
): Promise<DigitModels> {
  status('Loading MNIST digits…');
  const data = await mnist({ source, perDigit: budget.perDigit });
  const { train, test } = trainTestSplit(data, { testFraction: 0.2, seed: budget.seed });
  const owned: { dispose(): void }[] = [];
  try {
    const cnn = digitCnn(budget.seed);
    owned.push(cnn);
    const training = { optimizer: adam({ lr: 2e-3 }), batchSize: 32, standardize: false, seed: budget.seed, signal };
    await fit(cnn, train, {
      ...training,
      epochs: budget.epochs,
      onEpoch: (e) =>
        status(`Training the CNN on ${train.numRows} digits: epoch ${e.epoch} of ${budget.epochs}, loss ${e.loss.toFixed(3)}`),
    });
    status('Pruning and fine-tuning…');
    const pruned = modelFromBytes(modelToBytes(cnn, 'dense'));
    owned.push(pruned);
    await pruneIteratively(pruned, train, {
      finalSparsity: SPARSITY,
      steps: 2,
      latency: false,
      fineTune: { ...training, epochs: 1, optimizer: adam({ lr: 1e-3 }) },
    });
    status('Quantising to int8…');
    const calibration = train.subset(Int32Array.from({ length: Math.min(200, train.numRows) }, (_, i) => i));
    const int8 = quantize(pruned, { scheme: 'int8-per-channel', calibration: { data: calibration } });
    owned.push(int8);
    const score = (m: Predictor) => accuracy(test.labels, m.predictClasses(test.features));
    const zero = 1 - nonZeros(pruned) / pruned.parameterCount;
    const shape = 'conv 5×5×8 → pool → conv 5×5×16 → pool → dense 64 → 10';
    const stages: DigitStage[] = [
      { name: 'float', model: `${shape}, f32`, accuracy: score(cnn) },
      { name: 'pruned', model: `${shape}, f32, ${Math.round(zero * 100)}% of weights zero`, accuracy: score(pruned) },
      { name: 'int8', model: `${shape}, pruned, int8 per channel (static, calibrated)`, accuracy: score(int8) },
    ];
    return {
      stages,
      predictors: [cnn, pruned, int8],
      dispose: () => owned.reverse().forEach((m) => m.dispose()),
    };
  } catch (error) {
    owned.reverse().forEach((m) => m.dispose());
    throw error;
  }
}
