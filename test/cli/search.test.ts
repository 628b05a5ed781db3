// kiln search end to end: trials scored on validation rows, the best one retrained and saved,
// a journal that resumes, a grid with two objectives and its Pareto front (once src/index.ts
// exports the trial-search API); the gradient strategy.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, kilnJson, limited } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-search-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const journal = join(dir, 'study.jsonl');
const csv = join(dir, 'trials.csv');
const best = join(dir, 'best.safetensors');
const chosen = join(dir, 'chosen.safetensors');

// Weights and biases of an MLP with these widths, from 4 Iris features to 3 classes.
function parameterCount(widths: number[]): number {
  let total = 0,
    inputs = 4;
  for (const units of [...widths, 3]) ((total += inputs * units + units), (inputs = units));
  return total;
}

interface TrialJson {
  number: number;
  state: string;
  values: number[] | null;
  params: Record<string, number | string>;
  parameters: number | null;
}

test('trial search, resume, grid with two objectives', async (t) => {
  const [first, grid] = await limited([
    () =>
      kilnJson([
        'search',
        '--data',
        'iris',
        '--seed',
        '3',
        '--trials',
        '6',
        '--epochs',
        '15',
        '--storage',
        journal,
        '--export-csv',
        csv,
        '--out',
        best,
      ]),
    () =>
      kilnJson([
        'search',
        '--data',
        'iris',
        '--space',
        join(FIXTURES, 'grid-space.json'),
        '--sampler',
        'grid',
        '--objectives',
        'accuracy,parameters',
        '--trials',
        '10',
        '--epochs',
        '15',
      ]),
  ]);

  await t.test('six trials; the best is the highest validation accuracy; its model is saved', () => {
    const trials = first.trials as TrialJson[];
    assert.deepEqual(
      trials.map((x) => x.number),
      [0, 1, 2, 3, 4, 5],
    );
    for (const x of trials) assert.ok(['complete', 'pruned', 'failed'].includes(x.state), x.state);
    const complete = trials.filter((x) => x.state === 'complete');
    const top = Math.max(...complete.map((x) => x.values![0]!));
    assert.equal(first.best.values[0], top);
    assert.equal(first.best.number, complete.find((x) => x.values![0] === top)!.number, 'ties go to the first trial');
    const widths = Array.from({ length: first.best.params.layers }, (_, i) => first.best.params[`units_${i}`]);
    assert.equal(first.parameters, parameterCount(widths));
    assert.equal(first.bytes, statSync(best).size);
    assert.deepEqual(first.rows, { total: 150, train: 90, validation: 30, test: 30 });
    assert.equal(typeof first.metrics.accuracy, 'number');
    assert.equal(readFileSync(csv, 'utf8').trim().split('\n').length, 1 + 6, 'header and one row per trial');
  });

  const [resumed, scored] = await limited([
    () => kilnJson(['search', '--data', 'iris', '--seed', '3', '--trials', '2', '--epochs', '15', '--storage', journal]),
    () => kilnJson(['eval', '--data', 'iris', '--seed', '3', '--model', best]),
  ]);

  await t.test('the saved best model scores on the test rows what search reported', () => {
    assert.deepEqual(scored.metrics, first.metrics);
  });

  await t.test('a second run with the same journal resumes the study', () => {
    const trials = resumed.trials as TrialJson[];
    assert.equal(trials.length, 8);
    assert.deepEqual(trials.slice(0, 6), first.trials);
  });

  await t.test('grid over a categorical space with accuracy and parameter count: every point once, a true Pareto front', () => {
    const trials = grid.trials as TrialJson[];
    assert.equal(trials.length, 4, 'the grid has 2 × 2 points; the search stops when they are all done');
    assert.deepEqual(new Set(trials.map((x) => `${x.params.units}/${x.params.lr}`)), new Set(['2/0.01', '2/0.05', '16/0.01', '16/0.05']));
    for (const x of trials) assert.equal(x.values![1], parameterCount([x.params.units as number]));
    assert.deepEqual(grid.directions, ['maximize', 'minimize']);
    // Independent check: a trial is on the front when no other is at least as good in both
    // objectives and better in one.
    const dominated = (a: TrialJson) =>
      trials.some(
        (b) =>
          b !== a &&
          b.values![0]! >= a.values![0]! &&
          b.values![1]! <= a.values![1]! &&
          (b.values![0]! > a.values![0]! || b.values![1]! < a.values![1]!),
      );
    assert.deepEqual(
      grid.paretoFront,
      trials.filter((x) => !dominated(x)).map((x) => x.number),
    );
    assert.equal(grid.pruner, 'none');
  });
});

test('gradient strategy: one hidden layer from the candidates, retrained and saved', async () => {
  const gradient = await kilnJson([
    'search',
    '--data',
    'iris',
    '--strategy',
    'gradient',
    '--candidate-widths',
    '4,8',
    '--candidate-activations',
    'relu,tanh',
    '--max-layers',
    '1',
    '--search-epochs',
    '3',
    '--epochs',
    '10',
    '--out',
    chosen,
  ]);
  assert.equal(gradient.strategy, 'gradient');
  assert.equal(gradient.epochs.length, 3);
  assert.equal(gradient.hidden.length, 1);
  const [{ units, activation }] = gradient.hidden;
  assert.ok([4, 8].includes(units), `units ${units}`);
  assert.ok(['relu', 'tanh'].includes(activation), activation);
  assert.equal(gradient.parameters, parameterCount([units]));
  assert.equal(gradient.bytes, statSync(chosen).size);
  assert.deepEqual(gradient.rows, { total: 150, train: 90, validation: 30, test: 30 });
});
