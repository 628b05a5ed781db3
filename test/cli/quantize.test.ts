// kiln quantize through the command line: int8 with calibration and int4, the quantized file read
// back by info, eval and predict.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iris } from '../../src/data/builtin.ts';
import { quantizedModelFromBytes } from '../../src/compress/quant/file.ts';
import { assertClose } from '../helpers/close.ts';
import { kilnBundled, kilnJson, limited } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-quantize-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const teacher = join(dir, 'float.safetensors');
const int8 = join(dir, 'int8.safetensors');
const dense = (inputs: number, hidden: number, outputs: number) => inputs * hidden + hidden + hidden * outputs + outputs;
const SPLIT = ['--data', 'iris', '--seed', '1'];

test('quantize a trained Iris model', async (t) => {
  const trained = await kilnJson(['train', ...SPLIT, '--layers', '32', '--epochs', '60', '--lr', '0.01', '--out', teacher]);
  const [quantized, int4] = await limited([
    () => kilnJson(['quantize', ...SPLIT, '--model', teacher, '--scheme', 'int8-per-channel', '--calibration', 'entropy', '--out', int8]),
    () => kilnJson(['quantize', ...SPLIT, '--model', teacher, '--scheme', 'int4', '--group-size', '32']),
  ]);
  const [int8Info, int8Eval, int8Predict] = await limited([
    () => kilnJson(['info', '--model', int8]),
    () => kilnJson(['eval', ...SPLIT, '--model', int8]),
    () => kilnBundled(['predict', '--model', int8, '--data', 'iris']),
  ]);

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
    assert.deepEqual(
      int8Info.tensors.map((x: { bits?: number }) => x.bits ?? null),
      [8, null, 8, null],
    );
    assert.deepEqual(int8Eval.metrics, quantized.metrics);
    assert.equal(int8Predict.code, 0, int8Predict.stderr);
    const model = quantizedModelFromBytes(new Uint8Array(readFileSync(int8)));
    const expected = model.predict(iris().features);
    const cells = int8Predict.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').slice(2).map(Number));
    assertClose(cells.flat(), expected, { atol: 1e-12, rtol: 1e-6 }, 'quantized probabilities');
  });

  await t.test('quantize: int4 in groups of 32', () => {
    assert.equal(int4.scheme, 'int4');
    assert.equal(int4.quantization.groupSize, 32);
    assert.ok(int4.quantization.compression > quantized.quantization.compression, 'int4 packs tighter than int8');
    assert.equal(int4.out, null);
  });
});
