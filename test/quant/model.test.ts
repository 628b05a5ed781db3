// Quantised models end to end on one small mnist MLP trained here: accuracy per scheme (loose
// bounds), every engine path bit for bit against the integer pipeline written out in TS from the
// documented formulas, batch-1 = batched, file round trips and every file and option error,
// quantisation-aware training.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mnist } from '../../src/data/builtin.ts';
import { trainTestSplit } from '../../src/data/split.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense, dropout } from '../../src/nn/layers/index.ts';
import { fit } from '../../src/train/fit.ts';
import { adam } from '../../src/train/optimizers.ts';
import { quantize, type QuantizeOptions } from '../../src/compress/quant/quantize.ts';
import { QuantizedModel, type QuantizedLayer, type QuantizedModelSpec } from '../../src/compress/quant/model.ts';
import { prepareQat } from '../../src/compress/quant/qat.ts';
import { calculateQParams, roundHalfEven, QUINT8 } from '../../src/compress/quant/qparams.ts';
import { quantizedModelFromBytes, quantizedModelToBytes } from '../../src/compress/quant/file.ts';
import { decodeSafetensors, encodeSafetensors, ModelFileError } from '../../src/io/safetensors.ts';

const data = await mnist({ perDigit: 200 });
const { train, test: holdout } = trainTestSplit(data, { testFraction: 0.2, seed: 3 });
const model = new Sequential({ inputs: 784, layers: [dense(64, 'relu'), dropout(0.1), dense(32, 'relu'), dense(10)], seed: 5 });
await fit(model, train, { optimizer: adam({ lr: 2e-3 }), epochs: 6, batchSize: 64, seed: 5 });
const calibration = { data: train.subset(Array.from({ length: 400 }, (_, i) => i * 4)) };

const accuracy = (pred: Int32Array) => pred.reduce((n, c, i) => n + (c === holdout.labels[i] ? 1 : 0), 0) / pred.length;
const baseline = accuracy(model.predictClasses(holdout.features));
const rows = (n: number) => holdout.features.subarray(0, n * 784);
const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

test('accuracy per scheme stays close to f32 (loose bounds on 400 test digits)', () => {
  assert.ok(baseline > 0.85, `f32 baseline ${baseline}`);
  const cases: [QuantizeOptions, number][] = [
    [{ scheme: 'int8-per-channel', calibration }, 0.015],
    [{ scheme: 'int8-per-channel', symmetric: false, calibration: { ...calibration, method: 'entropy' } }, 0.02],
    [{ scheme: 'int8-per-channel', calibration: { ...calibration, method: 'percentile', percentile: 99.99 } }, 0.02],
    [{ scheme: 'int8-per-channel', calibration: { ...calibration, method: 'mse' } }, 0.02],
    [{ scheme: 'int8-per-tensor', calibration }, 0.025],
    [{ scheme: 'int8-dynamic', dynamicRange: 'row' }, 0.02],
    [{ scheme: 'int4', groupSize: 32 }, 0.04],
    [{ scheme: 'int4', groupSize: 128 }, 0.05],
    [{ scheme: 'int4', groupSize: 64, symmetric: false }, 0.05],
  ];
  for (const [options, drop] of cases) {
    const q = quantize(model, options);
    const acc = accuracy(q.predictClasses(holdout.features));
    const label = `${options.scheme} ${JSON.stringify({ ...options, calibration: options.calibration?.method })}`;
    assert.ok(acc >= baseline - drop, `${label}: accuracy ${acc} vs f32 ${baseline} (allowed drop ${drop})`);
    const info = q.info();
    assert.equal(info.parameterCount, model.parameterCount);
    assert.ok(info.compression > (options.scheme === 'int4' ? 5.5 : 3.8), `${label}: compression ${info.compression}`);
    q.dispose();
  }
});

