// kiln worker and kiln study end to end: two workers share one study in a journal file and spend
// its budget together; study list, show, export (to Optuna's format) and import; usage errors.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kilnBundled, kilnJson } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-worker-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('two workers spend one budget; the study lists, shows, exports to Optuna and imports back', async () => {
  const storage = join(dir, 'shared.jsonl');
  const flags = ['--storage', storage, '--study', 'iris', '--data', 'iris', '--trials', '8', '--epochs', '4', '--json'];
  const [a, b] = await Promise.all([kilnJson(['worker', ...flags]), kilnJson(['worker', ...flags])]);
  assert.ok(
    a.ran + b.ran >= 8 && a.ran + b.ran <= 9,
    `ran ${a.ran} + ${b.ran}: the budget, overshooting by at most one trial per extra worker`,
  );
  const numbers = [...a.trials, ...b.trials].map((t: { number: number }) => t.number).sort((x: number, y: number) => x - y);
  assert.deepEqual(
    numbers,
    numbers.map((_: number, i: number) => i),
    'each trial number trained by one worker',
  );

  const list = await kilnJson(['study', 'list', '--storage', storage, '--json']);
  assert.equal(list.studies.length, 1);
  assert.equal(list.studies[0].trials, numbers.length);
  const optuna = join(dir, 'iris.optuna.log');
  await kilnJson(['study', 'export', 'iris', '--storage', storage, '--out', optuna, '--json']);
  assert.match(readFileSync(optuna, 'utf8').split('\n')[0]!, /"op_code":0,.*"study_name":"iris","directions":\[2\]/);
  const imported = await kilnJson(['study', 'import', optuna, '--as', 'copy', '--storage', storage, '--json']);
  assert.equal(imported.trials, numbers.length);
  const [shown, copy] = await Promise.all([
    kilnJson(['study', 'show', 'iris', '--storage', storage, '--json']),
    kilnJson(['study', 'show', 'copy', '--storage', storage, '--json']),
  ]);
  assert.deepEqual(
    copy.trialList.map((t: { params: unknown; values: unknown; state: string }) => [t.params, t.values, t.state]),
    shown.trialList.map((t: { params: unknown; values: unknown; state: string }) => [t.params, t.values, t.state]),
  );
});

test('worker and study usage errors', async () => {
  const cases: [string[], RegExp][] = [
    [['worker', '--data', 'iris'], /--storage \(or KILN_STORAGE\) is required: workers share a study through it/],
    [['worker', '--data', 'iris', '--storage', 'mysql://db/x'], /--storage: openStorage: unknown storage scheme 'mysql:\/\/'/],
    [
      ['worker', '--data', 'iris', '--storage', join(dir, 'x.jsonl'), '--heartbeat', '10', '--grace', '15'],
      /--grace 15 must be at least twice --heartbeat 10/,
    ],
    [['study', 'show', 'nope', '--storage', join(dir, 'empty.jsonl')], /study 'nope' is not in the storage/],
    [['study', 'import', join(dir, 'missing.log'), '--storage', join(dir, 'y.jsonl')], /cannot read .*missing\.log/],
  ];
  for (const [args, message] of cases) {
    const run = await kilnBundled(args);
    assert.notEqual(run.code, 0, args.join(' '));
    assert.match(run.stderr, message, args.join(' '));
  }
});
