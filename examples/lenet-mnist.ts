// A LeNet-style convolutional network on the handwritten digits: two 5x5 convolutions with max
// pooling, a dense layer and the classifier, trained with Adam by `fit` on the seeded 80 % split
// and scored on the other 20 %. Rows are images [1, 28, 28] with pixels in [0, 1]; training batches
// are shifted by up to `shift` pixels (default 2) each way.
// Run: npx tsx examples/lenet-mnist.ts
import { adam, conv2d, dense, evaluate, fit, flatten, maxPool2d, mnist, Sequential, trainTestSplit } from '../src/index.ts';

export async function lenetMnistExample(
  options: { perDigit?: number; epochs?: number; filters?: [number, number]; shift?: number; log?: (line: string) => void } = {},
) {
  const log = options.log ?? (() => {});
  const digits = await mnist({ image: true, ...(options.perDigit ? { perDigit: options.perDigit } : {}) });
  const { train, test } = trainTestSplit(digits, { testFraction: 0.2, seed: 0 });
  const [f1, f2] = options.filters ?? [16, 32];
  const model = new Sequential({
    inputs: [1, 28, 28],
    layers: [
      conv2d(f1, 5, { padding: 'same', activation: 'relu' }),
      maxPool2d(2),
      conv2d(f2, 5, { padding: 'same', activation: 'relu' }),
      maxPool2d(2),
      flatten(),
      dense(128, 'relu'),
      dense(10),
    ],
    seed: 0,
  });
  const started = performance.now();
  await fit(model, train, {
    optimizer: adam({ lr: 1e-3 }),
    epochs: options.epochs ?? 12,
    ...((options.shift ?? 2) > 0 ? { augment: { shift: options.shift ?? 2 } } : {}),
    batchSize: 64,
    standardize: false,
    onEpoch: (e) => log(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, ${(e.ms / 1000).toFixed(1)} s`),
  });
  const trainMs = performance.now() - started;
  const result = evaluate(model, test);
  const accuracy = result.task === 'classification' ? result.accuracy : NaN;
  const parameters = model.parameterCount;
  model.dispose();
  return { accuracy, trainMs, parameters, trainRows: train.numRows, testRows: test.numRows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await lenetMnistExample({ log: console.log });
  console.log(
    `test accuracy ${r.accuracy.toFixed(4)} on ${r.testRows} digits; ${r.parameters} parameters; trained on ${r.trainRows} digits in ${(r.trainMs / 1000).toFixed(1)} s`,
  );
}
