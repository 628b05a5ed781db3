// An independent f64 convolutional network for kernel and gradient checks: direct convolution
// loops (no im2col), pooling and batch normalisation from their textbook definitions, written
// here and sharing no code with kiln. Rows are NCHW; parameters are laid out as kiln's arena
// (each layer's trainable slots in order: conv weight [O, C/groups, KH, KW] then bias; batch
// norm γ then β; dense W [units, inputs] then b).
import { act, type RefAct } from './mlp-ref.ts';

export type RefPadding = 'same' | 'valid' | readonly [number, number];

export type RefOp =
  | {
      kind: 'conv';
      O: number;
      KH: number;
      KW: number;
      sh: number;
      sw: number;
      padding: RefPadding;
      dilh: number;
      dilw: number;
      groups: number;
      act: RefAct;
      alpha: number;
    }
  | { kind: 'maxpool' | 'avgpool'; KH: number; KW: number; sh: number; sw: number; padding: RefPadding }
  | { kind: 'globalavg' }
  | { kind: 'bn'; eps: number; act: RefAct; alpha: number }
  | { kind: 'flatten' }
  | { kind: 'dense'; units: number; act: RefAct; alpha: number };

export type RefShape = number[];

/** Output size and top/left padding of one axis: 'same' gives ⌈n/s⌉ with the odd pad at the end. */
export function refAxis(n: number, k: number, s: number, d: number, padding: 'same' | 'valid' | number): [number, number] {
  const span = d * (k - 1) + 1;
  if (padding === 'same') {
    const out = Math.ceil(n / s);
    const total = Math.max(0, (out - 1) * s + span - n);
    return [out, Math.floor(total / 2)];
  }
  const p = padding === 'valid' ? 0 : padding;
  return [Math.floor((n + 2 * p - span) / s) + 1, p];
}

function axes(op: { KH: number; KW: number; sh: number; sw: number; padding: RefPadding }, H: number, W: number, dilh = 1, dilw = 1) {
  const [ph0, pw0] = typeof op.padding === 'string' ? [op.padding, op.padding] : op.padding;
  const [OH, ph] = refAxis(H, op.KH, op.sh, dilh, ph0);
  const [OW, pw] = refAxis(W, op.KW, op.sw, dilw, pw0);
  return { OH, OW, ph, pw };
}

/** Direct convolution of x [B, C, H, W]: y [B, O, OH, OW] (before the activation). */
export function conv2dRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  bias: ArrayLike<number> | undefined,
  B: number,
  C: number,
  H: number,
  W: number,
  O: number,
  OH: number,
  OW: number,
  KH: number,
  KW: number,
  sh: number,
  sw: number,
  ph: number,
  pw: number,
  dilh: number,
  dilw: number,
  groups: number,
): Float64Array {
  const Cg = C / groups,
    Og = O / groups;
  const y = new Float64Array(B * O * OH * OW);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let s = bias ? bias[o]! : 0;
          for (let c = 0; c < Cg; c++) {
            for (let kh = 0; kh < KH; kh++) {
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * sh - ph + kh * dilh,
                  iw = ow * sw - pw + kw * dilw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += x[((b * C + g * Cg + c) * H + ih) * W + iw]! * w[((o * Cg + c) * KH + kh) * KW + kw]!;
              }
            }
          }
          y[((b * O + o) * OH + oh) * OW + ow] = s;
        }
      }
    }
  }
  return y;
}

/** Max or average pooling of planes x [N, H, W]; windows skip positions outside the plane. */
export function pool2dRef(
  kind: 'max' | 'avg',
  x: ArrayLike<number>,
  N: number,
  H: number,
  W: number,
  OH: number,
  OW: number,
  KH: number,
  KW: number,
  sh: number,
  sw: number,
  ph: number,
  pw: number,
): Float64Array {
  const y = new Float64Array(N * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const values: number[] = [];
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const ih = oh * sh - ph + kh,
              iw = ow * sw - pw + kw;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) values.push(x[(n * H + ih) * W + iw]!);
          }
        }
        y[(n * OH + oh) * OW + ow] = kind === 'max' ? Math.max(...values) : values.reduce((a, v) => a + v, 0) / values.length;
      }
    }
  }
  return y;
}

