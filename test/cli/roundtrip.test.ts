// train → save → info → eval → predict → bench on Iris, through the real command line.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iris } from '../../src/data/builtin.ts';
import { loadModel } from '../../src/io/model-file.ts';
import { assertClose } from '../helpers/close.ts';
import { kiln, kilnBundled, kilnJson, limited } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
const modelPath = join(dir, 'iris.safetensors');
after(() => rmSync(dir, { recursive: true, force: true }));
// 4 inputs → 8 hidden → 3 classes: weights and biases of both layers.
const PARAMETERS = 4 * 8 + 8 + 8 * 3 + 3;
const TRAIN = ['train', '--data', 'iris', '--layers', '8', '--epochs', '60', '--lr', '0.01', '--seed', '1', '--out', modelPath];

test('train → info → eval → predict → bench round trip', async (t) => {
  // From the sources through tsx once; the rest through the bundle (see run.ts).
  const trained = await kilnJson(TRAIN, kiln);

  await t.test('train --json: test accuracy, parameter count, file size', () => {
    assert.equal(trained.command, 'train');
    assert.ok(trained.metrics.accuracy >= 0.9, `test accuracy ${trained.metrics.accuracy}`);
    assert.equal(trained.parameters, PARAMETERS);
    assert.equal(trained.bytes, statSync(modelPath).size);
    assert.deepEqual(trained.rows, { total: 150, train: 120, validation: 0, test: 30 }, 'the default 0.2 test split of 150 rows');
    assert.equal(trained.epochs, 60);
    assert.equal(trained.history.length, 60);
    assert.equal(trained.out, modelPath);
    const total = trained.metrics.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0);
    assert.equal(total, 30);
  });

  const [info, evaluated, everyRow, predicted, csv, bench] = await limited([
    () => kilnJson(['info', '--model', modelPath]),
    () => kilnJson(['eval', '--model', modelPath, '--data', 'iris', '--seed', '1']),
    () => kilnJson(['eval', '--model', modelPath, '--data', 'iris', '--test-split', '1']),
    () => kilnJson(['predict', '--model', modelPath, '--data', 'iris']),
    () => kilnBundled(['predict', '--model', modelPath, '--data', 'iris']),
    () =>
      kilnJson(['bench', '--model', modelPath, '--data', 'iris', '--seed', '1', '--repeat', '20', '--rounds', '1', '--train-rows', '64']),
  ]);
  const model = await loadModel(modelPath);
  const data = iris();
  const expected = model.predict(data.features);

  await t.test('info --json describes the saved file', () => {
    assert.equal(info.parameters, PARAMETERS);
    assert.equal(info.bytes, statSync(modelPath).size);
    assert.equal(info.format, 'kiln.sequential');
    assert.match(info.storage, /float32/);
    assert.equal(info.task, 'classification');
    // Which core ran: the threaded one where the runtime allows it, with its reason either way.
    assert.ok(Number.isInteger(info.core.threads) && info.core.threads >= 1, JSON.stringify(info.core));
    assert.match(info.core.summary, info.core.threads > 1 ? /^threaded core, \d+ threads on worker_threads/ : /^single-thread core: /);
    assert.equal(info.weights, 4 * 8 + 8 * 3);
    assert.equal(info.sparsity, 0, 'trained dense weights are not exactly zero');
    assert.deepEqual(info.preprocessing.classNames, ['setosa', 'versicolor', 'virginica']);
    assert.equal(info.preprocessing.standardize, true);
    assert.deepEqual(
      info.tensors.map((x: { shape: number[] }) => x.shape),
      [[8, 4], [8], [3, 8], [3]],
    );
  });

  await t.test('eval scores the same held-out rows train did', () => {
    assert.deepEqual(evaluated.rows, { total: 30, train: 0, validation: 0, test: 30 });
    assert.deepEqual(evaluated.metrics, trained.metrics);
    assert.equal(evaluated.parameters, PARAMETERS);
    assert.equal(evaluated.bytes, statSync(modelPath).size);
  });

  await t.test('eval --test-split 1 scores every row; accuracy matches the in-process model', () => {
    assert.equal(everyRow.rows.test, 150);
    const classes = model.predictClasses(data.features);
    let hits = 0;
    for (let i = 0; i < data.numRows; i++) if (classes[i] === data.labels[i]) hits++;
    assert.equal(everyRow.metrics.accuracy, hits / 150);
  });

  await t.test('predict --json: every row, probabilities of the loaded model', () => {
    assert.equal(predicted.rows.test, 150);
    assert.equal(predicted.predictions.length, 150);
    assertClose(predicted.probabilities.flat(), expected, { atol: 1e-12, rtol: 1e-6 }, 'probabilities');
    assert.equal(predicted.metrics.accuracy, everyRow.metrics.accuracy);
  });

  await t.test('predict writes CSV to stdout: label, prediction, one probability per class', () => {
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stderr, '');
    const lines = csv.stdout.trim().split('\n');
    assert.equal(lines[0], 'label,prediction,p_setosa,p_versicolor,p_virginica');
    assert.equal(lines.length, 151);
    const cells = lines.slice(1).map((l) => l.split(','));
    assert.deepEqual(
      cells.map((c) => c[0]),
      Array.from(data.labels, (y) => data.classNames[y]),
    );
    assert.deepEqual(
      cells.map((c) => c[1]),
      predicted.predictions,
    );
    assertClose(
      cells.flatMap((c) => c.slice(2).map(Number)),
      expected,
      { atol: 1e-12, rtol: 1e-6 },
      'CSV probabilities',
    );
  });

  await t.test('bench --json: latencies, throughput, test metrics', () => {
    assert.equal(bench.parameters, PARAMETERS);
    assert.equal(bench.bytes, statSync(modelPath).size);
    assert.deepEqual(bench.metrics, trained.metrics, 'the same seeded test split');
    assert.deepEqual(
      bench.latency.map((l: { batch: number }) => l.batch),
      [1, 64],
    );
    for (const l of bench.latency) assert.ok(l.medianMs > 0 && l.p90Ms >= l.medianMs && l.rowsPerSecond > 0);
    assert.equal(bench.training.rowsPerRound, 64);
    assert.ok(bench.training.samplesPerSecond > 0);
  });

  await t.test('train text mode: summary and epoch table, no JSON', async () => {
    const run = await kilnBundled(['train', '--data', 'iris', '--layers', '4', '--epochs', '3', '--seed', '2']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ +epoch +loss/m);
    assert.match(run.stdout, /^parameters +35$/m);
    assert.match(run.stdout, /^test +accuracy \d\.\d{4}/m);
    assert.match(run.stdout, /give --out <file> to keep it/);
  });

  await t.test('predict --out-csv writes the file and keeps stdout to one line', async () => {
    const target = join(dir, 'predictions.csv');
    const run = await kilnBundled(['predict', '--model', modelPath, '--data', 'iris', '--out-csv', target]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(readFileSync(target, 'utf8'), csv.stdout);
    assert.equal(run.stdout, `wrote 150 predictions to ${target}\n`);
  });
});
