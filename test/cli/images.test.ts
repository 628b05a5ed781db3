// A folder of images as --data: kiln search picks the convolutional space, the saved CNN reads
// the folder at its own input shape in eval and predict, and kiln info lists each layer's shape.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kilnBundled, kilnJson } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-images-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const FOLDER = fileURLToPath(new URL('../fixtures/images/', import.meta.url));

test('kiln search, info, eval and predict on a folder of PNG and JPEG images', async () => {
  const model = join(dir, 'cnn.kiln');
  const found = await kilnJson(['search', '--data', FOLDER, '--image-size', '8', '--trials', '1', '--epochs', '1', '--out', model]);
  assert.ok('conv_blocks' in found.best.params, JSON.stringify(found.best.params));
  const info = await kilnJson(['info', '--model', model]);
  assert.match(info.architecture, /^\[1, 8, 8\] → conv2d\(/);
  assert.deepEqual(info.layers[0].inputShape, [1, 8, 8]);
  assert.deepEqual(info.layers.at(-1).outputShape, [2]);
  for (const [i, l] of info.layers.entries()) if (i > 0) assert.deepEqual(l.inputShape, info.layers[i - 1].outputShape);
  // The model's own shape wins over --image-size.
  const scored = await kilnJson(['eval', '--model', model, '--data', FOLDER, '--test-split', '1', '--image-size', '5']);
  assert.equal(scored.rows.total, 8);
  const run = await kilnBundled(['predict', '--model', model, '--data', FOLDER, '--test-split', '1']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim().split('\n').length, 9);
  const bad = await kilnBundled(['search', '--data', FOLDER, '--image-size', '8x', '--trials', '1']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--image-size.*expected <height>\[x<width>\]/);
});
