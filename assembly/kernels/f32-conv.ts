// 2-D convolution over NCHW batches, row-major contiguous f32:
//   x[B,C,H,W] inputs, w[O,C/groups,KH,KW] filters (PyTorch's Conv2d layout), bias[O],
//   pre[B,O,OH,OW] pre-activations, y[B,O,OH,OW] outputs.
// Geometry: output (oh, ow) reads input (oh·sh − ph + kh·dilh, ow·sw − pw + kw·dilw); positions
// outside the image read 0. ph and pw are the top and left padding; the bottom and right padding
// are implied by OH and OW, so asymmetric 'same' padding needs no extra argument.
//
// im2col: one sample's group of Cg = C/groups channels becomes col[Kc, P], Kc = Cg·KH·KW rows
// (c, kh, kw) and P = OH·OW columns, so that the group's output is the GEMM
// y_g[Og, P] = w_g[Og, Kc]·col[Kc, P] (f32_gemm_nn) straight into NCHW order. The weight gradient
// is dw_g[Og, Kc] += dy_g[Og, P]·colᵀ (f32_gemm_nt) over the same buffer and the input gradient
// dcol[Kc, P] = w_gᵀ·dy_g (f32_gemm_tn) scattered back by col2im. The buffer holds one sample's
// group at a time: Kc·P floats whatever the batch, processed sample by sample (the chunk is one
// sample, so the bound is the layer's own, not the batch's). A 1x1 convolution with stride 1 and
// no padding skips im2col: the input group already is col.
//
// Summation order: every product goes through f32-gemm (its contract: depends only on K and KC),
// the weight gradient adds samples in ascending b (the first overwrites), col2im adds the terms of
// an input element in ascending (kh, kw), bias is added after the full sum, and the bias
// gradient sums each channel in f64 over (b, p) ascending. The _ref twins spell the same orders
// with scalar loops and the GEMMs' _ref twins, so they agree bit for bit.
import { f32_act_bwd, f32_act_bwd_ref, f32_act_fwd, f32_act_fwd_ref } from "./f32-act";
import { f32_gemm_nn, f32_gemm_nn_ref, f32_gemm_nt, f32_gemm_nt_ref, f32_gemm_tn, f32_gemm_tn_ref } from "./f32-gemm";
import { ACT_LINEAR } from "../codes";

// col[Kc, OH·OW] from x[C, H, W] (one sample's group). Runs of consecutive valid columns are
// copied at stride 1; the rest is gathered.
export function f32_im2col(col: usize, x: usize, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32): void {
  const P = <usize>OH * OW;
  let row = col;
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * H * W) << 2);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const offW = kw * dilw - pw;
        const lo = validLo(offW, sw), hi = validHi(offW, sw, W, OW);
        for (let oh = 0; oh < OH; oh++) {
          const out = row + ((<usize>oh * OW) << 2);
          const ih = oh * sh - ph + kh * dilh;
          if (ih < 0 || ih >= H || lo >= hi) {
            memory.fill(out, 0, <usize>OW << 2);
            continue;
          }
          const src = plane + ((<usize>ih * W) << 2);
          if (lo > 0) memory.fill(out, 0, <usize>lo << 2);
          if (sw == 1) memory.copy(out + (<usize>lo << 2), src + (<usize>(lo + offW) << 2), <usize>(hi - lo) << 2);
          else for (let ow = lo; ow < hi; ow++) store<f32>(out + (<usize>ow << 2), load<f32>(src + (<usize>(ow * sw + offW) << 2)));
          if (hi < OW) memory.fill(out + (<usize>hi << 2), 0, <usize>(OW - hi) << 2);
        }
        row += P << 2;
      }
    }
  }
}

export function f32_im2col_ref(col: usize, x: usize, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32): void {
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const r = (c * KH + kh) * KW + kw;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const ih = oh * sh - ph + kh * dilh, iw = ow * sw - pw + kw * dilw;
            const v: f32 = ih >= 0 && ih < H && iw >= 0 && iw < W ? load<f32>(x + ((<usize>(c * H + ih) * W + iw) << 2)) : 0;
            store<f32>(col + ((<usize>r * OH * OW + <usize>oh * OW + ow) << 2), v);
          }
        }
      }
    }
  }
}

