// The GP pieces: Cholesky and triangular inverse against reconstruction, the marginal-likelihood
// gradient and the posterior gradients against central differences, the posterior against a
// naive f64 solve written here, L-BFGS on textbook problems, and the sampler on Branin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cholesky, invertLower, negLogPosterior, Posterior, fitKernel, type GpData } from '../../src/search/samplers/gp/gp-model.ts';
import { lbfgs } from '../../src/search/samplers/gp/lbfgs.ts';
import { acquisitionWithGradient, acquisition, GpSampler } from '../../src/search/samplers/gp/gp.ts';
import { createStudy } from '../../src/search/study.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32 } from '../helpers/rand.ts';
import { cdfRef, pdfRef } from './normal-ref.ts';

const rand = mulberry32(5);

function spd(n: number): Float64Array {
  const b = Float64Array.from({ length: n * n }, () => rand() - 0.5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? n : 0;
      for (let k = 0; k < n; k++) s += b[i * n + k]! * b[j * n + k]!;
      a[i * n + j] = s;
    }
  return a;
}

test('Cholesky reconstructs A = LLᵀ and L⁻¹L = I; a non-SPD matrix is refused', () => {
  for (const n of [0, 1, 3, 17]) {
    const a = spd(n);
    const l = a.slice();
    assert.ok(cholesky(l, n));
    const llt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) llt[i * n + j]! += l[i * n + k]! * l[j * n + k]!;
    assertClose(llt, a, { atol: 1e-12, rtol: 1e-12 }, `LLᵀ n=${n}`);
    const inv = invertLower(l, n);
    const eye = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) eye[i * n + j]! += inv[i * n + k]! * l[k * n + j]!;
    assertClose(
      eye,
      Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)),
      { atol: 1e-12 },
      `L⁻¹L n=${n}`,
    );
  }
  assert.equal(cholesky(Float64Array.of(1, 2, 2, 1), 2), false);
});

function data(n: number, dims: number, categorical: number[] = []): GpData {
  const x = Float64Array.from({ length: n * dims }, (_, i) => (categorical.includes(i % dims) ? Math.floor(rand() * 3) : rand()));
  const y = Float64Array.from({ length: n }, (_, i) => Math.sin(6 * x[i * dims]!) + 0.3 * (x[i * dims + 1] ?? 0));
  return { x, y, n, dims, categorical: Uint8Array.from({ length: dims }, (_, k) => (categorical.includes(k) ? 1 : 0)) };
}

test('the log-posterior gradient matches central differences (with and without noise, with a category)', () => {
  for (const [deterministic, cats] of [
    [false, []],
    [true, []],
    [false, [2]],
  ] as const) {
    const d = data(12, 3, [...cats]);
    const f = negLogPosterior(d, deterministic);
    const theta = Float64Array.of(0.3, -0.5, 1.1, 0.2, -3);
    const grad = new Float64Array(5);
    f(theta, grad);
    const eps = 1e-6;
    const fd = Array.from(theta, (_, k) => {
      const up = theta.slice();
      const dn = theta.slice();
      up[k]! += eps;
      dn[k]! -= eps;
      const g = new Float64Array(5);
      return (f(up, g) - f(dn, g)) / (2 * eps);
    });
    assertClose(grad, fd, { atol: 1e-5, rtol: 1e-5 }, `gradient deterministic=${deterministic} categorical=${cats}`);
  }
});

