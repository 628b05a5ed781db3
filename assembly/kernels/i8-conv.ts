// Quantized 2-D convolution and pooling over u8 activations. Activations between quantized image
// layers are NHWC ([B, OH·OW, O]: a convolution's GEMM writes its output rows position by
// position), so each convolution is im2row + the int8 GEMM of i8-gemm.ts with its fused epilogue:
//   u8_im2row     rows [p0, p1) of col [P, Kc], P = OH·OW output positions, Kc = KH·KW·Cg in
//                 (kh, kw, c) order; x element (c, h, w) lies at x + c·cs + (h·W + w)·ps, so one
//                 kernel reads NCHW (cs = H·W, ps = 1; the model's input) and NHWC (cs = 1, ps = C,
//                 a contiguous run of Cg channels per tap); taps in the padding get zx, the input
//                 zero point, so they add (zx − zx)·w = 0 to the accumulator, as a zero input does
//   u8_conv2d     per sample and group: im2row, then i8_gemm_u8 (requantised u8 codes for the
//                 next layer) or i8_gemm_f32 (f32) with scales, bias and ReLU fused. Weights are
//                 packed once per group by i8_gemm_pack_w from codes in (kh, kw, c) order.
//                 Reference: u8_conv2d_ref, a direct convolution over the unpacked [O, Cg, KH, KW]
//                 codes with the same epilogue formulas; integer accumulators make the two equal
//                 bit for bit.
// Samples are independent, so a block of samples (a block of output rows of [B·P, O]) is one call
// on offset pointers: what a thread would run.
import { i8_gemm_f32, i8_gemm_packed_bytes, i8_gemm_u8 } from "./i8-gemm";

// Rows [p0, p1) of the im2row matrix of one group, written from col (row p0 first).
export function u8_im2row(col: usize, x: usize, cs: i32, ps: i32, H: i32, W: i32, Cg: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, zx: i32, p0: i32, p1: i32): void {
  let dst = col;
  const run = <usize>Cg;
  for (let p = p0; p < p1; p++) {
    const oh = p / OW, ow = p - (p / OW) * OW;
    for (let kh = 0; kh < KH; kh++) {
      const ih = oh * sh - ph + kh * dilh;
      for (let kw = 0; kw < KW; kw++) {
        const iw = ow * sw - pw + kw * dilw;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
          memory.fill(dst, <u8>zx, run);
        } else {
          const src = x + <usize>(ih * W + iw) * <usize>ps;
          if (cs == 1) memory.copy(dst, src, run);
          else for (let c = 0; c < Cg; c++) store<u8>(dst + <usize>c, load<u8>(src + <usize>c * <usize>cs));
        }
        dst += run;
      }
    }
  }
}

export function u8_im2row_ref(col: usize, x: usize, cs: i32, ps: i32, H: i32, W: i32, Cg: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, zx: i32, p0: i32, p1: i32): void {
  const Kc = KH * KW * Cg;
  for (let p = p0; p < p1; p++) {
    for (let k = 0; k < Kc; k++) {
      const c = k % Cg, kw = (k / Cg) % KW, kh = k / (Cg * KW);
      const ih = (p / OW) * sh - ph + kh * dilh, iw = (p % OW) * sw - pw + kw * dilw;
      const inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
      const v: u8 = inside ? load<u8>(x + <usize>c * <usize>cs + <usize>(ih * W + iw) * <usize>ps) : <u8>zx;
      store<u8>(col + <usize>(p - p0) * <usize>Kc + <usize>k, v);
    }
  }
}

// Bytes of the column buffer u8_conv2d needs: one sample's group, P·Kc.
export function u8_conv2d_col_bytes(OH: i32, OW: i32, KH: i32, KW: i32, Cg: i32): i32 {
  return OH * OW * KH * KW * Cg;
}

