// The LeNet of lenet-mnist.ts, trained on the seeded 80 % split of the digits, then quantised to
// int8 (static per-channel activations calibrated on 1000 training digits, and dynamic) and scored
// on the other 20 % beside the f32 model; the int8 file size beside the f32 one.
// Run: npx tsx examples/lenet-int8.ts [epochs]
import { adam, conv2d, dense, fit, pruneChannels, flatten, maxPool2d, mnist, quantize, Sequential, trainTestSplit } from '../src/index.ts';
import { modelFile } from '../src/metrics/measure.ts';
import { quantizedModelToBytes } from '../src/compress/quant/file.ts';

export async function lenetInt8Example(options: { epochs?: number; perDigit?: number; log?: (line: string) => void } = {}) {
  const log = options.log ?? (() => {});
  const digits = await mnist(options.perDigit ? { perDigit: options.perDigit } : {});
  const { train, test } = trainTestSplit(digits, { testFraction: 0.2, seed: 0 });
  const model = new Sequential({
    inputs: [1, 28, 28],
    layers: [
      conv2d(16, 5, { padding: 'same', activation: 'relu' }),
      maxPool2d(2),
      conv2d(32, 5, { padding: 'same', activation: 'relu' }),
      maxPool2d(2),
      flatten(),
      dense(128, 'relu'),
      dense(10),
    ],
    seed: 0,
  });
  await fit(model, train, {
    optimizer: adam({ lr: 1e-3 }),
    epochs: options.epochs ?? 8,
    batchSize: 64,
    standardize: false,
    onEpoch: (e) => log(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, ${(e.ms / 1000).toFixed(1)} s`),
  });
  const acc = (m: { predictClasses(x: Float32Array): Int32Array }) =>
    m.predictClasses(test.features).reduce((n, c, i) => n + (c === test.labels[i] ? 1 : 0), 0) / test.numRows;
  const calibration = { data: train.subset(Int32Array.from({ length: 1000 }, (_, i) => i)) };
  const rows: { name: string; accuracy: number; bytes: number }[] = [
    { name: 'f32', accuracy: acc(model), bytes: modelFile(model).bytes.length },
  ];
  for (const [name, options] of [
    ['int8 static (minmax)', { scheme: 'int8-per-channel', calibration }],
    ['int8 static (percentile 99.99)', { scheme: 'int8-per-channel', calibration: { ...calibration, method: 'percentile' } }],
    ['int8 dynamic', { scheme: 'int8-dynamic' }],
  ] as const) {
    const q = quantize(model, options);
    rows.push({ name, accuracy: acc(q), bytes: quantizedModelToBytes(q).length });
    q.dispose();
  }
  // Half the filters of both convolutions (by L1 norm), then one epoch of fine-tuning.
  const small = pruneChannels(model, { sparsity: 0.5, criterion: 'l1' });
  await fit(small, train, { optimizer: adam({ lr: 5e-4 }), epochs: 1, batchSize: 64, standardize: false });
  rows.push({ name: 'channel-pruned 50 % + 1 epoch', accuracy: acc(small), bytes: modelFile(small).bytes.length });
  // Multiply-adds per row: a weight is used once per output position (once for a dense layer).
  const flops = (m: Sequential) =>
    m.parameters().reduce((n, t) => {
      const [, i, slot] = t.name.split('.');
      const out = m.engine.layers[Number(i)]!.outputShape;
      return slot === 'weight' && t.shape.length > 1 ? n + t.data.length * (out.length === 3 ? out[1]! * out[2]! : 1) : n;
    }, 0);
  log(`FLOPs per row: f32 ${flops(model)}, channel-pruned ${flops(small)}`);
  small.dispose();
  model.dispose();
  return { rows, testRows: test.numRows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const epochs = process.argv[2] ? Number(process.argv[2]) : undefined;
  const r = await lenetInt8Example({ log: console.log, ...(epochs ? { epochs } : {}) });
  console.log(`| model | test accuracy (${r.testRows} digits) | file bytes |\n|---|---|---|`);
  for (const row of r.rows) console.log(`| ${row.name} | ${row.accuracy.toFixed(4)} | ${row.bytes} |`);
}
