// Scale and zero point against values worked out by hand from PyTorch's observer formulas, the
// quantise formula's ties and saturation, and the calibration methods on data whose answer is
// known. Every expected value here comes from the formula, not from the code under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  calculateQParams,
  dequantizeValue,
  quantizeValue,
  roundHalfEven,
  weightRange,
  F32_EPS,
  QINT4,
  QINT8,
  QUINT4,
  QUINT8,
} from '../../src/compress/quant/qparams.ts';
import { calibrationRange } from '../../src/compress/quant/calibrate.ts';
import { entropyThreshold } from '../../src/core/ops/quant.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

const f = Math.fround;

test('affine quint8 (activations): scale = (max′ − min′)/255, zero point = 0 − round(min′/scale)', () => {
  // [-1, 3]: scale = f32(4/255) = 0.0156862754…; −1/scale = −63.74999… → −64 → zero point 64.
  assert.deepEqual(calculateQParams(-1, 3, QUINT8, false), { scale: f(4 / 255), zeroPoint: 64 });
  assert.equal(f(4 / 255), 0.01568627543747425);
  // Only positive values: min′ = 0, zero point 0.
  assert.deepEqual(calculateQParams(0.5, 2, QUINT8, false), { scale: f(2 / 255), zeroPoint: 0 });
  // Only negative values: max′ = 0, zero point at the top.
  assert.deepEqual(calculateQParams(-4, -1, QUINT8, false), { scale: f(4 / 255), zeroPoint: 255 });
  // [-2.5, 7.5]: scale = f32(10/255); −2.5/scale = −63.75 (within an ulp) → zero point 64.
  assert.deepEqual(calculateQParams(-2.5, 7.5, QUINT8, false), { scale: f(10 / 255), zeroPoint: 64 });
});

test('symmetric qint8 (weights): scale = max(|min′|, max′)/127.5, zero point 0; affine qint8 shifts by qmin', () => {
  assert.deepEqual(calculateQParams(-1, 3, QINT8, true), { scale: f(3 / 127.5), zeroPoint: 0 });
  assert.deepEqual(calculateQParams(-5, 2, QINT8, true), { scale: f(5 / 127.5), zeroPoint: 0 });
  assert.deepEqual(calculateQParams(0.1, 0.2, QINT8, true), { scale: f(f(0.2) / 127.5), zeroPoint: 0 });
  // Affine qint8: zero point = −128 − round(−1/f32(4/255)) = −128 + 64 = −64.
  assert.deepEqual(calculateQParams(-1, 3, QINT8, false), { scale: f(4 / 255), zeroPoint: -64 });
  assert.throws(() => calculateQParams(-1, 1, QUINT8, true), /symmetric quantisation needs a signed code range/);
});

test('int4: symmetric divides by 7.5, affine by 15 with a zero point in [0, 15]', () => {
  assert.deepEqual(calculateQParams(-0.75, 0.3, QINT4, true), { scale: f(0.75 / 7.5), zeroPoint: 0 });
  // −0.7 / f32(1/15): f32(1/15) = 0.0666666701…, −0.7/that = −10.49999… → −10 → zero point 10.
  assert.deepEqual(calculateQParams(-0.7, 0.3, QUINT4, false), { scale: f(1 / 15), zeroPoint: 10 });
  assert.equal(weightRange(4, true), QINT4);
  assert.equal(weightRange(4, false), QUINT4);
  assert.equal(weightRange(8, false), QINT8);
  for (const bits of [2, 3, 16, 1.5]) assert.throws(() => weightRange(bits, true), /weights must be 8 or 4 bits/);
});

test('an all-zero range gets scale eps = 2^-23, never 0 or NaN; a non-finite or inverted range is an error', () => {
  assert.equal(F32_EPS, 1.1920928955078125e-7);
  assert.deepEqual(calculateQParams(0, 0, QUINT8, false), { scale: F32_EPS, zeroPoint: 0 });
  assert.deepEqual(calculateQParams(0, 0, QINT8, true), { scale: F32_EPS, zeroPoint: 0 });
  assert.deepEqual(calculateQParams(0, 0, QINT4, true), { scale: F32_EPS, zeroPoint: 0 });
  // A tiny range also floors at eps.
  assert.equal(calculateQParams(-1e-12, 1e-12, QUINT8, false).scale, F32_EPS);
  assert.throws(() => calculateQParams(NaN, 1, QUINT8, false), /range must be finite/);
  assert.throws(() => calculateQParams(0, Infinity, QUINT8, false), /range must be finite/);
  assert.throws(() => calculateQParams(2, 1, QUINT8, false), /min must be <= max/);
});

