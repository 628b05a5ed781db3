// Hypergradient descent: the engine's SGD-HD, SGDN-HD and Adam-HD against f64 transcriptions of
// the paper's algorithm boxes on a quadratic, step by step (parameters and learning rate); on a
// quadratic of curvature L, gradient descent's rate moves toward the optimal step 1/L from
// below and from above; and the optimizer option's validation.
// see: Baydin et al., "Online Learning Rate Adaptation with Hypergradient Descent", arXiv:1703.04782
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UpdateRule } from '../../src/core/layer-engine.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';
import { Dataset, adam, adamw, fit, gd, linearRegression, sgd } from '../../src/index.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

// f(θ) = ½ θᵀAθ − bᵀθ with A = MᵀM + I (symmetric positive definite).
function quadratic(rand: () => number, n: number) {
  const M = uniform(rand, n * n, -0.5, 0.5);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < n; k++) s += M[k * n + i]! * M[k * n + j]!;
      A[i * n + j] = s;
    }
  const b = uniform(rand, n);
  const grad = (t: ArrayLike<number>) =>
    Float64Array.from({ length: n }, (_, i) => {
      let s = -b[i]!;
      for (let j = 0; j < n; j++) s += A[i * n + j]! * t[j]!;
      return s;
    });
  return { grad };
}

const dot = (x: ArrayLike<number>, y: ArrayLike<number>) => Array.from(x).reduce((s, v, i) => s + v * y[i]!, 0);

interface HdRef {
  lr: number;
  step(theta: Float64Array, g: Float64Array): void;
}

// SGD-HD / SGDN-HD: α_t = α_{t−1} − β·h_t with h_t = g_t·u_{t−1}, u the step direction
// (−g, or PyTorch's momentum / Nesterov direction), then θ_t = θ_{t−1} + α_t·u_t.
function sgdHd(lr: number, beta: number, momentum: number, nesterov: boolean, wd: number): HdRef {
  let u: Float64Array | undefined, buf: Float64Array | undefined;
  return {
    lr,
    step(theta, g0) {
      const g = g0.map((v, i) => v + wd * theta[i]!);
      if (u) this.lr -= beta * dot(g, u);
      let d = g;
      if (momentum) {
        buf = buf ? buf.map((v, i) => momentum * v + g[i]!) : g.slice();
        d = nesterov ? g.map((v, i) => v + momentum * buf![i]!) : buf.slice();
      }
      u = d.map((v) => -v);
      for (let i = 0; i < theta.length; i++) theta[i] = theta[i]! + this.lr * u[i]!;
    },
  };
}

// Adam-HD: α_t = α_{t−1} − β·g_t·u_{t−1}, u_t = −m̂_t/(√v̂_t + ε). With decoupled decay the step
// is θ_t = θ_{t−1}(1 − α_t·λ) + α_t·u_t, so ∂θ_t/∂α_t = u_t − λθ_{t−1} takes u's place.
function adamHd(lr: number, beta: number, wd: number, decoupled: boolean): HdRef {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  let m: Float64Array | undefined,
    v: Float64Array | undefined,
    u: Float64Array | undefined,
    t = 0;
  return {
    lr,
    step(theta, g0) {
      const g = decoupled ? g0.slice() : g0.map((x, i) => x + wd * theta[i]!);
      if (u) this.lr -= beta * dot(g, u);
      t++;
      m = (m ?? new Float64Array(g.length)).map((x, i) => b1 * x + (1 - b1) * g[i]!);
      v = (v ?? new Float64Array(g.length)).map((x, i) => b2 * x + (1 - b2) * g[i]! * g[i]!);
      const step = m.map((x, i) => -(x / (1 - b1 ** t)) / (Math.sqrt(v![i]! / (1 - b2 ** t)) + eps));
      u = decoupled ? step.map((s, i) => s - wd * theta[i]!) : step;
      for (let i = 0; i < theta.length; i++) theta[i] = theta[i]! + this.lr * u[i]!;
    },
  };
}

const CASES: { name: string; rule: UpdateRule; ref: () => HdRef; lr: number }[] = [
  { name: 'SGD-HD', lr: 0.05, rule: sgd({ lr: 0.05, hypergradient: { beta: 0.01 } }).rule, ref: () => sgdHd(0.05, 0.01, 0, false, 0) },
  {
    name: 'SGD-HD with L2 decay',
    lr: 0.05,
    rule: sgd({ lr: 0.05, weightDecay: 0.1, hypergradient: { beta: 0.01 } }).rule,
    ref: () => sgdHd(0.05, 0.01, 0, false, 0.1),
  },
  {
    name: 'SGD-HD with momentum',
    lr: 0.02,
    rule: sgd({ lr: 0.02, momentum: 0.9, hypergradient: { beta: 0.001 } }).rule,
    ref: () => sgdHd(0.02, 0.001, 0.9, false, 0),
  },
  {
    name: 'SGDN-HD (Nesterov)',
    lr: 0.02,
    rule: sgd({ lr: 0.02, momentum: 0.9, nesterov: true, hypergradient: { beta: 0.001 } }).rule,
    ref: () => sgdHd(0.02, 0.001, 0.9, true, 0),
  },
  { name: 'Adam-HD', lr: 0.01, rule: adam({ lr: 0.01, hypergradient: { beta: 1e-4 } }).rule, ref: () => adamHd(0.01, 1e-4, 0, false) },
  {
    name: 'Adam-HD with L2 decay',
    lr: 0.01,
    rule: adam({ lr: 0.01, weightDecay: 0.05, hypergradient: { beta: 1e-4 } }).rule,
    ref: () => adamHd(0.01, 1e-4, 0.05, false),
  },
  {
    name: 'AdamW-HD (decoupled decay)',
    lr: 0.01,
    rule: adamw({ lr: 0.01, weightDecay: 0.5, hypergradient: { beta: 1e-4 } }).rule,
    ref: () => adamHd(0.01, 1e-4, 0.5, true),
  },
];

