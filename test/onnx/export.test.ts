// exportOnnx: every exported model runs in ONNX Runtime Web (wasm, an independent implementation)
// on the same rows as kiln. Float models agree within atol 1e-6 + rtol 1e-5; int8 static (QDQ)
// and dynamic models agree on ≥ 99.9 % of classes and within one quantization step of the last
// layer's input on regression outputs; dynamic int8 at batch 1 gives kiln's bits exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense, dropout } from '../../src/nn/layers/index.ts';
import { ACTIVATIONS } from '../../src/core/activation.ts';
import { quantize } from '../../src/compress/quant/quantize.ts';
import { pruneWeights } from '../../src/compress/prune/unstructured.ts';
import { SparseModel } from '../../src/compress/prune/sparse-model.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { decodeModel } from '../../src/onnx/proto.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';
import { runOrt } from './ort.ts';
import { classAgreement, maxAbsDiff, onnxChecker } from './helpers.ts';
import pkg from '../../package.json' with { type: 'json' };

const FLOAT_TOL = { atol: 1e-6, rtol: 1e-5 };
// Gemm's summation order differs between runtimes (ONNX Runtime's kernels use fused multiply-add
// and their own blocking): a small output that is the difference of large terms carries that
// rounding, so the absolute bound scales with the outputs' magnitude.
const scaled = (y: Float32Array) => ({ atol: 1e-5 * Math.max(1, ...Array.from(y, Math.abs)), rtol: 1e-5 });
const preprocessing = { mean: [1, -2, 0.5, 3, 0, 10], std: [0.5, 2, 1, 3, 0.25, 4], featureNames: ['a', 'b', 'c', 'd', 'e', 'f'] };

function model(task: 'classification' | 'binary' | 'regression', hidden: Parameters<typeof dense>[1][], seed = 7): Sequential {
  const outputs = task === 'binary' ? 1 : 4;
  const layers = hidden.flatMap((act, i) => [
    dense(12 + 4 * i, act, act === 'leaky_relu' ? { alpha: 0.1 } : {}),
    ...(i === 0 ? [dropout(0.2)] : []),
  ]);
  return new Sequential({
    inputs: 6,
    layers: [...layers, dense(outputs)],
    task,
    seed,
    preprocessing: { ...preprocessing, ...(task === 'classification' ? { classNames: ['w', 'x', 'y', 'z'] } : {}) },
  });
}

const rows = (n: number, seed = 1) => uniform(mulberry32(seed), 6 * n, -8, 12);

test('float models of every activation and task run in ONNX Runtime as in kiln', async () => {
  const x = rows(64);
  for (const task of ['classification', 'binary', 'regression'] as const) {
    for (const act of ACTIVATIONS) {
      const m = model(task, [act, act]);
      const bytes = exportOnnx(m);
      const expected = m.predict(x);
      assertClose((await runOrt(bytes, x, 6)).data, expected, scaled(expected), `${task} ${act} batch 64`);
      assertClose(
        (await runOrt(bytes, x.subarray(0, 6), 6)).data,
        expected.subarray(0, m.outputs),
        scaled(expected),
        `${task} ${act} batch 1`,
      );
      m.dispose();
    }
  }
});

test('a pruned model exports dense, from the Sequential and from its SparseModel', async () => {
  const m = model('classification', ['relu', 'gelu']);
  pruneWeights(m, { sparsity: 0.8 });
  const sparse = SparseModel.from(m);
  const x = rows(64, 3);
  const expected = sparse.predict(x);
  assertClose((await runOrt(exportOnnx(m), x, 6)).data, expected, scaled(expected), 'Sequential');
  assertClose((await runOrt(exportOnnx(sparse), x, 6)).data, expected, scaled(expected), 'SparseModel');
  sparse.dispose();
  m.dispose();
});

// One quantization step of every input of the last layer, carried through its weights: the
// largest change of an output when each input code of the last layer moves by one.
function lastLayerStep(q: ReturnType<typeof quantize>): number {
  const l = q.layers.at(-1)!;
  const inputScale = l.input?.scale ?? Math.max(...q.layers.map((p) => p.input?.scale ?? 0));
  let worst = 0;
  for (let n = 0; n < l.units; n++) {
    let s = 0;
    for (let k = 0; k < l.inputs; k++)
      s += Math.abs(
        (l.codes[n * l.inputs + k]! - (l.zeroPoints?.[l.scales.length > 1 ? n : 0] ?? 0)) * l.scales[l.scales.length > 1 ? n : 0]!,
      );
    worst = Math.max(worst, s);
  }
  return inputScale * worst;
}

const STATIC = [
  ['int8-per-channel', true],
  ['int8-per-tensor', true],
  ['int8-per-channel', false],
] as const;

test('static int8 models export as QDQ and agree with kiln: classes ≥ 99.9 %, outputs within one step', async () => {
  const cal = rows(256, 11);
  const x = rows(4000, 12);
  for (const [scheme, symmetric] of STATIC) {
    for (const task of ['classification', 'regression'] as const) {
      const m = model(task, ['relu', 'gelu', 'tanh']);
      const q = quantize(m, { scheme, symmetric, calibration: { data: cal } });
      const bytes = exportOnnx(q);
      const ort = (await runOrt(bytes, x, 6)).data;
      const kiln = q.predict(x);
      const label = `${scheme} ${symmetric ? 'symmetric' : 'affine'} ${task}`;
      if (task === 'classification')
        assert.ok(classAgreement(ort, kiln, 4) >= 0.999, `${label}: class agreement ${classAgreement(ort, kiln, 4)}`);
      else
        assert.ok(
          maxAbsDiff(ort, kiln) <= lastLayerStep(q),
          `${label}: max |diff| ${maxAbsDiff(ort, kiln)} > one step ${lastLayerStep(q)}`,
        );
      const nodes = decodeModel(bytes).graph!.nodes;
      assert.ok(
        nodes.some((n) => n.opType === 'QuantizeLinear') && nodes.some((n) => n.opType === 'DequantizeLinear'),
        `${label}: QDQ nodes`,
      );
      const weights = decodeModel(bytes).graph!.initializers.find((t) => t.name === 'layers.0.weight_quantized')!;
      assert.equal(weights.dataType, 3, 'int8 weight codes');
      assert.deepEqual(weights.dims, [12, 6]);
      const scale = decodeModel(bytes).graph!.initializers.find((t) => t.name === 'layers.0.weight_scale')!;
      assert.deepEqual(scale.dims, scheme === 'int8-per-channel' ? [12] : [], 'one scale per output channel');
      q.dispose();
      m.dispose();
    }
  }
});

