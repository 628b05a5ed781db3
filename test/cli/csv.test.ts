// CSV files through the command line: a label column by name, a separate test file holding only
// some classes, regression, unlabelled rows for predict, continued training.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/io/model-file.ts';
import { assertClose } from '../helpers/close.ts';
import { FIXTURES, kilnBundled, kilnJson, limited } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-csv-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (name: string) => join(FIXTURES, name);
const blobsModel = join(dir, 'blobs.safetensors');
const irisModel = join(dir, 'iris.safetensors');
const linearModel = join(dir, 'linear.safetensors');

test('CSV workflows', async (t) => {
  const [blobs, , linear] = await limited([
    () =>
      kilnJson([
        'train',
        '--data',
        fixture('blobs.csv'),
        '--label',
        'kind',
        '--test',
        fixture('blobs-test.csv'),
        '--layers',
        '8',
        '--epochs',
        '60',
        '--lr',
        '0.02',
        '--out',
        blobsModel,
      ]),
    () => kilnJson(['train', '--data', 'iris', '--layers', '4', '--epochs', '5', '--out', irisModel]),
    () =>
      kilnJson([
        'train',
        '--data',
        fixture('linear.csv'),
        '--layers',
        'none',
        '--epochs',
        '300',
        '--lr',
        '0.05',
        '--validation-split',
        '0.2',
        '--early-stopping',
        '10',
        '--out',
        linearModel,
      ]),
  ]);

  await t.test('train with --label by name and a --test file that lacks a class', () => {
    assert.equal(blobs.task, 'classification');
    assert.equal(blobs.parameters, 2 * 8 + 8 + 8 * 3 + 3);
    assert.equal(blobs.bytes, statSync(blobsModel).size);
    assert.deepEqual(blobs.rows, { total: 70, train: 60, validation: 0, test: 10 }, 'all of blobs.csv trains; blobs-test.csv tests');
    assert.ok(blobs.metrics.accuracy >= 0.9, `accuracy ${blobs.metrics.accuracy}`);
    // blobs-test.csv holds beta and gamma only: they must keep the training ids 1 and 2.
    assert.deepEqual(blobs.metrics.confusionMatrix[0], [0, 0, 0]);
    assert.deepEqual(blobs.metrics.report.support, [0, 5, 5]);
  });

  await t.test('regression from a CSV, with validation split and early stopping', () => {
    assert.equal(linear.task, 'regression');
    assert.equal(linear.parameters, 3, 'two weights and a bias');
    assert.deepEqual(linear.rows, { total: 40, train: 24, validation: 8, test: 8 });
    assert.ok(linear.metrics.r2 > 0.99, `R² ${linear.metrics.r2}`);
    assert.equal(typeof linear.stoppedEarly, 'boolean');
    assert.ok(
      linear.history.every((e: { valLoss?: number }) => typeof e.valLoss === 'number'),
      'validation loss every epoch',
    );
    assert.ok(linear.bestEpoch >= 1 && linear.bestEpoch <= linear.epochs);
  });

  const [evaluated, unlabelled, linearCsv, continued] = await limited([
    () => kilnJson(['eval', '--model', blobsModel, '--test', fixture('blobs-test.csv'), '--label', 'kind']),
    () => kilnBundled(['predict', '--model', irisModel, '--data', fixture('flowers-unlabeled.csv')]),
    () => kilnBundled(['predict', '--model', linearModel, '--data', fixture('linear.csv')]),
    () => kilnJson(['train', '--data', fixture('linear.csv'), '--model', linearModel, '--epochs', '5', '--lr', '0.001']),
  ]);

  await t.test('eval on the separate test file matches what train reported', () => {
    assert.deepEqual(evaluated.rows, { total: 10, train: 0, validation: 0, test: 10 });
    assert.deepEqual(evaluated.metrics, blobs.metrics);
  });

  await t.test('predict on a CSV without a label column', async () => {
    assert.equal(unlabelled.code, 0, unlabelled.stderr);
    const lines = unlabelled.stdout.trim().split('\n');
    assert.equal(lines[0], 'prediction,p_setosa,p_versicolor,p_virginica');
    assert.equal(lines.length, 6);
    const model = await loadModel(irisModel);
    const rows = readFileSync(fixture('flowers-unlabeled.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').map(Number));
    const expected = model.predict(rows);
    assertClose(
      lines.slice(1).flatMap((l) => l.split(',').slice(1).map(Number)),
      expected,
      { atol: 1e-12, rtol: 1e-6 },
      'probabilities',
    );
    const names = ['setosa', 'versicolor', 'virginica'];
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(',')[0]),
      Array.from(model.predictClasses(rows), (c) => names[c]),
    );
  });

  await t.test('predict with a regression model: one prediction column, values of the loaded model', async () => {
    assert.equal(linearCsv.code, 0, linearCsv.stderr);
    const lines = linearCsv.stdout.trim().split('\n');
    assert.equal(lines[0], 'prediction');
    const rows = readFileSync(fixture('linear.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').slice(0, 2).map(Number));
    const model = await loadModel(linearModel);
    assertClose(lines.slice(1).map(Number), model.predict(rows), { atol: 1e-6, rtol: 1e-6 }, 'predictions');
    // Independent of kiln: the fixture's targets are 2·x0 − x1 + 0.5.
    assertClose(
      lines.slice(1).map(Number),
      rows.map(([a, b]) => 2 * a! - b! + 0.5),
      { atol: 0.05 },
      'targets',
    );
  });

  await t.test('train --model continues from a saved model without changing its architecture', () => {
    assert.equal(continued.parameters, 3);
    assert.equal(continued.epochs, 5);
    assert.equal(continued.out, null);
    assert.ok(continued.metrics.r2 > 0.99);
  });
});