for (const { name, rule, ref, lr } of CASES) {
  test(`${name}: parameters and learning rate follow the f64 algorithm for 12 steps`, () => {
    // One linear layer 4 → 3 is a flat arena of 15 parameters; we drive it with a quadratic's gradient.
    const engine = new Sequential({ inputs: 4, layers: [dense(3)], seed: 1 }).engine;
    try {
      const rand = mulberry32(name.length);
      const n = engine.parameterCount;
      const { grad } = quadratic(rand, n);
      const start = uniform(rand, n);
      engine.params.view().set(start);
      const theta = Float64Array.from(start);
      const reference = ref();
      assert.equal(engine.hypergradientLr, undefined);
      for (let t = 1; t <= 12; t++) {
        engine.grads.view().set(grad(engine.params.view()));
        const used = engine.update(rule, lr);
        reference.step(theta, grad(theta));
        assertClose([used, engine.hypergradientLr!], [reference.lr, reference.lr], { rtol: 1e-4, atol: 1e-9 }, `${name} step ${t}: α`);
        assertClose(engine.params.read(), theta, { rtol: 1e-4, atol: 1e-5 }, `${name} step ${t}: θ`);
      }
      assert.ok(Math.abs(engine.hypergradientLr! / lr - 1) > 0.01, `the rate moved by more than 1%: ${lr} -> ${engine.hypergradientLr}`);
      engine.resetOptimizer();
      assert.equal(engine.hypergradientLr, undefined, 'reset forgets the rate');
    } finally {
      engine.dispose();
    }
  });
}

// Rows of the 8×8 Sylvester-Hadamard matrix: the 7 non-constant columns are the features, so with
// the bias [X 1]ᵀ[X 1] = 8I and the mean squared error has Hessian (2/8)·8I = 2I: L = 2.
function hadamardRegression(): Dataset {
  let h = [[1]];
  for (let k = 0; k < 3; k++) h = [...h.map((r) => [...r, ...r]), ...h.map((r) => [...r, ...r.map((v) => -v)])];
  const features = new Float32Array(8 * 7);
  h.forEach((row, i) => row.slice(1).forEach((v, j) => (features[i * 7 + j] = v)));
  return new Dataset({ features, numFeatures: 7, targets: Float32Array.from({ length: 8 }, (_, i) => ((i * 5) % 8) / 4 - 1) });
}

test('gradient descent with hypergradient on a quadratic of curvature L = 2: the rate moves toward 1/L from both sides', async () => {
  const data = hadamardRegression();
  for (const lr0 of [0.05, 0.9]) {
    const model = linearRegression(7, 1, 3);
    const rates: number[] = [];
    await fit(model, data, {
      optimizer: gd({ lr: lr0, hypergradient: { beta: 0.03 } }),
      epochs: 25,
      standardize: false,
      onEpoch: () => void rates.push(model.engine.hypergradientLr!),
    });
    const gaps = [lr0, ...rates].map((r) => Math.abs(r - 0.5));
    for (let i = 1; i < gaps.length; i++)
      assert.ok(gaps[i]! <= gaps[i - 1]! + 1e-12, `from ${lr0}: |α − 1/L| grew at step ${i}: ${gaps[i - 1]} -> ${gaps[i]}`);
    assert.ok(
      rates.every((r) => (r - 0.5) * (lr0 - 0.5) > 0),
      `from ${lr0}: α stays on its side of 1/L`,
    );
    assert.ok(gaps.at(-1)! < 0.75 * gaps[0]!, `from ${lr0}: α ended at ${rates.at(-1)}, not much nearer 1/L = 0.5`);
    model.dispose();
  }
});

test('hypergradient option: validation names the optimizer, the constraint and the value', () => {
  assert.throws(() => sgd({ hypergradient: { beta: -1 } }), {
    name: 'RangeError',
    message: 'sgd hypergradient: beta must be a finite number in [0, Infinity], got -1',
  });
  assert.throws(() => adam({ hypergradient: { beta: 1e-7, rate: 1 } as never }), {
    name: 'TypeError',
    message: "adam hypergradient: unknown option 'rate' (known: beta)",
  });
  assert.throws(() => adam({ hypergradient: { beta: 1e-7 }, schedule: { type: 'cosine' } }), {
    name: 'RangeError',
    message: "adam: hypergradient adapts the learning rate itself; the schedule must be constant, got 'cosine'",
  });
  assert.deepEqual(gd({ lr: 0.1, hypergradient: { beta: 0.01 } }).rule.hypergradient, { beta: 0.01 });
  assert.equal(adam().rule.hypergradient, undefined);
});
