// Quantized 2-D convolution and pooling over u8 activations. Activations between quantized image
// layers are NHWC ([B, OH·OW, O]: a convolution's GEMM writes its output rows position by
// position), so each convolution is a window packing + the int8 GEMM of i8-gemm.ts with its fused
// epilogue:
//   u8_im2row_packed  the GEMM's x operand for one sample's group, written straight in the GEMM's
//                 4-row pair layout (i8-pairs.ts) from the codes: row p = output position, k =
//                 (kh, kw, c) over Kc = KH·KW·Cg, each value x − zx in i16. x element (c, h, w)
//                 lies at x + c·cs + (h·W + w)·ps, so one kernel reads NCHW (cs = H·W, ps = 1; the
//                 model's input) and NHWC (cs = 1, ps = C). The group's channels are first copied
//                 into a padded [Hp, Wp, Cg] image whose border holds zx, so a tap in the padding
//                 packs zx − zx = 0 (it adds nothing, as a zero input does) and the packing loop
//                 needs no bounds tests: with Cg a multiple of 8, eight channels of four positions
//                 go from the image to one block with four loads and a transpose; otherwise each
//                 position's window is gathered into a short row first. Writing the layout here
//                 saves the [P, Kc] im2row matrix and the GEMM's second pass over it.
//                 Reference: u8_im2row_packed_ref, the formula one value at a time.
//   u8_conv2d     per sample and group: u8_im2row_packed, then i8_gemm_u8 (requantised u8 codes
//                 for the next layer) or i8_gemm_f32 (f32) on the packed rows (x = 0) with scales,
//                 bias and ReLU fused. Weights are packed once per group by i8_gemm_pack_w from
//                 codes in (kh, kw, c) order.
//                 Reference: u8_conv2d_ref, a direct convolution over the unpacked [O, Cg, KH, KW]
//                 codes with the same epilogue formulas; integer accumulators make the two equal
//                 bit for bit.
// Samples are independent, so a block of samples (a block of output rows of [B·P, O]) is one call
// on offset pointers: what a thread would run.
import { i8_gemm_f32, i8_gemm_packed_bytes, i8_gemm_u8 } from "./i8-gemm";
import { pairAt, pairStore4, row8 } from "./i8-pairs";

// The padded image's rows and columns: every row and column some output's window reaches, from
// −ph and −pw.
@inline function paddedRows(OH: i32, KH: i32, sh: i32, dilh: i32): i32 {
  return (OH - 1) * sh + (KH - 1) * dilh + 1;
}

// Bytes of the gathered window rows of the slow path: 4 rows of Kc rounded up to 8, each with
// 16 bytes of room for the last 16-byte copy.
@inline function stageRow(Kc: i32): i32 {
  return ((Kc + 7) & ~7) + 16;
}

// Bytes of the image scratch u8_im2row_packed needs: the padded image of one sample's group (16
// bytes of room past it for 16-byte reads), then the gathered rows.
export function u8_conv2d_col_bytes(OH: i32, OW: i32, KH: i32, KW: i32, Cg: i32, sh: i32, sw: i32, dilh: i32, dilw: i32): i32 {
  const image = paddedRows(OH, KH, sh, dilh) * paddedRows(OW, KW, sw, dilw) * Cg + 16;
  return ((image + 15) & ~15) + 4 * stageRow(KH * KW * Cg);
}

// ap = the packed rows of one sample's group, whole blocks of 4 even for one position
// (i8_gemm_scratch_bytes(max(OH·OW, 4), Kc) bytes); img is scratch of u8_conv2d_col_bytes bytes.
export function u8_im2row_packed(ap: usize, x: usize, cs: i32, ps: i32, H: i32, W: i32, Cg: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, zx: i32, img: usize): void {
  const Hp = paddedRows(OH, KH, sh, dilh), Wp = paddedRows(OW, KW, sw, dilw);
  padImage(img, x, cs, ps, H, W, Cg, Hp, Wp, ph, pw, zx);
  const Kc = KH * KW * Cg, kp = (Kc + 3) & ~3, kq = (Kc + 7) & ~7;
  const P = OH * OW;
  const sl = <usize>stageRow(Kc);
  const stage = img + ((<usize>(Hp * Wp * Cg + 16) + 15) & ~15);
  const vz = i16x8.splat(<i16>zx);
  const vzx = i8x16.splat(<i8>zx);
  const pix = <usize>Cg, line = <usize>Wp * pix;
  const stepW = <usize>(sw * Cg), stepH = <usize>sh * line;
  // Contiguous window rows (dilw == 1): one run of KW·Cg bytes per kh.
  const run = dilw == 1 ? KW * Cg : Cg;
  const runs = dilw == 1 ? 1 : KW;
  const direct = (Cg & 7) == 0;
  let dst = ap;
  let oh = 0, ow = 0;
  for (let i = 0; i < P; i += 4) {
    // Window origins of the block's four positions (past P: none).
    let s0: usize = 0, s1: usize = 0, s2: usize = 0, s3: usize = 0;
    for (let r = 0; r < 4; r++) {
      let s: usize = 0;
      if (i + r < P) {
        s = img + <usize>oh * stepH + <usize>ow * stepW;
        if (++ow == OW) {
          ow = 0;
          oh++;
        }
      }
      if (r == 0) s0 = s;
      else if (r == 1) s1 = s;
      else if (r == 2) s2 = s;
      else s3 = s;
    }
    if (direct && i + 4 <= P) {
      let k = 0;
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const off = <usize>(kh * dilh) * line + <usize>(kw * dilw) * pix;
          for (let c = 0; c < Cg; c += 8) {
            const o = off + <usize>c;
            pairStore4(dst + (<usize>k << 3), row8(s0 + o, false, vz), row8(s1 + o, false, vz), row8(s2 + o, false, vz), row8(s3 + o, false, vz));
            k += 8;
          }
        }
      }
    } else {
      for (let r = 0; r < 4; r++) {
        const s = r == 0 ? s0 : r == 1 ? s1 : r == 2 ? s2 : s3;
        const row = stage + <usize>r * sl;
        if (s == 0) {
          for (let k = 0; k < kq; k += 16) v128.store(row + <usize>k, vzx);
          continue;
        }
        let d = row;
        for (let kh = 0; kh < KH; kh++) {
          for (let t = 0; t < runs; t++) {
            const from = s + <usize>(kh * dilh) * line + <usize>(t * dilw) * pix;
            // 16 bytes at a time: the copy may run past the run (into the next one's bytes,
            // written after it, or the row's room); the image has 16 bytes of room too.
            for (let b = 0; b < run; b += 16) v128.store(d + <usize>b, v128.load(from + <usize>b));
            d += <usize>run;
          }
        }
        v128.store(row + <usize>Kc, vzx);
      }
      for (let k = 0; k < kq; k += 8) {
        const o = <usize>k;
        pairStore4(dst + (o << 3), row8(stage + o, false, vz), row8(stage + sl + o, false, vz), row8(stage + 2 * sl + o, false, vz), row8(stage + 3 * sl + o, false, vz), k + 8 > kp);
      }
    }
    dst += <usize>kp << 3;
  }
}

