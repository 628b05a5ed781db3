// Real tables through the command line: examples/data/customers.csv (ids, categories, numbers with
// gaps, yes/no, free text, missing labels) trains with no flags beyond --label; predict and eval
// match columns by name; the table flags declare, drop and choose columns.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kilnBundled, kilnJson, limited, ROOT } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-tables-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const customers = join(ROOT, 'examples/data/customers.csv');
const model = join(dir, 'churn.safetensors');
const FAST = ['--epochs', '8', '--layers', '16', '--seed', '3'];

// The file, split by hand (the cells hold no commas or quotes).
const lines = readFileSync(customers, 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.split(','));
const header = lines[0]!;
const body = lines.slice(1);
function writeColumns(name: string, columns: string[], extra?: [string, string]): string {
  const at = columns.map((c) => header.indexOf(c));
  const rows = [header, ...body].map((r, i) => [...at.map((j) => r[j]!), ...(extra ? [i === 0 ? extra[0] : extra[1]] : [])].join(','));
  const path = join(dir, name);
  writeFileSync(path, `${rows.join('\n')}\n`);
  return path;
}

test('an ordinary table trains out of the box, and predict matches columns by name', async () => {
  const trained = await kilnJson(['train', '--data', customers, '--label', 'churned', ...FAST, '--out', model]);
  const unlabelled = body.filter((r) => r.at(-1) === '').length;
  assert.ok(unlabelled > 0);
  assert.equal(trained.droppedRows, unlabelled, 'rows without a label are left out and counted');
  assert.equal(trained.rows.train + trained.rows.test, body.length - unlabelled);
  assert.deepEqual(
    trained.columns.map((c: { name: string; kind: string }) => `${c.name}:${c.kind}`),
    [
      'customer_id:ignore',
      'plan:categorical',
      'region:categorical',
      'tenure_months:numeric',
      'monthly_fee:numeric',
      'support_calls:numeric',
      'autopay:boolean',
      'feedback:text',
    ],
  );
  // Counted on the training rows only: fewer than the file holds.
  const gaps = body.filter((r) => r[3] === 'NA').length;
  assert.ok(trained.columns[3].missing > 0.6 * gaps && trained.columns[3].missing < gaps, `${trained.columns[3].missing} of ${gaps}`);
  assert.ok(trained.metrics.accuracy > 0.7, `accuracy ${trained.metrics.accuracy}`);

  const shuffled = [...header].reverse();
  const reordered = writeColumns('reordered.csv', shuffled, ['note', 'x']);
  const noLabel = writeColumns(
    'no-label.csv',
    header.filter((c) => c !== 'churned'),
  );
  const noPlan = writeColumns(
    'no-plan.csv',
    header.filter((c) => c !== 'plan'),
  );
  const [a, b, c, d, evalA, evalB] = await limited([
    () => kilnBundled(['predict', '--model', model, '--data', customers]),
    () => kilnBundled(['predict', '--model', model, '--data', reordered]),
    () => kilnBundled(['predict', '--model', model, '--data', noLabel]),
    () => kilnBundled(['predict', '--model', model, '--data', noPlan]),
    () => kilnJson(['eval', '--model', model, '--data', customers, '--seed', '3']),
    () => kilnJson(['eval', '--model', model, '--data', reordered, '--seed', '3']),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.stdout, a.stdout, 'reordered columns give the same predictions');
  assert.match(b.stderr, /ignored 1 column the model does not use: note/);
  assert.match(a.stderr, new RegExp(`the label column 'churned' is missing in ${unlabelled} of ${body.length} rows: predicting every row`));
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout.trim().split('\n').length, body.length + 1, 'a prediction for every row');
  assert.deepEqual(
    c.stdout
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]),
    a.stdout
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]),
  );
  assert.equal(d.code, 1);
  assert.match(d.stderr, /no-plan\.csv: parseTable: the header lacks column 'plan'/);
  assert.deepEqual(evalB.metrics, evalA.metrics);
  assert.equal(evalA.rows.test, trained.rows.test, 'eval scores the test part train held out');
  assert.equal(evalA.metrics.accuracy, trained.metrics.accuracy);
});

