// The int8 convolution and the u8 pooling kernels against their scalar twins (bit for bit) and
// against an integer convolution written here in plain TS, on awkward geometries: 1×1 kernels,
// strides > 1, padding that does not divide, dilation, groups and depthwise, batch 1, images
// smaller than the kernel with padding, NCHW and NHWC inputs, per-sample input parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernels, allocBytes, freeBytes, f32View, i32View, i8View, u8View } from '../../src/core/wasm.ts';
import { mulberry32, uniform, ints } from '../helpers/rand.ts';

const k = kernels();
const blocks: number[] = [];
function block(bytes: number): number {
  const p = allocBytes(Math.max(16, bytes));
  blocks.push(p);
  return p;
}
function release(): void {
  while (blocks.length) freeBytes(blocks.pop()!);
}
function put(data: ArrayLike<number>, kind: 'u8' | 'i8' | 'f32' | 'i32'): number {
  const bytes = kind === 'u8' || kind === 'i8' ? 1 : 4;
  const p = block(data.length * bytes);
  const view = { u8: u8View, i8: i8View, f32: f32View, i32: i32View }[kind](p, data.length);
  view.set(data);
  return p;
}
const bytesOf = (p: number, n: number) => Array.from(u8View(p, n));
const bitsOf = (p: number, n: number) => Array.from(new Uint32Array(f32View(p, n).slice().buffer));

