// prune and distill through the command line: counts that follow from the architecture, files
// that match what was reported, and eval agreeing with the numbers printed at compression time.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kilnJson, limited } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-compress-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const teacher = join(dir, 'teacher.safetensors');
const masked = join(dir, 'masked.safetensors');
const smaller = join(dir, 'smaller.safetensors');
const student = join(dir, 'student.safetensors');
const dense = (inputs: number, hidden: number, outputs: number) => inputs * hidden + hidden + hidden * outputs + outputs;
const SPLIT = ['--data', 'iris', '--seed', '1'];

test('prune and distill a trained Iris model', async (t) => {
  const trained = await kilnJson(['train', ...SPLIT, '--layers', '32', '--epochs', '60', '--lr', '0.01', '--out', teacher]);
  assert.equal(trained.parameters, dense(4, 32, 3));

  const [pruned, shrunk, distilled, transferred] = await limited([
    () => kilnJson(['prune', ...SPLIT, '--model', teacher, '--sparsity', '0.5', '--scope', 'layer', '--epochs', '0', '--out', masked]),
    () =>
      kilnJson([
        'prune',
        ...SPLIT,
        '--model',
        teacher,
        '--sparsity',
        '0.5',
        '--structured',
        '--steps',
        '2',
        '--epochs',
        '2',
        '--lr',
        '0.01',
        '--out',
        smaller,
      ]),
    () => kilnJson(['distill', ...SPLIT, '--model', teacher, '--layers', '8', '--epochs', '60', '--lr', '0.01', '--out', student]),
    () => kilnJson(['distill', ...SPLIT, '--model', teacher, '--layers', '8', '--epochs', '30', '--lr', '0.01', '--transfer', 'mixup=1']),
  ]);
  const [maskedInfo, maskedEval, smallerInfo, studentEval] = await limited([
    () => kilnJson(['info', '--model', masked]),
    () => kilnJson(['eval', ...SPLIT, '--model', masked]),
    () => kilnJson(['info', '--model', smaller]),
    () => kilnJson(['eval', ...SPLIT, '--model', student]),
  ]);

  await t.test('one-shot weight pruning: exact per-layer counts, sparse file', () => {
    // Layer scope: round(0.5 · n) of each layer's n weights.
    assert.deepEqual(pruned.layers, [
      { layer: 0, type: 'dense', weights: 128, pruned: 64 },
      { layer: 1, type: 'dense', weights: 96, pruned: 48 },
    ]);
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

  await t.test('distill --transfer: synthetic rows (mixup) only the teacher labels', () => {
    assert.equal(transferred.parameters, dense(4, 8, 3));
    assert.ok(transferred.metrics.accuracy >= 0.9, `student accuracy ${transferred.metrics.accuracy}`);
  });
});