/** Batch normalisation of x [B, C, S] with the batch's mean and biased variance. */
export function batchNormRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  B: number,
  C: number,
  S: number,
  eps: number,
): { y: Float64Array; mean: Float64Array; variance: Float64Array } {
  const y = new Float64Array(B * C * S),
    mean = new Float64Array(C),
    variance = new Float64Array(C);
  const n = B * S;
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) m += x[(b * C + c) * S + s]!;
    m /= n;
    let v = 0;
    for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) v += (x[(b * C + c) * S + s]! - m) ** 2;
    v /= n;
    mean[c] = m;
    variance[c] = v;
    for (let b = 0; b < B; b++)
      for (let s = 0; s < S; s++) y[(b * C + c) * S + s] = ((x[(b * C + c) * S + s]! - m) / Math.sqrt(v + eps)) * gamma[c]! + beta[c]!;
  }
  return { y, mean, variance };
}

/** Forward pass (training mode: batch statistics) of rows x [B, ...shape]. */
export function cnnForward(ops: readonly RefOp[], params: ArrayLike<number>, x: ArrayLike<number>, B: number, shape: RefShape): number[] {
  let v: ArrayLike<number> = x;
  let s = [...shape];
  let offset = 0;
  const take = (n: number) => {
    const out = Array.prototype.slice.call(params, offset, offset + n) as number[];
    offset += n;
    return out;
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'conv': {
        const [C, H, W] = s as [number, number, number];
        const { OH, OW, ph, pw } = axes(op, H, W, op.dilh, op.dilw);
        const w = take(op.O * (C / op.groups) * op.KH * op.KW),
          b = take(op.O);
        const z = conv2dRef(v, w, b, B, C, H, W, op.O, OH, OW, op.KH, op.KW, op.sh, op.sw, ph, pw, op.dilh, op.dilw, op.groups);
        v = Array.from(z, (e) => act(op.act, e, op.alpha));
        s = [op.O, OH, OW];
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const [C, H, W] = s as [number, number, number];
        const { OH, OW, ph, pw } = axes(op, H, W);
        v = pool2dRef(op.kind === 'maxpool' ? 'max' : 'avg', v, B * C, H, W, OH, OW, op.KH, op.KW, op.sh, op.sw, ph, pw);
        s = [C, OH, OW];
        break;
      }
      case 'globalavg': {
        const [C, H, W] = s as [number, number, number];
        v = pool2dRef('avg', v, B * C, H, W, 1, 1, H, W, 1, 1, 0, 0);
        s = [C];
        break;
      }
      case 'bn': {
        const C = s[0]!,
          S = s.reduce((a, b) => a * b, 1) / C;
        const gamma = take(C),
          beta = take(C);
        v = Array.from(batchNormRef(v, gamma, beta, B, C, S, op.eps).y, (e) => act(op.act, e, op.alpha));
        break;
      }
      case 'flatten':
        s = [s.reduce((a, b) => a * b, 1)];
        break;
      case 'dense': {
        const K = s[0]!;
        const w = take(op.units * K),
          b = take(op.units);
        const out = new Array<number>(B * op.units);
        for (let r = 0; r < B; r++) {
          for (let n = 0; n < op.units; n++) {
            let z = b[n]!;
            for (let k = 0; k < K; k++) z += v[r * K + k]! * w[n * K + k]!;
            out[r * op.units + n] = act(op.act, z, op.alpha);
          }
        }
        v = out;
        s = [op.units];
        break;
      }
    }
  }
  if (offset !== params.length) throw new Error(`cnnForward: used ${offset} of ${params.length} parameters`);
  return Array.from(v);
}
