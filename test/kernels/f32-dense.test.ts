// The dense layer: SIMD kernels against their _ref twins (same bits), the forward against an f64
// layer written here, the backward against central finite differences of that f64 layer for
// every activation, and the TS wrappers' shape checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { kernelByName, kernels, u8View } from '../../src/core/wasm.ts';
import { ACTIVATIONS } from '../../src/core/activation.ts';
import { denseBackward, denseForward } from '../../src/core/ops/linalg.ts';
import { act as actF64, numericGradient } from '../reference/mlp-ref.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

const ALPHA = 0.1;
const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

interface Layer {
  B: number;
  N: number;
  K: number;
  x: Float32Array;
  w: Float32Array;
  bias: Float32Array | undefined;
}

function layer(rand: () => number, B: number, N: number, K: number, withBias = true): Layer {
  return { B, N, K, x: uniform(rand, B * K), w: uniform(rand, N * K), bias: withBias ? uniform(rand, N) : undefined };
}

function fwd(kernel: string, l: Layer, code: number, keepPre = true): { y: Float32Array; pre: Float32Array | undefined } {
  return scope(() => {
    const x = Tensor.from(l.x);
    const w = Tensor.from(l.w);
    const bias = l.bias ? Tensor.from(l.bias) : undefined;
    const y = Tensor.empty([l.B * l.N]);
    const pre = keepPre ? Tensor.empty([l.B * l.N]) : undefined;
    kernelByName(kernel)(y.ptr, pre?.ptr ?? 0, x.ptr, w.ptr, bias?.ptr ?? 0, l.B, l.N, l.K, code, ALPHA);
    return { y: y.read(), pre: pre?.read() };
  });
}

interface Grads {
  dpre: Float32Array;
  dw: Float32Array;
  db: Float32Array;
  dx: Float32Array;
}

function bwd(kernel: string, l: Layer, code: number, dy: Float32Array, start?: { dw: Float32Array; db: Float32Array }): Grads {
  const { y, pre } = fwd('f32_dense_fwd_ref', l, code);
  return scope(() => {
    const t = (a: Float32Array) => Tensor.from(a);
    const dyt = t(dy);
    const dw = start ? t(start.dw) : t(new Float32Array(l.N * l.K).fill(NaN));
    const db = start ? t(start.db) : t(new Float32Array(l.N).fill(NaN));
    const dx = t(new Float32Array(l.B * l.K).fill(NaN));
    kernelByName(kernel)(
      dx.ptr,
      dw.ptr,
      db.ptr,
      dyt.ptr,
      t(l.x).ptr,
      t(l.w).ptr,
      t(pre!).ptr,
      t(y).ptr,
      l.B,
      l.N,
      l.K,
      code,
      ALPHA,
      start ? 1 : 0,
    );
    return { dpre: dyt.read(), dw: dw.read(), db: db.read(), dx: dx.read() };
  });
}

// pre = x·wᵀ + bias in f64.
function preF64(
  l: Layer,
  w: ArrayLike<number> = l.w,
  bias: ArrayLike<number> | undefined = l.bias,
  x: ArrayLike<number> = l.x,
): Float64Array {
  const out = new Float64Array(l.B * l.N);
  for (let b = 0; b < l.B; b++) {
    for (let n = 0; n < l.N; n++) {
      let s = bias ? bias[n]! : 0;
      for (let k = 0; k < l.K; k++) s += x[b * l.K + k]! * w[n * l.K + k]!;
      out[b * l.N + n] = s;
    }
  }
  return out;
}

const SHAPES: [number, number, number][] = [
  [0, 3, 4],
  [1, 1, 1],
  [1, 10, 784],
  [3, 5, 7],
  [4, 8, 1],
  [5, 13, 33],
  [17, 9, 300],
  [64, 10, 65],
];

