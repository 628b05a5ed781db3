// Activations, softmax and in-core erf: SIMD against the _ref twins (same bits), against f64
// references written here, and backward rules against central finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { kernelByName, kernels } from '../../src/core/wasm.ts';
import { ACTIVATIONS, type Activation } from '../../src/core/activation.ts';
import { activationBackward, activationForward, logSoftmax, softmax } from '../../src/core/ops/act.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

const SIZES = [0, 1, 3, 4, 5, 8, 13, 17, 64, 257];
const F32_ULP = 2 ** -23; // relative spacing of f32 at 1

// erf by its Maclaurin series below 2 (the largest term is ~50, so ~14 digits survive) and
// erfc by its Laplace continued fraction above, evaluated bottom-up.
function erfcRef(x: number): number {
  if (x < 0) return 2 - erfcRef(-x);
  if (x < 2) {
    let term = x;
    let s = x;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(s); n++) {
      term *= (-x * x) / n;
      s += term / (2 * n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * s;
  }
  let f = x;
  for (let k = 2000; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}
const erfRef = (x: number) => (Math.abs(x) < 2 ? 1 - erfcRef(x) : Math.sign(x) * (1 - erfcRef(Math.abs(x))));

const ACT: Record<Activation, { f: (x: number, a: number) => number; df: (x: number, a: number) => number }> = {
  linear: { f: (x) => x, df: () => 1 },
  relu: { f: (x) => Math.max(x, 0), df: (x) => (x > 0 ? 1 : 0) },
  leaky_relu: { f: (x, a) => (x > 0 ? x : a * x), df: (x, a) => (x > 0 ? 1 : a) },
  sigmoid: {
    f: (x) => 1 / (1 + Math.exp(-x)),
    df: (x) => {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 - s);
    },
  },
  tanh: { f: (x) => Math.tanh(x), df: (x) => 1 - Math.tanh(x) ** 2 },
  gelu: {
    f: (x) => 0.5 * x * erfcRef(-x / Math.SQRT2),
    df: (x) => 0.5 * erfcRef(-x / Math.SQRT2) + (x * Math.exp((-x * x) / 2)) / Math.sqrt(2 * Math.PI),
  },
};

function act(kernel: string, x: Float32Array, code: number, alpha: number): Float32Array {
  return scope(() => {
    const xt = Tensor.from(x);
    const yt = Tensor.empty([x.length]);
    kernelByName(kernel)(yt.ptr, xt.ptr, x.length, code, alpha);
    return yt.read();
  });
}

function actBwd(kernel: string, dy: Float32Array, x: Float32Array, y: Float32Array | undefined, code: number, alpha: number): Float32Array {
  return scope(() => {
    const dyt = Tensor.from(dy);
    const xt = Tensor.from(x);
    const yt = y ? Tensor.from(y) : undefined;
    const dxt = Tensor.empty([x.length]);
    kernelByName(kernel)(dxt.ptr, dyt.ptr, xt.ptr, yt?.ptr ?? 0, x.length, code, alpha);
    return dxt.read();
  });
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

test('f64_erf and f64_erfc match tabulated values and an independent series', () => {
  const k = kernels();
  // Tabulated to 16 digits (Abramowitz & Stegun 7.1; DLMF 7.2).
  const table: [number, number][] = [
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
  ];
  for (const [x, v] of table) {
    assertClose([k.f64_erf!(x)], [v], { rtol: 4e-16 }, `erf(${x})`);
    assertClose([erfRef(x)], [v], { rtol: 1e-13 }, `series erf(${x})`);
    assertClose([k.f64_erf!(-x)], [-v], { rtol: 4e-16 }, `erf(${-x})`);
  }
  assertClose([k.f64_erfc!(5), k.f64_erfc!(10)], [1.5374597944280349e-12, 2.088487583762545e-45], { rtol: 1e-15 }, 'erfc tail');
  const xs = Array.from({ length: 2001 }, (_, i) => -12 + i * 0.012);
  assertClose(
    xs.map((x) => k.f64_erfc!(x)),
    xs.map(erfcRef),
    { rtol: 1e-11, atol: 1e-300 },
    'erfc grid',
  );
  assertClose(
    xs.map((x) => k.f64_erf!(x)),
    xs.map(erfRef),
    { rtol: 1e-12, atol: 1e-15 },
    'erf grid',
  );
  assert.equal(k.f64_erf!(Infinity), 1);
  assert.equal(k.f64_erf!(-Infinity), -1);
  assert.equal(k.f64_erfc!(-Infinity), 2);
  assert.ok(Number.isNaN(k.f64_erf!(NaN)) && Number.isNaN(k.f64_erfc!(NaN)));
  assert.equal(k.f64_erf!(1e-310), 1e-310 * (2 / Math.sqrt(Math.PI)));
});

test('activation forward: SIMD equals _ref bit for bit and is within an ulp of f64', () => {
  const rand = mulberry32(11);
  ACTIVATIONS.forEach((name, code) => {
    for (const n of SIZES) {
      const x = uniform(rand, n, -6, 6);
      const alpha = 0.07;
      const y = act('f32_act_fwd', x, code, alpha);
      assert.deepEqual(bits(y), bits(act('f32_act_fwd_ref', x, code, alpha)), `${name} n=${n}`);
      const expected = Array.from(x, (v) => Math.fround(ACT[name].f(v, Math.fround(alpha))));
      // One rounding of an f64 result within 1e-15 of exact: at most half an ulp apart from the
      // rounded exact value, one ulp from the f64 reference rounded independently.
      assertClose(y, expected, { rtol: F32_ULP, atol: 1e-37 }, `${name} n=${n}`);
    }
  });
});

test('activation forward: special values', () => {
  const x = Float32Array.from([NaN, Infinity, -Infinity, -0, 0, 88, -88, 1e-30, -1e-30]);
  const by = (code: number) => act('f32_act_fwd', x, code, 0.1);
  const relu = by(1);
  assert.ok(Number.isNaN(relu[0]!));
  assert.deepEqual(Array.from(relu.slice(1)), [Infinity, 0, 0, 0, 88, 0, Math.fround(1e-30), 0]);
  const sig = by(3);
  assert.deepEqual(Array.from(sig.slice(1, 3)), [1, 0]);
  assert.ok(sig.slice(1).every((v) => v >= 0 && v <= 1));
  const th = by(4);
  assert.deepEqual(Array.from(th.slice(1, 3)), [1, -1]);
  const ge = by(5);
  assert.deepEqual(Array.from(ge.slice(1, 3)), [Infinity, -0]);
  assert.equal(ge[5], 88);
  // gelu(-8) is −8·Φ(−8) ≈ −4.9e-15: the erfc form keeps it instead of flushing to 0.
  const g8 = act('f32_act_fwd', Float32Array.from([-8]), 5, 0);
  assertClose(g8, [Math.fround(-4 * erfcRef(8 / Math.SQRT2))], { rtol: F32_ULP }, 'gelu(-8)');
  for (const code of [3, 4, 5]) assert.ok(Number.isNaN(by(code)[0]!), `code ${code} NaN`);
});

test('activation backward: SIMD equals _ref, y absent equals y given, and matches f64 derivatives', () => {
  const rand = mulberry32(12);
  ACTIVATIONS.forEach((name, code) => {
    for (const n of SIZES) {
      const x = uniform(rand, n, -5, 5);
      const dy = uniform(rand, n, -2, 2);
      const alpha = 0.2;
      const y = act('f32_act_fwd', x, code, alpha);
      const dx = actBwd('f32_act_bwd', dy, x, y, code, alpha);
      assert.deepEqual(bits(dx), bits(actBwd('f32_act_bwd_ref', dy, x, y, code, alpha)), `${name} n=${n} ref`);
      assert.deepEqual(bits(dx), bits(actBwd('f32_act_bwd', dy, x, undefined, code, alpha)), `${name} n=${n} no y`);
      const expected = Array.from(x, (v, i) => dy[i]! * ACT[name].df(v, Math.fround(alpha)));
      // sigmoid and tanh use the rounded y, so allow a few ulps of y in the derivative.
      assertClose(dx, expected, { rtol: 4 * F32_ULP, atol: 4 * F32_ULP * 2 }, `${name} n=${n}`);
    }
  });
});

test('activation backward: central finite differences of the f64 forward', () => {
  const rand = mulberry32(13);
  const h = 1e-6;
  ACTIVATIONS.forEach((name, code) => {
    // Keep away from the kinks of relu and leaky_relu, where the derivative does not exist.
    const x = Float32Array.from(uniform(rand, 41, -4, 4), (v) => (Math.abs(v) < 1e-3 ? v + 0.01 : v));
    const dy = uniform(rand, 41, -1, 1);
    const dx = actBwd('f32_act_bwd', dy, x, undefined, code, 0.3);
    const a = Math.fround(0.3);
    const fd = Array.from(x, (v, i) => (dy[i]! * (ACT[name].f(v + h, a) - ACT[name].f(v - h, a))) / (2 * h));
    assertClose(dx, fd, { atol: 1e-7, rtol: 1e-6 }, name);
  });
});

test('activation backward may write over dy in place', () => {
  scope(() => {
    const rand = mulberry32(14);
    for (let code = 0; code < ACTIVATIONS.length; code++) {
      const x = Tensor.from(uniform(rand, 19, -3, 3));
      const dy = Tensor.from(uniform(rand, 19));
      const expected = actBwd('f32_act_bwd', dy.read(), x.read(), undefined, code, 0.1);
      kernels().f32_act_bwd!(dy.ptr, dy.ptr, x.ptr, 0, 19, code, 0.1);
      assert.deepEqual(bits(dy.read()), bits(expected));
    }
  });
});

function softmaxRef(x: Float32Array, rows: number, cols: number, invT: number, log: boolean): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const z = Array.from(x.subarray(r * cols, (r + 1) * cols), (v) => v * invT);
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    for (const v of z) out.push(log ? v - lse : Math.exp(v - lse));
  }
  return out;
}

