// Convolution kernels: im2col, col2im and the convolution's forward and backward against their
// _ref twins (same bits) and against direct f64 convolution loops written in the test reference,
// on awkward shapes (1x1 with and without the im2col shortcut, stride > 1, padding that does not
// divide, asymmetric 'same', dilation, groups, depthwise, batch 1, an image smaller than the
// kernel, more than one K block of the GEMM, rows long enough for im2col's bulk copies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { kernelByName } from '../../src/core/wasm.ts';
import { ACT_LINEAR, ACT_RELU, ACT_TANH } from '../../assembly/codes.ts';
import { conv2dRef, refAxis } from '../reference/cnn-ref.ts';
import { act as actF64 } from '../reference/mlp-ref.ts';
import { assertClose } from '../helpers/close.ts';
import { bits, call } from '../helpers/kernel-call.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

interface Case {
  label: string;
  B: number;
  C: number;
  H: number;
  W: number;
  O: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  dilh: number;
  dilw: number;
  groups: number;
  padding: 'same' | 'valid' | [number, number];
}

const CASES: Case[] = [
  { label: '3x3 same', B: 3, C: 3, H: 7, W: 6, O: 4, KH: 3, KW: 3, sh: 1, sw: 1, dilh: 1, dilw: 1, groups: 1, padding: 'same' },
  {
    label: '1x1 pointwise (no im2col)',
    B: 3,
    C: 5,
    H: 4,
    W: 4,
    O: 6,
    KH: 1,
    KW: 1,
    sh: 1,
    sw: 1,
    dilh: 1,
    dilw: 1,
    groups: 1,
    padding: 'valid',
  },
  { label: '1x1 stride 2', B: 2, C: 3, H: 5, W: 6, O: 2, KH: 1, KW: 1, sh: 2, sw: 2, dilh: 1, dilw: 1, groups: 1, padding: 'valid' },
  {
    label: '3x2 stride 2, padding [1, 2] that does not divide',
    B: 2,
    C: 2,
    H: 9,
    W: 7,
    O: 3,
    KH: 3,
    KW: 2,
    sh: 2,
    sw: 3,
    dilh: 1,
    dilw: 1,
    groups: 1,
    padding: [1, 2],
  },
  {
    label: 'even kernel same (asymmetric padding), stride 2',
    B: 2,
    C: 2,
    H: 6,
    W: 5,
    O: 3,
    KH: 4,
    KW: 2,
    sh: 2,
    sw: 2,
    dilh: 1,
    dilw: 1,
    groups: 1,
    padding: 'same',
  },
  { label: 'dilation 2 valid', B: 2, C: 2, H: 8, W: 9, O: 3, KH: 3, KW: 3, sh: 1, sw: 1, dilh: 2, dilw: 3, groups: 1, padding: 'valid' },
  { label: 'groups 2', B: 3, C: 4, H: 5, W: 5, O: 6, KH: 3, KW: 3, sh: 1, sw: 1, dilh: 1, dilw: 1, groups: 2, padding: 'same' },
  {
    label: 'depthwise 5x5 on a 3x3 image (smaller than the kernel, padded)',
    B: 2,
    C: 3,
    H: 3,
    W: 3,
    O: 3,
    KH: 5,
    KW: 5,
    sh: 1,
    sw: 1,
    dilh: 1,
    dilw: 1,
    groups: 3,
    padding: 'same',
  },
  {
    label: 'batch 1, 5x5 same on 28x28',
    B: 1,
    C: 1,
    H: 28,
    W: 28,
    O: 8,
    KH: 5,
    KW: 5,
    sh: 1,
    sw: 1,
    dilh: 1,
    dilw: 1,
    groups: 1,
    padding: 'same',
  },
  { label: 'rows of 72 (bulk)', B: 2, C: 2, H: 3, W: 72, O: 4, KH: 3, KW: 5, sh: 1, sw: 1, dilh: 1, dilw: 1, groups: 1, padding: 'same' },
  {
    label: '16 channels 5x5 (400 > one GEMM K block)',
    B: 2,
    C: 16,
    H: 6,
    W: 6,
    O: 5,
    KH: 5,
    KW: 5,
    sh: 1,
    sw: 1,
    dilh: 1,
    dilw: 1,
    groups: 1,
    padding: 'same',
  },
];

