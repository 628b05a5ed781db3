// Losses: SIMD/fused kernels against their textbook _ref twins, against f64 references written
// here from PyTorch's definitions, hand-derived values, central finite differences of the f64
// loss for every gradient, and huge logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { kernelByName, kernels } from '../../src/core/wasm.ts';
import { bceWithLogits, distillationKL, meanSquaredError, softmaxCrossEntropy } from '../../src/core/ops/loss.ts';
import { assertClose } from '../helpers/close.ts';
import { ints, mulberry32, uniform } from '../helpers/rand.ts';
import { numericGradient } from '../reference/mlp-ref.ts';

const F32_ULP = 2 ** -23;
const TIGHT = { rtol: 2 * F32_ULP, atol: 1e-12 };

type Arr = ArrayLike<number>;

// ---- f64 references (PyTorch semantics) ----

function logSoftmaxRow(z: Arr, from: number, C: number, invT = 1): number[] {
  const row = Array.from({ length: C }, (_, j) => z[from + j]! * invT);
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}

function mseRef(p: Arr, t: Arr): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i]! - t[i]!) ** 2;
  return s / p.length;
}

// (1 − ε)·nll_loss(logp, y, weight) + (ε/C)·Σ_i Σ_c w_c·(−logp_ic) / Σ_i w_{y_i}
function xentRef(z: Arr, y: Arr, B: number, C: number, eps: number, w?: Arr): number {
  const wt = (c: number) => (w ? w[c]! : 1);
  let nll = 0,
    smooth = 0,
    W = 0;
  for (let i = 0; i < B; i++) {
    const lp = logSoftmaxRow(z, i * C, C);
    W += wt(y[i]!);
    nll -= wt(y[i]!) * lp[y[i]!]!;
    for (let c = 0; c < C; c++) smooth -= wt(c) * lp[c]!;
  }
  return (1 - eps) * (nll / W) + (eps / C) * (smooth / W);
}

// mean of pw·t·log(1 + e^−x) + (1 − t)·log(1 + e^x), each softplus written stably.
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
function bceRef(x: Arr, t: Arr, pw: number): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += pw * t[i]! * softplus(-x[i]!) + (1 - t[i]!) * softplus(x[i]!);
  return s / x.length;
}

// T²/B · Σ_b Σ_c p_t·(log p_t − log p_s), PyTorch kl_div(..., 'batchmean')·T².
function klRef(s: Arr, t: Arr, B: number, C: number, T: number): number {
  let total = 0;
  for (let b = 0; b < B; b++) {
    const lps = logSoftmaxRow(s, b * C, C, 1 / T);
    const lpt = logSoftmaxRow(t, b * C, C, 1 / T);
    for (let c = 0; c < C; c++) if (Math.exp(lpt[c]!) > 0) total += Math.exp(lpt[c]!) * (lpt[c]! - lps[c]!);
  }
  return (T * T * total) / B;
}

// Central differences of an f64 loss in each input, at the f32 inputs the kernel saw.
const numericGrad = (x: Arr, loss: (x: Float64Array) => number) => numericGradient(Float64Array.from(x), loss, 1e-4);

// ---- kernel runners: every pointer from a scoped tensor; returns [loss, grad] ----

function runMse(kernel: string, p: Float32Array, t: Float32Array, withGrad = true): [number, Float32Array] {
  return scope(() => {
    const pt = Tensor.from(p),
      tt = Tensor.from(t),
      g = Tensor.zeros([p.length]);
    const loss = kernelByName(kernel)(withGrad ? g.ptr : 0, pt.ptr, tt.ptr, p.length);
    return [loss, g.read()];
  });
}

function runXent(
  kernel: string,
  z: Float32Array,
  y: Int32Array,
  B: number,
  C: number,
  eps: number,
  w?: Float32Array,
): [number, Float32Array] {
  return scope(() => {
    const zt = Tensor.from(z),
      yt = Tensor.from(y, [B], 'i32'),
      g = Tensor.zeros([B * C]);
    const wt = w ? Tensor.from(w) : undefined;
    const loss = kernelByName(kernel)(g.ptr, zt.ptr, yt.ptr, B, C, eps, wt?.ptr ?? 0);
    return [loss, g.read()];
  });
}

