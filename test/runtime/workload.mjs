// The one workload every runtime runs against the built bundle. Plain JavaScript, so Node, Deno,
// Bun and a browser can all import it as is. It returns bytes: the test compares their SHA-256
// across runtimes, so every value that reaches them must be bit-for-bit reproducible. Inputs come
// from the core's seeded RNG; JS itself only adds, multiplies and compares (exact IEEE in every
// engine), so any difference means an engine-dependent path inside kiln.

const f32 = (values) => new Uint8Array(Float32Array.from(values).buffer);
const f64 = (values) => new Uint8Array(Float64Array.from(values).buffer);
const i32 = (values) => new Uint8Array(Int32Array.from(values).buffer);

// Three classes, each the argmax of a fixed linear score of 8 standard-normal features.
function syntheticClasses(kiln, n, seed) {
  const d = 8;
  const rng = new kiln.Rng(seed);
  const x = kiln.Tensor.empty([n, d]);
  rng.normal(x, 0, 1);
  const features = x.read();
  x.dispose();
  rng.dispose();
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const f = features.subarray(i * d, i * d + d);
    const scores = [f[0] + f[1] - 0.5 * f[2], f[3] - f[4] + 0.25 * f[5], f[6] - f[7] + 0.5 * f[0]];
    labels[i] = scores.indexOf(Math.max(...scores));
  }
  return new kiln.Dataset({ features, numFeatures: d, labels, classNames: ['a', 'b', 'c'] });
}

const historyValues = (h) => h.epochs.flatMap((e) => [e.epoch, e.loss, e.valLoss ?? -1, e.valAccuracy ?? -1, e.lr, e.steps]);

/** The workload's results as named byte chunks, in a fixed order. `source` is handed to init():
 *  nothing means the core embedded in the bundle.
 *  @param {typeof import('../../dist/index.d.ts')} kiln */
export async function workloadParts(kiln, source) {
  await kiln.init(source);
  const parts = [];
  const add = (name, bytes) => parts.push([name, bytes]);

  // Seeded init, a forward pass with softmax, then one epoch of 4 Adam steps in order: each is
  // dense forward -> softmax cross-entropy -> backward -> Adam update (with dropout on).
  const data = syntheticClasses(kiln, 240, 20240601);
  add('data', f32(data.features));
  const model = new kiln.Sequential({
    inputs: 8,
    layers: [kiln.dense(16, 'gelu'), kiln.dropout(0.1), kiln.dense(16, 'tanh'), kiln.dense(3)],
    seed: 7,
  });
  add('init', kiln.modelToBytes(model));
  add('forward', f32(model.predict(data.features)));
  const steps = await kiln.fit(model, data, {
    optimizer: kiln.adam({ lr: 0.01 }),
    epochs: 1,
    batchSize: 60,
    shuffle: false,
    standardize: false,
  });
  add('adam-steps', f64(historyValues(steps)));
  add('after-steps', kiln.modelToBytes(model));
  model.dispose();

  // Real training: Iris, a seeded stratified split, standardisation, shuffled mini-batches,
  // validation each epoch, then the metrics.
  const { train, test } = kiln.trainTestSplit(kiln.iris(), { testFraction: 0.2, seed: 3 });
  const net = new kiln.Sequential({ inputs: 4, layers: [kiln.dense(16, 'relu'), kiln.dense(3)], seed: 11 });
  const history = await kiln.fit(net, train, { optimizer: kiln.adam({ lr: 0.02 }), epochs: 8, batchSize: 16, validation: test });
  add('history', f64(historyValues(history)));
  add('trained', kiln.modelToBytes(net));
  add('test-probs', f32(net.predict(test.features)));
  const ev = kiln.evaluate(net, test);
  add('metrics', f64([ev.accuracy, ev.logLoss, ...ev.confusionMatrix.flat()]));
  // ONNX out and back in: the exported file itself, then the imported model's predictions.
  const onnx = kiln.exportOnnx(net);
  add('onnx', onnx);
  const imported = kiln.importOnnx(onnx);
  add('onnx-import', f32(imported.predict(test.features)));
  imported.dispose();
  // Distillation with synthetic transfer rows (mixup, shifts of the 4 values read as a 2×2 image):
  // augmentation draws, the teacher's outputs on them and two updates per batch.
  const student = new kiln.Sequential({ inputs: 4, layers: [kiln.dense(6, 'relu'), kiln.dense(3)], seed: 12 });
  await kiln.distill({
    teacher: net,
    student,
    data: train,
    temperature: 2,
    alpha: 0.8,
    transfer: { mixup: 1, shift: 1, shape: [1, 2, 2] },
    optimizer: kiln.adam({ lr: 0.02, schedule: { type: 'cosine' } }),
    epochs: 3,
    batchSize: 16,
  });
  add('distill-transfer', kiln.modelToBytes(student));
  student.dispose();
  net.dispose();

  // Layers wide enough that the threaded core splits their products across threads: the bytes
  // must not depend on the thread count.
  const wide = kiln.Tensor.empty([512, 64]);
  const wideRng = new kiln.Rng(99);
  wideRng.normal(wide, 0, 1);
  const wideData = new kiln.Dataset({
    features: wide.read(),
    numFeatures: 64,
    labels: Int32Array.from({ length: 512 }, (_, i) => (i * 7) % 10),
  });
  wide.dispose();
  wideRng.dispose();
  const wideNet = new kiln.Sequential({ inputs: 64, layers: [kiln.dense(256, 'relu'), kiln.dense(10)], seed: 5 });
  await kiln.fit(wideNet, wideData, { optimizer: kiln.adam({ lr: 0.01 }), epochs: 1, batchSize: 128, shuffle: false, standardize: false });
  add('split-layers', kiln.modelToBytes(wideNet));
  wideNet.dispose();

  return parts;
}