test('table flags: class order, declared kinds, dropped and chosen columns, missing markers', async () => {
  const out = join(dir, 'flags.safetensors');
  const [declared, chosen, capped] = await limited([
    () =>
      kilnJson([
        'train',
        '--data',
        customers,
        '--label',
        'churned',
        '--classes',
        'yes,no',
        '--categorical',
        'support_calls',
        '--drop',
        'feedback',
        '--impute',
        'median',
        ...FAST,
        '--out',
        out,
      ]),
    () => kilnJson(['train', '--data', customers, '--label', 'churned', '--features', 'tenure_months,monthly_fee', ...FAST]),
    () =>
      kilnJson([
        'train',
        '--data',
        customers,
        '--label',
        'churned',
        '--max-categories',
        '3',
        '--max-vocabulary',
        '20',
        '--ngrams',
        '1',
        ...FAST,
      ]),
  ]);
  // plan: 3 values + <other>; region: the 3 most frequent + <other> + missing; feedback: 20 words.
  assert.deepEqual(
    capped.columns
      .map((c: { name: string; inputs: number }) => `${c.name}:${c.inputs}`)
      .slice(1, 3)
      .concat(capped.columns.at(-1).inputs),
    ['plan:4', 'region:5', 20],
  );
  const kinds = Object.fromEntries(
    declared.columns.map((c: { name: string; kind: string; reason: string }) => [c.name, `${c.kind} (${c.reason})`]),
  );
  assert.equal(kinds.support_calls, 'categorical (declared)');
  assert.equal(kinds.feedback, 'ignore (dropped)');
  const described = await kilnJson(['info', '--model', out]);
  assert.deepEqual(described.preprocessing.classNames, ['yes', 'no']);
  assert.deepEqual(
    chosen.columns.filter((c: { kind: string }) => c.kind !== 'ignore').map((c: { name: string }) => c.name),
    ['tenure_months', 'monthly_fee'],
  );
  assert.equal(chosen.config.inputs, 4, 'two numbers, each with a missing indicator');
});

test('a separate --test file with its columns in another order', async () => {
  const cut = 1600;
  const trainPath = join(dir, 'train-part.csv'),
    testPath = join(dir, 'test-part.csv');
  writeFileSync(trainPath, `${[header, ...body.slice(0, cut)].map((r) => r.join(',')).join('\n')}\n`);
  const order = [...header].reverse();
  const at = order.map((c) => header.indexOf(c));
  writeFileSync(testPath, `${[order, ...body.slice(cut).map((r) => at.map((j) => r[j]!))].map((r) => r.join(',')).join('\n')}\n`);
  const out = join(dir, 'split.safetensors');
  const trained = await kilnJson(['train', '--data', trainPath, '--test', testPath, '--label', 'churned', ...FAST, '--out', out]);
  const labelled = body.slice(cut).filter((r) => r.at(-1) !== '').length;
  assert.equal(trained.rows.test, labelled);
  assert.equal(trained.droppedRows, body.slice(0, cut).filter((r) => r.at(-1) === '').length);
  const scored = await kilnJson(['eval', '--model', out, '--test', testPath]);
  assert.equal(scored.rows.test, labelled);
  assert.deepEqual(scored.metrics, trained.metrics);
});

test('table flags: bad input is one clear error line', async () => {
  const bad: [string[], RegExp][] = [
    [['--categorical', 'nope'], /columns names column 'nope', which the table lacks/],
    [['--categorical', 'plan', '--text', 'plan'], /column 'plan' is declared both categorical and text/],
    [['--features', 'churned'], /'churned' is the label; it cannot also be a feature/],
    [['--classes', 'yes'], /row 2, label column 'churned': 'no' is not one of the classes \(yes\)/],
    [['--missing', ''], /row \d+, column 'tenure_months': value 'NA' is not a number, but \d+ of the \d+ training values are/],
    [['--label', 'nope'], /label column 'nope' not found in header/],
  ];
  const runs = await limited(
    bad.map(
      ([flags]) =>
        () =>
          kilnBundled(['train', '--data', customers, '--label', 'churned', ...flags, ...FAST]),
    ),
  );
  runs.forEach((run, k) => {
    assert.equal(run.code, 1, `${bad[k]![0].join(' ')}: ${run.stderr}`);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, bad[k]![1]);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  });
  const oneClass = join(dir, 'one-class.csv');
  writeFileSync(oneClass, 'x,y\n1,a\n2,a\n3,a\n4,a\n5,a\n');
  const run = await kilnBundled(['train', '--data', oneClass, '--label', 'y', ...FAST]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /one-class\.csv: splitTable: the label 'y' has one class \('a'\)/);
  const twoRows = join(dir, 'two-rows.csv');
  writeFileSync(twoRows, 'x,y\n1,a\n2,b\n');
  const tiny = await kilnBundled(['train', '--data', twoRows, '--label', 'y', ...FAST]);
  assert.equal(tiny.code, 1);
  assert.match(tiny.stderr, /two-rows\.csv: no test rows \(--test-split 0\.2 of 2 labelled rows rounds to 0\)/);
});
