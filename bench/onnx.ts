// ONNX in and out on mnist with a 784-256-128-10 MLP trained here (standardised inputs): export and
// import time, file sizes against kiln's own files, agreement of ONNX Runtime Web running the
// exported file with kiln on the test rows, and inference latency of kiln against ONNX Runtime
// Web (wasm, SIMD, one thread, graph optimisations on) for f32, static int8 (QDQ) and dynamic
// int8 (MatMulInteger) at batch 1 and 64. Contestants alternate within every repetition; medians
// of process CPU time per run (both are single-threaded), wall-clock medians beside them. First,
// what ONNX support costs in the minified library bundle (built as scripts/bundle.mjs builds it).
// npm run bench -- onnx
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import {
  Sequential,
  dense,
  fit,
  adam,
  mnist,
  trainTestSplit,
  modelToBytes,
  exportOnnx,
  importOnnx,
  quantize,
  quantizedModelToBytes,
  type QuantizedModel,
} from '../src/index.ts';
import { ortSession, ortVersion, ortWasm, race } from './_peers.ts';
import { fmt } from './_stats.ts';

// The library entry with and without its ONNX exports (the last block of src/index.ts), and
// protobufjs's minimal runtime alone.
const root = new URL('../', import.meta.url).pathname;
async function minified(contents: string, resolveDir: string): Promise<{ min: number; gzip: number }> {
  const r = await build({
    stdin: { contents, resolveDir, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    external: ['node:*'],
    alias: { long: `${root}scripts/no-long.cjs`, stream: `${root}scripts/no-stream.cjs` },
    logLevel: 'error',
  });
  const bytes = r.outputFiles[0]!.contents;
  return { min: bytes.length, gzip: gzipSync(bytes).length };
}
const index = readFileSync(`${root}src/index.ts`, 'utf8');
const [withOnnx, withoutOnnx, runtime] = await Promise.all([
  minified(index, `${root}src`),
  minified(index.split('// Interchange: ONNX in and out.')[0]!, `${root}src`),
  minified("import protobuf from 'protobufjs/minimal.js'; export const { Reader, Writer } = protobuf;", root),
]);
const kib = (b: number) => `${fmt(b / 1024, 1)} KiB`;
console.log('### Bundle cost\n');
console.log(
  `minified library without ONNX: ${kib(withoutOnnx.min)} (${kib(withoutOnnx.gzip)} gzip); ONNX adds ${kib(withOnnx.min - withoutOnnx.min)} (${kib(withOnnx.gzip - withoutOnnx.gzip)} gzip), of which protobufjs's minimal runtime is ${kib(runtime.min)} (${kib(runtime.gzip)} gzip)\n`,
);

const EPOCHS = Number(process.env.KILN_BENCH_EPOCHS ?? 3);
const load = loadavg()[0]!;
const { train, test } = trainTestSplit(await mnist(), { testFraction: 0.2, seed: 0 });
const model = new Sequential({ inputs: 784, layers: [dense(256, 'relu'), dense(128, 'relu'), dense(10)], seed: 1 });
await fit(model, train, { optimizer: adam({ lr: 1e-3 }), epochs: EPOCHS, batchSize: 64 });
const calibration = { data: train.subset(Array.from({ length: 1000 }, (_, i) => i * Math.floor(train.numRows / 1000))) };
const int8 = quantize(model, { scheme: 'int8-per-channel', calibration });
const dynamic = quantize(model, { scheme: 'int8-dynamic' });
const ort = await ortWasm();
console.log(
  `784-256-128-10 MLP (${model.parameterCount} parameters, ${EPOCHS} epochs, standardised inputs); ONNX Runtime Web ${await ortVersion()} (wasm, one thread); ${test.numRows} test rows; load average ${load.toFixed(2)}\n`,
);

type Kind = { name: string; model: Sequential | QuantizedModel; kilnFile: number };
const kinds: Kind[] = [
  { name: 'f32', model, kilnFile: modelToBytes(model).length },
  { name: 'int8 per-channel (QDQ)', model: int8, kilnFile: quantizedModelToBytes(int8).length },
  { name: 'int8 dynamic (MatMulInteger)', model: dynamic, kilnFile: quantizedModelToBytes(dynamic).length },
];
const files = new Map(kinds.map((k) => [k.name, exportOnnx(k.model)]));

console.log('### Export, import, file size\n');
const floatFile = files.get('f32')!;
const io = await race(
  [
    { name: 'export f32', run: () => exportOnnx(model) },
    { name: 'export int8', run: () => exportOnnx(int8) },
    { name: 'import f32', run: () => importOnnx(floatFile).dispose() },
  ],
  { reps: 7, minMs: 50 },
);
console.log('CPU ms (median).\n');
console.log('| model | kiln file bytes | ONNX file bytes | ONNX / kiln | export ms |');
console.log('|---|---:|---:|---:|---:|');
for (const k of kinds) {
  const ms = k.name === 'f32' ? io.get('export f32')!.cpu : k.name.startsWith('int8 per') ? io.get('export int8')!.cpu : undefined;
  console.log(
    `| ${k.name} | ${k.kilnFile} | ${files.get(k.name)!.length} | ${fmt(files.get(k.name)!.length / k.kilnFile, 2)}x | ${ms === undefined ? '' : fmt(ms, 2)} |`,
  );
}
console.log(`\nimport of the f32 file (decode, map, build the Sequential): ${fmt(io.get('import f32')!.cpu, 2)} ms\n`);

console.log('### Agreement on the test rows\n');
// Calls of 1000 rows: a dynamic int8 model's activation range is per call in ONNX
// (DynamicQuantizeLinear) and per chunk of up to 1024 rows in kiln, so equal calls compare alike.
const CALL = 1000;
console.log(`Both run the ${test.numRows} test rows in calls of ${CALL} rows; outputs are probabilities.\n`);
console.log('| model | class agreement | max abs diff of outputs |');
console.log('|---|---:|---:|');
const x = test.features;
for (const k of kinds) {
  const session = await ortSession(files.get(k.name)!);
  const out = new Float32Array(test.numRows * 10),
    mine = new Float32Array(test.numRows * 10);
  for (let r = 0; r < test.numRows; r += CALL) {
    const rows = x.subarray(r * 784, Math.min(test.numRows, r + CALL) * 784);
    out.set((await session.run({ input: new ort.Tensor('float32', rows, [rows.length / 784, 784]) })).output!.data as Float32Array, r * 10);
    mine.set(k.model.predict(rows), r * 10);
  }
  let same = 0,
    maxDiff = 0;
  for (let r = 0; r < test.numRows; r++) {
    let a = 0,
      b = 0;
    for (let j = 1; j < 10; j++) {
      if (out[r * 10 + j]! > out[r * 10 + a]!) a = j;
      if (mine[r * 10 + j]! > mine[r * 10 + b]!) b = j;
    }
    if (a === b) same++;
  }
  for (let i = 0; i < mine.length; i++) maxDiff = Math.max(maxDiff, Math.abs(mine[i]! - out[i]!));
  console.log(`| ${k.name} | ${fmt((same / test.numRows) * 100, 2)}% | ${maxDiff.toExponential(2)} |`);
  await session.release();
}

console.log('\n### Inference: kiln against ONNX Runtime Web on the exported file\n');
console.log('CPU ms per call (median; wall-clock in brackets); ratio = ONNX Runtime / kiln (> 1: kiln faster).\n');
console.log('| model | batch | kiln ms | ONNX Runtime ms | ratio |');
console.log('|---|---:|---:|---:|---:|');
for (const k of kinds) {
  const session = await ortSession(files.get(k.name)!);
  for (const batch of [1, 64]) {
    const rows = x.subarray(0, batch * 784);
    const feeds = { input: new ort.Tensor('float32', rows, [batch, 784]) };
    const t = await race(
      [
        { name: 'kiln', run: () => k.model.predict(rows) },
        { name: 'ort', run: () => session.run(feeds) },
      ],
      { reps: 9, minMs: 40 },
    );
    const a = t.get('kiln')!,
      b = t.get('ort')!;
    console.log(
      `| ${k.name} | ${batch} | ${fmt(a.cpu, 3)} (${fmt(a.median, 3)}) | ${fmt(b.cpu, 3)} (${fmt(b.median, 3)}) | ${fmt(b.cpu / a.cpu, 2)}x |`,
    );
  }
  await session.release();
}
for (const k of kinds) k.model.dispose();
