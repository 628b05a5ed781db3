// TPE pieces against hand-worked values: Optuna's γ and weights, the bandwidth rule, the Parzen
// densities and masses (checked against an f64 mixture written here), and the trial split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Parzen, defaultWeights } from '../../src/search/samplers/parzen.ts';
import { defaultGamma, splitTrials, TpeSampler } from '../../src/search/samplers/tpe.ts';
import { RandomSampler } from '../../src/search/samplers/random.ts';
import { floatDistribution, intDistribution, categoricalDistribution } from '../../src/search/distributions.ts';
import { Draws } from '../../src/search/random.ts';
import { createStudy } from '../../src/search/study.ts';
import type { FrozenTrial } from '../../src/search/trial-record.ts';
import { assertClose } from '../helpers/close.ts';
import { cdfRef } from './normal-ref.ts';

const OPTIONS = { priorWeight: 1, considerMagicClip: true, considerEndpoints: false, multivariate: false };

// Σ_k w_k · N(y; μ_k, σ_k) / (Φ((hi−μ_k)/σ_k) − Φ((lo−μ_k)/σ_k)), the truncated-normal mixture.
function mixtureDensity(y: number, lo: number, hi: number, mus: number[], sigmas: number[], w: number[]): number {
  let sum = 0;
  mus.forEach((mu, k) => {
    const s = sigmas[k]!;
    const z = (y - mu) / s;
    sum += (w[k]! * Math.exp(-0.5 * z * z)) / (s * Math.sqrt(2 * Math.PI) * (cdfRef((hi - mu) / s) - cdfRef((lo - mu) / s)));
  });
  return sum;
}

test('γ and the observation weights are Optuna’s', () => {
  assert.deepEqual([0, 1, 9, 10, 11, 30, 250, 1000].map(defaultGamma), [0, 1, 1, 1, 2, 3, 25, 25]);
  assert.deepEqual(defaultWeights(0), []);
  assert.deepEqual(defaultWeights(3), [1, 1, 1]);
  const w = defaultWeights(30);
  assert.equal(w.length, 30);
  // numpy.linspace(1/30, 1, 5) then 25 ones.
  assertClose(
    w.slice(0, 5),
    [1 / 30, 1 / 30 + 0.2416666666666667, 1 / 30 + 0.4833333333333333, 1 / 30 + 0.725, 1],
    { rtol: 1e-15 },
    'ramp',
  );
  assert.ok(w.slice(5).every((v) => v === 1));
  assert.deepEqual(defaultWeights(26), [1 / 26, ...new Array(25).fill(1)]);
});

test('continuous Parzen: bandwidths by the neighbour rule, endpoints, magic clip and the prior kernel', () => {
  // Observations 0.2 and 0.9 on [0, 1], prior centre 0.5. Sorted with the ends: 0, 0.2, 0.5,
  // 0.9, 1. Gaps to neighbours: 0.2 → max(0.2, 0.3) = 0.3; 0.9 → max(0.4, 0.1) = 0.4, but
  // without endpoints the last kernel takes its inner gap, 0.4. Magic clip floor 1/min(100, 4)
  // = 0.25: σ = 0.3, 0.4. Prior: μ 0.5, σ 1. Weights 1, 1, 1.
  const d = floatDistribution('t', 0, 1);
  const p = new Parzen([Float64Array.of(0.2, 0.9)], [d], [1, 1], OPTIONS);
  const xs = [0, 0.05, 0.2, 0.5, 0.77, 0.9, 1];
  assertClose(
    p.logPdf([Float64Array.from(xs)]),
    xs.map((x) => Math.log(mixtureDensity(x, 0, 1, [0.2, 0.9, 0.5], [0.3, 0.4, 1], [1 / 3, 1 / 3, 1 / 3]))),
    { rtol: 1e-12 },
    'log density',
  );
  // Log range: the same rule on log(x); densities are per unit of log(x).
  const lg = floatDistribution('t', 1e-3, 1, { log: true });
  const pl = new Parzen([Float64Array.of(0.01)], [lg], [1], OPTIONS);
  const [lo, hi, y] = [Math.log(1e-3), 0, Math.log(0.01)];
  // Sorted: lo, y, centre, hi (y below the centre); gap for y: max(y − lo, centre − y), then
  // endpoints off: centre − y. Clip floor (hi − lo)/3.
  const centre = 0.5 * (lo + hi);
  const sigma = Math.max(centre - y, (hi - lo) / 3);
  const at = [1e-3, 0.005, 0.3];
  assertClose(
    pl.logPdf([Float64Array.from(at)]),
    at.map((x) => Math.log(mixtureDensity(Math.log(x), lo, hi, [y, centre], [sigma, hi - lo], [0.5, 0.5]))),
    { rtol: 1e-12 },
    'log-range density',
  );
});

