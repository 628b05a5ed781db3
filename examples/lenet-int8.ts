// The LeNet recipe of lenet-mnist.ts, trained on the seeded 80 % split of the digits, then
// compressed three ways and every model scored on the other 20 %: int8 (batch norms folded;
// static per-channel activations calibrated on 1000 training digits, and dynamic), and channel
// pruning to at most half the multiply-adds (the same fraction of filters of both convolutions,
// by L1 norm) with a short fine-tuning. File sizes and multiply-adds per row beside each.
// Run: npx tsx examples/lenet-int8.ts [epochs] [fine-tuning epochs] [recipe overrides as JSON]
import { pruneChannels, quantize, type Sequential } from '../src/index.ts';
import { modelFile } from '../src/metrics/measure.ts';
import { quantizedModelToBytes } from '../src/compress/quant/file.ts';
import { accuracy, digitsSplit, lenet, trainLenet, type LenetRecipe } from './lenet-mnist.ts';

/** Multiply-adds per row: a weight is used once per output position (once for a dense layer). */
export function multiplyAdds(model: Sequential): number {
  return model.parameters().reduce((n, t) => {
    const [, i, slot] = t.name.split('.');
    const out = model.engine.layers[Number(i)]!.outputShape;
    return slot === 'weight' && t.shape.length > 1 ? n + t.data.length * (out.length === 3 ? out[1]! * out[2]! : 1) : n;
  }, 0);
}

export async function lenetInt8Example(
  options: LenetRecipe & { perDigit?: number; channelSparsity?: number; fineTuneEpochs?: number } = {},
) {
  const log = options.log ?? (() => {});
  const { train, test } = await digitsSplit(options.perDigit);
  const model = lenet(options);
  await trainLenet(model, train, options);
  const calibration = { data: train.subset(Int32Array.from({ length: Math.min(1000, train.numRows) }, (_, i) => i)) };
  const rows: { name: string; accuracy: number; bytes: number; multiplyAdds?: number }[] = [
    { name: 'f32', accuracy: accuracy(model, test), bytes: modelFile(model).bytes.length, multiplyAdds: multiplyAdds(model) },
  ];
  log(`f32 test accuracy ${rows[0]!.accuracy.toFixed(4)}`);
  for (const [name, q8] of [
    ['int8 static (minmax)', { scheme: 'int8-per-channel', calibration }],
    ['int8 static (percentile 99.99)', { scheme: 'int8-per-channel', calibration: { ...calibration, method: 'percentile' } }],
    ['int8 dynamic', { scheme: 'int8-dynamic' }],
  ] as const) {
    const q = quantize(model, q8);
    const predicted = q.predictClasses(test.features);
    const correct = predicted.reduce((n, c, i) => n + (c === test.labels[i] ? 1 : 0), 0);
    rows.push({ name, accuracy: correct / test.numRows, bytes: quantizedModelToBytes(q).length });
    q.dispose();
  }
  // 32 % of the filters of both convolutions: the second one's multiply-adds fall to 0.68², the
  // whole network's to 0.49× for the default 32/64 filters.
  const sparsity = options.channelSparsity ?? 0.32;
  const fineTune = options.fineTuneEpochs ?? 3;
  const small = pruneChannels(model, { sparsity, criterion: 'l1' });
  rows.push({
    name: `channel-pruned ${Math.round(sparsity * 100)} % (L1)`,
    accuracy: accuracy(small, test),
    bytes: modelFile(small).bytes.length,
    multiplyAdds: multiplyAdds(small),
  });
  await trainLenet(small, train, { ...options, epochs: fineTune, lr: (options.lr ?? 2e-3) / 4, log: undefined });
  rows.push({
    name: `channel-pruned ${Math.round(sparsity * 100)} % (L1), ${fineTune} epochs of fine-tuning`,
    accuracy: accuracy(small, test),
    bytes: modelFile(small).bytes.length,
    multiplyAdds: multiplyAdds(small),
  });
  small.dispose();
  model.dispose();
  return { rows, testRows: test.numRows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [epochs, fineTuneEpochs] = process.argv.slice(2, 4).map(Number);
  const recipe = JSON.parse(process.argv[4] ?? '{}') as LenetRecipe;
  const r = await lenetInt8Example({
    log: console.log,
    ...recipe,
    ...(epochs ? { epochs } : {}),
    ...(fineTuneEpochs ? { fineTuneEpochs } : {}),
  });
  const full = r.rows[0]!.multiplyAdds!;
  console.log(`| model | test accuracy (${r.testRows} digits) | file bytes | multiply-adds per row |\n|---|---|---|---|`);
  for (const row of r.rows)
    console.log(
      `| ${row.name} | ${row.accuracy.toFixed(4)} | ${row.bytes} | ${row.multiplyAdds ? `${row.multiplyAdds} (${(row.multiplyAdds / full).toFixed(2)}×)` : ''} |`,
    );
}