function geometry(c: Case) {
  const [ph0, pw0] = typeof c.padding === 'string' ? [c.padding, c.padding] : c.padding;
  const [OH, ph] = refAxis(c.H, c.KH, c.sh, c.dilh, ph0);
  const [OW, pw] = refAxis(c.W, c.KW, c.sw, c.dilw, pw0);
  return { OH, OW, ph, pw, Kc: (c.C / c.groups) * c.KH * c.KW };
}

function data(c: Case, seed: number) {
  const rand = mulberry32(seed);
  const { OH, OW } = geometry(c);
  return {
    x: uniform(rand, c.B * c.C * c.H * c.W),
    w: uniform(rand, c.O * (c.C / c.groups) * c.KH * c.KW),
    bias: uniform(rand, c.O),
    dy: uniform(rand, c.B * c.O * OH * OW),
  };
}

// The workspace of a chunk of `chunk` samples: their columns and their GEMM output.
const workspace = (c: Case, chunk: number) => {
  const { OH, OW, Kc } = geometry(c);
  return new Float32Array(chunk * OH * OW * (Kc + c.O / c.groups)).fill(NaN);
};

// Two samples per chunk by default, so that batches of 3 end in a partial chunk.
function forward(kernel: string, c: Case, d: ReturnType<typeof data>, code: number, chunk = 2): { y: Float32Array; pre: Float32Array } {
  const { OH, OW, ph, pw } = geometry(c);
  const n = c.B * c.O * OH * OW;
  const [y, pre] = call(kernel, [
    new Float32Array(n),
    new Float32Array(n),
    d.x,
    d.w,
    d.bias,
    workspace(c, chunk),
    c.B,
    c.C,
    c.H,
    c.W,
    c.O,
    OH,
    OW,
    c.KH,
    c.KW,
    c.sh,
    c.sw,
    ph,
    pw,
    c.dilh,
    c.dilw,
    c.groups,
    chunk,
    code,
    0.1,
  ]);
  return { y: y!, pre: pre! };
}

function backward(kernel: string, c: Case, d: ReturnType<typeof data>, code: number, chunk = 2) {
  const { OH, OW, ph, pw } = geometry(c);
  const { y, pre } = forward('f32_conv2d_fwd_ref', c, d, code);
  const [dx, dw, db, dpre] = call(kernel, [
    new Float32Array(d.x.length).fill(NaN),
    new Float32Array(d.w.length).fill(NaN),
    new Float32Array(c.O).fill(NaN),
    d.dy.slice(),
    d.x,
    d.w,
    pre,
    y,
    workspace(c, chunk),
    c.B,
    c.C,
    c.H,
    c.W,
    c.O,
    OH,
    OW,
    c.KH,
    c.KW,
    c.sh,
    c.sw,
    ph,
    pw,
    c.dilh,
    c.dilw,
    c.groups,
    chunk,
    code,
    0.1,
  ]);
  return { dx: dx!, dw: dw!, db: db!, dpre: dpre! };
}

test('f32_im2col and f32_col2im match their _ref twins bit for bit', () => {
  for (const [i, c] of CASES.entries()) {
    const { OH, OW, ph, pw, Kc } = geometry(c);
    const rand = mulberry32(100 + i);
    const C = c.C / c.groups;
    const x = uniform(rand, C * c.H * c.W),
      col = uniform(rand, Kc * OH * OW);
    const geo = [C, c.H, c.W, OH, OW, c.KH, c.KW, c.sh, c.sw, ph, pw, c.dilh, c.dilw];
    const im = (k: string) => call(k, [new Float32Array(Kc * OH * OW).fill(NaN), x, ...geo])[0]!;
    const back = (k: string) => call(k, [new Float32Array(x.length).fill(NaN), col, ...geo])[0]!;
    assert.deepEqual(bits(im('f32_im2col')), bits(im('f32_im2col_ref')), `${c.label}: im2col`);
    assert.deepEqual(bits(back('f32_col2im')), bits(back('f32_col2im_ref')), `${c.label}: col2im`);
  }
});