test('discrete Parzen: integer and log-integer masses sum to 1 and match the binned mixture', () => {
  // int [1, 5]: cells [v − 0.5, v + 0.5] in [0.5, 5.5]. Observation 2, prior centre 3: sorted
  // 0.5, 2, 3, 5.5; no endpoints → σ = 3 − 2 = 1, clipped up to 5/3. Prior σ 5.
  const d = intDistribution('t', 1, 5);
  const p = new Parzen([Float64Array.of(2)], [d], [1], OPTIONS);
  const vals = [1, 2, 3, 4, 5];
  const mass = (v: number, mu: number, s: number) =>
    (cdfRef((v + 0.5 - mu) / s) - cdfRef((v - 0.5 - mu) / s)) / (cdfRef((5.5 - mu) / s) - cdfRef((0.5 - mu) / s));
  const got = p.logPdf([Float64Array.from(vals)]);
  assertClose(
    got,
    vals.map((v) => Math.log(0.5 * mass(v, 2, 5 / 3) + 0.5 * mass(v, 3, 5))),
    { rtol: 1e-12 },
    'int masses',
  );
  assertClose([got.reduce((s, v) => s + Math.exp(v), 0)], [1], { rtol: 1e-12 }, 'int total');
  const lg = intDistribution('t', 1, 100, { log: true });
  const pl = new Parzen([Float64Array.of(10, 60)], [lg], [1, 1], OPTIONS);
  const all = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assertClose([pl.logPdf([all]).reduce((s, v) => s + Math.exp(v), 0)], [1], { rtol: 1e-12 }, 'log-int total');
});

test('categorical Parzen: observed choices gain 1 over a prior of weight 1 spread over the kernels', () => {
  // Kernels for observations a, a, c and the prior: rows (1/4 + [c = obs]) / 1.75, prior row
  // uniform; mixture weights 1/4 each.
  const d = categoricalDistribution('t', ['a', 'b', 'c']);
  const p = new Parzen([Float64Array.of(0, 0, 2)], [d], [1, 1, 1], OPTIONS);
  const row = (obs: number, c: number) => (0.25 + (obs === c ? 1 : 0)) / 1.75;
  const expected = [0, 1, 2].map((c) => 0.25 * (row(0, c) * 2 + row(2, c) + 1 / 3));
  assertClose(p.logPdf([Float64Array.of(0, 1, 2)]), expected.map(Math.log), { rtol: 1e-13 }, 'categorical');
});

test('multivariate bandwidth 0.2·n^(−1/(d+4))·range and joint densities as products', () => {
  const dx = floatDistribution('x', 0, 2);
  const dy = floatDistribution('y', -1, 1);
  const p = new Parzen([Float64Array.of(0.5, 1.5), Float64Array.of(0, 0.5)], [dx, dy], [1, 1], { ...OPTIONS, multivariate: true });
  // n = 2, d = 2: σ = 0.2·2^(−1/6)·2 for both axes (range 2), above the clip floor 2/4.
  const s = Math.max(0.2 * 2 ** (-1 / 6) * 2, 0.5);
  const pts = [
    [0.5, 0],
    [1, 0.9],
    [2, -1],
  ];
  const expected = pts.map(([x, y]) => {
    const comp = (mx: number, my: number, sx: number, sy: number) =>
      mixtureDensity(x!, 0, 2, [mx], [sx], [1]) * mixtureDensity(y!, -1, 1, [my], [sy], [1]);
    return Math.log((comp(0.5, 0, s, s) + comp(1.5, 0.5, s, s) + comp(1, 0, 2, 2)) / 3);
  });
  assertClose(p.logPdf([Float64Array.from(pts, (q) => q[0]!), Float64Array.from(pts, (q) => q[1]!)]), expected, { rtol: 1e-12 }, 'joint');
});

test('Parzen samples stay on the grid and in range, and follow the mixture', () => {
  const d = intDistribution('t', 1, 9, { step: 2 });
  const p = new Parzen([Float64Array.of(3)], [d], [1], OPTIONS);
  const draws = new Draws(1, 0, 'test');
  const [xs] = p.sample(draws, 20000);
  draws.dispose();
  const counts = new Map<number, number>();
  for (const v of xs!) counts.set(v, (counts.get(v) ?? 0) + 1);
  assert.deepEqual(
    [...counts.keys()].sort((a, b) => a - b),
    [1, 3, 5, 7, 9],
  );
  const probs = p.logPdf([Float64Array.of(1, 3, 5, 7, 9)]);
  for (const [i, v] of [1, 3, 5, 7, 9].entries()) {
    const freq = counts.get(v)! / 20000;
    assert.ok(Math.abs(freq - Math.exp(probs[i]!)) < 0.015, `P(${v}): sampled ${freq}, density ${Math.exp(probs[i]!)}`);
  }
});