// y = conv(x) through the epilogue, NHWC out [B, OH·OW, O]: u8 codes with (ys, zy) when ys > 0
// (i8_gemm_u8), f32 values when ys == 0 (i8_gemm_f32). x u8 [B, C, H, W] (nchw != 0) or
// [B, H, W, C]; its scale and zero point are xs and zx, or per sample (f32 scale, i32 zero point,
// 8 bytes a sample) from xq when xq != 0. wp holds `groups` packed panels of [O/groups, Kc]
// codes one after the other; ws [O] weight scales, bias [O] f32 or 0; relu != 0 clamps at 0.
// Scratch from the host: ap (i8_gemm_scratch_bytes(P, Kc)), col (u8_conv2d_col_bytes) and, with
// groups > 1, tmp (P·(O/groups)·4 bytes) where a group's outputs wait to be interleaved.
export function u8_conv2d(y: usize, x: usize, xq: usize, wp: usize, ap: usize, col: usize, tmp: usize, B: i32, C: i32, H: i32, W: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, groups: i32, nchw: i32, zx: i32, xs: f32, ws: usize, bias: usize, relu: i32, ys: f32, zy: i32): void {
  const Cg = C / groups, Og = O / groups;
  const P = OH * OW, Kc = KH * KW * Cg;
  const cs = nchw != 0 ? H * W : 1, ps = nchw != 0 ? 1 : C;
  const esize: usize = ys > 0 ? 1 : 4;
  const panel = <usize>i8_gemm_packed_bytes(Og, Kc);
  for (let b = 0; b < B; b++) {
    const xb = x + <usize>b * <usize>(C * H * W);
    const s: f32 = xq != 0 ? load<f32>(xq + (<usize>b << 3)) : xs;
    const z: i32 = xq != 0 ? load<i32>(xq + (<usize>b << 3), 4) : zx;
    const yb = y + <usize>b * <usize>P * <usize>O * esize;
    for (let g = 0; g < groups; g++) {
      u8_im2row(col, xb + <usize>(g * Cg * cs), cs, ps, H, W, Cg, OW, KH, KW, sh, sw, ph, pw, dilh, dilw, z, 0, P);
      const out = groups == 1 ? yb : tmp;
      const o = <usize>(g * Og) << 2;
      const bg = bias != 0 ? bias + o : 0;
      if (ys > 0) i8_gemm_u8(out, col, 0, z, s, wp + <usize>g * panel, ap, P, Og, Kc, ws + o, bg, relu, ys, zy);
      else i8_gemm_f32(out, col, 0, z, s, wp + <usize>g * panel, ap, P, Og, Kc, ws + o, bg, relu);
      if (groups > 1) {
        const run = <usize>Og * esize;
        for (let p = 0; p < P; p++) memory.copy(yb + (<usize>p * <usize>O + <usize>(g * Og)) * esize, tmp + <usize>p * run, run);
      }
    }
  }
}

// The direct convolution: acc = Σ (x − zx)·(w − zw[o]) over the taps inside the image, w u8
// codes [O, Cg, KH, KW] (i8), zw [O] i32 or 0; the epilogue as i8_gemm_f32_ref / i8_gemm_u8_ref.
export function u8_conv2d_ref(y: usize, x: usize, xq: usize, w: usize, zw: usize, B: i32, C: i32, H: i32, W: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, groups: i32, nchw: i32, zx: i32, xs: f32, ws: usize, bias: usize, relu: i32, ys: f32, zy: i32): void {
  const Cg = C / groups, Og = O / groups;
  const inv: f32 = <f32>1.0 / ys;
  for (let b = 0; b < B; b++) {
    const s: f32 = xq != 0 ? load<f32>(xq + (<usize>b << 3)) : xs;
    const z: i32 = xq != 0 ? load<i32>(xq + (<usize>b << 3), 4) : zx;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let o = 0; o < O; o++) {
          const g = o / Og;
          const zo: i32 = zw != 0 ? load<i32>(zw + (<usize>o << 2)) : 0;
          let acc = 0;
          for (let c = 0; c < Cg; c++) {
            const ci = g * Cg + c;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * sh - ph + kh * dilh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * sw - pw + kw * dilw;
                if (iw < 0 || iw >= W) continue;
                const at = nchw != 0 ? (b * C + ci) * H * W + ih * W + iw : ((b * H + ih) * W + iw) * C + ci;
                const wv = <i32>load<i8>(w + <usize>(((o * Cg + c) * KH + kh) * KW + kw));
                acc += (<i32>load<u8>(x + <usize>at) - z) * (wv - zo);
              }
            }
          }
          let v: f32 = <f32>acc * (s * load<f32>(ws + (<usize>o << 2))) + (bias != 0 ? load<f32>(bias + (<usize>o << 2)) : <f32>0);
          if (relu != 0) v = max<f32>(v, 0);
          const at = <usize>((b * OH + oh) * OW + ow) * <usize>O + <usize>o;
          if (ys > 0) {
            const t = min<f32>(max<f32>(nearest<f32>(v * inv), <f32>(-zy)), <f32>(<i32>255 - zy));
            store<u8>(y + at, <u8>(<i32>t + zy));
          } else {
            store<f32>(y + (at << 2), v);
          }
        }
      }
    }
  }
}