// x[C, H, W] = the sum of every col[Kc, OH·OW] term that im2col read from each element
// (overwrites x). Terms arrive in ascending (kh, kw), at most one per (c, kh, kw) row since a
// row maps columns to distinct input positions; stride-1 runs add as vectors.
export function f32_col2im(x: usize, col: usize, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32): void {
  memory.fill(x, 0, (<usize>C * H * W) << 2);
  const P = <usize>OH * OW;
  let row = col;
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * H * W) << 2);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const offW = kw * dilw - pw;
        const lo = validLo(offW, sw), hi = validHi(offW, sw, W, OW);
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * sh - ph + kh * dilh;
          if (ih < 0 || ih >= H || lo >= hi) continue;
          const src = row + ((<usize>oh * OW) << 2);
          const dst = plane + ((<usize>ih * W) << 2);
          if (sw == 1) {
            const d = dst + (<usize>(lo + offW) << 2), s = src + (<usize>lo << 2);
            const n = hi - lo;
            let i = 0;
            for (; i + 4 <= n; i += 4) {
              const at = <usize>i << 2;
              v128.store(d + at, f32x4.add(v128.load(d + at), v128.load(s + at)));
            }
            for (; i < n; i++) {
              const at = <usize>i << 2;
              store<f32>(d + at, load<f32>(d + at) + load<f32>(s + at));
            }
          } else {
            for (let ow = lo; ow < hi; ow++) {
              const d = dst + (<usize>(ow * sw + offW) << 2);
              store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>ow << 2)));
            }
          }
        }
        row += P << 2;
      }
    }
  }
}

export function f32_col2im_ref(x: usize, col: usize, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32): void {
  for (let i = 0; i < C * H * W; i++) store<f32>(x + (<usize>i << 2), 0);
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const r = (c * KH + kh) * KW + kw;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const ih = oh * sh - ph + kh * dilh, iw = ow * sw - pw + kw * dilw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const at = x + ((<usize>(c * H + ih) * W + iw) << 2);
            store<f32>(at, load<f32>(at) + load<f32>(col + ((<usize>r * OH * OW + <usize>oh * OW + ow) << 2)));
          }
        }
      }
    }
  }
}

// First ow whose input column ow·sw + off is >= 0.
@inline function validLo(off: i32, sw: i32): i32 {
  return off >= 0 ? 0 : (sw - 1 - off) / sw;
}

// One past the last ow < OW whose input column ow·sw + off is < W.
@inline function validHi(off: i32, sw: i32, W: i32, OW: i32): i32 {
  const last = W - 1 - off;
  if (last < 0) return 0;
  const hi = last / sw + 1;
  return hi < OW ? hi : OW;
}

// y[B, C, S] += bias[C] per channel.
export function f32_add_chan(y: usize, bias: usize, B: i32, C: i32, S: i32): void {
  let at = y;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const v = f32x4.splat(load<f32>(bias + (<usize>c << 2)));
      const s0 = load<f32>(bias + (<usize>c << 2));
      let s = 0;
      for (; s + 4 <= S; s += 4, at += 16) v128.store(at, f32x4.add(v128.load(at), v));
      for (; s < S; s++, at += 4) store<f32>(at, load<f32>(at) + s0);
    }
  }
}

export function f32_add_chan_ref(y: usize, bias: usize, B: i32, C: i32, S: i32): void {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < S; s++) {
        const at = y + ((<usize>(b * C + c) * S + s) << 2);
        store<f32>(at, load<f32>(at) + load<f32>(bias + (<usize>c << 2)));
      }
    }
  }
}

// out[c] (acc ? += : =) Σ_b Σ_s x[b, c, s], summed in f64 in ascending (b, s), rounded once.
export function f32_sum_chan(out: usize, x: usize, B: i32, C: i32, S: i32, acc: i32): void {
  for (let c = 0; c < C; c++) {
    let sum: f64 = 0;
    for (let b = 0; b < B; b++) {
      const row = x + ((<usize>(b * C + c) * S) << 2);
      for (let s = 0; s < S; s++) sum += <f64>load<f32>(row + (<usize>s << 2));
    }
    const o = out + (<usize>c << 2);
    store<f32>(o, acc != 0 ? load<f32>(o) + <f32>sum : <f32>sum);
  }
}

export function f32_sum_chan_ref(out: usize, x: usize, B: i32, C: i32, S: i32, acc: i32): void {
  for (let c = 0; c < C; c++) {
    let sum: f64 = 0;
    for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) sum += <f64>load<f32>(x + ((<usize>(b * C + c) * S + s) << 2));
    const o = out + (<usize>c << 2);
    store<f32>(o, (acc != 0 ? load<f32>(o) : <f32>0) + <f32>sum);
  }
}

// A 1x1 convolution at stride 1 without padding reads its input as it lies.
@inline function pointwise(KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, OH: i32, OW: i32, H: i32, W: i32): bool {
  return KH == 1 && KW == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && OH == H && OW == W;
}