const record = (number: number, state: FrozenTrial['state'], values: number[] | null, extra: Partial<FrozenTrial> = {}): FrozenTrial => ({
  number,
  state,
  values,
  params: {},
  distributions: {},
  intermediate: {},
  constraints: null,
  userAttrs: {},
  systemAttrs: {},
  startedAt: 0,
  finishedAt: null,
  durationMs: null,
  error: null,
  ...extra,
});

test('split: complete by value, then pruned by progress, then infeasible by violation; running as liars', () => {
  const trials = [
    record(0, 'complete', [5]),
    record(1, 'pruned', null, { intermediate: { 0: 1, 4: 3 } }),
    record(2, 'complete', [2]),
    record(3, 'complete', [1], { constraints: [0.5, -1] }),
    record(4, 'pruned', null, { intermediate: { 0: 0.5, 4: 2 } }),
    record(5, 'pruned', null, { intermediate: { 0: 0.1 } }),
    record(6, 'running', null),
    record(7, 'complete', [0.1], { constraints: [2] }),
    record(8, 'failed', null),
  ];
  // Good-first: 2 (2), 0 (5), then pruned 4 (step 4, 2), 1 (step 4, 3), 5 (step 0), then
  // infeasible 3 (0.5), 7 (2).
  const numbers = (k: number, liar = false) => {
    const s = splitTrials(trials, ['minimize'], () => k, liar);
    return [s.below.map((t) => t.number), s.above.map((t) => t.number), s.n];
  };
  assert.deepEqual(numbers(1), [[2], [0, 1, 3, 4, 5, 7], 7]);
  assert.deepEqual(numbers(3), [[0, 2, 4], [1, 3, 5, 7], 7]);
  assert.deepEqual(numbers(6), [[0, 1, 2, 3, 4, 5], [7], 7]);
  assert.deepEqual(numbers(2, true), [[0, 2], [1, 3, 4, 5, 6, 7], 8]);
  const max = splitTrials(trials, ['maximize'], () => 2, false);
  assert.deepEqual(
    max.below.map((t) => t.number),
    [0, 2],
  );
  // Two objectives: rank 0 is {a, b, c} (a and c on the ends: infinite crowding), then d.
  const mo = [record(0, 'complete', [1, 5]), record(1, 'complete', [2, 2]), record(2, 'complete', [5, 1]), record(3, 'complete', [3, 3])];
  assert.deepEqual(
    splitTrials(mo, ['minimize', 'minimize'], () => 2, false).below.map((t) => t.number),
    [0, 2],
  );
  assert.deepEqual(
    splitTrials(mo, ['minimize', 'minimize'], () => 3, false).below.map((t) => t.number),
    [0, 1, 2],
  );
});

test('TPE finds the region random search misses on a narrow 2-D valley (fixed seeds)', async () => {
  const valley = (t: { suggestFloat: (n: string, a: number, b: number) => number }) => {
    const x = t.suggestFloat('x', -10, 10);
    const y = t.suggestFloat('y', -10, 10);
    return (x - 3) ** 2 + 10 * (y + 2) ** 2;
  };
  let wins = 0;
  for (const seed of [1, 2, 3, 4, 5]) {
    const tpe = await createStudy({ sampler: new TpeSampler({ seed }) });
    const rnd = await createStudy({ sampler: new RandomSampler({ seed }) });
    await tpe.optimize(valley, { trials: 60 });
    await rnd.optimize(valley, { trials: 60 });
    if (tpe.bestValue < rnd.bestValue) wins++;
  }
  assert.ok(wins >= 4, `TPE beat random on ${wins} of 5 seeds`);
});

test('TPE options are checked', () => {
  assert.throws(() => new TpeSampler({ nEiCandidates: 0 }), /nEiCandidates must be an integer in \[1,/);
  assert.throws(() => new TpeSampler({ gamma: 3 as never }), /gamma must be a function/);
  assert.throws(() => new TpeSampler({ seed: -1 }), /seed must be an integer in \[0,/);
  assert.throws(() => new TpeSampler({ multivariat: true } as never), /unknown option 'multivariat'/);
  assert.throws(() => splitTrials([], ['minimize'], () => 0.5, false), /gamma\(0\) must return an integer >= 0, got 0.5/);
});