function runBce(kernel: string, x: Float32Array, t: Float32Array, pw: number): [number, Float32Array] {
  return scope(() => {
    const xt = Tensor.from(x),
      tt = Tensor.from(t),
      g = Tensor.zeros([x.length]);
    const loss = kernelByName(kernel)(g.ptr, xt.ptr, tt.ptr, x.length, pw);
    return [loss, g.read()];
  });
}

function runKl(kernel: string, s: Float32Array, t: Float32Array, B: number, C: number, T: number): [number, Float32Array] {
  return scope(() => {
    const st = Tensor.from(s),
      tt = Tensor.from(t),
      g = Tensor.zeros([B * C]);
    const loss = kernelByName(kernel)(g.ptr, st.ptr, tt.ptr, B, C, T);
    return [loss, g.read()];
  });
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

// ---- MSE ----

test('mse: hand values, SIMD vs _ref, f64 reference and finite differences on tails', () => {
  const [loss, grad] = runMse('f32_mse', Float32Array.from([1, 2, 3]), new Float32Array(3));
  assert.equal(loss, Math.fround(14 / 3));
  assert.deepEqual(Array.from(grad), [2 / 3, 4 / 3, 2].map(Math.fround));
  const rand = mulberry32(21);
  for (const n of [1, 3, 4, 5, 8, 17, 257]) {
    const p = uniform(rand, n, -3, 3),
      t = uniform(rand, n, -3, 3);
    const [l, g] = runMse('f32_mse', p, t);
    const [lr, gr] = runMse('f32_mse_ref', p, t);
    assert.deepEqual(bits(g), bits(gr), `grad n=${n}`);
    assertClose([l], [lr], TIGHT, `loss vs ref n=${n}`);
    assertClose([l], [mseRef(p, t)], TIGHT, `loss n=${n}`);
    assertClose(
      g,
      numericGrad(p, (q) => mseRef(q, t)),
      { atol: 1e-7, rtol: 1e-6 },
      `fd n=${n}`,
    );
    assert.equal(runMse('f32_mse', p, t, false)[0], l, 'no grad pointer');
  }
  assert.ok(Number.isNaN(runMse('f32_mse', new Float32Array(0), new Float32Array(0))[0]), 'empty mean is NaN');
});

// ---- cross-entropy ----

test('cross-entropy: a 2x3 case derived by hand with label smoothing 0.1 and class weights', () => {
  // Row 0 has probabilities (1, 2, 5)/8, row 1 is uniform; labels (2, 0); weights (1, 2, 3).
  const z = Float32Array.from([0, Math.LN2, Math.log(5), 0, 0, 0]);
  const y = Int32Array.from([2, 0]);
  const w = Float32Array.from([1, 2, 3]);
  const eps = Math.fround(0.1);
  const { LN2, LN10 } = Math;
  const ln5 = LN10 - LN2,
    ln3 = Math.log(3);
  // −log p: row 0 = (3 ln2, 2 ln2, 3 ln2 − ln5), row 1 = ln3 each. W = w2 + w0 = 4.
  const nll = (3 * (3 * LN2 - ln5) + 1 * ln3) / 4;
  const smooth = (1 * 3 * LN2 + 2 * 2 * LN2 + 3 * (3 * LN2 - ln5) + (1 + 2 + 3) * ln3) / 4;
  const expected = (1 - eps) * nll + (eps / 3) * smooth;
  const [loss, grad] = runXent('f32_softmax_xent', z, y, 2, 3, eps, w);
  assertClose([loss], [expected], { rtol: 4 * F32_ULP }, 'loss');
  // dz_ij = ((1 − ε)·w_y·(p − δ) + (ε/3)·(S·p − w_j)) / W, with S = 6.
  const p = [1 / 8, 2 / 8, 5 / 8, 1 / 3, 1 / 3, 1 / 3];
  const g = p.map((pj, k) => {
    const i = Math.floor(k / 3),
      j = k % 3,
      wy = w[y[i]!]!;
    return ((1 - eps) * wy * (pj - (j === y[i] ? 1 : 0)) + (eps / 3) * (6 * pj - w[j]!)) / 4;
  });
  assertClose(grad, g, { rtol: 4 * F32_ULP, atol: 1e-8 }, 'grad');
  // Unweighted and unsmoothed it is the mean negative log-likelihood.
  assertClose([runXent('f32_softmax_xent', z, y, 2, 3, 0)[0]], [(3 * LN2 - ln5 + ln3) / 2], { rtol: 4 * F32_ULP }, 'plain');
});

test('cross-entropy: fused kernel vs _ref vs f64 vs finite differences, weights and smoothing', () => {
  const rand = mulberry32(22);
  for (const [B, C] of [
    [1, 1],
    [1, 2],
    [3, 3],
    [4, 5],
    [5, 10],
    [17, 4],
  ] as const) {
    for (const eps of [0, 0.1, 1]) {
      for (const weighted of [false, true]) {
        const z = uniform(rand, B * C, -4, 4);
        const y = ints(rand, B, C);
        const w = weighted ? uniform(rand, C, 0.2, 3) : undefined;
        const e = Math.fround(eps);
        const label = `${B}x${C} eps=${eps} w=${weighted}`;
        const [loss, grad] = runXent('f32_softmax_xent', z, y, B, C, e, w);
        const [lr, gr] = runXent('f32_softmax_xent_ref', z, y, B, C, e, w);
        assertClose([loss], [lr], TIGHT, `${label} loss vs ref`);
        assertClose(grad, gr, { rtol: 4 * F32_ULP, atol: 1e-9 }, `${label} grad vs ref`);
        assertClose([loss], [xentRef(z, y, B, C, e, w)], { rtol: 4 * F32_ULP, atol: 1e-12 }, `${label} loss vs f64`);
        assertClose(
          grad,
          numericGrad(z, (q) => xentRef(q, y, B, C, e, w)),
          { atol: 2e-7, rtol: 1e-5 },
          `${label} fd`,
        );
      }
    }
  }
});

test('cross-entropy: logits of ±80 and ±1e4 give finite loss and gradient; -Infinity off-target with ε = 0 is fine', () => {
  const z = Float32Array.from([80, -80, 0, -80, 80, 0, 1e4, -1e4, 0]);
  const y = Int32Array.from([0, 0, 1]);
  const [loss, grad] = runXent('f32_softmax_xent', z, y, 3, 3, Math.fround(0.1));
  assert.ok(Number.isFinite(loss) && grad.every(Number.isFinite), `${loss} ${grad}`);
  assertClose([loss], [xentRef(z, y, 3, 3, Math.fround(0.1))], { rtol: 4 * F32_ULP }, 'loss');
  const masked = Float32Array.from([2, -Infinity, 1]);
  const [l2, g2] = runXent('f32_softmax_xent', masked, Int32Array.from([0]), 1, 3, 0);
  assertClose([l2], [Math.log1p(Math.exp(-1))], { rtol: 2 * F32_ULP }, 'masked');
  assert.ok(g2.every(Number.isFinite));
});

test('cross-entropy: empty batch is NaN; a label out of range aborts in the core', () => {
  assert.ok(Number.isNaN(runXent('f32_softmax_xent', new Float32Array(0), new Int32Array(0), 0, 3, 0)[0]));
  assert.throws(() => runXent('f32_softmax_xent', new Float32Array(3), Int32Array.from([3]), 1, 3, 0), /label out of range/);
});

// ---- BCE with logits ----

test('bce with logits: hand values, ref, f64, finite differences, pos_weight and huge logits', () => {
  const [l0] = runBce('f32_bce_logits', Float32Array.from([0, 0]), Float32Array.from([1, 0.5]), 3);
  // x = 0: softplus(0) = ln 2, so the terms are 3·ln2 and (1.5 + 0.5)·ln2.
  assertClose([l0], [(3 * Math.LN2 + 2 * Math.LN2) / 2], { rtol: 2 * F32_ULP }, 'x = 0');
  const rand = mulberry32(23);
  for (const n of [1, 3, 4, 5, 17, 64]) {
    for (const pw of [1, 0.5, 4]) {
      const x = uniform(rand, n, -6, 6);
      const t = Float32Array.from(uniform(rand, n, 0, 1), (v, i) => (i % 3 === 0 ? Math.round(v) : v));
      const label = `n=${n} pw=${pw}`;
      const [loss, grad] = runBce('f32_bce_logits', x, t, pw);
      const [lr, gr] = runBce('f32_bce_logits_ref', x, t, pw);
      assertClose([loss], [lr], TIGHT, `${label} vs ref`);
      assertClose(grad, gr, { rtol: 4 * F32_ULP, atol: 1e-9 }, `${label} grad vs ref`);
      assertClose([loss], [bceRef(x, t, pw)], TIGHT, `${label} vs f64`);
      assertClose(
        grad,
        numericGrad(x, (q) => bceRef(q, t, pw)),
        { atol: 1e-7, rtol: 1e-5 },
        `${label} fd`,
      );
    }
  }
  const x = Float32Array.from([80, -80, 1e4, -1e4, 88.8, -88.8]);
  const t = Float32Array.from([0, 1, 0, 1, 1, 0]);
  const [loss, grad] = runBce('f32_bce_logits', x, t, 2);
  assert.ok(Number.isFinite(loss) && grad.every(Number.isFinite));
  assertClose([loss], [bceRef(x, t, 2)], TIGHT, 'huge');
});

// ---- distillation ----

test('distillation KL: closed form for two classes at several temperatures', () => {
  // Teacher uniform, student (a, 0): KL = log(1 + e^{a/T}) − a/(2T) − log 2, per row.
  for (const T of [0.5, 1, 2, 4, 10]) {
    const a = [3, -1.5];
    const s = Float32Array.from([a[0]!, 0, a[1]!, 0]);
    const t = Float32Array.from([0.7, 0.7, -2, -2]);
    const kl = (v: number) => Math.log1p(Math.exp(v / T)) - v / (2 * T) - Math.LN2;
    const [loss, grad] = runKl('f32_kl_distill', s, t, 2, 2, T);
    assertClose([loss], [(T * T * (kl(a[0]!) + kl(a[1]!))) / 2], { rtol: 8 * F32_ULP, atol: 1e-12 }, `T=${T}`);
    // T·(σ(a/T) − 1/2)/B on the first class, the negative on the second.
    const g0 = (v: number) => (T * (1 / (1 + Math.exp(-v / T)) - 0.5)) / 2;
    assertClose(grad, [g0(a[0]!), -g0(a[0]!), g0(a[1]!), -g0(a[1]!)], { rtol: 4 * F32_ULP, atol: 1e-9 }, `grad T=${T}`);
  }
  const same = Float32Array.from([1, 2, 3]);
  const [l, g] = runKl('f32_kl_distill', same, same, 1, 3, 3);
  assert.ok(Math.abs(l) < 1e-7 && g.every((v) => Math.abs(v) < 1e-7), 'identical logits');
});

test('distillation KL: fused vs _ref vs f64 vs finite differences; huge logits stay finite', () => {
  const rand = mulberry32(24);
  for (const [B, C] of [
    [1, 1],
    [1, 3],
    [3, 4],
    [4, 5],
    [6, 10],
  ] as const) {
    for (const T of [0.5, 1, 2, 4]) {
      const s = uniform(rand, B * C, -5, 5),
        t = uniform(rand, B * C, -5, 5);
      const label = `${B}x${C} T=${T}`;
      const [loss, grad] = runKl('f32_kl_distill', s, t, B, C, T);
      const [lr, gr] = runKl('f32_kl_distill_ref', s, t, B, C, T);
      assertClose([loss], [lr], { rtol: 4 * F32_ULP, atol: 1e-10 }, `${label} vs ref`);
      assertClose(grad, gr, { rtol: 4 * F32_ULP, atol: 1e-10 }, `${label} grad vs ref`);
      assertClose([loss], [klRef(s, t, B, C, T)], { rtol: 4 * F32_ULP, atol: 1e-10 }, `${label} vs f64`);
      assertClose(
        grad,
        numericGrad(s, (q) => klRef(q, t, B, C, T)),
        { atol: 2e-7, rtol: 1e-5 },
        `${label} fd`,
      );
    }
  }
  const s = Float32Array.from([80, -80, 0, 1e4, -1e4, 0]);
  const t = Float32Array.from([-80, 80, 0, -1e4, 1e4, 0]);
  const [loss, grad] = runKl('f32_kl_distill', s, t, 2, 3, 2);
  assert.ok(Number.isFinite(loss) && grad.every(Number.isFinite), `${loss} ${grad}`);
  assertClose([loss], [klRef(s, t, 2, 3, 2)], { rtol: 4 * F32_ULP }, 'huge');
});

// ---- wrappers ----

test('loss wrappers: grad as a tensor, true or absent; in-place gradients; validation messages', () => {
  scope(() => {
    const logits = Tensor.from([1, 2, 0.5, -1, 0, 3], [2, 3]);
    const labels = Tensor.from([1, 2], [2], 'i32');
    const plain = softmaxCrossEntropy(logits, labels);
    assert.equal(plain.grad, undefined);
    const fresh = softmaxCrossEntropy(logits, labels, { grad: true, smoothing: 0.2 });
    const into = Tensor.empty([2, 3]);
    const written = softmaxCrossEntropy(logits, labels, { grad: into, smoothing: 0.2 });
    assert.equal(written.grad, into);
    assert.deepEqual(Array.from(into.read()), Array.from(fresh.grad!.read()));
    assert.equal(written.loss, fresh.loss);
    // The gradient may overwrite the logits themselves.
    const again = softmaxCrossEntropy(logits, labels, { grad: logits, smoothing: 0.2 });
    assert.equal(again.loss, fresh.loss);
    assert.deepEqual(Array.from(logits.read()), Array.from(fresh.grad!.read()));

    const x = Tensor.from([1, 2, 3, 4], [2, 2]);
    assert.throws(
      () => softmaxCrossEntropy(x, Tensor.from([0, 2], [2], 'i32')),
      /softmaxCrossEntropy: labels must be integers in \[0, 1\], got 2 at index 1/,
    );
    assert.throws(() => softmaxCrossEntropy(x, Tensor.from([0, 1], [2], 'f32') as never), /labels must be an i32 tensor, got f32/);
    assert.throws(() => softmaxCrossEntropy(x, Tensor.from([0], [1], 'i32')), /labels \[1\] have 1 entries, logits \[2,2\] have 2 rows/);
    assert.throws(() => softmaxCrossEntropy(Tensor.empty([4]), labels), /logits must be 2-D \[batch, classes\], got shape \[4\]/);
    assert.throws(
      () => softmaxCrossEntropy(x, Tensor.from([0, 1], [2], 'i32'), { smoothing: 1.5 }),
      /smoothing must be a finite number in \[0, 1\], got 1.5/,
    );
    assert.throws(
      () => softmaxCrossEntropy(x, Tensor.from([0, 1], [2], 'i32'), { classWeights: Tensor.from([1, -1]) }),
      /classWeights must be finite and >= 0, got -1 at class 1/,
    );
    assert.throws(
      () => softmaxCrossEntropy(x, Tensor.from([0, 1], [2], 'i32'), { classWeights: Tensor.from([1]) }),
      /classWeights \[1\] has 1 entries, expected 2/,
    );
    assert.throws(
      () => softmaxCrossEntropy(x, Tensor.from([0, 1], [2], 'i32'), { grad: Tensor.empty([4]) }),
      /out has shape \[4\], expected \[2,2\]/,
    );
    assert.throws(() => softmaxCrossEntropy(x, Tensor.from([0, 1], [2], 'i32'), { weights: 1 } as never), /unknown option 'weights'/);

    const m = meanSquaredError(x, Tensor.from([1, 2, 3, 5]), { grad: true });
    assert.equal(m.loss, 0.25);
    assert.deepEqual(Array.from(m.grad!.read()), [0, 0, 0, -0.5]);
    assert.throws(() => meanSquaredError(x, Tensor.empty([3])), /meanSquaredError: target \[3\] has 3 elements, pred \[2,2\] has 4/);

    assert.throws(() => bceWithLogits(x, Tensor.from([0, 1, 1.5, 0])), /bceWithLogits: targets must lie in \[0, 1\], got 1.5 at index 2/);
    assert.throws(
      () => bceWithLogits(x, Tensor.from([0, 1, 1, 0]), { posWeight: -1 }),
      /posWeight must be a finite number in \[0, Infinity\], got -1/,
    );
    assertClose([bceWithLogits(x, Tensor.from([0, 1, 1, 0])).loss], [bceRef([1, 2, 3, 4], [0, 1, 1, 0], 1)], TIGHT);

    assert.throws(
      () => distillationKL(x, Tensor.empty([2, 3])),
      /distillationKL: teacher has shape \[2,3\], expected the student's \[2,2\]/,
    );
    assert.throws(() => distillationKL(x, x, { temperature: 0 }), /temperature must be a finite number/);
    const kd = distillationKL(x, Tensor.from([0, 0, 1, 1], [2, 2]), { temperature: 2, grad: true });
    assertClose([kd.loss], [klRef([1, 2, 3, 4], [0, 0, 1, 1], 2, 2, 2)], { rtol: 4 * F32_ULP });
  });
});
