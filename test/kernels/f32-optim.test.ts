import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { kernelByName, kernels } from '../../src/core/wasm.ts';
import { sgdStep, adamStep, maskInPlace, type SgdStepOptions, type AdamStepOptions } from '../../src/core/ops/optim.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';
import { SgdRef, AdamRef, sgdTorchF32, adamTorchF32, type SgdConfig, type AdamConfig } from '../reference/optim-ref.ts';

const SIZES = [0, 1, 3, 4, 5, 17, 1025];
const STEPS = 20;

const SGD_CASES: SgdConfig[] = [
  { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
  { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false },
  { lr: 0.05, momentum: 0.9, dampening: 0.5, weightDecay: 0, nesterov: false },
  { lr: 0.03, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: true },
  { lr: 0.03, momentum: 0.8, dampening: 0, weightDecay: 0.01, nesterov: true },
  { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0.1, nesterov: false },
  { lr: 0.02, momentum: 0.5, dampening: 0.1, weightDecay: 0.05, nesterov: false },
];

const ADAM_CASES: AdamConfig[] = [
  { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false },
  { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: false },
  { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: true },
  { lr: 0.05, beta1: 0.3, beta2: 0.99, eps: 1e-3, weightDecay: 0.01, decoupled: true },
  { lr: 0.02, beta1: 0, beta2: 0.9, eps: 1e-6, weightDecay: 0, decoupled: false },
];

const sgdOptions = (c: SgdConfig, first: boolean): SgdStepOptions => ({ ...c, first });
const adamOptions = (c: AdamConfig, step: number): AdamStepOptions => ({ ...c, step });

// A separable quadratic ½ Σ aᵢ(pᵢ − cᵢ)²: its gradient depends on the trajectory, so each side
// computes it from its own parameters (the kernel side rounded to f32, as a model would).
function quadratic(n: number, seed: number) {
  const rand = mulberry32(seed);
  const a = Float64Array.from({ length: n }, () => 0.2 + 2 * rand());
  const c = Float64Array.from({ length: n }, () => 2 * rand() - 1);
  return (p: ArrayLike<number>) => Float64Array.from({ length: n }, (_, i) => a[i]! * (p[i]! - c[i]!));
}

test('SGD trajectories match the f64 reference (fixed gradients and a quadratic), grad untouched', () => {
  const n = 37;
  SGD_CASES.forEach((c, k) =>
    scope(() => {
      const rand = mulberry32(100 + k);
      const p0 = uniform(rand, n);
      const grads = Array.from({ length: STEPS }, () => uniform(rand, n));
      for (const mode of ['fixed', 'quadratic'] as const) {
        const gradOf = quadratic(n, 200 + k);
        const p = Tensor.from(p0),
          buf = Tensor.zeros([n]),
          g = Tensor.empty([n]);
        const ref = new SgdRef(c);
        const pRef = Float64Array.from(p0);
        for (let t = 0; t < STEPS; t++) {
          g.view().set(mode === 'fixed' ? grads[t]! : gradOf(p.read()));
          const gBefore = g.read();
          sgdStep(p, g, buf, sgdOptions(c, t === 0));
          assert.deepEqual(g.read(), gBefore, 'grad is only read');
          ref.step(pRef, mode === 'fixed' ? grads[t]! : gradOf(pRef));
        }
        assertClose(p.read(), pRef, { atol: 5e-6, rtol: 1e-6 }, `sgd case ${k} ${mode} params`);
        if (c.momentum !== 0) assertClose(buf.read(), ref.buf!, { atol: 1e-5, rtol: 1e-5 }, `sgd case ${k} ${mode} buffer`);
      }
    }),
  );
});

test('SGD first step copies the gradient (with its L2 term) into the buffer, undamped', () => {
  scope(() => {
    const p = Tensor.from([1, -2, 3]),
      g = Tensor.from([0.5, 0.25, -1]),
      buf = Tensor.from([9, 9, 9]);
    sgdStep(p, g, buf, { lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.5, first: true });
    const d = [0.5 + 0.5 * 1, 0.25 + 0.5 * -2, -1 + 0.5 * 3];
    assertClose(buf.read(), d, { atol: 1e-7 }, 'buffer');
    assertClose(
      p.read(),
      [1, -2, 3].map((x, i) => x - 0.1 * d[i]!),
      { atol: 1e-7 },
      'params',
    );
  });
});

test('Adam and AdamW trajectories match the f64 reference (Kingma & Ba; Loshchilov & Hutter)', () => {
  const n = 37;
  ADAM_CASES.forEach((c, k) =>
    scope(() => {
      const rand = mulberry32(300 + k);
      const p0 = uniform(rand, n);
      const grads = Array.from({ length: STEPS }, () => uniform(rand, n));
      for (const mode of ['fixed', 'quadratic'] as const) {
        const gradOf = quadratic(n, 400 + k);
        const p = Tensor.from(p0),
          m = Tensor.zeros([n]),
          v = Tensor.zeros([n]),
          g = Tensor.empty([n]);
        const ref = new AdamRef(c, n);
        const pRef = Float64Array.from(p0);
        for (let t = 1; t <= STEPS; t++) {
          g.view().set(mode === 'fixed' ? grads[t - 1]! : gradOf(p.read()));
          const gBefore = g.read();
          adamStep(p, g, m, v, adamOptions(c, t));
          assert.deepEqual(g.read(), gBefore, 'grad is only read');
          ref.step(pRef, mode === 'fixed' ? grads[t - 1]! : gradOf(pRef));
        }
        assertClose(p.read(), pRef, { atol: 5e-6, rtol: 1e-6 }, `adam case ${k} ${mode} params`);
        assertClose(m.read(), ref.m, { atol: 1e-6, rtol: 1e-5 }, `adam case ${k} ${mode} m`);
        assertClose(v.read(), ref.v, { atol: 1e-7, rtol: 1e-5 }, `adam case ${k} ${mode} v`);
      }
    }),
  );
});

test('SGD follows PyTorch’s f32 operation order bit for bit', () => {
  const n = 41;
  SGD_CASES.forEach((c, k) =>
    scope(() => {
      const rand = mulberry32(450 + k);
      const pE = uniform(rand, n),
        bufE = new Float32Array(n);
      const p = Tensor.from(pE),
        buf = Tensor.zeros([n]),
        g = Tensor.empty([n]);
      for (let t = 0; t < STEPS; t++) {
        const grad = uniform(rand, n);
        g.view().set(grad);
        sgdStep(p, g, buf, sgdOptions(c, t === 0));
        sgdTorchF32(pE, grad, bufE, t === 0, c);
      }
      assert.deepEqual(p.read(), pE, `case ${k} params`);
      assert.deepEqual(buf.read(), bufE, `case ${k} buffer`);
    }),
  );
});

test('Adam follows PyTorch’s f32 operation order bit for bit', () => {
  const n = 41;
  ADAM_CASES.forEach((c, k) =>
    scope(() => {
      const rand = mulberry32(500 + k);
      const pE = uniform(rand, n),
        mE = new Float32Array(n),
        vE = new Float32Array(n);
      const p = Tensor.from(pE),
        m = Tensor.zeros([n]),
        v = Tensor.zeros([n]),
        g = Tensor.empty([n]);
      for (let t = 1; t <= STEPS; t++) {
        const grad = uniform(rand, n);
        g.view().set(grad);
        adamStep(p, g, m, v, adamOptions(c, t));
        adamTorchF32(pE, grad, mE, vE, t, c);
      }
      assert.deepEqual(p.read(), pE, `case ${k} params`);
      assert.deepEqual(m.read(), mE, `case ${k} m`);
      assert.deepEqual(v.read(), vE, `case ${k} v`);
    }),
  );
});

// Runs 5 updates through a kernel and its _ref twin on twin copies of the state blocks, each
// block initialised uniform in its [lo, hi) range; block 1 is the gradient, fresh each step.
function twinRun(
  n: number,
  seed: number,
  ranges: [number, number][],
  step: (ptrs: number[], t: number, kernel: string) => void,
  name: string,
): void {
  scope(() => {
    const rand = mulberry32(seed);
    const init = ranges.map(([lo, hi]) => uniform(rand, n, lo, hi));
    const a = init.map((x) => Tensor.from(x));
    const b = init.map((x) => Tensor.from(x));
    for (let t = 1; t <= 5; t++) {
      const g = uniform(rand, n);
      a[1]!.view().set(g);
      b[1]!.view().set(g);
      step(
        a.map((x) => x.ptr),
        t,
        name,
      );
      step(
        b.map((x) => x.ptr),
        t,
        `${name}_ref`,
      );
    }
    a.forEach((x, i) => assert.deepEqual(x.read(), b[i]!.read(), `${name} n ${n} block ${i}`));
  });
}

test('v128 SGD and Adam equal their scalar twins bit for bit on every size and flag', () => {
  const k = kernels();
  for (const n of SIZES) {
    SGD_CASES.forEach((c, i) =>
      twinRun(
        n,
        600 + i,
        [
          [-1, 1],
          [-1, 1],
          [-1, 1],
        ],
        ([p, g, buf], t, name) =>
          kernelByName(name)(p!, g!, buf!, n, c.lr, c.momentum, c.dampening, c.weightDecay, c.nesterov ? 1 : 0, t === 1 ? 1 : 0),
        'f32_sgd_step',
      ),
    );
    ADAM_CASES.forEach((c, i) =>
      twinRun(
        n,
        700 + i,
        [
          [-1, 1],
          [-1, 1],
          [-1, 1],
          [0, 1],
        ],
        ([p, g, m, v], t, name) =>
          kernelByName(name)(p!, g!, m!, v!, n, c.lr, c.beta1, c.beta2, c.eps, c.weightDecay, t, c.decoupled ? 1 : 0),
        'f32_adam_step',
      ),
    );
  }
});

test('f32_mask_u8 equals its twin and zeroes exactly the unmasked positions', () => {
  const k = kernels();
  const rand = mulberry32(800);
  scope(() => {
    for (const n of SIZES) {
      const x = uniform(rand, n);
      const bits = Uint8Array.from({ length: n }, () => (rand() < 0.5 ? 0 : 1 + Math.floor(rand() * 255)));
      const mask = Tensor.from(bits, [n], 'u8');
      const a = Tensor.from(x),
        b = Tensor.from(x),
        c = Tensor.from(x);
      k.f32_mask_u8!(a.ptr, mask.ptr, n);
      k.f32_mask_u8_ref!(b.ptr, mask.ptr, n);
      maskInPlace(c, mask);
      const want = Float32Array.from(x, (v, i) => (bits[i] ? v : 0));
      assert.deepEqual(a.read(), b.read(), `n ${n}`);
      assert.deepEqual(a.read(), want, `n ${n}`);
      assert.deepEqual(c.read(), want, `n ${n}`);
    }
  });
});

test('masked weights stay exactly zero through 50 Adam and AdamW steps with nonzero moments', () => {
  const n = 101;
  for (const decoupled of [false, true])
    scope(() => {
      const rand = mulberry32(900);
      const bits = Uint8Array.from({ length: n }, () => (rand() < 0.4 ? 0 : 1));
      const mask = Tensor.from(bits, [n], 'u8');
      const p = Tensor.from(uniform(rand, n));
      const m = Tensor.from(uniform(rand, n, -0.1, 0.1));
      const v = Tensor.from(uniform(rand, n, 0, 0.01));
      const g = Tensor.empty([n]);
      maskInPlace(p, mask);
      for (let t = 1; t <= 50; t++) {
        g.view().set(uniform(rand, n));
        adamStep(p, g, m, v, { lr: 0.01, weightDecay: 0.1, decoupled, step: t });
        maskInPlace(p, mask);
        const ps = p.read(),
          ms = m.read();
        for (let i = 0; i < n; i++) {
          if (!bits[i] && !Object.is(ps[i], 0)) assert.fail(`step ${t}: pruned weight ${i} is ${ps[i]}`);
        }
        assert.ok(
          ms.some((x, i) => !bits[i] && x !== 0),
          'moments at pruned positions are live',
        );
      }
      assert.ok(p.read().some((x, i) => bits[i] && x !== 0));
    });
});

test('validation errors name the call, the constraint and the value', () => {
  scope(() => {
    const t = Tensor.zeros([4]),
      s = Tensor.zeros([3]);
    assert.throws(() => sgdStep(t, t, undefined, { lr: -1 }), /sgdStep: lr must be a finite number in \[0, Infinity\], got -1/);
    assert.throws(() => sgdStep(t, t, undefined, { lr: 0.1, momentum: 0.9 }), /momentum 0.9 needs a momentum buffer tensor/);
    assert.throws(() => sgdStep(t, t, s, { lr: 0.1, momentum: 0.9 }), /sgdStep: buffer \[3\] has 3 elements, param \[4\] has 4/);
    assert.throws(() => sgdStep(t, s, undefined, { lr: 0.1 }), /sgdStep: grad \[3\] has 3 elements/);
    assert.throws(
      () => sgdStep(t, t, t, { lr: 0.1, nesterov: true }),
      /nesterov needs momentum > 0 and dampening 0, got momentum=0 dampening=0/,
    );
    assert.throws(() => sgdStep(t, t, t, { lr: 0.1, dampening: 2 }), /dampening must be a finite number in \[0, 1\], got 2/);
    assert.throws(() => sgdStep(t, t, t, { lr: 0.1, nesterov: 1 as never }), /nesterov must be a boolean, got number/);
    assert.throws(() => sgdStep(t, t, t, { lr: 0.1, mommentum: 0.9 } as never), /sgdStep: unknown option 'mommentum'/);
    assert.throws(
      () => sgdStep(t, Tensor.zeros([4], 'i32') as never, undefined, { lr: 0.1 }),
      /sgdStep: grad must be an f32 tensor, got i32/,
    );
    assert.throws(() => adamStep(t, t, t, t, { step: 0 }), /adamStep: step must be an integer in \[1, 2147483647\], got 0/);
    assert.throws(() => adamStep(t, t, t, t, { step: 1, beta2: 1 }), /adamStep: beta2 must be in \[0, 1\), got 1/);
    assert.throws(() => adamStep(t, t, t, s, { step: 1 }), /adamStep: v \[3\] has 3 elements, param \[4\] has 4/);
    assert.throws(() => adamStep(t, t, t, t, undefined as never), /adamStep: options with step are required/);
    assert.throws(() => maskInPlace(t, Tensor.zeros([4]) as never), /maskInPlace: mask must be a u8 tensor, got f32/);
    assert.throws(() => maskInPlace(t, Tensor.zeros([3], 'u8')), /maskInPlace: mask \[3\] has 3 elements, x \[4\] has 4/);
  });
});
