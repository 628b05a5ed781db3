// The batched f64 kernels for the samplers against the scalar core exports (bit for bit) and
// against independent f64 references for the normal distribution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernels } from '../../src/core/wasm.ts';
import { exp64, log64 } from '../../src/core/scalar-math.ts';
import {
  argsort,
  erfcArray,
  expArray,
  logArray,
  logEi,
  logGaussMass,
  logSumExpRows,
  matern52,
  ndtriArray,
  MixtureScores,
} from '../../src/core/ops/search-math.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32 } from '../helpers/rand.ts';
import { cdfRef, erfcRef, logCdfRef, millsRef, pdfRef } from './normal-ref.ts';

const rand = mulberry32(11);
const spread = (n: number, lo: number, hi: number) => Float64Array.from({ length: n }, () => lo + (hi - lo) * rand());

test('exp, log and erfc arrays equal the scalar exports bit for bit, at every size', () => {
  for (const n of [0, 1, 3, 17, 4097]) {
    const x = spread(n, -30, 30);
    const pos = spread(n, 1e-300, 50);
    assert.deepEqual(Array.from(expArray(x)), Array.from(x, exp64), `exp n=${n}`);
    assert.deepEqual(Array.from(logArray(pos)), Array.from(pos, log64), `log n=${n}`);
    assert.deepEqual(
      Array.from(erfcArray(x)),
      Array.from(x, (v) => kernels().f64_erfc!(v)),
      `erfc n=${n}`,
    );
  }
  const inPlace = Float64Array.of(0, 1, -1);
  expArray(inPlace, inPlace);
  assert.deepEqual(Array.from(inPlace), [1, exp64(1), exp64(-1)]);
});

test('erfc matches the series and continued-fraction reference into the far tail', () => {
  const x = Float64Array.from([-5, -1.5, -0.3, 0, 1e-5, 0.4, 0.9, 1.7, 2.5, 4, 8, 15, 26]);
  assertClose(erfcArray(x), Array.from(x, erfcRef), { rtol: 1e-13 }, 'erfc');
});

test('ndtri inverts the normal CDF (AS 241) in the centre and both tails', () => {
  assertClose(
    ndtriArray(Float64Array.of(0.5, 0.975, 0.025, 1e-10, 1 - 1e-10)),
    [0, 1.959963984540054, -1.959963984540054, -6.361340902404056, 6.361340889697422],
    { atol: 1e-14, rtol: 2e-9 },
    'known quantiles',
  );
  const p = Float64Array.from([1e-300, 1e-100, 1e-20, 1e-5, 0.01, 0.2, 0.425, 0.5, 0.6, 0.93, 0.999]);
  const z = ndtriArray(p);
  assertClose(Array.from(z, cdfRef), p, { rtol: 1e-12 }, 'Φ(Φ⁻¹(p))');
  const edges = ndtriArray(Float64Array.of(0, 1, -0.1, 1.5, NaN));
  assert.deepEqual(Array.from(edges), [-Infinity, Infinity, NaN, NaN, NaN]);
});

test('logGaussMass is log(Φ(b) − Φ(a)) on either side of zero, across zero and in far tails', () => {
  const a = Float64Array.of(-1, -3, 0.5, -8, 2, -0.1, 40, -41, 7, -0.001);
  const b = Float64Array.of(1, -2, 0.6, -7.5, 9, 0.1, 41, -40, 7.001, 0.001);
  const expected = Array.from(a, (lo, i) => {
    const hi = b[i]!;
    if (hi <= 0) return Math.log(cdfRef(hi) - cdfRef(lo));
    if (lo >= 0) return Math.log(cdfRef(-lo) - cdfRef(-hi));
    return Math.log(1 - cdfRef(lo) - cdfRef(-hi));
  });
  // The two 40-sigma bins underflow in the reference; compare those in log space instead.
  expected[6] = logCdfRef(-40) + Math.log1p(-Math.exp(logCdfRef(-41) - logCdfRef(-40)));
  expected[7] = expected[6]!;
  assertClose(logGaussMass(a, b), expected, { atol: 1e-12, rtol: 1e-11 }, 'log mass');
  assert.equal(logGaussMass(Float64Array.of(0.3), Float64Array.of(0.3))[0], -Infinity, 'an empty interval has no mass');
});

test('logEi equals log(φ(z) + zΦ(z)) and its derivative Φ/h, stable far left', () => {
  const z = Float64Array.from([-40, -25, -12, -6, -3.5, -3, -2.9, -1, 0, 0.7, 3, 10]);
  const d = new Float64Array(z.length);
  const out = logEi(z, new Float64Array(z.length), d);
  const expected = Array.from(z, (v) => {
    if (v >= -3) return Math.log(pdfRef(v) + v * cdfRef(v));
    // h(z) = φ(t)·(1 − t·R(t)), R the Mills ratio, t = −z: with the reference erfc, 1 − tR keeps
    // enough digits up to t = 40 for a comparison of log h at 1e-9.
    const t = -v;
    const r = millsRef(t);
    return -0.5 * t * t - 0.5 * Math.log(2 * Math.PI) + Math.log(1 - t * r);
  });
  assertClose(out, expected, { atol: 1e-12, rtol: 1e-9 }, 'log h');
  const eps = 1e-6;
  const fd = Array.from(z, (v) => (logEi(Float64Array.of(v + eps))[0]! - logEi(Float64Array.of(v - eps))[0]!) / (2 * eps));
  assertClose(d, fd, { atol: 1e-7, rtol: 1e-6 }, 'd log h / dz');
});

