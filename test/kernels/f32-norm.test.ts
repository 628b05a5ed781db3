// Batch-normalisation kernels against their _ref twins (same bits), the f64 definition (training
// statistics, PyTorch's running-statistic update with the unbiased variance, inference with the
// running statistics) and finite differences of an f64 batch-norm loss for the backward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchNormRef } from '../reference/cnn-ref.ts';
import { numericGradient } from '../reference/mlp-ref.ts';
import { assertClose } from '../helpers/close.ts';
import { bits, call } from '../helpers/kernel-call.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

const SHAPES = [
  [4, 3, 5],
  [1, 2, 7],
  [6, 5, 1],
  [2, 3, 16],
] as const; // [B, C, S]
const EPS = 1e-3,
  MOMENTUM = 0.2;

function inputs(seed: number, B: number, C: number, S: number) {
  const rand = mulberry32(seed);
  return {
    x: uniform(rand, B * C * S, -2, 3),
    gamma: uniform(rand, C, 0.5, 1.5),
    beta: uniform(rand, C),
    runMean: uniform(rand, C),
    runVar: uniform(rand, C, 0.5, 2),
    dy: uniform(rand, B * C * S),
  };
}

test('f32_batchnorm_train_fwd matches its _ref twin bit for bit and the f64 definition', () => {
  for (const [i, [B, C, S]] of SHAPES.entries()) {
    const d = inputs(600 + i, B, C, S);
    const run = (k: string) =>
      call(k, [
        new Float32Array(d.x.length),
        d.x,
        d.gamma,
        d.beta,
        new Float32Array(C),
        new Float32Array(C),
        d.runMean,
        d.runVar,
        B,
        C,
        S,
        EPS,
        MOMENTUM,
      ]);
    const fast = run('f32_batchnorm_train_fwd'),
      ref = run('f32_batchnorm_train_fwd_ref');
    fast.forEach((a, k) => assert.deepEqual(bits(a), bits(ref[k]!), `B=${B} C=${C} S=${S}: output ${k}`));
    const [y, , , , mean, invstd, runMean, runVar] = fast;
    const want = batchNormRef(d.x, d.gamma, d.beta, B, C, S, EPS);
    const tol = { atol: 1e-5, rtol: 1e-5 };
    assertClose(y!, want.y, tol, 'y');
    assertClose(mean!, want.mean, tol, 'mean');
    assertClose(
      invstd!,
      Array.from(want.variance, (v) => 1 / Math.sqrt(v + EPS)),
      tol,
      'invstd',
    );
    const n = B * S;
    assertClose(
      runMean!,
      Array.from(d.runMean, (r, c) => (1 - MOMENTUM) * r + MOMENTUM * want.mean[c]!),
      tol,
      'running mean',
    );
    assertClose(
      runVar!,
      Array.from(d.runVar, (r, c) => (1 - MOMENTUM) * r + MOMENTUM * want.variance[c]! * (n > 1 ? n / (n - 1) : 1)),
      tol,
      'running variance (unbiased)',
    );
  }
});

test('f32_batchnorm_eval_fwd matches its _ref twin bit for bit and the f64 map with the running statistics', () => {
  for (const [i, [B, C, S]] of SHAPES.entries()) {
    const d = inputs(700 + i, B, C, S);
    const run = (k: string) => call(k, [new Float32Array(d.x.length), d.x, d.gamma, d.beta, d.runMean, d.runVar, B, C, S, EPS])[0]!;
    const y = run('f32_batchnorm_eval_fwd');
    assert.deepEqual(bits(y), bits(run('f32_batchnorm_eval_fwd_ref')));
    const want = Array.from(d.x, (v, e) => {
      const c = Math.floor(e / S) % C;
      return ((v - d.runMean[c]!) / Math.sqrt(d.runVar[c]! + EPS)) * d.gamma[c]! + d.beta[c]!;
    });
    assertClose(y, want, { atol: 1e-5, rtol: 1e-5 }, `B=${B} C=${C} S=${S}`);
  }
});

// L = Σ dy ⊙ BN(x; γ, β) with batch statistics, in f64: its central differences are dx, dγ, dβ.
test('f32_batchnorm_bwd matches its _ref twin bit for bit and finite differences of the f64 definition', () => {
  for (const [i, [B, C, S]] of SHAPES.entries()) {
    if (B * S === 1) continue;
    const d = inputs(800 + i, B, C, S);
    const [, , , , mean, invstd] = call('f32_batchnorm_train_fwd', [
      new Float32Array(d.x.length),
      d.x,
      d.gamma,
      d.beta,
      new Float32Array(C),
      new Float32Array(C),
      0,
      0,
      B,
      C,
      S,
      EPS,
      MOMENTUM,
    ]);
    const run = (k: string) =>
      call(k, [
        new Float32Array(d.x.length).fill(NaN),
        new Float32Array(C).fill(NaN),
        new Float32Array(C).fill(NaN),
        d.dy,
        d.x,
        d.gamma,
        mean!,
        invstd!,
        B,
        C,
        S,
      ]);
    const fast = run('f32_batchnorm_bwd'),
      ref = run('f32_batchnorm_bwd_ref');
    fast.forEach((a, k) => assert.deepEqual(bits(a), bits(ref[k]!), `B=${B} C=${C} S=${S}: output ${k}`));
    const x64 = Float64Array.from(d.x),
      g64 = Float64Array.from(d.gamma),
      b64 = Float64Array.from(d.beta);
    const loss = (x: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) =>
      batchNormRef(x, g, b, B, C, S, EPS).y.reduce((s, v, e) => s + v * d.dy[e]!, 0);
    const tol = { atol: 2e-4, rtol: 1e-3 };
    const label = `B=${B} C=${C} S=${S}`;
    assertClose(
      fast[0]!,
      numericGradient(x64, (p) => loss(p, g64, b64)),
      tol,
      `${label}: dx`,
    );
    assertClose(
      fast[1]!,
      numericGradient(g64, (p) => loss(x64, p, b64)),
      tol,
      `${label}: dgamma`,
    );
    assertClose(
      fast[2]!,
      numericGradient(b64, (p) => loss(x64, g64, p)),
      tol,
      `${label}: dbeta`,
    );
  }
});