// pre = conv(x, w) + bias (bias 0: none), y = act(pre); pre == 0 writes only y (inference).
// col: Cg·KH·KW·OH·OW floats (unused, may be 0, for a pointwise convolution).
export function f32_conv2d_fwd(y: usize, pre: usize, x: usize, w: usize, bias: usize, col: usize, B: i32, C: i32, H: i32, W: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, groups: i32, act: i32, alpha: f32): void {
  const z = pre != 0 ? pre : y;
  const Cg = C / groups, Og = O / groups, Kc = Cg * KH * KW, P = OH * OW;
  const direct = pointwise(KH, KW, sh, sw, ph, pw, OH, OW, H, W);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < groups; g++) {
      const xg = x + ((<usize>(b * C + g * Cg) * H * W) << 2);
      let cols = xg;
      if (!direct) {
        f32_im2col(col, xg, Cg, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
        cols = col;
      }
      f32_gemm_nn(z + ((<usize>(b * O + g * Og) * P) << 2), w + ((<usize>g * Og * Kc) << 2), cols, Og, P, Kc, 0);
    }
  }
  if (bias != 0) f32_add_chan(z, bias, B, O, P);
  f32_act_fwd(y, z, B * O * P, act, alpha);
}

export function f32_conv2d_fwd_ref(y: usize, pre: usize, x: usize, w: usize, bias: usize, col: usize, B: i32, C: i32, H: i32, W: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, groups: i32, act: i32, alpha: f32): void {
  const z = pre != 0 ? pre : y;
  const Cg = C / groups, Og = O / groups, Kc = Cg * KH * KW, P = OH * OW;
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < groups; g++) {
      f32_im2col_ref(col, x + ((<usize>(b * C + g * Cg) * H * W) << 2), Cg, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
      f32_gemm_nn_ref(z + ((<usize>(b * O + g * Og) * P) << 2), w + ((<usize>g * Og * Kc) << 2), col, Og, P, Kc, 0);
    }
  }
  if (bias != 0) f32_add_chan_ref(z, bias, B, O, P);
  f32_act_fwd_ref(y, z, B * O * P, act, alpha);
}

// dy[B,O,OH,OW] is overwritten with dpre = dy ⊙ act'(pre) (y is read by sigmoid and tanh). Then,
// each skipped when its pointer is 0: dw[O, Cg, KH, KW] = Σ_b dpre_b·col_bᵀ, db[O] = Σ dpre per
// channel, dx[B, C, H, W] = col2im(wᵀ·dpre_b). col as for the forward (needed unless pointwise).
export function f32_conv2d_bwd(dx: usize, dw: usize, db: usize, dy: usize, x: usize, w: usize, pre: usize, y: usize, col: usize, B: i32, C: i32, H: i32, W: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, groups: i32, act: i32, alpha: f32): void {
  const Cg = C / groups, Og = O / groups, Kc = Cg * KH * KW, P = OH * OW;
  if (act != ACT_LINEAR) f32_act_bwd(dy, dy, pre, y, B * O * P, act, alpha);
  if (db != 0) f32_sum_chan(db, dy, B, O, P, 0);
  const direct = pointwise(KH, KW, sh, sw, ph, pw, OH, OW, H, W);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < groups; g++) {
      const xg = x + ((<usize>(b * C + g * Cg) * H * W) << 2);
      const dxg = dx + ((<usize>(b * C + g * Cg) * H * W) << 2);
      const dyg = dy + ((<usize>(b * O + g * Og) * P) << 2);
      const wg = w + ((<usize>g * Og * Kc) << 2);
      if (dw != 0) {
        let cols = xg;
        if (!direct) {
          f32_im2col(col, xg, Cg, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
          cols = col;
        }
        f32_gemm_nt(dw + ((<usize>g * Og * Kc) << 2), dyg, cols, Og, Kc, P, b > 0 ? 1 : 0);
      }
      if (dx != 0) {
        if (direct) f32_gemm_tn(dxg, wg, dyg, Kc, P, Og, 0);
        else {
          f32_gemm_tn(col, wg, dyg, Kc, P, Og, 0);
          f32_col2im(dxg, col, Cg, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
        }
      }
    }
  }
}

export function f32_conv2d_bwd_ref(dx: usize, dw: usize, db: usize, dy: usize, x: usize, w: usize, pre: usize, y: usize, col: usize, B: i32, C: i32, H: i32, W: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, groups: i32, act: i32, alpha: f32): void {
  const Cg = C / groups, Og = O / groups, Kc = Cg * KH * KW, P = OH * OW;
  if (act != ACT_LINEAR) f32_act_bwd_ref(dy, dy, pre, y, B * O * P, act, alpha);
  if (db != 0) f32_sum_chan_ref(db, dy, B, O, P, 0);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < groups; g++) {
      const dyg = dy + ((<usize>(b * O + g * Og) * P) << 2);
      const wg = w + ((<usize>g * Og * Kc) << 2);
      if (dw != 0) {
        f32_im2col_ref(col, x + ((<usize>(b * C + g * Cg) * H * W) << 2), Cg, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
        f32_gemm_nt_ref(dw + ((<usize>g * Og * Kc) << 2), dyg, col, Og, Kc, P, b > 0 ? 1 : 0);
      }
      if (dx != 0) {
        f32_gemm_tn_ref(col, wg, dyg, Kc, P, Og, 0);
        f32_col2im_ref(dx + ((<usize>(b * C + g * Cg) * H * W) << 2), col, Cg, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
      }
    }
  }
}