test('f32_dense_fwd matches its _ref twin bit for bit and an f64 layer, for every activation', () => {
  const rand = mulberry32(21);
  for (const [B, N, K] of SHAPES) {
    for (const [code, name] of ACTIVATIONS.entries()) {
      for (const withBias of [true, false]) {
        const l = layer(rand, B, N, K, withBias);
        const label = `${name} B=${B} N=${N} K=${K} bias=${withBias}`;
        const fast = fwd('f32_dense_fwd', l, code);
        const ref = fwd('f32_dense_fwd_ref', l, code);
        assert.deepEqual(bits(fast.y), bits(ref.y), `${label}: y`);
        assert.deepEqual(bits(fast.pre!), bits(ref.pre!), `${label}: pre`);
        const pre = preF64(l);
        assertClose(fast.pre!, pre, { atol: 1e-6 * (K + 1), rtol: 1e-5 }, `${label}: pre vs f64`);
        assertClose(
          fast.y,
          pre.map((p) => actF64(name, p, ALPHA)),
          { atol: 1e-6 * (K + 1), rtol: 1e-5 },
          `${label}: y vs f64`,
        );
        assert.deepEqual(bits(fwd('f32_dense_fwd', l, code, false).y), bits(fast.y), `${label}: inference (pre = 0) gives the same y`);
      }
    }
  }
});

test('f32_dense_bwd matches its _ref twin bit for bit, also accumulating', () => {
  const rand = mulberry32(22);
  for (const [B, N, K] of SHAPES) {
    for (const [code, name] of ACTIVATIONS.entries()) {
      const l = layer(rand, B, N, K);
      const dy = uniform(rand, B * N);
      const label = `${name} B=${B} N=${N} K=${K}`;
      for (const start of [undefined, { dw: uniform(rand, N * K), db: uniform(rand, N) }]) {
        const fast = bwd('f32_dense_bwd', l, code, dy, start);
        const ref = bwd('f32_dense_bwd_ref', l, code, dy, start);
        for (const key of ['dpre', 'dw', 'db', 'dx'] as const)
          assert.deepEqual(bits(fast[key]), bits(ref[key]), `${label} acc=${!!start}: ${key}`);
      }
    }
  }
});

// L = Σ g ⊙ act(x·wᵀ + bias) in f64; its exact gradients by central differences against the
// kernel's dw, db, dx (computed from dy = g).
test('f32_dense_bwd agrees with central finite differences of an f64 layer, for every activation', () => {
  const rand = mulberry32(23);
  for (const [code, name] of ACTIVATIONS.entries()) {
    for (const [B, N, K] of [
      [3, 5, 7],
      [6, 9, 4],
    ] as const) {
      const l = layer(rand, B, N, K);
      const g = uniform(rand, B * N);
      const grads = bwd('f32_dense_bwd', l, code, g);
      const loss = (w: ArrayLike<number>, bias: ArrayLike<number>, x: ArrayLike<number>) =>
        preF64(l, w, bias, x).reduce((s, p, i) => s + g[i]! * actF64(name, p, ALPHA), 0);
      const w64 = Float64Array.from(l.w);
      const b64 = Float64Array.from(l.bias!);
      const x64 = Float64Array.from(l.x);
      const tol = { atol: 2e-5, rtol: 1e-4 };
      const label = `${name} B=${B} N=${N} K=${K}`;
      assertClose(
        grads.dw,
        numericGradient(w64, (p) => loss(p, b64, x64), 1e-6),
        tol,
        `${label}: dw`,
      );
      assertClose(
        grads.db,
        numericGradient(b64, (p) => loss(w64, p, x64), 1e-6),
        tol,
        `${label}: db`,
      );
      assertClose(
        grads.dx,
        numericGradient(x64, (p) => loss(w64, b64, p), 1e-6),
        tol,
        `${label}: dx`,
      );
    }
  }
});

test('f32_dense_bwd skips the gradients whose pointer is 0', () => {
  const rand = mulberry32(24);
  const l = layer(rand, 3, 5, 7);
  const g = uniform(rand, 15);
  const want = bwd('f32_dense_bwd_ref', l, 1, g);
  scope(() => {
    const t = (a: Float32Array) => Tensor.from(a);
    const dy = t(g);
    const { y, pre } = fwd('f32_dense_fwd', l, 1);
    const low = u8View(0, 1024).slice(); // where a null pointer would be written through
    kernels().f32_dense_bwd!(0, 0, 0, dy.ptr, t(l.x).ptr, t(l.w).ptr, t(pre!).ptr, t(y).ptr, 3, 5, 7, 1, ALPHA, 0);
    assert.deepEqual(u8View(0, 1024), low);
    assert.deepEqual(bits(dy.read()), bits(want.dpre), 'dy still becomes dpre');
  });
});