// Max pooling of u8 codes, NHWC x [B, H, W, C] → y [B, OH, OW, C]: one scale and zero point for
// input and output (quantisation is monotonic, so the largest code is the code of the largest
// value). 16 channels per v128 (i8x16.max_u), a scalar tail. Windows skip positions outside the
// image and cover at least one (the layer checks its padding). Reference: u8_maxpool2d_nhwc_ref.
export function u8_maxpool2d_nhwc(y: usize, x: usize, B: i32, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = max(oh * sh - ph, 0), h1 = min(oh * sh - ph + KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = max(ow * sw - pw, 0), w1 = min(ow * sw - pw + KW, W);
        const dst = y + <usize>((b * OH + oh) * OW + ow) * <usize>C;
        let c = 0;
        for (; c + 16 <= C; c += 16) {
          let v = i8x16.splat(0);
          for (let h = h0; h < h1; h++) {
            for (let w = w0; w < w1; w++) v = i8x16.max_u(v, v128.load(x + <usize>((b * H + h) * W + w) * <usize>C + <usize>c));
          }
          v128.store(dst + <usize>c, v);
        }
        for (; c < C; c++) {
          let m: u32 = 0;
          for (let h = h0; h < h1; h++) {
            for (let w = w0; w < w1; w++) m = max<u32>(m, <u32>load<u8>(x + <usize>((b * H + h) * W + w) * <usize>C + <usize>c));
          }
          store<u8>(dst + <usize>c, <u8>m);
        }
      }
    }
  }
}

export function u8_maxpool2d_nhwc_ref(y: usize, x: usize, B: i32, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let m: i32 = 0;
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw++) {
              const h = oh * sh - ph + kh, w = ow * sw - pw + kw;
              if (h >= 0 && h < H && w >= 0 && w < W) m = max<i32>(m, <i32>load<u8>(x + <usize>(((b * H + h) * W + w) * C + c)));
            }
          }
          store<u8>(y + <usize>(((b * OH + oh) * OW + ow) * C + c), <u8>m);
        }
      }
    }
  }
}

// Average pooling of u8 codes, NHWC as above: y = ⌊(Σ codes + n/2) / n⌋ over the n positions of
// the window inside the image (the mean rounded half up; the zero point passes through a mean
// unchanged). Integer sums, so every order gives the same codes; this kernel is the scalar form
// already (a global pool sums whole planes, where i32 lanes would not pay).
// Reference: u8_avgpool2d_nhwc_ref.
export function u8_avgpool2d_nhwc(y: usize, x: usize, B: i32, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = max(oh * sh - ph, 0), h1 = min(oh * sh - ph + KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = max(ow * sw - pw, 0), w1 = min(ow * sw - pw + KW, W);
        const n = <u32>((h1 - h0) * (w1 - w0));
        const dst = y + <usize>((b * OH + oh) * OW + ow) * <usize>C;
        for (let c = 0; c < C; c++) {
          let s: u32 = 0;
          for (let h = h0; h < h1; h++) {
            for (let w = w0; w < w1; w++) s += <u32>load<u8>(x + <usize>((b * H + h) * W + w) * <usize>C + <usize>c);
          }
          store<u8>(dst + <usize>c, <u8>((s + (n >> 1)) / n));
        }
      }
    }
  }
}

export function u8_avgpool2d_nhwc_ref(y: usize, x: usize, B: i32, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let s = 0, n = 0;
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw++) {
              const h = oh * sh - ph + kh, w = ow * sw - pw + kw;
              if (h >= 0 && h < H && w >= 0 && w < W) {
                s += <i32>load<u8>(x + <usize>(((b * H + h) * W + w) * C + c));
                n++;
              }
            }
          }
          store<u8>(y + <usize>(((b * OH + oh) * OW + ow) * C + c), <u8>((s + (n >> 1)) / n));
        }
      }
    }
  }
}