// ---- The integer pipeline written out from the formulas, for the engine to match bit for bit.
const f = Math.fround;
function quant(x: number, scale: number, zp: number, qmin: number, qmax: number): number {
  return Math.min(Math.max(roundHalfEven(f(f(x) * f(1 / scale))) + zp, qmin), qmax);
}
const relu = (v: number, layer: QuantizedLayer) => (layer.activation === 'relu' ? Math.max(v, 0) : v);
function weightScale(l: QuantizedLayer, n: number): number {
  return l.scales.length === 1 ? l.scales[0]! : l.scales[n]!;
}
function weightZero(l: QuantizedLayer, n: number): number {
  return l.zeroPoints ? (l.zeroPoints.length === 1 ? l.zeroPoints[0]! : l.zeroPoints[n]!) : 0;
}

// Static int8: u8 codes between layers; each output f32(acc)·f32(xs·ws) + bias, then requantised.
function staticReference(layers: readonly QuantizedLayer[], x: Float32Array): Float32Array {
  let q = Array.from(x, (v) => quant(v, layers[0]!.input!.scale, layers[0]!.input!.zeroPoint, 0, 255));
  let out = new Float32Array(0);
  layers.forEach((l, i) => {
    const { scale: xs, zeroPoint: zx } = l.input!;
    const vals = new Float32Array(l.units);
    for (let n = 0; n < l.units; n++) {
      let acc = 0;
      for (let k = 0; k < l.inputs; k++) acc += (q[k]! - zx) * (l.codes[n * l.inputs + k]! - weightZero(l, n));
      vals[n] = relu(f(f(f(acc) * f(xs * weightScale(l, n))) + l.bias[n]!), l);
    }
    const next = layers[i + 1]?.input;
    if (next) q = Array.from(vals, (v) => quant(v, next.scale, next.zeroPoint, 0, 255));
    else out = vals;
  });
  return out;
}

// Dynamic per row: the row's range gives quint8 parameters (PyTorch's formula), then the same
// f32 epilogue; f32 activations between layers.
function dynamicRowReference(layers: readonly QuantizedLayer[], x: Float32Array): Float32Array {
  let a = x;
  for (const l of layers) {
    let lo = Infinity,
      hi = -Infinity;
    for (const v of a) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
    const p = calculateQParams(lo, hi, QUINT8, false);
    const q = Array.from(a, (v) => quant(v, p.scale, p.zeroPoint, 0, 255));
    const next = new Float32Array(l.units);
    for (let n = 0; n < l.units; n++) {
      let acc = 0;
      for (let k = 0; k < l.inputs; k++) acc += (q[k]! - p.zeroPoint) * (l.codes[n * l.inputs + k]! - weightZero(l, n));
      next[n] = relu(f(f(f(acc) * f(p.scale * weightScale(l, n))) + l.bias[n]!), l);
    }
    a = next;
  }
  return a;
}

// Dynamic per chunk: one range over all rows of x (a chunk), then the same arithmetic per row.
function dynamicChunkReference(layers: readonly QuantizedLayer[], x: Float32Array): Float32Array {
  let a = x;
  let width = layers[0]!.inputs;
  for (const l of layers) {
    let lo = Infinity,
      hi = -Infinity;
    for (const v of a) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
    const p = calculateQParams(lo, hi, QUINT8, false);
    const q = Array.from(a, (v) => quant(v, p.scale, p.zeroPoint, 0, 255));
    const n = a.length / width;
    const next = new Float32Array(n * l.units);
    for (let r = 0; r < n; r++) {
      for (let u = 0; u < l.units; u++) {
        let acc = 0;
        for (let k = 0; k < l.inputs; k++) acc += (q[r * width + k]! - p.zeroPoint) * (l.codes[u * l.inputs + k]! - weightZero(l, u));
        next[r * l.units + u] = relu(f(f(f(acc) * f(p.scale * weightScale(l, u))) + l.bias[u]!), l);
      }
    }
    a = next;
    width = l.units;
  }
  return a;
}