function assertSame(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`${label}: first difference at ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

interface Geometry {
  B: number;
  C: number;
  H: number;
  W: number;
  O: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dilh: number;
  dilw: number;
  groups: number;
}
const out = (g: Geometry) => ({
  OH: Math.floor((g.H + 2 * g.ph - ((g.KH - 1) * g.dilh + 1)) / g.sh) + 1,
  OW: Math.floor((g.W + 2 * g.pw - ((g.KW - 1) * g.dilw + 1)) / g.sw) + 1,
});

const GEOMETRIES: Geometry[] = [
  { B: 2, C: 3, H: 7, W: 6, O: 5, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1, dilh: 1, dilw: 1, groups: 1 },
  { B: 1, C: 1, H: 28, W: 28, O: 32, KH: 5, KW: 5, sh: 1, sw: 1, ph: 2, pw: 2, dilh: 1, dilw: 1, groups: 1 },
  { B: 3, C: 4, H: 5, W: 5, O: 8, KH: 1, KW: 1, sh: 1, sw: 1, ph: 0, pw: 0, dilh: 1, dilw: 1, groups: 1 },
  { B: 2, C: 6, H: 9, W: 8, O: 9, KH: 3, KW: 2, sh: 2, sw: 3, ph: 1, pw: 0, dilh: 1, dilw: 1, groups: 3 },
  { B: 1, C: 5, H: 6, W: 7, O: 5, KH: 3, KW: 3, sh: 1, sw: 2, ph: 2, pw: 1, dilh: 2, dilw: 1, groups: 5 },
  { B: 2, C: 2, H: 2, W: 3, O: 17, KH: 5, KW: 5, sh: 1, sw: 1, ph: 2, pw: 2, dilh: 1, dilw: 1, groups: 1 },
  { B: 1, C: 20, H: 4, W: 4, O: 3, KH: 2, KW: 2, sh: 2, sw: 2, ph: 0, pw: 0, dilh: 1, dilw: 1, groups: 1 },
];

// The convolution as the integers say it, then the epilogue in f32 as i8-gemm.ts words it.
function convReference(
  g: Geometry,
  x: Int32Array,
  nchw: boolean,
  zx: number[],
  xs: number[],
  w: Int32Array,
  zw: Int32Array | undefined,
  ws: Float32Array,
  bias: Float32Array | undefined,
  relu: boolean,
  ys: number,
  zy: number,
): number[] {
  const { OH, OW } = out(g);
  const Cg = g.C / g.groups,
    Og = g.O / g.groups;
  const res: number[] = [];
  const inv = Math.fround(1 / ys);
  for (let b = 0; b < g.B; b++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let o = 0; o < g.O; o++) {
          let acc = 0;
          const grp = Math.floor(o / Og);
          for (let c = 0; c < Cg; c++)
            for (let kh = 0; kh < g.KH; kh++)
              for (let kw = 0; kw < g.KW; kw++) {
                const ih = oh * g.sh - g.ph + kh * g.dilh,
                  iw = ow * g.sw - g.pw + kw * g.dilw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                const ci = grp * Cg + c;
                const xv = nchw ? x[((b * g.C + ci) * g.H + ih) * g.W + iw]! : x[((b * g.H + ih) * g.W + iw) * g.C + ci]!;
                acc += (xv - zx[b]!) * (w[((o * Cg + c) * g.KH + kh) * g.KW + kw]! - (zw ? zw[o]! : 0));
              }
          let v = Math.fround(Math.fround(acc) * Math.fround(Math.fround(xs[b]!) * ws[o]!));
          v = Math.fround(v + (bias ? bias[o]! : 0));
          if (relu) v = Math.max(v, 0);
          if (ys === 0) res.push(new Uint32Array(Float32Array.of(v).buffer)[0]!);
          else {
            const t = Math.min(Math.max(roundEven(Math.fround(v * inv)), -zy), 255 - zy);
            res.push(t + zy);
          }
        }
  return res;
}
const roundEven = (v: number) => {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

// Codes [O, Cg, KH, KW] → (kh, kw, c) order per output channel, then one packed panel per group.
function packConv(g: Geometry, w: Int32Array, zw: Int32Array | undefined): number {
  const Cg = g.C / g.groups,
    Og = g.O / g.groups,
    Kc = Cg * g.KH * g.KW;
  const re = new Int8Array(w.length);
  for (let o = 0; o < g.O; o++)
    for (let c = 0; c < Cg; c++)
      for (let kh = 0; kh < g.KH; kh++)
        for (let kw = 0; kw < g.KW; kw++) re[o * Kc + (kh * g.KW + kw) * Cg + c] = w[((o * Cg + c) * g.KH + kh) * g.KW + kw]!;
  const panel = k.i8_gemm_packed_bytes(Og, Kc);
  const wp = block(panel * g.groups);
  for (let grp = 0; grp < g.groups; grp++) {
    const pw = put(re.subarray(grp * Og * Kc, (grp + 1) * Og * Kc), 'i8');
    const pz = zw ? put(zw.subarray(grp * Og, (grp + 1) * Og), 'i32') : 0;
    k.i8_gemm_pack_w(wp + grp * panel, pw, pz, Og, Kc);
  }
  return wp;
}

// The packed layout as the GEMM reads it (i8-gemm.ts): blocks of 4 rows, each pair of k as
// 4 × (row value at 2t, at 2t + 1), i16; rows past P and k past Kc are zeros.
function packedReference(g: Geometry, x: number[], nchw: boolean, zx: number, OH: number, OW: number): number[] {
  const Cg = g.C / g.groups,
    Kc = g.KH * g.KW * Cg,
    kp = (Kc + 3) & ~3,
    P = OH * OW;
  const out = new Array<number>(Math.ceil(P / 4) * kp * 4).fill(0);
  for (let p = 0; p < P; p++)
    for (let k = 0; k < Kc; k++) {
      const c = k % Cg,
        kw = Math.floor(k / Cg) % g.KW,
        kh = Math.floor(k / (Cg * g.KW));
      const ih = Math.floor(p / OW) * g.sh - g.ph + kh * g.dilh,
        iw = (p % OW) * g.sw - g.pw + kw * g.dilw;
      const inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
      const v = inside ? x[nchw ? (c * g.H + ih) * g.W + iw : (ih * g.W + iw) * g.C + c]! : zx;
      out[(p >> 2) * kp * 4 + (k >> 1) * 8 + (p & 3) * 2 + (k & 1)] = v - zx;
    }
  return out;
}

// Geometries beyond the network's: channels a multiple of 8 (the direct path) with ragged P,
// 1×1 output, strides and dilation with 16 channels.
const PACK_GEOMETRIES: Geometry[] = [
  ...GEOMETRIES,
  { B: 1, C: 32, H: 14, W: 14, O: 64, KH: 5, KW: 5, sh: 1, sw: 1, ph: 2, pw: 2, dilh: 1, dilw: 1, groups: 1 },
  { B: 1, C: 16, H: 5, W: 7, O: 4, KH: 3, KW: 3, sh: 2, sw: 1, ph: 1, pw: 2, dilh: 1, dilw: 2, groups: 1 },
  { B: 1, C: 8, H: 3, W: 3, O: 4, KH: 3, KW: 3, sh: 1, sw: 1, ph: 0, pw: 0, dilh: 1, dilw: 1, groups: 1 },
  { B: 1, C: 24, H: 6, W: 5, O: 6, KH: 2, KW: 3, sh: 3, sw: 2, ph: 0, pw: 1, dilh: 2, dilw: 1, groups: 3 },
  { B: 1, C: 3, H: 9, W: 4, O: 3, KH: 1, KW: 4, sh: 1, sw: 1, ph: 0, pw: 3, dilh: 1, dilw: 1, groups: 1 },
];

test('u8_im2row_packed equals its twin and the packed layout of the windows (NCHW and NHWC)', () => {
  const rand = mulberry32(3);
  for (const g of PACK_GEOMETRIES) {
    const { OH, OW } = out(g);
    const Cg = g.C / g.groups,
      Kc = g.KH * g.KW * Cg,
      P = OH * OW;
    const xv = ints(rand, g.C * g.H * g.W, 256);
    const x = put(xv, 'u8');
    for (const nchw of [true, false]) {
      const [cs, ps] = nchw ? [g.H * g.W, 1] : [1, g.C];
      const bytes = k.i8_gemm_scratch_bytes(Math.max(P, 4), Kc);
      const a = block(bytes),
        b = block(bytes),
        img = block(k.u8_conv2d_col_bytes(OH, OW, g.KH, g.KW, Cg, g.sh, g.sw, g.dilh, g.dilw));
      u8View(a, bytes).fill(0xa5);
      const zx = Math.floor(rand() * 256);
      // The last group: channels from an offset, as u8_conv2d reads them.
      const xg = x + (g.groups - 1) * Cg * cs;
      const args = [cs, ps, g.H, g.W, Cg, OH, OW, g.KH, g.KW, g.sh, g.sw, g.ph, g.pw, g.dilh, g.dilw, zx] as const;
      k.u8_im2row_packed(a, xg, ...args, img);
      k.u8_im2row_packed_ref(b, xg, ...args);
      const n = (Math.ceil(P / 4) * ((Kc + 3) & ~3) * 8) / 2;
      const got = Array.from(new Int16Array(u8View(a, 2 * n).slice().buffer));
      const label = `packed ${JSON.stringify(g)} nchw=${nchw}`;
      assertSame(got, Array.from(new Int16Array(u8View(b, 2 * n).slice().buffer)), `${label}: twin`);
      const shifted = nchw ? xv.slice((g.groups - 1) * Cg * g.H * g.W) : xv.slice((g.groups - 1) * Cg);
      assertSame(got, packedReference(g, Array.from(shifted), nchw, zx, OH, OW), `${label}: layout`);
    }
    release();
  }
});

test('u8_conv2d equals its twin and the integer reference bit for bit (u8 and f32 epilogues)', () => {
  const rand = mulberry32(5);
  for (const g of PACK_GEOMETRIES) {
    const { OH, OW } = out(g);
    const Cg = g.C / g.groups,
      Og = g.O / g.groups,
      Kc = g.KH * g.KW * Cg,
      P = OH * OW;
    for (const [nchw, affine, perSample, relu, u8out] of [
      [true, false, false, true, true],
      [false, true, true, false, false],
      [false, false, false, true, false],
      [true, true, true, true, true],
    ] as const) {
      const xv = ints(rand, g.B * g.C * g.H * g.W, 256);
      const wv = ints(rand, g.O * Kc, 256).map((v) => v - 128);
      const zw = affine ? ints(rand, g.O, 41).map((v) => v - 20) : undefined;
      const zx = Array.from({ length: g.B }, () => Math.floor(rand() * 256));
      const xs = Array.from({ length: g.B }, () => Math.fround(0.01 + rand() * 0.02));
      if (!perSample) (zx.fill(zx[0]!), xs.fill(xs[0]!));
      const ws = uniform(rand, g.O, 0.001, 0.01);
      const bias = rand() < 0.8 ? uniform(rand, g.O, -1, 1) : undefined;
      const ys = u8out ? Math.fround(0.05 + rand() * 0.2) : 0,
        zy = u8out ? Math.floor(rand() * 256) : 0;
      const px = put(xv, 'u8'),
        pws = put(ws, 'f32'),
        pb = bias ? put(bias, 'f32') : 0;
      const xq = perSample ? block(8 * g.B) : 0;
      for (let b = 0; perSample && b < g.B; b++) {
        f32View(xq + 8 * b, 1)[0] = xs[b]!;
        i32View(xq + 8 * b + 4, 1)[0] = zx[b]!;
      }
      const wp = packConv(g, wv, zw);
      const esize = u8out ? 1 : 4;
      const y = block(g.B * P * g.O * esize),
        yr = block(g.B * P * g.O * esize);
      const ap = block(k.i8_gemm_scratch_bytes(Math.max(P, 4), Kc)),
        col = block(k.u8_conv2d_col_bytes(OH, OW, g.KH, g.KW, Cg, g.sh, g.sw, g.dilh, g.dilw)),
        tmp = block(P * Og * 4);
      const geo = [g.B, g.C, g.H, g.W, g.O, OH, OW, g.KH, g.KW, g.sh, g.sw, g.ph, g.pw, g.dilh, g.dilw, g.groups, nchw ? 1 : 0] as const;
      const epi = [zx[0]!, xs[0]!, pws, pb, relu ? 1 : 0, ys, zy] as const;
      k.u8_conv2d(y, px, xq, wp, ap, col, tmp, ...geo, ...epi);
      k.u8_conv2d_ref(yr, px, xq, put(wv, 'i8'), zw ? put(zw, 'i32') : 0, ...geo, ...epi);
      const n = g.B * P * g.O;
      const label = `${JSON.stringify(g)} nchw=${nchw} affine=${affine} perSample=${perSample} relu=${relu} u8=${u8out}`;
      const got = u8out ? bytesOf(y, n) : bitsOf(y, n);
      assertSame(got, u8out ? bytesOf(yr, n) : bitsOf(yr, n), `${label}: twin`);
      assertSame(got, convReference(g, xv, nchw, zx, xs, wv, zw, ws, bias, relu, ys, zy), `${label}: integer reference`);
      release();
    }
  }
});

test('u8 max and average pooling (NHWC) equal their twins and the formulas', () => {
  const rand = mulberry32(9);
  const cases = [
    [2, 32, 28, 28, 2, 2, 2, 2, 0, 0],
    [1, 3, 5, 7, 3, 3, 2, 2, 1, 1],
    [3, 17, 4, 4, 4, 4, 4, 4, 0, 0],
    [1, 16, 6, 5, 3, 2, 1, 2, 1, 1],
  ];
  for (const [B, C, H, W, KH, KW, sh, sw, ph, pw] of cases as number[][]) {
    const OH = Math.floor((H! + 2 * ph! - KH!) / sh!) + 1,
      OW = Math.floor((W! + 2 * pw! - KW!) / sw!) + 1;
    const xv = ints(rand, B! * H! * W! * C!, 256);
    const x = put(xv, 'u8');
    const n = B! * OH * OW * C!;
    for (const kind of ['max', 'avg'] as const) {
      const y = block(n),
        yr = block(n);
      const args = [B!, C!, H!, W!, OH, OW, KH!, KW!, sh!, sw!, ph!, pw!] as const;
      if (kind === 'max') {
        k.u8_maxpool2d_nhwc(y, x, ...args);
        k.u8_maxpool2d_nhwc_ref(yr, x, ...args);
      } else {
        k.u8_avgpool2d_nhwc(y, x, ...args);
        k.u8_avgpool2d_nhwc_ref(yr, x, ...args);
      }
      const label = `${kind} ${[B, C, H, W, KH, KW, sh, sw, ph, pw]}`;
      assertSame(bytesOf(y, n), bytesOf(yr, n), `${label}: twin`);
      const expected: number[] = [];
      for (let b = 0; b < B!; b++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++)
            for (let c = 0; c < C!; c++) {
              const vals: number[] = [];
              for (let h = oh * sh! - ph!; h < oh * sh! - ph! + KH!; h++)
                for (let w = ow * sw! - pw!; w < ow * sw! - pw! + KW!; w++)
                  if (h >= 0 && h < H! && w >= 0 && w < W!) vals.push(xv[((b * H! + h) * W! + w) * C! + c]!);
              const sum = vals.reduce((a, v) => a + v, 0);
              expected.push(kind === 'max' ? Math.max(...vals) : Math.floor((sum + (vals.length >> 1)) / vals.length));
            }
      assertSame(bytesOf(y, n), expected, `${label}: formula`);
    }
    release();
  }
});
