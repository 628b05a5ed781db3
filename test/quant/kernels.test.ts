// Quantisation kernels against their scalar twins (integer outputs and f32 epilogues must be
// identical) and against formulas evaluated here in plain TS: the int8 GEMM in its three
// epilogues, the int4 weight-only GEMM, quantise / dequantise / fake-quantise and the dynamic
// parameters, on seeded shapes with tails and degenerate sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernels, allocBytes, freeBytes, f32View, i32View, i8View, u8View } from '../../src/core/wasm.ts';
import { mulberry32, uniform, ints } from '../helpers/rand.ts';

const k = kernels();

// A block of WASM memory for the length of one test; freed by release().
const blocks: number[] = [];
function block(bytes: number): number {
  const p = allocBytes(Math.max(16, bytes));
  blocks.push(p);
  return p;
}
function release(): void {
  while (blocks.length) freeBytes(blocks.pop()!);
}
function putI8(data: ArrayLike<number>): number {
  const p = block(data.length);
  i8View(p, data.length).set(data);
  return p;
}
function putU8(data: ArrayLike<number>): number {
  const p = block(data.length);
  u8View(p, data.length).set(data);
  return p;
}
function putF32(data: ArrayLike<number>): number {
  const p = block(data.length * 4);
  f32View(p, data.length).set(data);
  return p;
}
function putI32(data: ArrayLike<number>): number {
  const p = block(data.length * 4);
  i32View(p, data.length).set(data);
  return p;
}
const bytesOf = (p: number, n: number) => u8View(p, n).slice();
const bitsOf = (p: number, n: number) => new Uint32Array(f32View(p, n).slice().buffer);