test('f32_conv2d_fwd matches its _ref twin bit for bit and a direct f64 convolution', () => {
  for (const [i, c] of CASES.entries()) {
    const d = data(c, 200 + i);
    const { OH, OW, ph, pw } = geometry(c);
    const z = conv2dRef(d.x, d.w, d.bias, c.B, c.C, c.H, c.W, c.O, OH, OW, c.KH, c.KW, c.sh, c.sw, ph, pw, c.dilh, c.dilw, c.groups);
    const tol = { atol: 2e-6 * geometry(c).Kc, rtol: 1e-5 };
    for (const [code, name] of [
      [ACT_LINEAR, 'linear'],
      [ACT_RELU, 'relu'],
      [ACT_TANH, 'tanh'],
    ] as const) {
      const fast = forward('f32_conv2d_fwd', c, d, code),
        ref = forward('f32_conv2d_fwd_ref', c, d, code);
      assert.deepEqual(bits(fast.y), bits(ref.y), `${c.label} ${name}: y`);
      assert.deepEqual(bits(fast.pre), bits(ref.pre), `${c.label} ${name}: pre`);
      assertClose(fast.pre, z, tol, `${c.label}: pre vs f64`);
      assertClose(
        fast.y,
        Array.from(z, (v) => actF64(name, v, 0.1)),
        tol,
        `${c.label} ${name}: y vs f64`,
      );
    }
  }
});

// Inference (pre = 0: bias and activation land in y alone) and no bias, with chunks of one sample
// (the GEMM writes the rows) and of several (the rows move out of the chunk's buffer).
test("f32_conv2d_fwd without pre-activations or bias gives the twin's bits", () => {
  for (const [i, c] of CASES.entries()) {
    const d = data(c, 600 + i);
    const { OH, OW, ph, pw } = geometry(c);
    const n = c.B * c.O * OH * OW;
    for (const withPre of [false, true])
      for (const withBias of [false, true])
        for (const chunk of [1, 2])
          for (const code of [ACT_LINEAR, ACT_RELU, ACT_TANH]) {
            const run = (kernel: string) =>
              scope(() => {
                const t = (a: Float32Array) => Tensor.from(a.length ? a : new Float32Array(1));
                const y = Tensor.from(new Float32Array(n).fill(NaN)),
                  pre = withPre ? Tensor.from(new Float32Array(n)) : undefined;
                const geo = [c.B, c.C, c.H, c.W, c.O, OH, OW, c.KH, c.KW, c.sh, c.sw, ph, pw, c.dilh, c.dilw, c.groups, chunk, code, 0.1];
                const bias = withBias ? t(d.bias).ptr : 0;
                kernelByName(kernel)(y.ptr, pre ? pre.ptr : 0, t(d.x).ptr, t(d.w).ptr, bias, t(workspace(c, chunk)).ptr, ...geo);
                return { y: bits(y.read()), pre: pre ? bits(pre.read()) : [] };
              });
            const label = `${c.label} pre=${withPre} bias=${withBias} chunk=${chunk} act ${code}`;
            const fast = run('f32_conv2d_fwd'),
              ref = run('f32_conv2d_fwd_ref');
            assert.deepEqual(fast.y, ref.y, `${label}: y`);
            assert.deepEqual(fast.pre, ref.pre, `${label}: pre`);
          }
  }
});

// The exact adjoint of the direct convolution, in f64: dw, db and dx for an output gradient dy.
function conv2dAdjoint(c: Case, d: ReturnType<typeof data>) {
  const { OH, OW, ph, pw } = geometry(c);
  const Cg = c.C / c.groups,
    Og = c.O / c.groups;
  const dx = new Float64Array(d.x.length),
    dw = new Float64Array(d.w.length),
    db = new Float64Array(c.O);
  for (let b = 0; b < c.B; b++) {
    for (let o = 0; o < c.O; o++) {
      const g = Math.floor(o / Og);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const gy = d.dy[((b * c.O + o) * OH + oh) * OW + ow]!;
          db[o]! += gy;
          for (let ci = 0; ci < Cg; ci++) {
            for (let kh = 0; kh < c.KH; kh++) {
              for (let kw = 0; kw < c.KW; kw++) {
                const ih = oh * c.sh - ph + kh * c.dilh,
                  iw = ow * c.sw - pw + kw * c.dilw;
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                const xi = ((b * c.C + g * Cg + ci) * c.H + ih) * c.W + iw,
                  wi = ((o * Cg + ci) * c.KH + kh) * c.KW + kw;
                dw[wi]! += gy * d.x[xi]!;
                dx[xi]! += gy * d.w[wi]!;
              }
            }
          }
        }
      }
    }
  }
  return { dx, dw, db };
}

