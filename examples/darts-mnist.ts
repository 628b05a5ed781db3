// Differentiable architecture search on handwritten digits: one super-network mixes every
// candidate width and activation of two hidden layers, the mixture weights learn on held-out rows,
// and the strongest choice per layer is retrained from scratch, here with a learning rate that
// adapts itself by hypergradient descent.
// Run: npx tsx examples/darts-mnist.ts
import { adam, evaluate, gradientSearch, mnist, trainTestSplit } from '../src/index.ts';

export async function dartsMnistExample(
  options: { perDigit?: number; epochs?: number; retrainEpochs?: number; sizePenalty?: number; log?: (line: string) => void } = {},
) {
  const log = options.log ?? (() => {});
  const digits = await mnist(options.perDigit ? { perDigit: options.perDigit } : {});
  const { train, test } = trainTestSplit(digits, { testFraction: 0.2, seed: 0 });
  const { model, architecture, record } = await gradientSearch(train, {
    candidates: { widths: [16, 32, 64, 128, 256], activations: ['relu', 'tanh', 'gelu', 'skip'], layers: 2 },
    epochs: options.epochs ?? 4,
    sizePenalty: options.sizePenalty ?? 0.1,
    seed: 1,
    retrain: { epochs: options.retrainEpochs ?? 10, optimizer: adam({ lr: 1e-3, hypergradient: { beta: 1e-7 } }) },
    onEpoch: (e) =>
      log(
        `search epoch ${e.epoch}: supernet val accuracy ${e.valAccuracy!.toFixed(3)}, E[parameters] ${Math.round(e.expectedParameters)}, ` +
          e.probabilities
            .map(
              (p, l) =>
                `layer ${l + 1} widths [${p.widths.map((x) => x.toFixed(2)).join(' ')}] ops [${p.operations.map((x) => x.toFixed(2)).join(' ')}]`,
            )
            .join('; '),
      ),
  });
  const result = evaluate(model, test);
  const accuracy = result.task === 'classification' ? result.accuracy : NaN;
  const learningRate = model.engine.hypergradientLr;
  model.dispose();
  return { architecture, accuracy, learningRate, searchMs: record.searchMs, retrainMs: record.retrainMs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await dartsMnistExample({ log: console.log });
  console.log(
    `chosen: ${r.architecture.hidden.map((h) => `dense(${h.units}, '${h.activation}')`).join(', ') || 'no hidden layer'}, ${r.architecture.parameterCount} parameters`,
  );
  console.log(
    `test accuracy ${r.accuracy.toFixed(4)}; search ${(r.searchMs / 1000).toFixed(1)} s, retraining ${(r.retrainMs / 1000).toFixed(1)} s; Adam's learning rate ended at ${r.learningRate?.toExponential(2)}`,
  );
}