// int4 weight-only: per group p = Σ x·(q − zp) in f32 (ascending k), then acc += p·scale.
function int4Reference(layers: readonly QuantizedLayer[], G: number, x: Float32Array): Float32Array {
  let a = x;
  for (const l of layers) {
    const groups = Math.ceil(l.inputs / G);
    const next = new Float32Array(l.units);
    for (let n = 0; n < l.units; n++) {
      let acc = 0;
      for (let g = 0; g < groups; g++) {
        const at = n * groups + g;
        let p = 0;
        for (let k = g * G; k < Math.min(l.inputs, (g + 1) * G); k++)
          p = f(p + f(a[k]! * (l.codes[n * l.inputs + k]! - (l.zeroPoints ? l.zeroPoints[at]! : 0))));
        acc = f(acc + f(p * l.scales[at]!));
      }
      next[n] = relu(f(acc + l.bias[n]!), l);
    }
    a = next;
  }
  return a;
}

// The same layers with raw outputs and no standardisation, so outputs compare bit for bit.
function rawTwin(q: QuantizedModel): QuantizedModel {
  return new QuantizedModel({
    scheme: q.scheme,
    symmetric: q.symmetric,
    groupSize: q.groupSize,
    dynamicRange: q.dynamicRange,
    task: 'regression',
    layers: q.layers,
  });
}

test('every engine path equals the integer pipeline written out in TS, bit for bit', () => {
  const cases: [QuantizeOptions, (layers: readonly QuantizedLayer[], x: Float32Array) => Float32Array][] = [
    [{ scheme: 'int8-per-channel', calibration }, staticReference],
    [{ scheme: 'int8-per-tensor', symmetric: false, calibration }, staticReference],
    [{ scheme: 'int8-dynamic', dynamicRange: 'row' }, dynamicRowReference],
    [{ scheme: 'int4', groupSize: 128 }, (l, x) => int4Reference(l, 128, x)], // 784 = 6·128 + 16: a short last group
    [{ scheme: 'int4', groupSize: 32, symmetric: false }, (l, x) => int4Reference(l, 32, x)],
  ];
  for (const [options, reference] of cases) {
    const q = rawTwin(quantize(model, options));
    const x = rows(5);
    const got = q.predict(x);
    for (let r = 0; r < 5; r++) {
      const want = reference(q.layers, x.subarray(r * 784, (r + 1) * 784));
      assert.deepEqual(
        bits(got.subarray(r * 10, r * 10 + 10)),
        bits(want),
        `${options.scheme} ${JSON.stringify(options.symmetric)} row ${r}`,
      );
    }
    q.dispose();
  }
});

test('per-chunk dynamic ranges equal the integer pipeline bit for bit, on one row and on a chunk', () => {
  for (const symmetric of [true, false]) {
    const q = rawTwin(quantize(model, { scheme: 'int8-dynamic', symmetric }));
    for (const n of [1, 2, 5]) {
      const x = rows(n);
      assert.deepEqual(bits(q.predict(x)), bits(dynamicChunkReference(q.layers, x)), `symmetric ${symmetric}, ${n} rows`);
    }
    q.dispose();
  }
});