test('softmax and log-softmax rows: SIMD equals _ref and matches f64 on tails and temperatures', () => {
  const rand = mulberry32(15);
  for (const cols of [1, 3, 4, 5, 10, 33]) {
    for (const rows of [0, 1, 3]) {
      for (const T of [1, 0.5, 3]) {
        const x = uniform(rand, rows * cols, -10, 10);
        const invT = Math.fround(1 / T);
        for (const [kernel, log] of [
          ['f32_softmax_rows', false],
          ['f32_log_softmax_rows', true],
        ] as const) {
          const run = (name: string) =>
            scope(() => {
              const xt = Tensor.from(x);
              const yt = Tensor.empty([x.length]);
              kernelByName(name)(yt.ptr, xt.ptr, rows, cols, invT);
              return yt.read();
            });
          const y = run(kernel);
          assert.deepEqual(bits(y), bits(run(`${kernel}_ref`)), `${kernel} ${rows}x${cols}`);
          assertClose(y, softmaxRef(x, rows, cols, invT, log), { rtol: 2 * F32_ULP, atol: 1e-30 }, `${kernel} ${rows}x${cols} T=${T}`);
        }
      }
    }
  }
});

test('softmax survives logits of ±80 and ±1e30 and propagates NaN per row', () => {
  scope(() => {
    const x = Tensor.from([80, -80, 0, 79, 1e30, -1e30, 1e30, 0, NaN, 1, 2, 3], [3, 4]);
    const p = softmax(x).read();
    const lp = logSoftmax(x).read();
    assert.ok(p.slice(0, 8).every(Number.isFinite) && lp.slice(0, 4).every(Number.isFinite));
    assertClose(p.slice(0, 4), softmaxRef(x.read(), 1, 4, 1, false), { rtol: 2 * F32_ULP, atol: 1e-44 }, 'row 0');
    assert.deepEqual(Array.from(p.slice(4, 8)), [0.5, 0, 0.5, 0]);
    assert.ok(p.slice(8).every(Number.isNaN) && lp.slice(8).every(Number.isNaN));
  });
});