test('dynamic int8 exports as DynamicQuantizeLinear + MatMulInteger: kiln bits at batch 1, one step batched', async () => {
  const x = rows(500, 21);
  for (const task of ['classification', 'regression'] as const) {
    // ReLU-family activations: exact in both runtimes, so a row's raw outputs match bit for bit.
    const m = model(task, ['relu', 'leaky_relu', 'relu']);
    const q = quantize(m, { scheme: 'int8-dynamic' });
    const bytes = exportOnnx(q);
    const ops = decodeModel(bytes).graph!.nodes.map((n) => n.opType);
    assert.ok(ops.includes('DynamicQuantizeLinear') && ops.includes('MatMulInteger'), ops.join(','));
    for (let r = 0; r < 40; r++) {
      const row = x.subarray(6 * r, 6 * r + 6);
      // Raw outputs carry kiln's exact bits; softmax implementations differ in the last bit.
      if (task === 'regression')
        assert.deepEqual(Array.from((await runOrt(bytes, row, 6)).data), Array.from(q.predict(row)), `${task} row ${r}`);
      else assertClose((await runOrt(bytes, row, 6)).data, q.predict(row), FLOAT_TOL, `${task} row ${r}`);
    }
    const ort = (await runOrt(bytes, x, 6)).data;
    const kiln = q.predict(x);
    if (task === 'classification') assert.ok(classAgreement(ort, kiln, 4) >= 0.999, `class agreement ${classAgreement(ort, kiln, 4)}`);
    else assert.ok(maxAbsDiff(ort, kiln) <= lastLayerStep(q), `max |diff| ${maxAbsDiff(ort, kiln)} > one step ${lastLayerStep(q)}`);
    q.dispose();
    m.dispose();
  }
});

test('int4 models export with their dequantized weights', async () => {
  const m = model('regression', ['relu', 'gelu']);
  const q = quantize(m, { scheme: 'int4', groupSize: 32 });
  const x = rows(64, 5);
  const expected = q.predict(x);
  assertClose((await runOrt(exportOnnx(q), x, 6)).data, expected, scaled(expected), 'int4');
  q.dispose();
  m.dispose();
});

test('the file names its producer, opset, symbolic batch, names and preprocessing', () => {
  const m = model('classification', ['relu']);
  const decoded = decodeModel(exportOnnx(m, { inputName: 'features', outputName: 'probabilities' }));
  assert.equal(decoded.producerName, 'kiln');
  assert.equal(decoded.producerVersion, pkg.version);
  assert.deepEqual(decoded.opsetImports, [{ domain: '', version: 13 }]);
  assert.deepEqual(decoded.graph!.inputs, [{ name: 'features', elemType: 1, shape: ['batch', 6] }]);
  assert.deepEqual(decoded.graph!.outputs, [{ name: 'probabilities', elemType: 1, shape: ['batch', 4] }]);
  const meta = Object.fromEntries(decoded.metadata.map((e) => [e.key, e.value]));
  assert.equal(meta['kiln.task'], 'classification');
  assert.deepEqual(JSON.parse(meta['kiln.preprocessing']!), { ...preprocessing, classNames: ['w', 'x', 'y', 'z'] });
  assert.deepEqual(
    decoded.graph!.nodes.map((n) => n.opType),
    ['Mul', 'Add', 'Gemm', 'Relu', 'Gemm', 'Softmax'],
  );
  m.dispose();
});

test('bad export options and models are refused', () => {
  const m = model('regression', ['relu']);
  assert.throws(() => exportOnnx(m, { inputName: 'x', outputName: 'x' }), /exportOnnx: inputName and outputName must differ, both are 'x'/);
  assert.throws(() => exportOnnx(m, { inputName: '' }), /exportOnnx: inputName must be a non-empty string/);
  assert.throws(() => exportOnnx(m, { opset: 17 } as never), TypeError);
  assert.throws(() => exportOnnx({} as never), /exportOnnx: model must be a Sequential, SparseModel or QuantizedModel, got Object/);
  m.dispose();
});

test('exported files pass the ONNX checker', (t) => {
  const float = model('classification', ['gelu', 'leaky_relu']);
  const cal = rows(64, 2);
  const models = {
    float: exportOnnx(float),
    binary: exportOnnx(model('binary', ['tanh'])),
    qdq: exportOnnx(quantize(float, { scheme: 'int8-per-channel', calibration: { data: cal } })),
    qdqAffine: exportOnnx(quantize(float, { scheme: 'int8-per-tensor', symmetric: false, calibration: { data: cal } })),
    dynamic: exportOnnx(quantize(float, { scheme: 'int8-dynamic' })),
    int4: exportOnnx(quantize(float, { scheme: 'int4', groupSize: 32 })),
  };
  const result = onnxChecker(models);
  if (result === undefined) return t.skip('python3 with the onnx package is not installed: the ONNX checker did not run');
  assert.equal(result, '');
});