// Naive posterior: solve K a = b by Gauss-Jordan elimination in f64.
function solve(kmat: number[][], b: number[]): number[] {
  const n = b.length;
  const m = kmat.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    const p = m.slice(c).reduce((best, row, i) => (Math.abs(row[c]!) > Math.abs(m[best]![c]!) ? c + i : best), c);
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

test('posterior mean and variance match a naive solve; their gradients match central differences', () => {
  const d = data(9, 2);
  const params = { inverseSquaredLengthscales: Float64Array.of(4, 0.5), scale: 1.3, noise: 1e-3 };
  const post = new Posterior(d, params);
  const kern = (a: number[], b: number[]) => {
    const r = Math.sqrt(a.reduce((s, v, k) => s + params.inverseSquaredLengthscales[k]! * (v - b[k]!) ** 2, 0));
    return params.scale * (1 + Math.sqrt(5) * r + (5 / 3) * r * r) * Math.exp(-Math.sqrt(5) * r);
  };
  const pts = Array.from({ length: d.n }, (_, i) => [d.x[2 * i]!, d.x[2 * i + 1]!]);
  const K = pts.map((a, i) => pts.map((b, j) => kern(a, b) + (i === j ? params.noise : 0)));
  const alpha = solve(K, Array.from(d.y));
  const queries = [
    [0.1, 0.9],
    [0.5, 0.5],
    [pts[0]![0]!, pts[0]![1]!],
  ];
  const expMean = queries.map((q) => pts.reduce((s, p, i) => s + kern(q, p) * alpha[i]!, 0));
  const expVar = queries.map((q) => {
    const ks = pts.map((p) => kern(q, p));
    const w = solve(K, ks);
    return params.scale - ks.reduce((s, v, i) => s + v * w[i]!, 0);
  });
  const got = post.predict(Float64Array.from(queries.flat()), queries.length);
  assertClose(got.mean, expMean, { atol: 1e-10, rtol: 1e-9 }, 'mean');
  assertClose(got.variance, expVar, { atol: 1e-10, rtol: 1e-8 }, 'variance');
  const x = Float64Array.of(0.31, 0.62);
  const g = post.predictWithGradient(x);
  assertClose(
    [g.mean, g.variance],
    [post.predict(x, 1).mean[0]!, post.predict(x, 1).variance[0]!],
    { rtol: 1e-12, atol: 1e-12 },
    'point prediction',
  );
  const eps = 1e-6;
  const fd = (k: number, f: (x: Float64Array) => number) => {
    const up = x.slice();
    const dn = x.slice();
    up[k]! += eps;
    dn[k]! -= eps;
    return (f(up) - f(dn)) / (2 * eps);
  };
  assertClose(
    g.dMean,
    [0, 1].map((k) => fd(k, (p) => post.predict(p, 1).mean[0]!)),
    { rtol: 1e-6, atol: 1e-8 },
    'dMean',
  );
  assertClose(
    g.dVariance,
    [0, 1].map((k) => fd(k, (p) => post.predict(p, 1).variance[0]!)),
    { rtol: 1e-6, atol: 1e-8 },
    'dVariance',
  );
  // log EI from the posterior's mean and standard deviation, by the textbook formula.
  const f0 = Math.max(...d.y);
  const s = Math.sqrt(g.variance);
  const z = (g.mean - f0) / s;
  const [value, grad] = acquisitionWithGradient(post, x, f0);
  assertClose(
    [value, acquisition(post, x, 1, f0)[0]!],
    [Math.log(s * (pdfRef(z) + z * cdfRef(z))), Math.log(s * (pdfRef(z) + z * cdfRef(z)))],
    { rtol: 1e-9 },
    'log EI',
  );
  assertClose(
    grad,
    [0, 1].map((k) => fd(k, (p) => acquisitionWithGradient(post, p, f0)[0])),
    { rtol: 1e-5, atol: 1e-7 },
    'd log EI',
  );
});

test('fitted hyperparameters lower the objective from the start and keep the matrix factorable', () => {
  const d = data(20, 2);
  const f = negLogPosterior(d, false);
  const fitted = fitKernel(d, false);
  const theta = Float64Array.from([...fitted.inverseSquaredLengthscales, fitted.scale, fitted.noise - 1e-6].map(Math.log));
  const g = new Float64Array(4);
  assert.ok(f(theta, g) < f(Float64Array.of(0, 0, 0, -4.6), new Float64Array(4)));
  assert.ok(Math.max(...g.map(Math.abs)) < 1e-2, `gradient at the optimum ${Array.from(g)}`);
});

test('L-BFGS solves Rosenbrock and a box-bounded quadratic', () => {
  const rosen = (x: Float64Array, g: Float64Array) => {
    g[0] = -2 * (1 - x[0]!) - 400 * x[0]! * (x[1]! - x[0]! ** 2);
    g[1] = 200 * (x[1]! - x[0]! ** 2);
    return (1 - x[0]!) ** 2 + 100 * (x[1]! - x[0]! ** 2) ** 2;
  };
  const r = lbfgs(rosen, Float64Array.of(-1.2, 1), { maxIterations: 500, gradTol: 1e-9, fTol: 0 });
  assertClose(r.x, [1, 1], { atol: 1e-5 }, 'Rosenbrock');
  const quad = (x: Float64Array, g: Float64Array) => {
    g[0] = 2 * (x[0]! - 2);
    g[1] = 2 * (x[1]! + 0.5);
    return (x[0]! - 2) ** 2 + (x[1]! + 0.5) ** 2;
  };
  const b = lbfgs(quad, Float64Array.of(0.5, 0.5), { lower: Float64Array.of(0, 0), upper: Float64Array.of(1, 1) });
  assertClose(b.x, [1, 0], { atol: 1e-9 }, 'box corner');
});

test('GP sampler: near the Branin optimum in 40 trials; categorical-only spaces fall back to random', async () => {
  const study = await createStudy({ sampler: new GpSampler({ seed: 2, deterministicObjective: true, nPreliminarySamples: 512 }) });
  await study.optimize(
    (t) => {
      const x = t.suggestFloat('x', -5, 10);
      const y = t.suggestFloat('y', 0, 15);
      return (y - (5.1 / (4 * Math.PI ** 2)) * x * x + (5 / Math.PI) * x - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x) + 10;
    },
    { trials: 40 },
  );
  assert.ok(study.bestValue < 0.397887 + 0.05, `best ${study.bestValue}`);
  const cats = await createStudy({ sampler: new GpSampler({ seed: 1, nStartupTrials: 2 }) });
  await cats.optimize((t) => (t.suggestCategorical('c', ['a', 'b', 'c']) === 'b' ? 0 : 1), { trials: 8 });
  assert.equal(cats.trials.length, 8);
  assert.throws(() => new GpSampler({ maxObservations: 1 }), /maxObservations must be an integer in \[2, 5000\], got 1/);
});

test('GP batches spread out: pending joint samples count as observed at the worst value', async () => {
  const objective = (t: { suggestFloat: (n: string, a: number, b: number) => number }) =>
    (t.suggestFloat('x', 0, 1) - 0.3) ** 2 + (t.suggestFloat('y', 0, 1) - 0.6) ** 2;
  const spread = async (constantLiar: boolean) => {
    const study = await createStudy({ sampler: new GpSampler({ seed: 4, nStartupTrials: 6, nPreliminarySamples: 256, constantLiar }) });
    await study.optimize(objective, { trials: 8 });
    const batch = study.askBatch(4);
    const points = batch.map((t) => [t.suggestFloat('x', 0, 1), t.suggestFloat('y', 0, 1)]);
    let closest = Infinity;
    for (let i = 0; i < 4; i++)
      for (let j = i + 1; j < 4; j++)
        closest = Math.min(closest, Math.hypot(points[i]![0]! - points[j]![0]!, points[i]![1]! - points[j]![1]!));
    return closest;
  };
  const [withLiar, without] = [await spread(true), await spread(false)];
  assert.ok(withLiar > 0.02, `closest pair in a liar batch ${withLiar}`);
  assert.ok(without < 1e-3, `without the liar every trial of the batch proposes the same point (${without})`);
});
