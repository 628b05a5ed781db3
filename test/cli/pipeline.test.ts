// kiln pipeline end to end, once src/index.ts exports the pipeline API: every stage measured,
// the final model and the report written, and the model file read back by info and eval.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kiln, kilnBundled, kilnJson, limited } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-pipeline-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const outDir = join(dir, 'run');

test('pipeline on Iris: search, distill, prune, quantize', async () => {
  const run = await kilnJson([
    'pipeline',
    '--data',
    'iris',
    '--seed',
    '2',
    '--trials',
    '4',
    '--epochs',
    '10',
    '--distill-epochs',
    '5',
    '--out',
    outDir,
  ]);
  assert.deepEqual(
    run.stages.map((s: { stage: string }) => s.stage),
    ['search', 'distill', 'prune', 'quantize'],
  );
  const last = run.stages.at(-1);
  assert.deepEqual(run.metrics, { task: 'classification', accuracy: last.accuracy, classNames: ['setosa', 'versicolor', 'virginica'] });
  assert.deepEqual(run.rows, { total: 150, ...run.data.rows });
  assert.equal(run.parameters, last.parameters);
  const model = join(outDir, 'model.safetensors');
  assert.equal(run.bytes, statSync(model).size);
  assert.ok(existsSync(join(outDir, 'report.html')) && existsSync(join(outDir, 'pipeline.json')));
  const [info, scored] = await limited([
    () => kilnJson(['info', '--model', model]),
    () => kilnJson(['eval', '--model', model, '--data', 'iris', '--seed', '2']),
  ]);
  assert.equal(info.format, 'kiln.quantized');
  assert.equal(info.parameters, last.parameters);
  assert.equal(info.bytes, run.bytes);
  // The pipeline holds out its own test rows (test and validation split together), so eval's
  // default split is a different set of rows; the model must still be a working classifier.
  assert.equal(scored.rows.test, 30);
  assert.equal(typeof scored.metrics.accuracy, 'number');
});

// Through tsx from the sources: the test bundle carries the library inside itself, so the worker
// files that dist/cli.mjs finds beside kiln.mjs are not beside it.
test('pipeline --workers 2: trials on two threads, the same run for the same seed', async () => {
  const args = [
    'pipeline',
    '--data',
    'iris',
    '--seed',
    '4',
    '--trials',
    '4',
    '--epochs',
    '6',
    '--workers',
    '2',
    '--distill-epochs',
    '3',
    '--prune-steps',
    '1',
  ];
  const [a, b] = await limited([() => kilnJson(args, kiln), () => kilnJson(args, kiln)]);
  assert.deepEqual(
    a.stages.map((s: { stage: string }) => s.stage),
    ['search', 'distill', 'prune', 'quantize'],
  );
  assert.equal(a.trials.length, 4);
  const timeless = (r: Record<string, any>) => ({
    stages: r.stages.map(({ seconds: _s, latencyUs: _l, speedup: _p, ...rest }: Record<string, unknown>) => rest),
    trials: r.trials.map(({ durationMs: _, startedAt: __, ...rest }: Record<string, unknown>) => rest),
    bestTrial: r.bestTrial,
    metrics: r.metrics,
    bytes: r.bytes,
  });
  assert.deepEqual(timeless(b), timeless(a));
});

test('pipeline --workers takes an integer of at least 1', async () => {
  for (const bad of ['0', '1.5', 'two']) {
    const run = await kilnBundled(['pipeline', '--data', 'iris', '--workers', bad]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /^kiln: error: option '--workers <n>' argument '[^']+' is invalid\. Expected an integer in \[1, 1024\]\.\n$/);
  }
});
