// The JSON search-space form: the same distributions as code, conditionals and repeated
// parameters suggested only when active, eager batches, and errors that name the entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStudy } from '../../src/search/study.ts';
import { parseSpace, sampleSpace, type SpaceSpec } from '../../src/search/space.ts';
import { RandomSampler } from '../../src/search/samplers/random.ts';
import { TpeSampler } from '../../src/search/samplers/tpe.ts';

const SPACE = parseSpace(
  JSON.parse(`{
  "lr":        { "float": [1e-4, 1e-1], "log": true },
  "dropout":   { "float": [0, 0.5], "step": 0.05 },
  "optimizer": { "categorical": ["adam", "sgd"] },
  "momentum":  { "float": [0.8, 0.99], "if": { "optimizer": "sgd" } },
  "nesterov":  { "categorical": [true, false], "if": { "optimizer": "sgd", "momentum": [0.9] } },
  "layers":    { "int": [1, 3] },
  "units_{i}": { "int": [16, 256], "log": true, "for": "layers" },
  "act_{i}":   { "categorical": ["relu", "gelu"], "for": "layers", "if": { "optimizer": "adam" } }
}`),
);

test('a JSON space suggests the same distributions as code, and only the active parameters', async () => {
  const study = await createStudy({ sampler: new RandomSampler({ seed: 2 }) });
  await study.optimize(
    (t) => {
      const p = sampleSpace(t, SPACE);
      return (p.lr as number) + (p.layers as number);
    },
    { trials: 40 },
  );
  for (const t of study.trials) {
    const p = t.params;
    const layers = p.layers as number;
    const expected = ['lr', 'dropout', 'optimizer', 'layers', ...Array.from({ length: layers }, (_, i) => `units_${i}`)];
    if (p.optimizer === 'sgd') expected.push('momentum');
    if (p.optimizer === 'adam') expected.push(...Array.from({ length: layers }, (_, i) => `act_${i}`));
    assert.deepEqual(
      Object.keys(p)
        .filter((k) => k !== 'nesterov')
        .sort(),
      expected.sort(),
      JSON.stringify(p),
    );
    assert.equal('nesterov' in p, false, 'momentum is continuous: it never equals 0.9 exactly');
    assert.deepEqual(t.distributions.lr, { kind: 'float', low: 1e-4, high: 0.1, log: true, step: null });
    assert.deepEqual(t.distributions.units_0, { kind: 'int', low: 16, high: 256, log: true, step: 1 });
    const dropout = t.distributions.dropout!;
    assert.equal(dropout.kind === 'float' && dropout.step, 0.05);
  }
  assert.ok(study.trials.some((t) => t.params.optimizer === 'sgd') && study.trials.some((t) => t.params.layers === 3));
});

test('conditions match listed values; a condition on an inactive parameter is false', async () => {
  const space: SpaceSpec = {
    a: { categorical: ['x', 'y'] },
    b: { int: [0, 2], if: { a: 'y' } },
    c: { categorical: [1], if: { b: [1, 2] } },
  };
  const study = await createStudy({ sampler: new RandomSampler({ seed: 5 }) });
  await study.optimize((t) => (sampleSpace(t, space), 0), { trials: 30 });
  for (const { params: p } of study.trials) {
    assert.equal('b' in p, p.a === 'y');
    assert.equal('c' in p, p.b === 1 || p.b === 2);
  }
});

test('askBatch with a space samples every parameter at ask time (TPE constant liar)', async () => {
  const study = await createStudy({ sampler: new TpeSampler({ seed: 1, nStartupTrials: 4, constantLiar: true }) });
  await study.optimize((t) => (sampleSpace(t, SPACE), (t.params.lr as number) * 10), { trials: 6 });
  const batch = study.askBatch(5, SPACE);
  assert.equal(batch.length, 5);
  for (const t of batch) assert.ok('lr' in t.params && 'layers' in t.params, 'suggested before any worker runs');
  assert.equal(new Set(batch.map((t) => t.params.lr)).size, 5, 'constant liar spreads the batch');
  for (const t of batch.reverse()) await study.tell(t, 1);
  assert.equal(study.trials.filter((t) => t.state === 'complete').length, 11);
});

test('space errors name the parameter and the problem', () => {
  const bad: [unknown, RegExp][] = [
    [{}, /space: is empty; name at least one parameter/],
    [[], /space: must be an object of parameter specs, got an array/],
    [{ lr: { floot: [0, 1] } }, /space\.lr: unknown parameter kind 'floot' \(known: float, int, categorical\)/],
    [{ lr: { float: [0, 1], int: [0, 1] } }, /space\.lr: needs exactly one kind key/],
    [{ lr: { float: [1, 0] } }, /space\.lr: low must be <= high, got low=1 high=0/],
    [{ lr: { float: [0, 1], log: true } }, /space\.lr: a log range needs low > 0, got low=0/],
    [{ lr: { float: [0] } }, /space\.lr\.float: must be \[low, high\], got \[0\]/],
    [{ c: { categorical: ['a'], step: 1 } }, /space\.c: option 'step' does not apply to categorical parameters/],
    [{ c: { categorical: [] } }, /space\.c\.categorical: choices must not be empty/],
    [{ m: { float: [0, 1], if: { opt: 'sgd' } } }, /space\.m\.if: 'opt' is not a parameter defined before this one/],
    [{ o: { categorical: ['a'] }, m: { float: [0, 1], if: { o: [] } } }, /space\.m\.if\.o: the list of values is empty/],
    [{ 'u_{i}': { int: [1, 2] } }, /space\.u_\{i\}: a name with \{i\} needs "for"/],
    [{ n: { int: [1, 2] }, u: { int: [1, 2], for: 'n' } }, /space\.u\.for: a repeated parameter's name must contain \{i\}, got 'u'/],
    [
      { n: { float: [1, 2] }, 'u_{i}': { int: [1, 2], for: 'n' } },
      /space\.u_\{i\}\.for: 'n' must be an int parameter with low >= 0, got float/,
    ],
    [{ 'u_{i}': { int: [1, 2], for: 'n' } }, /space\.u_\{i\}\.for: 'n' is not a parameter defined before this one/],
  ];
  for (const [space, message] of bad) assert.throws(() => parseSpace(space), message, JSON.stringify(space));
});