test('f32_conv2d_bwd matches its _ref twin bit for bit and the f64 adjoint of the direct convolution', () => {
  for (const [i, c] of CASES.entries()) {
    const d = data(c, 300 + i);
    for (const code of [ACT_LINEAR, ACT_RELU, ACT_TANH]) {
      const fast = backward('f32_conv2d_bwd', c, d, code),
        ref = backward('f32_conv2d_bwd_ref', c, d, code);
      for (const key of ['dx', 'dw', 'db', 'dpre'] as const)
        assert.deepEqual(bits(fast[key]), bits(ref[key]), `${c.label} act ${code}: ${key}`);
    }
    const fast = backward('f32_conv2d_bwd', c, d, ACT_LINEAR);
    const want = conv2dAdjoint(c, d);
    const { OH, OW } = geometry(c);
    const terms = c.B * OH * OW;
    assertClose(fast.dw, want.dw, { atol: 2e-6 * terms, rtol: 1e-5 }, `${c.label}: dw vs f64`);
    assertClose(fast.db, want.db, { atol: 2e-6 * terms, rtol: 1e-5 }, `${c.label}: db vs f64`);
    assertClose(fast.dx, want.dx, { atol: 2e-6 * c.O * c.KH * c.KW, rtol: 1e-5 }, `${c.label}: dx vs f64`);
  }
});

test('the chunk of the batched im2col changes no output or input-gradient bit, and dw only by rounding', () => {
  for (const [i, c] of CASES.entries()) {
    const d = data(c, 500 + i);
    const one = forward('f32_conv2d_fwd', c, d, ACT_RELU, 1);
    for (const chunk of [c.B, c.B + 3]) {
      const other = forward('f32_conv2d_fwd', c, d, ACT_RELU, chunk);
      assert.deepEqual(bits(other.pre), bits(one.pre), `${c.label} chunk ${chunk}: pre`);
      const g1 = backward('f32_conv2d_bwd', c, d, ACT_RELU, 1),
        g = backward('f32_conv2d_bwd', c, d, ACT_RELU, chunk);
      assert.deepEqual(bits(g.dx), bits(g1.dx), `${c.label} chunk ${chunk}: dx`);
      assert.deepEqual(bits(g.db), bits(g1.db), `${c.label} chunk ${chunk}: db`);
      const { OH, OW } = geometry(c);
      assertClose(g.dw, g1.dw, { atol: 2e-6 * c.B * OH * OW, rtol: 1e-5 }, `${c.label} chunk ${chunk}: dw`);
    }
  }
});

test('f32_conv2d_bwd skips dx and dw when their pointers are 0, with the same db', () => {
  const c = CASES[3]!;
  const d = data(c, 400);
  const { OH, OW, ph, pw } = geometry(c);
  const { y, pre } = forward('f32_conv2d_fwd_ref', c, d, ACT_RELU);
  const full = backward('f32_conv2d_bwd', c, d, ACT_RELU);
  const [db] = scope(() => {
    const t = (a: Float32Array) => Tensor.from(a);
    const dbt = t(new Float32Array(c.O)),
      dy = t(d.dy.slice());
    kernelByName('f32_conv2d_bwd')(
      0,
      0,
      dbt.ptr,
      dy.ptr,
      t(d.x).ptr,
      t(d.w).ptr,
      t(pre).ptr,
      t(y).ptr,
      t(workspace(c, 2)).ptr,
      c.B,
      c.C,
      c.H,
      c.W,
      c.O,
      OH,
      OW,
      c.KH,
      c.KW,
      c.sh,
      c.sw,
      ph,
      pw,
      c.dilh,
      c.dilw,
      c.groups,
      2,
      ACT_RELU,
      0.1,
    );
    return [dbt.read()];
  });
  assert.deepEqual(bits(db!), bits(full.db));
});