test('quantise: ties round to even, both ends saturate, the zero point is added after rounding', () => {
  const unit = { scale: 1, zeroPoint: 0 };
  assert.deepEqual(
    [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5].map((x) => quantizeValue(x, unit, QINT8)),
    [0, 2, 2, 4, 0, -2, -2],
  );
  assert.deepEqual(
    [0.5, 1.5, 2.5].map((x) => quantizeValue(x, { scale: 1, zeroPoint: 1 }, QUINT8)),
    [1, 3, 3],
  );
  assert.equal(quantizeValue(1e6, unit, QINT8), 127);
  assert.equal(quantizeValue(-1e6, unit, QINT8), -128);
  assert.equal(quantizeValue(300, unit, QUINT8), 255);
  assert.equal(quantizeValue(-3, unit, QUINT8), 0);
  assert.deepEqual([0.5, 1.5, 2.5, -0.5].map(roundHalfEven), [0, 2, 2, 0]);
  // fbgemm multiplies by the f32 reciprocal: 0.273939937 with scale 0.00214854861 lands on 127.5
  // exactly (then 128), where a division would give 127.49999 (then 127).
  assert.equal(quantizeValue(0.273939937, { scale: f(0.00214854861), zeroPoint: 0 }, { qmin: -1000, qmax: 1000 }), 128);
});

test('dequantise(quantise(x)) is within scale/2 of x inside the range', () => {
  const rand = mulberry32(3);
  for (const [lo, hi, range, sym] of [
    [-1, 3, QUINT8, false],
    [-2, 2, QINT8, true],
    [-0.7, 0.3, QINT4, true],
    [-0.7, 0.3, QUINT4, false],
  ] as const) {
    const p = calculateQParams(lo, hi, range, sym);
    const xs = uniform(rand, 2000, lo, hi);
    for (const x of xs) {
      const back = dequantizeValue(quantizeValue(x, p, range), p);
      // Symmetric grids end at ±qmax·scale, a half step short of −qmin·scale: allow that edge.
      const inside = x >= (range.qmin - p.zeroPoint) * p.scale && x <= (range.qmax - p.zeroPoint) * p.scale;
      if (inside) assert.ok(Math.abs(back - x) <= (p.scale / 2) * (1 + 1e-6), `x=${x} back=${back} scale=${p.scale}`);
    }
  }
});

test('calibration: min-max is exact; the percentile interpolates order statistics', () => {
  const x = Float32Array.from({ length: 1000 }, (_, i) => i);
  assert.deepEqual(calibrationRange(x), { min: 0, max: 999 });
  // q = 0.99: position 0.99·999 = 989.01 → 989.01; q = 0.01: position 9.99 → 9.99.
  const r = calibrationRange(x, { method: 'percentile', percentile: 99 });
  assert.equal(r.max, f(989.01));
  assert.equal(r.min, f(9.99));
  assert.deepEqual(calibrationRange(x, { method: 'percentile', percentile: 100 }), { min: 0, max: 999 });
  assert.throws(() => calibrationRange(x, { method: 'percentile', percentile: 40 }), /percentile must be a finite number in \[50, 100\]/);
  assert.throws(() => calibrationRange(x, { method: 'minmax', percentile: 99 }), /percentile applies to method 'percentile'/);
  assert.throws(() => calibrationRange(x, { method: 'kl' as 'entropy' }), /method must be one of minmax, percentile, mse, entropy/);
});

