// Pooling kernels against their _ref twins (same bits) and f64 pooling written in the test
// reference: non-overlapping, overlapping, padded ('same' and explicit), a remainder that does
// not divide, a global window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pool2dRef, refAxis } from '../reference/cnn-ref.ts';
import { assertClose } from '../helpers/close.ts';
import { bits, call } from '../helpers/kernel-call.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

interface Case {
  label: string;
  N: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  padding: 'same' | 'valid' | [number, number];
}

const CASES: Case[] = [
  { label: '2x2 stride 2', N: 3, H: 6, W: 6, KH: 2, KW: 2, sh: 2, sw: 2, padding: 'valid' },
  { label: '2x2 stride 2 on 7x5 (remainder dropped)', N: 2, H: 7, W: 5, KH: 2, KW: 2, sh: 2, sw: 2, padding: 'valid' },
  {
    label: '2x2 stride 2 on 9x21 (SIMD groups of four windows, then single ones)',
    N: 3,
    H: 9,
    W: 21,
    KH: 2,
    KW: 2,
    sh: 2,
    sw: 2,
    padding: 'valid',
  },
  { label: '3x3 stride 2 same', N: 2, H: 7, W: 5, KH: 3, KW: 3, sh: 2, sw: 2, padding: 'same' },
  { label: '3x3 stride 1 padding 1 (overlapping)', N: 2, H: 4, W: 4, KH: 3, KW: 3, sh: 1, sw: 1, padding: [1, 1] },
  { label: '3x2 stride [1, 2] padding [1, 0]', N: 1, H: 5, W: 6, KH: 3, KW: 2, sh: 1, sw: 2, padding: [1, 0] },
  { label: 'global 5x4', N: 4, H: 5, W: 4, KH: 5, KW: 4, sh: 1, sw: 1, padding: 'valid' },
];

function geometry(c: Case) {
  const [p0, p1] = typeof c.padding === 'string' ? [c.padding, c.padding] : c.padding;
  const [OH, ph] = refAxis(c.H, c.KH, c.sh, 1, p0);
  const [OW, pw] = refAxis(c.W, c.KW, c.sw, 1, p1);
  return [c.N, c.H, c.W, OH, OW, c.KH, c.KW, c.sh, c.sw, ph, pw] as const;
}

// The f64 adjoint: max sends dy to the first largest input of its window, avg spreads it evenly.
function adjoint(kind: 'max' | 'avg', c: Case, x: Float32Array, dy: Float32Array): Float64Array {
  const [N, H, W, OH, OW, KH, KW, sh, sw, ph, pw] = geometry(c);
  const dx = new Float64Array(x.length);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const at: number[] = [];
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++) {
            const ih = oh * sh - ph + kh,
              iw = ow * sw - pw + kw;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) at.push((n * H + ih) * W + iw);
          }
        const g = dy[(n * OH + oh) * OW + ow]!;
        if (kind === 'avg') for (const i of at) dx[i]! += g / at.length;
        else dx[at.reduce((best, i) => (x[i]! > x[best]! ? i : best), at[0]!)]! += g;
      }
    }
  }
  return dx;
}

for (const kind of ['max', 'avg'] as const) {
  test(`f32_${kind}pool2d forward and backward match their _ref twins bit for bit and f64 pooling`, () => {
    for (const [i, c] of CASES.entries()) {
      const g = geometry(c);
      const rand = mulberry32(500 + i);
      const x = uniform(rand, c.N * c.H * c.W);
      const dy = uniform(rand, c.N * g[3] * g[4]);
      const fwd = (k: string) => call(k, [new Float32Array(dy.length).fill(NaN), x, ...g])[0]!;
      const y = fwd(`f32_${kind}pool2d_fwd`);
      assert.deepEqual(bits(y), bits(fwd(`f32_${kind}pool2d_fwd_ref`)), `${c.label}: y`);
      assertClose(y, pool2dRef(kind, x, ...g), { atol: 1e-6, rtol: 1e-6 }, `${c.label}: y vs f64`);
      const bwd = (k: string) =>
        call(
          k,
          kind === 'max' ? [new Float32Array(x.length).fill(NaN), dy, x, ...g] : [new Float32Array(x.length).fill(NaN), dy, ...g],
        )[0]!;
      const dx = bwd(`f32_${kind}pool2d_bwd`);
      assert.deepEqual(bits(dx), bits(bwd(`f32_${kind}pool2d_bwd_ref`)), `${c.label}: dx`);
      assertClose(dx, adjoint(kind, c, x, dy), { atol: 1e-6, rtol: 1e-6 }, `${c.label}: dx vs f64`);
    }
  });
}

test('max pooling: ties go to the first position in the window, -Infinity is a value, NaN never wins', () => {
  const g = [1, 2, 2, 1, 1, 2, 2, 2, 2, 0, 0] as const;
  const y = (x: number[]) => call('f32_maxpool2d_fwd', [new Float32Array(1), Float32Array.from(x), ...g])[0]![0];
  const dx = (x: number[]) =>
    Array.from(call('f32_maxpool2d_bwd', [new Float32Array(4), Float32Array.from([3]), Float32Array.from(x), ...g])[0]!);
  assert.equal(y([1, 5, 5, 2]), 5);
  assert.deepEqual(dx([1, 5, 5, 2]), [0, 3, 0, 0]);
  assert.equal(y([NaN, 2, -1, NaN]), 2);
  assert.deepEqual(dx([-Infinity, -Infinity, -Infinity, -Infinity]), [0, 0, 0, 0]);
});

test('2x2 max pooling with stride 2 (the SIMD path) keeps the general rules on ties, ±0, -Infinity and NaN', () => {
  // Few distinct values, so windows hold ties, signed zeros, NaN and all -Infinity.
  const values = [1, 1, 0, -0, NaN, -Infinity, -Infinity, 2, -1];
  const rand = mulberry32(77);
  const [N, H, W] = [3, 8, 18];
  const x = Float32Array.from({ length: N * H * W }, () => values[Math.floor(rand() * values.length)]!);
  const g = [N, H, W, H / 2, W / 2, 2, 2, 2, 2, 0, 0] as const;
  const dy = uniform(rand, N * g[3] * g[4]);
  dy[0] = -0;
  const fwd = (k: string) => call(k, [new Float32Array(dy.length).fill(NaN), x, ...g])[0]!;
  assert.deepEqual(bits(fwd('f32_maxpool2d_fwd')), bits(fwd('f32_maxpool2d_fwd_ref')));
  const bwd = (k: string) => call(k, [new Float32Array(x.length).fill(NaN), dy, x, ...g])[0]!;
  assert.deepEqual(bits(bwd('f32_maxpool2d_bwd')), bits(bwd('f32_maxpool2d_bwd_ref')));
});