test('rows past the first chunk of 1024, and every input form, give the same bits', () => {
  const q = quantize(model, { scheme: 'int8-per-channel', calibration });
  const n = 1030;
  const x = new Float32Array(n * 784);
  for (let r = 0; r < n; r++) x.set(holdout.features.subarray((r % 400) * 784, ((r % 400) + 1) * 784), r * 784);
  const all = q.predict(x);
  assert.equal(all.length, n * 10);
  for (const r of [0, 399, 1023, 1024, 1029])
    assert.deepEqual(bits(all.subarray(r * 10, (r + 1) * 10)), bits(q.predict(x.subarray(r * 784, (r + 1) * 784))), `row ${r}`);
  const three = x.subarray(0, 3 * 784);
  const want = bits(q.predict(three));
  assert.deepEqual(bits(q.predict(Array.from(three))), want, 'number[]');
  assert.deepEqual(bits(q.predict(Float64Array.from(three))), want, 'Float64Array');
  assert.deepEqual(bits(q.predict([0, 1, 2].map((r) => Array.from(three.subarray(r * 784, (r + 1) * 784))))), want, 'rows');
  assert.equal(q.predict(new Float32Array(0)).length, 0);
  const where = /QuantizedModel\(784→10\)\.predict: data must be finite, /;
  x[1027 * 784 + 5] = NaN;
  assert.throws(
    () => q.predict(x),
    (e: Error) => e instanceof RangeError && where.test(e.message) && /got NaN at row 1027, column 5$/.test(e.message),
  );
  const wide = Float64Array.from(three);
  wide[2] = 1e39; // finite in f64, Infinity in f32
  assert.throws(() => q.predict(wide), /got Infinity at row 0, column 2$/);
  const listed = [Array.from(three.subarray(0, 784)), Array.from(three.subarray(784, 1568))];
  listed[1]![783] = -Infinity;
  assert.throws(() => q.predict(listed), /got -Infinity at row 1, column 783$/);
  assert.deepEqual(bits(q.predict(three)), want, 'usable after a rejected call');
  q.dispose();
});

test('one row at a time gives the batched outputs exactly (static, per-row dynamic, int4); per-chunk dynamic ranges span the chunk', () => {
  for (const options of [
    { scheme: 'int8-per-channel', calibration },
    { scheme: 'int8-dynamic', dynamicRange: 'row' },
    { scheme: 'int4', groupSize: 64 },
  ] as QuantizeOptions[]) {
    const q = quantize(model, options);
    const all = q.predict(rows(9));
    for (let r = 0; r < 9; r++)
      assert.deepEqual(
        bits(q.predict(rows(9).subarray(r * 784, (r + 1) * 784))),
        bits(all.subarray(r * 10, (r + 1) * 10)),
        `${options.scheme} row ${r}`,
      );
    q.dispose();
  }
  const q = quantize(model, { scheme: 'int8-dynamic' });
  const one = q.predict(rows(1));
  const together = q.predict(rows(9)).subarray(0, 10);
  assert.ok(
    one.every((v, i) => Math.abs(v - together[i]!) < 0.05),
    'per-chunk ranges: close, not necessarily equal',
  );
  assert.deepEqual(q.info().dynamicRange, 'batch');
  q.dispose();
});

test('file round trip is bit-exact for every scheme; the bytes are stable', () => {
  for (const options of [
    { scheme: 'int8-per-tensor', calibration },
    { scheme: 'int8-per-channel', symmetric: false, calibration },
    { scheme: 'int8-dynamic', dynamicRange: 'row' },
    { scheme: 'int4', groupSize: 128 },
    { scheme: 'int4', groupSize: 32, symmetric: false },
  ] as QuantizeOptions[]) {
    const q = quantize(model, options);
    const bytes = quantizedModelToBytes(q);
    const back = quantizedModelFromBytes(bytes);
    assert.deepEqual(back.info(), q.info());
    back.layers.forEach((l, i) => assert.deepEqual(l, q.layers[i], `${options.scheme} layer ${i}`));
    assert.deepEqual(bits(back.predict(rows(20))), bits(q.predict(rows(20))), options.scheme);
    assert.deepEqual(quantizedModelToBytes(back), bytes);
    // The file is the payload, the standardisation (784 × 2 f32) and a small header (with its checksum).
    assert.ok(bytes.length < q.bytes + 784 * 8 + 2112, `${options.scheme}: file ${bytes.length} B for ${q.bytes} B of parameters`);
    assert.deepEqual(back.standardize, q.standardize);
    assert.deepEqual(back.classNames, q.classNames);
    assert.equal(back.featureNames, undefined, 'feature names are left out unless asked for');
    assert.deepEqual(quantizedModelFromBytes(quantizedModelToBytes(q, { featureNames: true })).featureNames, data.featureNames);
    q.dispose();
    back.dispose();
  }
});