/** CSV text through parseCsv, and a mixed table (categories, gaps, accented text, records) through
 *  the table encoder, digested on their own so a CSV difference between runtimes shows apart
 *  from the numeric workload's. */
export function csvBytes(kiln) {
  const rows = Array.from({ length: 20 }, (_, i) => `${i * 0.37 - 3},${((i * 7919) % 101) / 7},${i % 3}`);
  const parsed = kiln.parseCsv(`f0,f1,label\n${rows.join('\n')}\n`);
  const words = ['Été', 'ÉTÉ', 'naïve', 'ΣΊΣΥΦΟΣ', 'straße', 'İstanbul', 'café', 'déjà vu'];
  const mixed = Array.from(
    { length: 24 },
    (_, i) =>
      `${i % 5 === 0 ? 'NA' : i * 1.7},${['red', 'blue', 'green'][i % 3]},${i % 4 === 0 ? '' : i % 2 ? 'yes' : 'no'},"${words[i % 8]} ${words[(i * 3) % 8]} and ${words[(i * 5) % 8]}",${i % 2}`,
  );
  const table = kiln.parseTable(`x,colour,flag,notes,y\n${mixed.join('\n')}\n`);
  const { train, encoder } = kiln.splitTable(table, { label: 'y', testFraction: 0.25, seed: 5 });
  const records = kiln.tableInputs({ table: encoder.toJSON() }, [{ notes: 'ÉTÉ café', colour: 'purple', x: null, flag: 'YES' }]).features;
  return new Uint8Array([
    ...f32(parsed.features),
    ...i32(parsed.labels),
    ...f32(train.features),
    ...new TextEncoder().encode(JSON.stringify(encoder.toJSON())),
    ...f32(records),
  ]);
}

/** A small CNN trained in every runtime, digested on its own so the workload's digest above stays
 *  what it was: seeded images, convolutions (padded, strided, grouped; a 5×5 one on 8 channels
 *  whose forward is Winograd, four tiles a row), batch norm, both poolings, two epochs of
 *  shuffled Adam steps, then the model file and its predictions.
 *  @param {typeof import('../../dist/index.d.ts')} kiln */
export async function convBytes(kiln) {
  const n = 48,
    shape = [2, 9, 8];
  const rng = new kiln.Rng(20261203);
  const x = kiln.Tensor.empty([n, 144]);
  rng.normal(x, 0, 1);
  const features = x.read();
  x.dispose();
  rng.dispose();
  const labels = Int32Array.from(
    { length: n },
    (_, i) => (features[i * 144] + features[i * 144 + 77] > 0 ? 1 : 0) + (features[i * 144 + 100] > 0.5 ? 1 : 0),
  );
  const data = new kiln.Dataset({ features, numFeatures: 144, labels });
  const model = new kiln.Sequential({
    inputs: shape,
    seed: 5,
    layers: [
      kiln.conv2d(8, 3, { padding: 'same', activation: 'relu' }),
      kiln.conv2d(6, 5, { padding: 'same' }),
      kiln.batchNorm({ activation: 'relu' }),
      kiln.maxPool2d(2),
      kiln.conv2d(6, [2, 3], { stride: [1, 2], padding: 1, groups: 3, activation: 'tanh' }),
      kiln.avgPool2d(2, { stride: 1, padding: 'same' }),
      kiln.conv2d(4, 1),
      kiln.globalAvgPool2d(),
      kiln.dense(3),
    ],
  });
  const history = await kiln.fit(model, data, { optimizer: kiln.adam({ lr: 0.01 }), epochs: 2, batchSize: 16, standardize: false });
  const bytes = [f64(historyValues(history)), kiln.modelToBytes(model), f32(model.predict(features))];
  model.dispose();
  return concatParts(bytes.map((b) => ['', b]));
}

/** The parts end to end. */
export function concatParts(parts) {
  const out = new Uint8Array(parts.reduce((n, [, b]) => n + b.length, 0));
  let at = 0;
  for (const [, bytes] of parts) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** @param {typeof import('../../dist/index.d.ts')} kiln */
export async function workload(kiln, source) {
  return concatParts(await workloadParts(kiln, source));
}
