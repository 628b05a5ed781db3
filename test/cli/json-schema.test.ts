// The --json contract (README: "The --json contract"): every command prints one object that
// starts with the schema version, the package version and the command; `rows` is always the same
// object of counts; classification metrics name their classes. One model through every command
// that scores it, each output checked against the same rules.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSON_SCHEMA } from '../../src/cli/print.ts';
import { kilnBundled, kilnJson, limited, ROOT } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-json-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, 'iris.safetensors');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
const IRIS = ['setosa', 'versicolor', 'virginica'];

function checkCommon(out: Record<string, any>, command: string): void {
  assert.deepEqual(Object.keys(out).slice(0, 3), ['schema', 'kiln', 'command'], `${command}: the first three fields`);
  assert.equal(out.schema, JSON_SCHEMA);
  assert.equal(out.schema, 1, 'raising the schema version is a deliberate change: update the README and this test');
  assert.equal(out.kiln, VERSION);
  assert.equal(out.command, command);
}

function checkRows(rows: unknown, where: string): void {
  assert.equal(typeof rows, 'object', `${where}: rows is an object`);
  const r = rows as Record<string, unknown>;
  assert.deepEqual(Object.keys(r), ['total', 'train', 'validation', 'test'], `${where}: rows fields`);
  for (const v of Object.values(r)) assert.ok(Number.isInteger(v) && (v as number) >= 0, `${where}: counts`);
  assert.equal(r.total, (r.train as number) + (r.validation as number) + (r.test as number), `${where}: total is the sum`);
}

function checkMetrics(m: Record<string, any>, where: string): void {
  assert.equal(m.task, 'classification', where);
  assert.deepEqual(m.classNames, IRIS, `${where}: class names`);
  assert.equal(m.confusionMatrix.length, IRIS.length, where);
  for (const row of m.confusionMatrix) assert.equal(row.length, IRIS.length, where);
  assert.deepEqual(
    m.perClass.map((c: { class: string }) => c.class),
    IRIS,
    `${where}: perClass follows classNames`,
  );
  m.perClass.forEach((c: Record<string, number>, i: number) => {
    assert.equal(
      c.support,
      m.confusionMatrix[i].reduce((a: number, b: number) => a + b, 0),
      `${where}: support of ${IRIS[i]}`,
    );
    assert.equal(c.recall, m.report.recall[i], where);
  });
}

test('every command prints the versioned --json shape', async () => {
  const trained = await kilnJson(['train', '--data', 'iris', '--layers', '8', '--epochs', '30', '--lr', '0.01', '--out', model]);
  checkCommon(trained, 'train');
  checkRows(trained.rows, 'train');
  checkMetrics(trained.metrics, 'train');

  const [evaluated, predicted, info, pruned, quantized, distilled, bench] = await limited([
    () => kilnJson(['eval', '--model', model, '--data', 'iris']),
    () => kilnJson(['predict', '--model', model, '--data', 'iris']),
    () => kilnJson(['info', '--model', model, '--data', 'iris']),
    () => kilnJson(['prune', '--model', model, '--data', 'iris', '--sparsity', '0.5', '--epochs', '2']),
    () => kilnJson(['quantize', '--model', model, '--data', 'iris']),
    () => kilnJson(['distill', '--model', model, '--data', 'iris', '--layers', '4', '--epochs', '5']),
    () => kilnJson(['bench', '--model', model, '--rounds', '1', '--train-rows', '64']),
  ]);
  for (const [out, command] of [
    [evaluated, 'eval'],
    [predicted, 'predict'],
    [info, 'info'],
    [pruned, 'prune'],
    [quantized, 'quantize'],
    [distilled, 'distill'],
  ] as const) {
    checkCommon(out, command);
    checkRows(out.rows, command);
    checkMetrics(out.metrics, command);
  }
  checkMetrics(pruned.before.metrics, 'prune before');
  checkMetrics(quantized.float.metrics, 'quantize float');
  checkMetrics(distilled.teacher.metrics, 'distill teacher');
  checkCommon(bench, 'bench');
  assert.equal(typeof bench.training.rowsPerRound, 'number');
});

test('kiln --version prints the package version', async () => {
  for (const flag of ['--version', '-V']) {
    const run = await kilnBundled([flag]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), VERSION);
  }
});