test('activation and softmax wrappers: out tensors, in-place use and errors', () => {
  scope(() => {
    const x = Tensor.from([-1, 0.5, 2, -3], [2, 2]);
    const out = Tensor.empty([2, 2]);
    assert.equal(activationForward(x, 'relu', { out }), out);
    assert.deepEqual(Array.from(out.read()), [0, 0.5, 2, 0]);
    assert.deepEqual(Array.from(activationForward(x, 'leaky_relu').read()), [-0.01, 0.5, 2, -0.03].map(Math.fround));
    const dy = Tensor.from([1, 1, 1, 1], [2, 2]);
    activationBackward(dy, x, 'leaky_relu', { alpha: 0.5, out: dy });
    assert.deepEqual(Array.from(dy.read()), [0.5, 1, 1, 0.5]);
    const s = softmax(x, { out: x });
    assert.equal(s, x);
    assertClose(x.read(), [1 / (1 + Math.exp(1.5)), 1 / (1 + Math.exp(-1.5)), 1 / (1 + Math.exp(-5)), 1 / (1 + Math.exp(5))], {
      rtol: 2 * F32_ULP,
    });

    assert.throws(
      () => activationForward(x, 'swish' as Activation),
      /activationForward: activation must be one of linear, relu, leaky_relu, sigmoid, tanh, gelu, got swish/,
    );
    assert.throws(
      () => activationForward(Tensor.from([1], [1], 'i32') as never, 'relu'),
      /activationForward: x must be an f32 tensor, got i32/,
    );
    assert.throws(
      () => activationForward(x, 'relu', { out: Tensor.empty([4]) }),
      /activationForward: out has shape \[4\], expected \[2,2\]/,
    );
    assert.throws(() => activationForward(x, 'relu', { slope: 1 } as never), /activationForward: unknown option 'slope'/);
    assert.throws(() => activationForward(x, 'leaky_relu', { alpha: NaN }), /activationForward: alpha must be a finite number/);
    assert.throws(() => activationBackward(Tensor.empty([3]), x, 'relu'), /activationBackward: dy \[3\] has 3 elements, x \[2,2\] has 4/);
    assert.throws(() => softmax(x, { temperature: 0 }), /softmax: temperature must be a finite number in \[5e-324, Infinity\], got 0/);
    assert.throws(() => softmax(x, { temperature: 1e-300 }), /softmax: temperature must have 1\/temperature finite in f32/);
    assert.throws(() => logSoftmax(Tensor.empty([])), /logSoftmax: x must have at least one axis/);
  });
});
