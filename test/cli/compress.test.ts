// prune and distill through the command line: counts that follow from the architecture, files
// that match what was reported, and eval agreeing with the numbers printed at compression time.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iris } from '../../src/data/builtin.ts';
import { loadQuantizedModel } from '../../src/io/quantized-file.ts';
import { assertClose } from '../helpers/close.ts';
import { kilnBundled, kilnJson, limited } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-compress-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const teacher = join(dir, 'teacher.safetensors');
const masked = join(dir, 'masked.safetensors');
const smaller = join(dir, 'smaller.safetensors');
const student = join(dir, 'student.safetensors');
const int8 = join(dir, 'int8.safetensors');
const dense = (inputs: number, hidden: number, outputs: number) => inputs * hidden + hidden + hidden * outputs + outputs;
const SPLIT = ['--data', 'iris', '--seed', '1'];

test('prune, distill and quantize a trained Iris model', async (t) => {
  const trained = await kilnJson(['train', ...SPLIT, '--layers', '32', '--epochs', '60', '--lr', '0.01', '--out', teacher]);
  assert.equal(trained.parameters, dense(4, 32, 3));

  const [pruned, shrunk, distilled, quantized, int4] = await limited([
    () => kilnJson(['prune', ...SPLIT, '--model', teacher, '--sparsity', '0.5', '--epochs', '0', '--out', masked]),
    () => kilnJson(['prune', ...SPLIT, '--model', teacher, '--sparsity', '0.5', '--structured', '--steps', '2', '--epochs', '2', '--lr', '0.01', '--out', smaller]),
    () => kilnJson(['distill', ...SPLIT, '--model', teacher, '--layers', '8', '--epochs', '60', '--lr', '0.01', '--out', student]),
    () => kilnJson(['quantize', ...SPLIT, '--model', teacher, '--scheme', 'int8-per-channel', '--calibration', 'entropy', '--out', int8]),
    () => kilnJson(['quantize', ...SPLIT, '--model', teacher, '--scheme', 'int4', '--group-size', '32']),
  ]);
  const [maskedInfo, maskedEval, smallerInfo, studentEval, int8Info, int8Eval, int8Predict] = await limited([
    () => kilnJson(['info', '--model', masked]),
    () => kilnJson(['eval', ...SPLIT, '--model', masked]),
    () => kilnJson(['info', '--model', smaller]),
    () => kilnJson(['eval', ...SPLIT, '--model', student]),
    () => kilnJson(['info', '--model', int8]),
    () => kilnJson(['eval', ...SPLIT, '--model', int8]),
    () => kilnBundled(['predict', '--model', int8, '--data', 'iris']),
  ]);

  await t.test('one-shot weight pruning: exact per-layer counts, sparse file', () => {
    // Layer scope: round(0.5 · n) of each layer's n weights.
    assert.deepEqual(pruned.layers, [{ layer: 0, weights: 128, pruned: 64 }, { layer: 1, weights: 96, pruned: 48 }]);
    assert.equal(pruned.sparsity, 112 / 224);
    assert.equal(pruned.parameters, dense(4, 32, 3));
    assert.equal(pruned.storedParameters, dense(4, 32, 3) - 112);
    assert.equal(pruned.format, 'sparse');
    assert.equal(pruned.bytes, statSync(masked).size);
    assert.deepEqual(pruned.before.metrics, trained.metrics, 'before: the model as trained, on the same split');
    assert.ok(pruned.bytes < pruned.before.bytes, `${pruned.bytes} < ${pruned.before.bytes}`);
  });

  await t.test('info and eval read the pruned file back', () => {
    assert.equal(maskedInfo.format, 'kiln.sequential.sparse');
    assert.equal(maskedInfo.zeroWeights, 112);
    assert.equal(maskedInfo.sparsity, 0.5);
    assert.equal(maskedInfo.bytes, statSync(masked).size);
    assert.deepEqual(maskedEval.metrics, pruned.metrics);
  });

  await t.test('structured pruning: half the hidden neurons, a smaller dense model', () => {
    assert.equal(shrunk.architecture, '4 → dense(16, relu) → dense(3) · classification');
    assert.equal(shrunk.parameters, dense(4, 16, 3));
    assert.equal(shrunk.format, 'dense');
    assert.equal(shrunk.bytes, statSync(smaller).size);
    assert.equal(smallerInfo.parameters, dense(4, 16, 3));
    assert.equal(smallerInfo.format, 'kiln.sequential');
    assert.ok(shrunk.metrics.accuracy >= 0.8, `accuracy ${shrunk.metrics.accuracy}`);
  });

  await t.test('distill: a student of the asked size that learns from the teacher', () => {
    assert.equal(distilled.parameters, dense(4, 8, 3));
    assert.equal(distilled.teacher.parameters, dense(4, 32, 3));
    assert.deepEqual(distilled.teacher.metrics, trained.metrics);
    assert.equal(distilled.bytes, statSync(student).size);
    assert.equal(distilled.epochs, 60);
    assert.ok(distilled.metrics.accuracy >= 0.9, `student accuracy ${distilled.metrics.accuracy}`);
    assert.deepEqual(studentEval.metrics, distilled.metrics);
  });

  await t.test('quantize: int8 per channel with entropy calibration, read back by info, eval and predict', async () => {
    assert.equal(quantized.scheme, 'int8-per-channel');
    assert.equal(quantized.parameters, dense(4, 32, 3));
    assert.equal(quantized.bytes, statSync(int8).size);
    assert.deepEqual(quantized.float.metrics, trained.metrics);
    assert.ok(quantized.metrics.accuracy >= 0.9, `int8 accuracy ${quantized.metrics.accuracy}`);
    // int8 codes: one byte per weight, f32 scales per output row, f32 biases, input scale and zero point.
    const layerBytes = (i: number, u: number) => u * i + u * 4 + u * 4 + 8;
    assert.equal(quantized.quantization.bytes, layerBytes(4, 32) + layerBytes(32, 3));
    assert.equal(quantized.quantization.calibration, 'entropy');
    assert.equal(int8Info.format, 'kiln.quantized');
    assert.equal(int8Info.quantization.scheme, 'int8-per-channel');
    assert.equal(int8Info.parameters, dense(4, 32, 3));
    assert.equal(int8Info.bytes, statSync(int8).size);
    assert.deepEqual(int8Info.tensors.map((x: { bits?: number }) => x.bits ?? null), [8, null, 8, null]);
    assert.deepEqual(int8Eval.metrics, quantized.metrics);
    assert.equal(int8Predict.code, 0, int8Predict.stderr);
    const model = await loadQuantizedModel(int8);
    const expected = model.predict(iris().features);
    const cells = int8Predict.stdout.trim().split('\n').slice(1).map((l) => l.split(',').slice(2).map(Number));
    assertClose(cells.flat(), expected, { atol: 1e-12, rtol: 1e-6 }, 'quantized probabilities');
  });

  await t.test('quantize: int4 in groups of 32', () => {
    assert.equal(int4.scheme, 'int4');
    assert.equal(int4.quantization.groupSize, 32);
    assert.ok(int4.quantization.compression > quantized.quantization.compression, 'int4 packs tighter than int8');
    assert.equal(int4.out, null);
  });
});