function assertSame(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`${label}: first difference at ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

const SIZES = [1, 2, 3, 4, 5, 8, 9, 17, 33];
const shapes: [number, number, number][] = [];
{
  const rand = mulberry32(7);
  const pick = (a: number[]) => a[Math.floor(rand() * a.length)]!;
  for (let i = 0; i < 24; i++) shapes.push([pick(SIZES), pick(SIZES), pick([...SIZES, 64, 100])]);
  shapes.push([1, 1, 1], [4, 8, 4], [7, 13, 1], [1, 24, 8], [6, 9, 0], [13, 70, 131], [64, 40, 200], [0, 5, 3], [3, 0, 5]);
}

// f64 reference of the i32 accumulator (exact: every partial sum is below 2^53).
function accF64(
  x: ArrayLike<number>,
  zx: number,
  w: ArrayLike<number>,
  zw: ArrayLike<number> | undefined,
  M: number,
  N: number,
  K: number,
): Int32Array {
  const out = new Int32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let kk = 0; kk < K; kk++) s += (x[m * K + kk]! - zx) * (w[n * K + kk]! - (zw ? zw[n]! : 0));
      out[m * N + n] = s;
    }
  }
  return out;
}

test('i8_gemm_i32 equals its twin and an f64 product on seeded shapes, u8 and i8 inputs, with and without weight zero points', () => {
  const rand = mulberry32(11);
  for (const [M, N, K] of shapes) {
    for (const signed of [0, 1]) {
      for (const withZw of [false, true]) {
        const x = ints(rand, M * K, 256).map((v) => (signed ? v - 128 : v));
        const w = ints(rand, N * K, 256).map((v) => v - 128);
        const zx = signed ? Math.floor(rand() * 256) - 128 : Math.floor(rand() * 256);
        const zw = withZw ? ints(rand, N, 256).map((v) => v - 128) : undefined;
        const px = signed ? putI8(x) : putU8(x),
          pw = putI8(w),
          pz = zw ? putI32(zw) : 0;
        const wp = block(k.i8_gemm_packed_bytes!(N, K)),
          ap = block(k.i8_gemm_scratch_bytes!(M, K));
        k.i8_gemm_pack_w!(wp, pw, pz, N, K);
        const c = block(M * N * 4),
          cr = block(M * N * 4);
        k.i8_gemm_i32!(c, px, signed, zx, wp, ap, M, N, K);
        k.i8_gemm_i32_ref!(cr, px, signed, zx, pw, pz, M, N, K);
        const label = `M=${M} N=${N} K=${K} signed=${signed} zw=${withZw}`;
        assertSame(i32View(c, M * N).slice(), i32View(cr, M * N).slice(), label);
        assertSame(i32View(c, M * N).slice(), accF64(x, zx, w, zw, M, N, K), `${label} vs f64`);
        release();
      }
    }
  }
});

test('i8_gemm_f32 and i8_gemm_u8 equal their twins bit for bit; u8 equals quantising the f32 output', () => {
  const rand = mulberry32(12);
  for (const [M, N, K] of shapes) {
    for (const relu of [0, 1]) {
      const x = ints(rand, M * K, 256);
      const w = ints(rand, N * K, 256).map((v) => v - 128);
      const zx = Math.floor(rand() * 256);
      const xs = 0.02 + rand() * 0.01;
      const ws = uniform(rand, N, 0.001, 0.01);
      const bias = uniform(rand, N, -1, 1);
      const ys = 0.05 + rand() * 0.2,
        zy = Math.floor(rand() * 256);
      const px = putU8(x),
        pw = putI8(w),
        pws = putF32(ws),
        pb = rand() < 0.8 ? putF32(bias) : 0;
      const wp = block(k.i8_gemm_packed_bytes!(N, K)),
        ap = block(k.i8_gemm_scratch_bytes!(M, K));
      k.i8_gemm_pack_w!(wp, pw, 0, N, K);
      const y = block(M * N * 4),
        yr = block(M * N * 4),
        q = block(M * N),
        qr = block(M * N),
        qf = block(M * N);
      k.i8_gemm_f32!(y, px, 0, zx, xs, wp, ap, M, N, K, pws, pb, relu);
      k.i8_gemm_f32_ref!(yr, px, 0, zx, xs, pw, 0, M, N, K, pws, pb, relu);
      k.i8_gemm_u8!(q, px, 0, zx, xs, wp, ap, M, N, K, pws, pb, relu, ys, zy);
      k.i8_gemm_u8_ref!(qr, px, 0, zx, xs, pw, 0, M, N, K, pws, pb, relu, ys, zy);
      k.f32_quantize_ref!(qf, y, M * N, ys, zy, 0, 255);
      const label = `M=${M} N=${N} K=${K} relu=${relu}`;
      assertSame(bitsOf(y, M * N), bitsOf(yr, M * N), `${label} f32`);
      assertSame(bytesOf(q, M * N), bytesOf(qr, M * N), `${label} u8`);
      assertSame(bytesOf(q, M * N), bytesOf(qf, M * N), `${label} u8 vs quantised f32`);
      // The f32 epilogue as written: f32(acc)·f32(xs·ws[n]) + bias[n].
      const acc = accF64(x, zx, w, undefined, M, N, K);
      const yv = f32View(y, M * N).slice();
      for (let i = 0; i < M * N; i++) {
        const n = i % N;
        let v = Math.fround(Math.fround(acc[i]!) * Math.fround(Math.fround(xs) * Math.fround(ws[n]!)));
        v = Math.fround(v + (pb ? Math.fround(bias[n]!) : 0));
        if (relu) v = Math.max(v, 0);
        if (!Object.is(yv[i], v) && !(v === 0 && yv[i] === 0)) assert.fail(`${label}: y[${i}] = ${yv[i]}, formula gives ${v}`);
      }
      release();
    }
  }
});

test('per-row dynamic quantisation and i8_gemm_f32_rows equal their twins and the per-row formulas', () => {
  const rand = mulberry32(19);
  for (const [M, N, K] of shapes) {
    const x = uniform(rand, M * K, -2, 3);
    if (M > 1) for (let kk = 0; kk < K; kk++) x[kk] = 40 * x[kk]!; // one row with a far wider range
    const w = ints(rand, N * K, 256).map((v) => v - 128);
    const ws = uniform(rand, N, 0.001, 0.01),
      bias = uniform(rand, N, -1, 1);
    const px = putF32(x),
      pw = putI8(w),
      pws = putF32(ws),
      pb = putF32(bias);
    const q = block(M * K),
      qr = block(M * K),
      p = block(8 * M),
      pr = block(8 * M);
    k.f32_quantize_dynamic_rows!(q, p, px, M, K);
    k.f32_quantize_dynamic_rows_ref!(qr, pr, px, M, K);
    const label = `M=${M} N=${N} K=${K}`;
    assertSame(bytesOf(q, M * K), bytesOf(qr, M * K), `${label} codes`);
    assertSame(bytesOf(p, 8 * M), bytesOf(pr, 8 * M), `${label} params`);
    // Row m alone through the per-tensor kernel gives the same codes and parameters.
    for (let m = 0; m < M; m++) {
      const one = block(K),
        op = block(8);
      k.f32_quantize_dynamic!(one, op, px + m * K * 4, K);
      assertSame(bytesOf(one, K), bytesOf(q + m * K, K), `${label} row ${m}`);
      assertSame(bytesOf(op, 8), bytesOf(p + 8 * m, 8), `${label} row ${m} params`);
    }
    const wp = block(k.i8_gemm_packed_bytes!(N, K)),
      ap = block(k.i8_gemm_scratch_bytes!(M, K));
    k.i8_gemm_pack_w!(wp, pw, 0, N, K);
    const y = block(M * N * 4),
      yr = block(M * N * 4);
    k.i8_gemm_f32_rows!(y, q, 0, p, wp, ap, M, N, K, pws, pb, 1);
    k.i8_gemm_f32_rows_ref!(yr, q, 0, p, pw, 0, M, N, K, pws, pb, 1);
    assertSame(bitsOf(y, M * N), bitsOf(yr, M * N), `${label} gemm`);
    // A per-row call leaves nothing behind: the one-zero-point kernels ignore the last row table.
    const c = block(M * N * 4),
      cr = block(M * N * 4);
    k.i8_gemm_i32!(c, q, 0, 7, wp, ap, M, N, K);
    k.i8_gemm_i32_ref!(cr, q, 0, 7, pw, 0, M, N, K);
    assertSame(i32View(c, M * N).slice(), i32View(cr, M * N).slice(), `${label} i32 after rows`);
    // Each row equals the one-scale kernel run on that row alone.
    for (let m = 0; m < M; m++) {
      const ym = block(N * 4);
      const xs = f32View(p + 8 * m, 1)[0]!,
        zx = i32View(p + 8 * m + 4, 1)[0]!;
      k.i8_gemm_f32!(ym, q + m * K, 0, zx, xs, wp, ap, 1, N, K, pws, pb, 1);
      assertSame(bitsOf(ym, N), bitsOf(y + m * N * 4, N), `${label} gemm row ${m}`);
    }
    release();
  }
});

// Round half to even of an f64 holding an f32 value.
function rhe(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function quantizeTs(x: ArrayLike<number>, scale: number, zp: number, qmin: number, qmax: number): number[] {
  const inv = Math.fround(1 / Math.fround(scale));
  return Array.from(x, (v) => Math.min(Math.max(rhe(Math.fround(Math.fround(v) * inv)) + zp, qmin), qmax));
}

test('f32_quantize equals its twin and the fbgemm formula; ties go to even; both ends saturate', () => {
  const rand = mulberry32(13);
  for (const n of [0, 1, 3, 15, 16, 17, 33, 100, 1000]) {
    for (const [qmin, qmax] of [
      [0, 255],
      [-128, 127],
      [-8, 7],
      [0, 15],
    ] as const) {
      const x = uniform(rand, n, -3, 3);
      for (let i = 0; i < n; i += 7) x[i] = Math.round(x[i]! * 4) / 4; // exact halves at scale 0.5
      const scale = rand() < 0.5 ? 0.5 : 0.013 + rand() * 0.01;
      const zp = qmin < 0 ? 0 : qmin + Math.floor(rand() * (qmax - qmin + 1));
      const px = putF32(x),
        q = block(n),
        qr = block(n);
      k.f32_quantize!(q, px, n, scale, zp, qmin, qmax);
      k.f32_quantize_ref!(qr, px, n, scale, zp, qmin, qmax);
      const label = `n=${n} [${qmin},${qmax}] scale=${scale} zp=${zp}`;
      assertSame(bytesOf(q, n), bytesOf(qr, n), label);
      const got = qmin < 0 ? Array.from(i8View(q, n)) : Array.from(u8View(q, n));
      assertSame(got, quantizeTs(x, scale, zp, qmin, qmax), `${label} vs formula`);
      release();
    }
  }
  const px = putF32([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 1000, -1000, NaN, 0.49999997, -0.49999997]);
  const q = block(12);
  k.f32_quantize!(q, px, 12, 1, 0, -128, 127);
  assert.deepEqual(Array.from(i8View(q, 12)), [0, 2, 2, 0, -2, -2, 4, 127, -128, 0, 0, 0]);
  k.f32_quantize!(q, px, 12, 1, 10, 0, 255);
  assert.deepEqual(Array.from(u8View(q, 12)), [10, 12, 12, 10, 8, 8, 14, 255, 0, 10, 10, 10]);
  release();
});

test('f32_quantize on NaN, ±Inf, ±0 and values far outside the range, in SIMD blocks and tails, equals its twin', () => {
  const special = [NaN, Infinity, -Infinity, 0, -0, -1e-30, 1e-30, 3e38, -3e38, 0.5, -0.5, 127.5, -128.5, 255.5, 2 ** 31, -(2 ** 31)];
  const rand = mulberry32(16);
  for (const n of [16, 17, 31, 48, 67]) {
    const x = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? special[Math.floor(rand() * special.length)]! : (rand() - 0.5) * 600));
    for (const [qmin, qmax, zp] of [
      [0, 255, 0],
      [0, 255, 255],
      [0, 255, 77],
      [-128, 127, 0],
      [-128, 127, -128],
      [-8, 7, 7],
      [0, 15, 3],
    ] as const) {
      for (const scale of [1, 0.5, 0.0123]) {
        const px = putF32(x),
          q = block(n),
          qr = block(n);
        k.f32_quantize!(q, px, n, scale, zp, qmin, qmax);
        k.f32_quantize_ref!(qr, px, n, scale, zp, qmin, qmax);
        assertSame(bytesOf(q, n), bytesOf(qr, n), `n=${n} [${qmin},${qmax}] zp=${zp} scale=${scale}`);
        release();
      }
    }
  }
});

test('f32_find_nonfinite gives the first NaN or ±Inf index, or −1, as its twin', () => {
  for (const n of [0, 1, 15, 16, 17, 33, 64, 100]) {
    for (const at of [-1, 0, n - 1, n >> 1, 16, 17]) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const x = Array.from({ length: n }, (_, i) => (i % 5) - 2 + (i % 2 ? -0 : 3e38));
        if (at >= 0 && at < n) {
          x[at] = bad;
          if (at + 3 < n) x[at + 3] = NaN; // a later one does not win
        }
        const px = putF32(x);
        const want = at >= 0 && at < n ? at : -1;
        assert.equal(k.f32_find_nonfinite!(px, n), want, `n=${n} at=${at} ${bad}`);
        assert.equal(k.f32_find_nonfinite_ref!(px, n), want, `ref n=${n} at=${at} ${bad}`);
        release();
      }
    }
  }
});

test('dequantise is (q − zp)·scale in f32 and inverts quantise within scale/2 inside the range', () => {
  const rand = mulberry32(14);
  for (const n of [0, 1, 5, 64, 131]) {
    for (const signed of [0, 1]) {
      const q = ints(rand, n, 256).map((v) => (signed ? v - 128 : v));
      const scale = 0.01 + rand(),
        zp = signed ? 3 : 120;
      const pq = signed ? putI8(q) : putU8(q),
        y = block(n * 4),
        yr = block(n * 4);
      k.q8_dequantize!(y, pq, n, signed, scale, zp);
      k.q8_dequantize_ref!(yr, pq, n, signed, scale, zp);
      assertSame(bitsOf(y, n), bitsOf(yr, n), `n=${n} signed=${signed}`);
      assertSame(
        f32View(y, n).slice(),
        Array.from(q, (v) => Math.fround(Math.fround(v - zp) * Math.fround(scale))),
        `n=${n} formula`,
      );
      release();
    }
  }
  const x = uniform(rand, 1000, -2, 5);
  const scale = Math.fround(7 / 255),
    zp = 73;
  const px = putF32(x),
    q = block(1000),
    y = block(4000);
  k.f32_quantize!(q, px, 1000, scale, zp, 0, 255);
  k.q8_dequantize!(y, q, 1000, 0, scale, zp);
  const back = f32View(y, 1000);
  for (let i = 0; i < 1000; i++) assert.ok(Math.abs(back[i]! - x[i]!) <= scale / 2 + 1e-6, `x=${x[i]} back=${back[i]}`);
  release();
});

test('per-row quantise, dequantise and fake-quantise equal their twins; fake-quant equals dequantise(quantise) and masks the clipped', () => {
  const rand = mulberry32(15);
  for (const [rows, cols] of [
    [1, 1],
    [3, 5],
    [4, 16],
    [7, 33],
    [10, 0],
  ] as const) {
    const n = rows * cols;
    const x = uniform(rand, n, -2, 2);
    const scales = uniform(rand, rows, 0.005, 0.02);
    const zps = ints(rand, rows, 21).map((v) => v - 10);
    const px = putF32(x),
      ps = putF32(scales),
      pz = putI32(zps);
    const q = block(n),
      qr = block(n),
      y = block(n * 4),
      yr = block(n * 4),
      f = block(n * 4),
      fr = block(n * 4),
      m = block(n),
      mr = block(n);
    k.f32_quantize_rows!(q, px, rows, cols, ps, pz, -128, 127);
    k.f32_quantize_rows_ref!(qr, px, rows, cols, ps, pz, -128, 127);
    assertSame(bytesOf(q, n), bytesOf(qr, n), `${rows}x${cols} quantise`);
    k.q8_dequantize_rows!(y, q, rows, cols, 1, ps, pz);
    k.q8_dequantize_rows_ref!(yr, q, rows, cols, 1, ps, pz);
    assertSame(bitsOf(y, n), bitsOf(yr, n), `${rows}x${cols} dequantise`);
    k.f32_fake_quant_rows!(f, m, px, rows, cols, ps, pz, -128, 127);
    k.f32_fake_quant_rows_ref!(fr, mr, px, rows, cols, ps, pz, -128, 127);
    assertSame(bitsOf(f, n), bitsOf(fr, n), `${rows}x${cols} fake`);
    assertSame(bitsOf(f, n), bitsOf(y, n), `${rows}x${cols} fake = dq(q)`);
    assertSame(bytesOf(m, n), bytesOf(mr, n), `${rows}x${cols} mask`);
    const qs = i8View(q, n),
      ms = u8View(m, n);
    for (let i = 0; i < n; i++) {
      const r = Math.floor(i / cols);
      const t = rhe(Math.fround(Math.fround(x[i]!) * Math.fround(1 / Math.fround(scales[r]!)))) + zps[r]!;
      assert.equal(ms[i], t >= -128 && t <= 127 ? 1 : 0, `mask ${i}`);
      assert.equal(qs[i], Math.min(Math.max(t, -128), 127), `q ${i}`);
    }
    release();
  }
});

test('f32_fake_quant per tensor equals its twin on tails; the mask is 0 exactly where quantise clips', () => {
  const rand = mulberry32(16);
  for (const n of [0, 1, 3, 4, 7, 64, 101]) {
    const x = uniform(rand, n, -4, 4);
    const px = putF32(x),
      y = block(n * 4),
      yr = block(n * 4),
      m = block(n),
      mr = block(n);
    k.f32_fake_quant!(y, m, px, n, 0.02, 100, 0, 255);
    k.f32_fake_quant_ref!(yr, mr, px, n, 0.02, 100, 0, 255);
    assertSame(bitsOf(y, n), bitsOf(yr, n), `n=${n}`);
    assertSame(bytesOf(m, n), bytesOf(mr, n), `n=${n} mask`);
    const q = quantizeTs(x, 0.02, 100, -1e9, 1e9);
    assertSame(
      bytesOf(m, n),
      q.map((t) => (t >= 0 && t <= 255 ? 1 : 0)),
      `n=${n} mask formula`,
    );
    release();
  }
});

test('f32_minmax_rows: exact extremes, NaN propagates, empty rows give +Inf and −Inf', () => {
  const x = [3, -1, 7, 2, 0.5, -9, 4, 8, 1];
  const px = putF32(x),
    out = block(8 * 3);
  k.f32_minmax_rows!(out, px, 3, 3);
  assert.deepEqual(Array.from(f32View(out, 6)), [-1, 7, -9, 2, 1, 8]);
  k.f32_minmax_rows!(out, px, 1, 9);
  assert.deepEqual(Array.from(f32View(out, 2)), [-9, 8]);
  const withNaN = putF32([1, 2, 3, 4, 5, NaN, 6]);
  k.f32_minmax_rows!(out, withNaN, 1, 7);
  assert.ok(Number.isNaN(f32View(out, 2)[0]!) && Number.isNaN(f32View(out, 2)[1]!));
  k.f32_minmax_rows!(out, px, 1, 0);
  assert.deepEqual(Array.from(f32View(out, 2)), [Infinity, -Infinity]);
  release();
});

test('f32_quantize_dynamic: observer parameters (affine quint8) from the range, then quantise; twin agrees', () => {
  const rand = mulberry32(17);
  for (const [lo, hi, n] of [
    [-1, 3, 50],
    [0.5, 2, 17],
    [-4, -1, 9],
    [0, 0, 5],
    [-2.5, 0, 3],
    [-1e-9, 1e-9, 4],
  ] as const) {
    const x = uniform(rand, n, lo, hi);
    x[0] = lo;
    x[n - 1] = hi;
    const px = putF32(x),
      q = block(n),
      qr = block(n),
      p = block(8),
      pr = block(8);
    k.f32_quantize_dynamic!(q, p, px, n);
    k.f32_quantize_dynamic_ref!(qr, pr, px, n);
    const scale = f32View(p, 1)[0]!,
      zp = i32View(p + 4, 1)[0]!;
    assertSame(bytesOf(q, n), bytesOf(qr, n), `[${lo},${hi}]`);
    assert.equal(f32View(pr, 1)[0], scale);
    assert.equal(i32View(pr + 4, 1)[0], zp);
    // By hand: min' = min(lo, 0), max' = max(hi, 0), scale = max((max' − min')/255, eps) in f32.
    const mn = Math.min(Math.fround(lo), 0),
      mx = Math.max(Math.fround(hi), 0);
    const expScale = Math.max(Math.fround(Math.fround(mx - mn) / 255), 2 ** -23);
    const expZp = Math.min(Math.max(0 - rhe(Math.fround(mn / expScale)), 0), 255);
    assert.equal(scale, expScale, `scale for [${lo},${hi}]`);
    assert.equal(zp, expZp, `zero point for [${lo},${hi}]`);
    assertSame(bytesOf(q, n), quantizeTs(x, expScale, expZp, 0, 255), `values for [${lo},${hi}]`);
    release();
  }
});

// The int4 codes, scales and zero points of a seeded [N,K] weight, then the product in TS f64
// order-free (for a loose check) and the twin (for the exact one).
test('i4_gemm_f32 equals its twin bit for bit (symmetric and affine codes, G = 32/64/128, a short last group, M, N and K tails)', () => {
  const rand = mulberry32(18);
  const cases: [number, number, number, number][] = [
    [1, 1, 32, 32],
    [1, 9, 64, 32],
    [3, 8, 128, 64],
    [4, 17, 128, 128],
    [5, 3, 256, 64],
    [1, 24, 256, 128],
    [13, 70, 96, 32],
    [0, 4, 32, 32],
    [2, 9, 33, 32],
    [1, 5, 50, 32],
    [1, 3, 7, 4],
    [6, 10, 784, 128],
    [1, 10, 784, 64],
    [5, 11, 130, 64],
  ];
  for (const [M, N, K, G] of cases) {
    for (const affine of [false, true]) {
      for (const relu of [0, 1]) {
        const groups = Math.ceil(K / G);
        const q = ints(rand, N * K, 16).map((v) => (affine ? v : v - 8));
        const scales = uniform(rand, N * groups, 0.01, 0.1);
        const zps = affine ? ints(rand, N * groups, 16) : undefined;
        const x = uniform(rand, M * K, -1, 1);
        const bias = uniform(rand, N, -0.5, 0.5);
        const pq = putI8(q),
          ps = putF32(scales),
          pz = zps ? putI32(zps) : 0,
          px = putF32(x),
          pb = putF32(bias);
        const offset = affine ? 0 : 8;
        const wp = block(k.i4_gemm_packed_bytes!(N, K)),
          sp = block(k.i4_gemm_params_bytes!(N, K, G)),
          dq = block(k.i4_gemm_scratch_bytes!(M, K));
        k.i4_gemm_pack_w!(wp, pq, offset, N, K);
        k.i4_gemm_pack_params!(sp, ps, pz, offset, N, K, G);
        const y = block(M * N * 4),
          yr = block(M * N * 4);
        k.i4_gemm_f32!(y, px, wp, sp, dq, M, N, K, G, pb, relu);
        k.i4_gemm_f32_ref!(yr, px, pq, ps, pz, M, N, K, G, pb, relu);
        const label = `M=${M} N=${N} K=${K} G=${G} affine=${affine} relu=${relu}`;
        assertSame(bitsOf(y, M * N), bitsOf(yr, M * N), label);
        const yv = f32View(y, M * N);
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) {
            let s = 0;
            for (let kk = 0; kk < K; kk++) {
              const g = n * groups + Math.floor(kk / G);
              s += x[m * K + kk]! * (q[n * K + kk]! - (zps ? zps[g]! : 0)) * scales[g]!;
            }
            s += bias[n]!;
            if (relu) s = Math.max(s, 0);
            assert.ok(Math.abs(yv[m * N + n]! - s) <= 1e-5 * K, `${label}: y[${m},${n}] = ${yv[m * N + n]}, f64 ${s}`);
          }
        }
        release();
      }
    }
  }
});