test('calibration: entropy clips rare outliers, MSE clips a heavy tail, both keep a uniform range', () => {
  const rand = mulberry32(4);
  // Exponential bulk (max ≈ 9) and five outliers at 50: the KL-optimal threshold drops them.
  const expo = Float32Array.from({ length: 20000 }, () => -Math.log(1 - rand()));
  const withOutliers = new Float32Array(20005);
  withOutliers.set(expo);
  withOutliers.fill(50, 20000);
  const e = calibrationRange(withOutliers, { method: 'entropy' });
  assert.ok(e.max > 5 && e.max < 15, `entropy max ${e.max} should clip the outliers at 50 and keep the bulk`);
  assert.equal(e.min, calibrationRange(withOutliers).min, 'entropy keeps the minimum when it lies inside [-t, t]');
  // Squared error keeps rare far outliers (clipping them costs more than a coarser grid)...
  assert.equal(calibrationRange(withOutliers, { method: 'mse' }).max, 50);
  // ...but trims a heavy (Laplace) tail on both sides.
  const lap = Float32Array.from({ length: 50000 }, () => {
    const u = rand() - 0.5;
    return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  });
  const full = calibrationRange(lap);
  const m = calibrationRange(lap, { method: 'mse' });
  assert.ok(m.max < full.max && m.max > 0.6 * full.max, `mse max ${m.max} vs ${full.max}`);
  assert.ok(m.min > full.min && m.min < 0.6 * full.min, `mse min ${m.min} vs ${full.min}`);
  // Uniform data: nothing to clip.
  const uni = uniform(rand, 20000, 0, 1);
  for (const method of ['mse', 'entropy'] as const) {
    const r = calibrationRange(uni, { method });
    assert.ok(r.max >= 0.9 && r.max <= 1, `${method}: uniform data keeps (nearly) its whole range, got ${r.max}`);
  }
  // A constant tensor: every method returns its one value.
  for (const method of ['minmax', 'percentile', 'mse', 'entropy'] as const) {
    assert.deepEqual(calibrationRange(new Float32Array(10).fill(0), { method }), { min: 0, max: 0 }, method);
  }
});

// TensorRT's search written out in f64 here, independently of the kernel.
function entropyRef(hist: number[], levels: number): number {
  const smooth = (d: number[]): number[] | undefined => {
    const zeros = d.filter((v) => v === 0).length;
    if (zeros === d.length) return undefined;
    const take = (1e-4 * zeros) / (d.length - zeros);
    const s = d.map((v) => (v === 0 ? 1e-4 : v - take));
    if (s.some((v) => v <= 0)) return undefined;
    const sum = s.reduce((a, b) => a + b, 0);
    return s.map((v) => v / sum);
  };
  let best = hist.length,
    bestKl = Infinity;
  for (let i = levels; i <= hist.length; i++) {
    const p = hist.slice(0, i);
    p[i - 1]! += hist.slice(i).reduce((a, b) => a + b, 0);
    const merged = Math.floor(i / levels);
    const q = new Array<number>(i).fill(0);
    for (let l = 0; l < levels; l++) {
      const start = l * merged,
        end = l === levels - 1 ? i : start + merged;
      const sum = hist.slice(start, end).reduce((a, b) => a + b, 0);
      const nz = p.slice(start, end).filter((v) => v !== 0).length;
      for (let b = start; b < end; b++) q[b] = nz > 0 && p[b] !== 0 ? sum / nz : 0;
    }
    const ps = smooth(p),
      qs = smooth(q);
    if (!ps || !qs) continue;
    const kl = ps.reduce((acc, v, b) => acc + v * Math.log(v / qs[b]!), 0);
    if (kl < bestKl) ((bestKl = kl), (best = i));
  }
  return best;
}

test('entropyThreshold equals the search written out in f64 (small histograms, 8 levels)', () => {
  const rand = mulberry32(5);
  const shapes = [
    Array.from({ length: 64 }, (_, i) => Math.floor(500 * Math.exp(-i / 6))),
    Array.from({ length: 64 }, (_, i) => (i < 20 ? 100 : i === 63 ? 3 : 0)),
    Array.from({ length: 40 }, () => Math.floor(rand() * 50)),
    Array.from({ length: 8 }, (_, i) => i + 1),
  ];
  for (const h of shapes) assert.equal(entropyThreshold(Float64Array.from(h), 8), entropyRef(h, 8), `hist ${h.slice(0, 8).join(',')}…`);
  assert.throws(() => entropyThreshold(new Float64Array(4), 8), /needs at least 8 bins/);
  assert.throws(() => entropyThreshold(Float64Array.of(1, NaN, 2, 3), 2), /counts must be finite and >= 0, got NaN at bin 1/);
});

test('calibration: NaN or infinity in the data is a clear error, as is no data', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const x = Float32Array.from([1, 2, bad, 4]);
    for (const method of ['minmax', 'percentile', 'mse', 'entropy'] as const) {
      assert.throws(() => calibrationRange(x, { method }), new RegExp(`calibration data must be finite, got ${bad} at index 2`));
    }
  }
  assert.throws(() => calibrationRange(new Float32Array(0)), /no calibration values/);
});
