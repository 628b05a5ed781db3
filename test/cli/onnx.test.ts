// kiln export and kiln import as a user runs them: a trained, quantized model exported and run in
// ONNX Runtime with kiln's predictions; an ONNX file imported, evaluated and used as a teacher.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/io/model-file.ts';
import { loadQuantizedModel } from '../../src/compress/quant/file.ts';
import { iris } from '../../src/data/builtin.ts';
import { runOrt } from '../onnx/ort.ts';
import { classAgreement } from '../onnx/helpers.ts';
import { assertClose } from '../helpers/close.ts';
import { kilnBundled, kilnJson } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-onnx-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => join(dir, name);
const SPLIT = ['--data', 'iris', '--seed', '1'];

test('train, quantize, export: ONNX Runtime predicts what kiln predicts', async () => {
  await kilnJson(['train', ...SPLIT, '--layers', '16', '--epochs', '40', '--lr', '0.01', '--out', file('iris.safetensors')]);
  await kilnJson(['quantize', ...SPLIT, '--model', file('iris.safetensors'), '--out', file('iris-int8.safetensors')]);
  const float = await kilnJson(['export', '--format', 'onnx', '--model', file('iris.safetensors'), '--out', file('iris.onnx')]);
  const int8 = await kilnJson(['export', '--model', file('iris-int8.safetensors'), '--out', file('iris-int8.onnx')]);
  assert.equal(float.bytes, statSync(file('iris.onnx')).size);
  assert.match(int8.storage, /int8-per-channel/);
  const x = (await iris()).features;
  const model = await loadModel(file('iris.safetensors'));
  const expected = model.predict(x);
  assertClose((await runOrt(new Uint8Array(readFileSync(file('iris.onnx'))), x, 4)).data, expected, { atol: 1e-5, rtol: 1e-5 });
  const q = await loadQuantizedModel(file('iris-int8.safetensors'));
  const ort = (await runOrt(new Uint8Array(readFileSync(file('iris-int8.onnx'))), x, 4)).data;
  assert.equal(classAgreement(ort, q.predict(x), 3), 1);
  model.dispose();
  q.dispose();
});

test('import an ONNX file, evaluate it, and use .onnx directly as a distillation teacher', async () => {
  const imported = await kilnJson(['import', '--model', file('iris.onnx'), '--out', file('back.safetensors')]);
  assert.equal(imported.architecture, '4 → dense(16, relu) → dense(3) · classification');
  const [a, b] = await Promise.all([
    kilnJson(['eval', ...SPLIT, '--model', file('iris.safetensors')]),
    kilnJson(['eval', ...SPLIT, '--model', file('back.safetensors')]),
  ]);
  assert.deepEqual(b.metrics, a.metrics);
  const student = await kilnJson(['distill', ...SPLIT, '--model', file('iris.onnx'), '--layers', '4', '--epochs', '5', '--lr', '0.01']);
  assert.equal(student.teacher.architecture, '4 → dense(16, relu) → dense(3) · classification');
});

test('errors name the file and what is wrong', async () => {
  const notOnnx = await kilnBundled(['import', '--model', file('iris.safetensors')]);
  assert.equal(notOnnx.code, 1);
  assert.match(notOnnx.stderr, /^kiln: error: .*iris\.safetensors: model: invalid field number 0 at byte \d+\n$/);
  const noOut = await kilnBundled(['export', '--model', file('iris.safetensors')]);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /--out <file> is required/);
  const format = await kilnBundled(['export', '--format', 'tflite', '--model', file('iris.safetensors'), '--out', file('x')]);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /Allowed choices are onnx/);
});