// Rewrites one tensor or metadata field of a valid file.
function tamper(
  bytes: Uint8Array,
  edit: (t: Record<string, { dtype: string; shape: number[]; data: ArrayBufferView }>, m: Record<string, string>) => void,
): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const t = tensors as unknown as Record<string, { dtype: string; shape: number[]; data: ArrayBufferView }>;
  edit(t, metadata);
  return encodeSafetensors(t as never, metadata);
}

test('a damaged file is a ModelFileError naming the field', () => {
  const q8 = quantize(model, { scheme: 'int8-per-channel', symmetric: false, calibration });
  const q4 = quantize(model, { scheme: 'int4', groupSize: 32 });
  const b8 = quantizedModelToBytes(q8),
    b4 = quantizedModelToBytes(q4);
  const cases: [Uint8Array, RegExp][] = [
    [tamper(b8, (_, m) => (m.format = 'kiln.sequential')), /format is "kiln.sequential", expected 'kiln.quantized'/],
    [tamper(b8, (_, m) => (m.version = '9')), /format version "9" is not supported/],
    [tamper(b8, (_, m) => (m.scheme = 'int3')), /scheme must be one of int8-per-tensor, int8-per-channel, int8-dynamic, int4, got "int3"/],
    [tamper(b8, (_, m) => (m.symmetric = 'yes')), /symmetric must be 'true' or 'false'/],
    [tamper(b8, (_, m) => (m.layers = '{')), /__metadata__.layers is not valid JSON/],
    [tamper(b8, (t) => delete t['layers.1.bias']), /tensor 'layers.1.bias' is missing/],
    [
      tamper(b8, (t) => (t['layers.0.weight_scale'] = { dtype: 'F64', shape: [64], data: new Float64Array(64) })),
      /'layers.0.weight_scale' has dtype F64, expected F32/,
    ],
    [
      tamper(b8, (t) => (t['layers.0.weight_scale']!.data as Float32Array).fill(0, 3, 4)),
      /layer 0: scales\[3\] must be a positive finite f32, got 0/,
    ],
    [
      tamper(b8, (t) => (t['layers.2.weight_scale']!.data as Float32Array).fill(NaN, 0, 1)),
      /layer 2: scales\[0\] must be a positive finite f32, got NaN/,
    ],
    [
      tamper(b8, (t) => (t['layers.1.input_zero_point']!.data as Int32Array).fill(300)),
      /layer 1: input zero point must be an integer in \[0, 255\], got 300/,
    ],
    [
      tamper(b8, (t) => (t['layers.1.bias']!.data as Float32Array).fill(Infinity, 2, 3)),
      /layer 1 bias: data must be finite, got Infinity at index 2/,
    ],
    [tamper(b8, (t) => (t.extra = { dtype: 'U8', shape: [1], data: new Uint8Array(1) })), /unexpected tensor 'extra'/],
    [
      tamper(b8, (t) => (t['layers.0.weight'] = { dtype: 'I8', shape: [784, 64], data: new Int8Array(784 * 64) })),
      /'layers.0.weight' has shape \[784,64\], expected \[64,784\]/,
    ],
    [tamper(b4, (_, m) => (m.group_size = '48')), /group_size must be one of 32, 64, 128, got 48/],
    [tamper(b8, (t) => delete t['standardize.shift']), /tensor 'standardize.shift' is missing/],
    [tamper(b8, (_, m) => (m.class_names = '[1, 2]')), /class_names must be a JSON array of strings/],
    [tamper(b4, (_, m) => delete m.group_size), /group_size must be an integer for int4/],
    [
      tamper(b4, (t) => (t['layers.1.weight'] = { dtype: 'I8', shape: [32, 32], data: new Int8Array(1024) })),
      /'layers.1.weight' has dtype I8, expected U8/,
    ],
    [
      tamper(
        b8,
        (_, m) =>
          (m.layers = JSON.stringify([
            { inputs: 784, units: 64, activation: 'swish', alpha: 0.01 },
            { inputs: 64, units: 32, activation: 'relu', alpha: 0.01 },
            { inputs: 32, units: 10, activation: 'linear', alpha: 0.01 },
          ])),
      ),
      /activation must be one of/,
    ],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(
      () => quantizedModelFromBytes(bytes),
      (e: unknown) => e instanceof ModelFileError && message.test((e as Error).message),
      String(message),
    );
  }
  // The padding nibble of an odd row must be 0.
  const odd = new Sequential({ inputs: 5, layers: [dense(3)], seed: 1 });
  const qo = quantize(odd, { scheme: 'int4', groupSize: 32 });
  const bo = tamper(quantizedModelToBytes(qo), (t) => {
    (t['layers.0.weight']!.data as Uint8Array)[2]! |= 0x30;
  });
  assert.throws(() => quantizedModelFromBytes(bo), /row 0: the padding nibble must be 0/);
  for (const m of [q8, q4, qo, odd]) m.dispose();
});