test('denseForward and denseBackward: the kernels behind a checked API', () => {
  const rand = mulberry32(25);
  const l = layer(rand, 4, 3, 5);
  scope(() => {
    const x = Tensor.from(l.x, [4, 5]);
    const w = Tensor.from(l.w, [3, 5]);
    const bias = Tensor.from(l.bias!, [3]);
    const pre = Tensor.empty([4, 3]);
    const y = denseForward(x, w, { bias, activation: 'tanh', pre });
    const ref = fwd('f32_dense_fwd_ref', l, 4);
    assert.deepEqual(bits(y.read()), bits(ref.y));
    assert.deepEqual(bits(pre.read()), bits(ref.pre!));
    const g = uniform(rand, 12);
    const dy = Tensor.from(g, [4, 3]);
    const grads = denseBackward(dy, x, w, { activation: 'tanh', pre, y });
    const want = bwd('f32_dense_bwd_ref', l, 4, g);
    assert.deepEqual(bits(grads.dw.read()), bits(want.dw));
    assert.deepEqual(bits(grads.db!.read()), bits(want.db));
    assert.deepEqual(bits(grads.dx!.read()), bits(want.dx));
    assert.deepEqual(bits(dy.read()), bits(want.dpre), 'dy holds dpre');
    const twice = denseBackward(Tensor.from(want.dpre, [4, 3]), x, w, { dw: grads.dw, db: grads.db, dx: null, accumulate: true });
    assert.equal(twice.dx, undefined);
    assertClose(
      twice.dw.read(),
      want.dw.map((v) => 2 * v),
      { rtol: 1e-6 },
      'accumulated dw',
    );
    assert.equal(denseBackward(dy, x, w, { db: null, dx: null }).db, undefined);
  });
});

test('denseForward and denseBackward reject bad shapes, options and overlapping memory', () => {
  scope(() => {
    const x = Tensor.zeros([4, 5]);
    const w = Tensor.zeros([3, 5]);
    const pre = Tensor.zeros([4, 3]);
    assert.throws(() => denseForward(x, Tensor.zeros([3, 6])), /denseForward: x \[4,5\] has 5 features, w \[3,6\] expects 6/);
    assert.throws(() => denseForward(Tensor.zeros([20]), w), /denseForward: x must be a 2-D matrix, got shape \[20\]/);
    assert.throws(() => denseForward(x, w, { bias: Tensor.zeros([4]) }), /denseForward: bias has shape \[4\], expected \[3\]/);
    assert.throws(() => denseForward(x, w, { out: Tensor.zeros([3, 4]) }), /denseForward: out has shape \[3,4\], expected \[4,3\]/);
    assert.throws(() => denseForward(x, w, { activation: 'swish' as never }), /denseForward: activation must be one of/);
    assert.throws(() => denseForward(x, w, { pre, out: pre }), /denseForward: out \[4,3\] shares memory with pre/);
    assert.throws(() => denseForward(x, w, { out: x.reshape([5, 4]).slice(0, [4, 3]) }), /denseForward: out \[4,3\] shares memory with x/);
    assert.throws(() => denseForward(x, Tensor.zeros([3, 5], 'i32') as never), /denseForward: w must be an f32 tensor, got i32/);
    assert.throws(() => denseForward(x, w, { bias: w } as never), /bias has shape \[3,5\]/);
    assert.throws(() => denseForward(x, w, { act: 'relu' } as never), /denseForward: unknown option 'act'/);
    const dy = Tensor.zeros([4, 3]);
    assert.throws(
      () => denseBackward(dy, x, w, { activation: 'relu' }),
      /denseBackward: activation 'relu' needs the forward's pre-activations/,
    );
    assert.throws(() => denseBackward(Tensor.zeros([3, 4]), x, w), /denseBackward: dy has shape \[3,4\], expected \[4,3\]/);
    assert.throws(() => denseBackward(dy, x, w, { accumulate: true }), /denseBackward: accumulate needs the dw and db tensors/);
    assert.throws(() => denseBackward(dy, x, w, { dx: x }), /denseBackward: dx \[4,5\] shares memory with x/);
    assert.throws(() => denseBackward(dy, x, w, { dw: Tensor.zeros([5, 3]) }), /denseBackward: dw has shape \[5,3\], expected \[3,5\]/);
  });
});
