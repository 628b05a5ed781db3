// The numbers behind the report's search views against hand-worked values: Tukey's fences, the robust axis range, the empirical distribution, the inverse-distance
// surface of the contour plot, the parameter axis kinds, and the importance the report shows on
// a study whose objective depends on one parameter alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { empiricalDistribution, idwGrid, outlierFences, robustDomain } from '../../src/report/stats.ts';
import { paramAxis, viridis } from '../../src/report/search-views.ts';
import { growthWarnings } from '../../src/report/stages.ts';
import { parameterImportances } from '../../src/search/importance.ts';
import type { FrozenTrial } from '../../src/search/trial-record.ts';

const near = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('Tukey fences from nearest-rank quartiles', () => {
  // n = 4: Q1 = s[⌊1⌋] = 2, Q3 = s[⌊3⌋] = 4, IQR 2, k = 3: [2 − 6, 4 + 6].
  assert.deepEqual(outlierFences([4, 1, 3, 2]), [-4, 10]);
  assert.deepEqual(outlierFences([NaN]), [-Infinity, Infinity]);
});

test('robust range: one diverged trial does not stretch the axis', () => {
  // n = 6: Q1 = s[1] = 0.91, Q3 = s[4] = 0.94, IQR 0.03: fences [0.82, 1.03]; 0.1 is out; 0.91..0.95 rounds to steps of 0.01.
  const r = robustDomain([0.91, 0.92, 0.93, 0.94, 0.95, 0.1]);
  near(r.domain[0], 0.91, 1e-12);
  near(r.domain[1], 0.95, 1e-12);
  assert.equal(r.outside, 1);
  assert.deepEqual(robustDomain([0.1, 0.9, 0.95]), { domain: [0, 1], outside: 0 }, 'fewer than 4 values: no outliers');
  assert.deepEqual(robustDomain([NaN]), { domain: [0, 1], outside: 0 });
});

test('empirical distribution: share of values at or below each distinct value', () => {
  assert.deepEqual(empiricalDistribution([3, 1, 2, 2, NaN]), [
    [1, 0.25],
    [2, 0.75],
    [3, 1],
  ]);
  assert.deepEqual(empiricalDistribution([]), []);
  assert.deepEqual(empiricalDistribution([7, 7]), [[7, 1]]);
});

test('inverse-distance surface: exact at samples, 1/d² weights between', () => {
  const samples = [
    { u: 0.25, v: 0.5, value: 0 },
    { u: 0.75, v: 0.5, value: 1 },
  ];
  assert.deepEqual(Array.from(idwGrid(samples, 2, 1)), [0, 1], 'cell centres on the samples take their values');
  // Centres 0.125, 0.375, 0.625, 0.875: weights 1/d² give 1/26, 1/10, 9/10, 25/26.
  const g = idwGrid(samples, 4, 1);
  [1 / 26, 1 / 10, 9 / 10, 25 / 26].forEach((want, i) => near(g[i]!, want, 1e-15));
  assert.ok(idwGrid([], 2, 2).every(Number.isNaN));
});

test('parameter axes: log for wide positive ranges, categories sorted', () => {
  assert.deepEqual(paramAxis([1e-4, 1e-2, 1e-1]), { kind: 'number', log: true, lo: 1e-4, hi: 0.1 });
  assert.deepEqual(paramAxis([16, 64, 128]), { kind: 'number', log: false, lo: 16, hi: 128 });
  assert.deepEqual(paramAxis(['tanh', 'relu', 'relu', true]), { kind: 'category', names: ['relu', 'tanh', 'true'] });
  assert.equal(viridis(0), 'rgb(68,1,84)');
  assert.equal(viridis(1), 'rgb(253,231,37)');
  assert.equal(viridis(0.5), 'rgb(33,145,140)');
});

test('growth warnings name the stages and the factor', () => {
  const row = (stage: 'prune' | 'quantize', model: string, bytes: number, nonZeros: number) => ({
    stage,
    model,
    accuracy: 0.9,
    parameters: 1000,
    nonZeros,
    bytes,
    latencyUs: 1,
    speedup: 1,
    seconds: 1,
  });
  assert.deepEqual(growthWarnings([row('prune', 'a f32', 2048, 1000), row('quantize', 'a int8-per-channel', 1024, 1000)]), []);
  const [w] = growthWarnings([row('prune', 'a f32, 90% zero', 1024, 100), row('quantize', 'a int8-per-channel', 2048, 1000)]);
  assert.match(w!, /^Quantisation made the file larger: 1\.0 KiB after prune, 2\.0 KiB after quantize \(2\.00×\)\./);
  assert.match(w!, /stores only its 100 non-zero weights/);
});

// Trials of a study whose objective is 1 for 'relu' and 0 for 'tanh', whatever 'lr' is.
function trial(number: number, act: string, lr: number): FrozenTrial {
  return {
    number,
    state: 'complete',
    params: { act, lr },
    distributions: {
      act: { kind: 'categorical', choices: ['relu', 'tanh'] },
      lr: { kind: 'float', low: 0, high: 10, log: false, step: null },
    },
    values: [act === 'relu' ? 1 : 0],
    intermediate: {},
    constraints: null,
    userAttrs: {},
    systemAttrs: {},
    startedAt: 0,
    finishedAt: 0,
    durationMs: 0,
    error: null,
  } as unknown as FrozenTrial;
}

test('importance: a parameter the objective does not depend on gets exactly 0', () => {
  // Every tree whose bootstrap sample holds both activations splits on act first (its split
  // removes all the variance, and act's columns come first, so it wins ties); the leaves are then
  // pure and lr's splits remove nothing. Trees whose sample holds one activation remove no
  // variance at all and do not count. So act gets 1 and lr 0, for any seed.
  const trials = [
    trial(0, 'relu', 1),
    trial(1, 'tanh', 2),
    trial(2, 'relu', 3),
    trial(3, 'tanh', 4),
    trial(4, 'relu', 5),
    trial(5, 'tanh', 6),
  ];
  for (const seed of [0, 1, 2]) {
    const imp = parameterImportances(trials, ['maximize'], { params: ['act', 'lr'], seed });
    assert.deepEqual(imp, { act: 1, lr: 0 }, `seed ${seed}`);
    assert.deepEqual(Object.keys(imp), ['act', 'lr'], 'largest first');
  }
});