test('bad options and data: clear errors; an all-zero layer gets scale eps and predicts its bias', () => {
  const where = /quantize/;
  assert.throws(
    () => quantize(model, { scheme: 'int3' as 'int4' }),
    /scheme must be one of int8-per-tensor, int8-per-channel, int8-dynamic, int4, got int3/,
  );
  assert.throws(() => quantize(model, { scheme: 'int4', groupSize: 48 }), /groupSize must be one of 32, 64, 128, got 48/);
  assert.throws(() => quantize(model, { scheme: 'int8-per-channel', groupSize: 32, calibration }), /groupSize applies to the int4 scheme/);
  assert.throws(() => quantize(model, { scheme: 'int8-per-tensor' }), /needs calibration: \{ data \}/);
  assert.throws(() => quantize(model, { scheme: 'int8-dynamic', calibration }), /int8-dynamic has none/);
  assert.throws(() => quantize(model, { scheme: 'int4', dynamicRange: 'row' }), /dynamicRange applies to the int8-dynamic scheme/);
  assert.throws(() => quantize(model, { scheme: 'int4', bits: 3 } as unknown as QuantizeOptions), /unknown option 'bits'/);
  const bad = holdout.features.slice(0, 784 * 3);
  bad[784 + 100] = NaN;
  assert.throws(
    () => quantize(model, { scheme: 'int8-per-channel', calibration: { data: bad } }),
    /calibration: data must be finite, got NaN at row 1, column 100/,
  );
  bad[784 + 100] = Infinity;
  assert.throws(() => quantize(model, { scheme: 'int8-per-channel', calibration: { data: bad } }), /got Infinity at row 1, column 100/);
  assert.throws(() => quantize(model, { scheme: 'int8-per-channel', calibration: { data: new Float32Array(0) } }), /data has no rows/);
  assert.throws(
    () => quantize(model, { scheme: 'int8-per-channel', calibration: { data: [[1, 2]] } }),
    /row 0 has 2 features, expected 784/,
  );
  assert.throws(() => quantize({} as Sequential, { scheme: 'int4' }), where);

  const zero = new Sequential({ inputs: 4, layers: [dense(3, 'relu'), dense(2)], task: 'regression', seed: 1 });
  zero.setParameters({
    'layers.0.weight': new Float32Array(12),
    'layers.0.bias': new Float32Array(3),
    'layers.1.weight': new Float32Array(6),
    'layers.1.bias': [0.5, -0.25],
  });
  for (const options of [
    { scheme: 'int8-per-channel', calibration: { data: [[0, 0, 0, 0]] } },
    { scheme: 'int8-per-tensor', calibration: { data: [[1, 2, 3, 4]] } },
    { scheme: 'int8-dynamic' },
    { scheme: 'int4', groupSize: 32 },
  ] as QuantizeOptions[]) {
    const q = quantize(zero, options);
    assert.ok(
      q.layers.every((l) => l.scales.every((s) => s === 2 ** -23)),
      `${options.scheme}: eps scales`,
    );
    assert.deepEqual(Array.from(q.predict([1, 2, 3, 4])), [0.5, -0.25], options.scheme);
    q.dispose();
  }
  zero.dispose();
});