test('matern52 and its r² derivative follow the closed form', () => {
  const r2 = Float64Array.of(0, 1e-12, 0.04, 1, 7.5, 400);
  const dk = new Float64Array(r2.length);
  const k = matern52(r2, 2.5, new Float64Array(r2.length), dk);
  const s5 = Math.sqrt(5);
  assertClose(
    k,
    Array.from(r2, (s) => 2.5 * (1 + s5 * Math.sqrt(s) + (5 / 3) * s) * Math.exp(-s5 * Math.sqrt(s))),
    { rtol: 1e-14 },
    'k',
  );
  assertClose(
    dk,
    Array.from(r2, (s) => -2.5 * (5 / 6) * (1 + s5 * Math.sqrt(s)) * Math.exp(-s5 * Math.sqrt(s))),
    { rtol: 1e-14 },
    'dk',
  );
});

test('logSumExpRows matches an f64 reference, shifting huge rows and keeping −∞ rows', () => {
  for (const [rows, cols] of [
    [0, 3],
    [1, 1],
    [3, 5],
    [7, 1000],
  ] as const) {
    const m = spread(rows * cols, -50, 50);
    if (rows === 3) m.set([1000, 999, -Infinity, 998, 1000], 5);
    const expected = Array.from({ length: rows }, (_, r) => {
      const row = Array.from(m.subarray(r * cols, (r + 1) * cols));
      const top = Math.max(...row);
      return top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0));
    });
    assertClose(logSumExpRows(m, rows, cols), expected, { rtol: 1e-14, atol: 1e-13 }, `${rows}x${cols}`);
  }
  assert.deepEqual(Array.from(logSumExpRows(Float64Array.of(-Infinity, -Infinity), 1, 2)), [-Infinity]);
  assert.deepEqual(Array.from(logSumExpRows(new Float64Array(0), 2, 0)), [-Infinity, -Infinity]);
  assert.throws(() => logSumExpRows(new Float64Array(5), 2, 3), /6/);
});

test('argsort is a stable ascending order with NaN last, at every size', () => {
  for (const n of [0, 1, 2, 3, 17, 1000]) {
    const keys = Float64Array.from({ length: n }, () => Math.floor(rand() * 7) - 3);
    if (n > 3) keys[1] = NaN;
    const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
      const [ka, kb] = [keys[a]!, keys[b]!];
      if (Number.isNaN(ka) || Number.isNaN(kb)) return (Number.isNaN(ka) ? 1 : 0) - (Number.isNaN(kb) ? 1 : 0) || a - b;
      return ka - kb || a - b;
    });
    assert.deepEqual(Array.from(argsort(keys)), expected, `n=${n}`);
  }
});

test('MixtureScores accumulates weights, normal kernels, cells and tables, then log-sum-exps rows', () => {
  const logW = Float64Array.of(Math.log(0.2), Math.log(0.8));
  const y = Float64Array.of(0.1, 2);
  const mu = Float64Array.of(0, 1);
  const inv = Float64Array.of(2, 0.5);
  const c = Float64Array.of(0.3, -0.1);
  const lo = Float64Array.of(-1, 0.5);
  const hi = Float64Array.of(0, 3);
  const table = Float64Array.of(-1, -2, -3, -4, -5, -6);
  const x = Float64Array.of(2, 0);
  const s = new MixtureScores(2, logW);
  s.addGauss(y, mu, inv, c);
  s.addCells(lo, hi, mu, inv, c);
  s.addTable(x, table, 3);
  const got = s.logSumExp();
  s.dispose();
  const expected = [0, 1].map((i) => {
    const terms = [0, 1].map((k) => {
      const z = (y[i]! - mu[k]!) * inv[k]!;
      const mass = Math.log(cdfRef((hi[i]! - mu[k]!) * inv[k]!) - cdfRef((lo[i]! - mu[k]!) * inv[k]!));
      return logW[k]! - (0.5 * z * z + c[k]!) + mass - c[k]! + table[k * 3 + x[i]!]!;
    });
    return Math.log(terms.reduce((a, t) => a + Math.exp(t), 0));
  });
  assertClose(got, expected, { rtol: 1e-12 }, 'scores');
  assert.throws(() => s.logSumExp(), /used after dispose/);
  const t = new MixtureScores(1, logW);
  assert.throws(() => t.addTable(Float64Array.of(3), table, 3), /index 3 outside \[0, 3\)/);
  t.dispose();
});
