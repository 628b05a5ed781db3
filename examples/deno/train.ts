// Iris in Deno with the built package: read a CSV, train a small classifier, quantise it to int8
// and int4, and compare accuracy and size. Build once (npm run build), then from the repository:
//   deno run --allow-read=dist,examples/deno examples/deno/train.ts [path/to/file.csv]
// The core is embedded in dist/kiln.mjs, so reading the bundle and the CSV are all it needs. In a
// project of your own the import is `import { ... } from 'npm:kiln'`.
import type * as Kiln from '../../src/index.ts';

// The bundle is plain JavaScript; its types are the source's (the same names, checked by tsc).
const { adam, dense, evaluate, fit, init, parseCsv, quantize, Sequential, trainTestSplit } = (await import(
  '../../dist/kiln.mjs' as string
)) as typeof Kiln;

declare const Deno: { args: string[]; readTextFile(path: string | URL): Promise<string> };

await init();
const source = Deno.args[0] ?? new URL('./iris.csv', import.meta.url);
const data = parseCsv(await Deno.readTextFile(source));
const { train, test } = trainTestSplit(data, { testFraction: 0.2, seed: 7 });
console.log(
  `data: ${train.numRows} train and ${test.numRows} test rows, ${data.numFeatures} features, classes ${data.classNames.join(', ')}`,
);

const model = new Sequential({ inputs: data.numFeatures, layers: [dense(16, 'relu'), dense(data.classNames.length)], seed: 1 });
const started = performance.now();
const history = await fit(model, train, { optimizer: adam({ lr: 0.02 }), epochs: 60, batchSize: 16 });
const trained = evaluate(model, test);
if (trained.task !== 'classification') throw new Error(`expected a classification data set, got ${trained.task}`);
console.log(
  `float32: ${history.epochs.length} epochs in ${(performance.now() - started).toFixed(0)} ms, final loss ${history.epochs.at(-1)!.loss.toFixed(4)}, test accuracy ${trained.accuracy.toFixed(3)}`,
);

const float32 = model.predictClasses(test.features);
const variants = [
  quantize(model, { scheme: 'int8-per-channel', calibration: { data: train } }),
  quantize(model, { scheme: 'int4', groupSize: 32 }),
];
for (const q of variants) {
  const classes = q.predictClasses(test.features);
  const hits = classes.filter((c, i) => c === test.labels[i]).length;
  const agree = classes.filter((c, i) => c === float32[i]).length;
  const { bytes, float32Bytes, compression } = q.info();
  console.log(
    `${q.scheme}: test accuracy ${(hits / test.numRows).toFixed(3)}, agrees with float32 on ${agree}/${test.numRows} rows, ` +
      `parameters ${bytes} bytes (float32 ${float32Bytes} bytes, ${compression.toFixed(1)}x smaller)`,
  );
  q.dispose();
}
model.dispose();