test('quantisation-aware training: fit on fake-quantised weights and inputs, then an int8 model that computes what training saw', async () => {
  const student = new Sequential({ inputs: 784, layers: [dense(32, 'relu'), dense(10)], seed: 9 });
  await fit(student, train, { optimizer: adam({ lr: 2e-3 }), epochs: 3, batchSize: 64, seed: 9 });
  const f32 = accuracy(student.predictClasses(holdout.features));
  const qat = prepareQat(student);
  assert.throws(() => qat.convert(), /dense layer 0 has no activation range yet; train with fit\(\) first/);
  assert.throws(() => prepareQat(student), /already has hooks installed/);
  await fit(student, train, { optimizer: adam({ lr: 3e-4 }), epochs: 1, batchSize: 64, seed: 9 });
  const ranges = qat.ranges();
  assert.equal(ranges.length, 2);
  assert.ok(ranges[1]!.min >= 0 && ranges[1]!.max > 0, 'ReLU outputs feed layer 1');
  const q = qat.convert();
  assert.equal(q.calibration, 'qat');
  const fake = student.predict(holdout.features),
    real = q.predict(holdout.features);
  let worst = 0;
  for (let i = 0; i < fake.length; i++) worst = Math.max(worst, Math.abs(fake[i]! - real[i]!));
  assert.ok(worst < 1e-4, `fake-quantised f32 and int8 probabilities differ by ${worst}`);
  assert.ok(accuracy(q.predictClasses(holdout.features)) >= f32 - 0.02, 'QAT int8 accuracy');
  qat.detach();
  assert.equal(student.engine.hooks, undefined);
  assert.throws(() => prepareQat(student, { momentum: 0 }), /momentum must be in \(0, 1\], got 0/);
  assert.throws(() => prepareQat(student, { scheme: 'int4' as 'int8-per-channel' }), /scheme must be int8-per-channel or int8-per-tensor/);
  q.dispose();
  student.dispose();
});

test('QuantizedModelSpec validation names the field', () => {
  const q = quantize(model, { scheme: 'int8-per-channel', calibration });
  const spec: QuantizedModelSpec = { scheme: q.scheme, symmetric: true, task: 'classification', layers: q.layers };
  const layer0 = q.layers[0]!;
  const withLayer0 = (l: Partial<QuantizedLayer>) => ({ ...spec, layers: [{ ...layer0, ...l }, ...q.layers.slice(1)] });
  assert.throws(
    () => new QuantizedModel(withLayer0({ codes: new Int8Array(10) })),
    /layer 0: codes must be an Int8Array of 64×784, got Int8Array\(10\)/,
  );
  assert.throws(
    () => new QuantizedModel(withLayer0({ scales: new Float32Array(1) })),
    /layer 0: scales must be a Float32Array \[64\], got Float32Array\(1\)/,
  );
  assert.throws(() => new QuantizedModel(withLayer0({ zeroPoints: new Int32Array(64) })), /symmetric weights have no zero points/);
  assert.throws(() => new QuantizedModel(withLayer0({ input: undefined })), /static activations need the input's \{ scale, zeroPoint \}/);
  assert.throws(
    () => new QuantizedModel({ ...spec, layers: [layer0, q.layers[2]!] }),
    /layer 1: takes 32 inputs, the previous layer gives 64/,
  );
  assert.throws(
    () => new QuantizedModel({ ...spec, standardize: { scale: new Float32Array(3), shift: new Float32Array(3) } }),
    /standardize needs scale and shift as Float32Array of 784/,
  );
  assert.throws(
    () => new QuantizedModel({ ...spec, classNames: Array.from({ length: 11 }, String) }),
    /classNames must be 1 to 10 strings, got 11 entries/,
  );
  assert.throws(
    () => new QuantizedModel({ ...spec, scheme: 'int4', groupSize: 32 }),
    /layer 0: code -?\d+ at \[0, 0\] lies outside \[-8, 7\]/,
  );
  q.dispose();
});