// The group's channels of x, [Hp, Wp, Cg] from (−ph, −pw), zx outside the image.
function padImage(img: usize, x: usize, cs: i32, ps: i32, H: i32, W: i32, Cg: i32, Hp: i32, Wp: i32, ph: i32, pw: i32, zx: i32): void {
  memory.fill(img, <u8>zx, <usize>(Hp * Wp * Cg));
  const rows = min(H, Hp - ph), cols = min(W, Wp - pw);
  if (cols <= 0) return;
  for (let h = 0; h < rows; h++) {
    const dst = img + <usize>((h + ph) * Wp + pw) * <usize>Cg;
    const src = x + <usize>(h * W) * <usize>ps;
    if (cs == 1 && ps == Cg) {
      memory.copy(dst, src, <usize>(cols * Cg));
    } else if (Cg == 1) {
      for (let w = 0; w < cols; w++) store<u8>(dst + <usize>w, load<u8>(src + <usize>w * <usize>ps));
    } else {
      for (let w = 0; w < cols; w++) {
        for (let c = 0; c < Cg; c++) store<u8>(dst + <usize>(w * Cg + c), load<u8>(src + <usize>w * <usize>ps + <usize>c * <usize>cs));
      }
    }
  }
}

export function u8_im2row_packed_ref(ap: usize, x: usize, cs: i32, ps: i32, H: i32, W: i32, Cg: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, zx: i32): void {
  const Kc = KH * KW * Cg, kp = (Kc + 3) & ~3, P = OH * OW;
  for (let i = 0; i < P; i += 4) {
    const blk = ap + <usize>(i >> 2) * <usize>kp * 8;
    for (let r = 0; r < 4; r++) {
      const p = i + r;
      for (let k = 0; k < kp; k++) {
        let v = 0;
        if (p < P && k < Kc) {
          const c = k % Cg, kw = (k / Cg) % KW, kh = k / (Cg * KW);
          const ih = (p / OW) * sh - ph + kh * dilh, iw = (p % OW) * sw - pw + kw * dilw;
          const inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
          v = (inside ? <i32>load<u8>(x + <usize>c * <usize>cs + <usize>(ih * W + iw) * <usize>ps) : zx) - zx;
        }
        store<i16>(blk + pairAt(r, k), <i16>v);
      }
    }
  }
}

// y = conv(x) through the epilogue, NHWC out [B, OH·OW, O]: u8 codes with (ys, zy) when ys > 0
// (i8_gemm_u8), f32 values when ys == 0 (i8_gemm_f32). x u8 [B, C, H, W] (nchw != 0) or
// [B, H, W, C]; its scale and zero point are xs and zx, or per sample (f32 scale, i32 zero point,
// 8 bytes a sample) from xq when xq != 0. wp holds `groups` packed panels of [O/groups, Kc]
// codes one after the other; ws [O] weight scales, bias [O] f32 or 0; relu != 0 clamps at 0.
// Scratch from the host: ap (i8_gemm_scratch_bytes(max(P, 4), Kc)), col (u8_conv2d_col_bytes) and, with
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
      u8_im2row_packed(ap, xb + <usize>(g * Cg * cs), cs, ps, H, W, Cg, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw, z, col);
      const out = groups == 1 ? yb : tmp;
      const o = <usize>(g * Og) << 2;
      const bg = bias != 0 ? bias + o : 0;
      if (ys > 0) i8_gemm_u8(out, 0, 0, z, s, wp + <usize>g * panel, ap, P, Og, Kc, ws + o, bg, relu, ys, zy);
      else i8_gemm_f32(out, 0, 0, z, s, wp + <usize>g * panel, ap, P, Og, Kc, ws + o, bg, relu);
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
