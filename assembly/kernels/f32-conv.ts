// 2-D convolution over NCHW batches, row-major contiguous f32:
//   x[B,C,H,W] inputs, w[O,C/groups,KH,KW] filters (PyTorch's Conv2d layout), bias[O],
//   pre[B,O,OH,OW] pre-activations, y[B,O,OH,OW] outputs.
// Geometry: output (oh, ow) reads input (oh·sh − ph + kh·dilh, ow·sw − pw + kw·dilw); positions
// outside the image read 0. ph and pw are the top and left padding; the bottom and right padding
// are implied by OH and OW, so asymmetric 'same' padding needs no extra argument.
//
// im2col, batched: the samples of a chunk of the batch and one group of Cg = C/groups channels
// become col[Kc, n·P], Kc = Cg·KH·KW rows (c, kh, kw) and n·P columns (sample, oh, ow), P = OH·OW,
// so that the group's output for the whole chunk is one GEMM t[Og, n·P] = w_g[Og, Kc]·col
// (f32_gemm_nn), then copied into NCHW order. The weight gradient is one GEMM over the chunk,
// dw_g[Og, Kc] (+)= t·colᵀ (f32_gemm_nt, K = n·P) with t the chunk's output gradient gathered to
// [Og, n·P], and the input gradient dcol = w_gᵀ·t (f32_gemm_tn) scattered back by col2im.
// Workspace: col then t, chunk·P·(Kc + Og) floats; the host picks chunk (conv2dChunk in
// src/core/ops/image-ops.ts): enough samples for n·P to fill one 256-column block of the GEMM,
// within 2^20 floats (4 MiB) of workspace unless one sample alone needs more, whatever the
// batch. A chunk of one sample (P >= 256, where batching measured no gain) writes and reads
// NCHW rows directly, without t. A 1x1 convolution with stride 1 and no padding skips im2col
// and runs sample by sample: the input group already is col, and it needs no workspace.
//
// Summation order: every product goes through f32-gemm (its contract: an element depends only on
// its row of A, its column of B and KC), so an output and an input gradient hold the same bits
// whatever the chunk; the weight gradient adds chunks in ascending order (the first overwrites),
// each chunk a GEMM over K = n·P (pointwise: samples in ascending b), the chunk being a function
// of the geometry alone; col2im adds the terms of an input element in ascending (kh, kw), bias is
// added after the full sum, and the bias gradient sums each channel in f64 over (b, p) ascending.
// The _ref twins spell the same orders with scalar loops and the GEMMs' _ref twins, so they agree
// bit for bit in every runtime.
import { f32_act_bwd, f32_act_bwd_ref, f32_act_fwd, f32_act_fwd_ref } from "./f32-act";
import { f32_gemm_nn, f32_gemm_nn_ref, f32_gemm_nt, f32_gemm_nt_ref, f32_gemm_tn, f32_gemm_tn_ref } from "./f32-gemm";
import { ACT_LINEAR } from "../codes";
import { copyRun, zeroRun } from "./float-runs";

// col[Kc, OH·OW] from x[C, H, W] (one sample's group). Runs of consecutive valid columns are
// copied at stride 1 (copyRun); the rest is gathered.
export function f32_im2col(col: usize, x: usize, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32): void {
  im2col(col, OH * OW, x, C, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
}

export function f32_im2col_ref(col: usize, x: usize, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32): void {
  im2colRef(col, OH * OW, x, C, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
}

// x[C, H, W] = the sum of every col[Kc, OH·OW] term that im2col read from each element
// (overwrites x). Terms arrive in ascending (kh, kw), at most one per (c, kh, kw) row since a
// row maps columns to distinct input positions; stride-1 runs add as vectors.
export function f32_col2im(x: usize, col: usize, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32): void {
  col2im(x, col, OH * OW, C, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
}

export function f32_col2im_ref(x: usize, col: usize, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32): void {
  col2imRef(x, col, OH * OW, C, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
}

// im2col into the columns [0, OH·OW) of a matrix whose rows are ld floats apart.
function im2col(col: usize, ld: i32, x: usize, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32): void {
  const P = <usize>ld;
  let row = col;
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * H * W) << 2);
    for (let kh = 0; kh < KH; kh++) {
      // Output rows whose input row is outside the image are zero: one block before [ohLo,
      // ohHi) and one after, since a row of col holds the output rows one after another.
      const offH = kh * dilh - ph;
      const ohLo = min(validLo(offH, sh), OH), ohHi = validHi(offH, sh, H, OH);
      for (let kw = 0; kw < KW; kw++) {
        const offW = kw * dilw - pw;
        const lo = validLo(offW, sw), hi = validHi(offW, sw, W, OW);
        if (lo >= hi || ohLo >= ohHi) {
          zeroRun(row, OH * OW);
          row += P << 2;
          continue;
        }
        if (ohLo > 0) zeroRun(row, ohLo * OW);
        for (let oh = ohLo; oh < ohHi; oh++) {
          const out = row + ((<usize>oh * OW) << 2);
          const src = plane + ((<usize>(oh * sh + offH) * W) << 2);
          if (lo > 0) zeroRun(out, lo);
          if (sw == 1) copyRun(out + (<usize>lo << 2), src + (<usize>(lo + offW) << 2), hi - lo);
          else for (let ow = lo; ow < hi; ow++) store<f32>(out + (<usize>ow << 2), load<f32>(src + (<usize>(ow * sw + offW) << 2)));
          if (hi < OW) zeroRun(out + (<usize>hi << 2), OW - hi);
        }
        if (ohHi < OH) zeroRun(row + ((<usize>ohHi * OW) << 2), (OH - ohHi) * OW);
        row += P << 2;
      }
    }
  }
}

function im2colRef(col: usize, ld: i32, x: usize, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32): void {
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const r = (c * KH + kh) * KW + kw;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const ih = oh * sh - ph + kh * dilh, iw = ow * sw - pw + kw * dilw;
            const v: f32 = ih >= 0 && ih < H && iw >= 0 && iw < W ? load<f32>(x + ((<usize>(c * H + ih) * W + iw) << 2)) : 0;
            store<f32>(col + ((<usize>r * ld + <usize>oh * OW + ow) << 2), v);
          }
        }
      }
    }
  }
}

// col2im from the columns [0, OH·OW) of a matrix whose rows are ld floats apart.
function col2im(x: usize, col: usize, ld: i32, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32): void {
  memory.fill(x, 0, (<usize>C * H * W) << 2);
  const P = <usize>ld;
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

function col2imRef(x: usize, col: usize, ld: i32, C: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32): void {
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
            store<f32>(at, load<f32>(at) + load<f32>(col + ((<usize>r * ld + <usize>oh * OW + ow) << 2)));
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
// ws: chunk·OH·OW·(Cg·KH·KW + O/groups) floats (unused, may be 0, for a pointwise convolution).
export function f32_conv2d_fwd(y: usize, pre: usize, x: usize, w: usize, bias: usize, ws: usize, B: i32, C: i32, H: i32, W: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, groups: i32, chunk: i32, act: i32, alpha: f32): void {
  const z = pre != 0 ? pre : y;
  const Cg = C / groups, Og = O / groups, Kc = Cg * KH * KW, P = OH * OW;
  if (pointwise(KH, KW, sh, sw, ph, pw, OH, OW, H, W)) {
    for (let b = 0; b < B; b++) {
      for (let g = 0; g < groups; g++) {
        f32_gemm_nn(z + ((<usize>(b * O + g * Og) * P) << 2), w + ((<usize>g * Og * Kc) << 2), x + ((<usize>(b * C + g * Cg) * H * W) << 2), Og, P, Kc, 0);
      }
    }
  } else {
    const t = ws + ((<usize>Kc * chunk * P) << 2);
    for (let b0 = 0; b0 < B; b0 += chunk) {
      const n = min(chunk, B - b0), N = n * P;
      for (let g = 0; g < groups; g++) {
        for (let i = 0; i < n; i++) {
          im2col(ws + ((<usize>i * P) << 2), N, x + ((<usize>((b0 + i) * C + g * Cg) * H * W) << 2), Cg, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
        }
        // A chunk of one sample is already in NCHW order: no copy.
        const out = n == 1 ? z + ((<usize>(b0 * O + g * Og) * P) << 2) : t;
        f32_gemm_nn(out, w + ((<usize>g * Og * Kc) << 2), ws, Og, N, Kc, 0);
        if (n > 1) chunkToRows(z, t, b0, n, O, g * Og, Og, P);
      }
    }
  }
  if (bias != 0) f32_add_chan(z, bias, B, O, P);
  f32_act_fwd(y, z, B * O * P, act, alpha);
}

export function f32_conv2d_fwd_ref(y: usize, pre: usize, x: usize, w: usize, bias: usize, ws: usize, B: i32, C: i32, H: i32, W: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, groups: i32, chunk: i32, act: i32, alpha: f32): void {
  const z = pre != 0 ? pre : y;
  const Cg = C / groups, Og = O / groups, Kc = Cg * KH * KW, P = OH * OW;
  // The pointwise shortcut is the same products: im2col of a 1x1 window is the input itself.
  const t = ws + ((<usize>Kc * chunk * P) << 2);
  for (let b0 = 0; b0 < B; b0 += chunk) {
    const n = min(chunk, B - b0), N = n * P;
    for (let g = 0; g < groups; g++) {
      for (let i = 0; i < n; i++) {
        im2colRef(ws + ((<usize>i * P) << 2), N, x + ((<usize>((b0 + i) * C + g * Cg) * H * W) << 2), Cg, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
      }
      f32_gemm_nn_ref(t, w + ((<usize>g * Og * Kc) << 2), ws, Og, N, Kc, 0);
      for (let i = 0; i < n; i++)
        for (let o = 0; o < Og; o++)
          for (let p = 0; p < P; p++) store<f32>(z + ((<usize>((b0 + i) * O + g * Og + o) * P + p) << 2), load<f32>(t + ((<usize>o * N + i * P + p) << 2)));
    }
  }
  if (bias != 0) f32_add_chan_ref(z, bias, B, O, P);
  f32_act_fwd_ref(y, z, B * O * P, act, alpha);
}

// z[b0 + i, c0 + o, :] = t[o, i·P .. (i + 1)·P) for i < n, o < Og: a chunk's GEMM output into NCHW rows.
function chunkToRows(z: usize, t: usize, b0: i32, n: i32, O: i32, c0: i32, Og: i32, P: i32): void {
  const rowBytes = <usize>P << 2;
  for (let i = 0; i < n; i++)
    for (let o = 0; o < Og; o++) memory.copy(z + (<usize>((b0 + i) * O + c0 + o) * rowBytes), t + (<usize>(o * n + i) * rowBytes), rowBytes);
}

// t[o, i·P .. (i + 1)·P) = z[b0 + i, c0 + o, :]: the inverse of chunkToRows.
function rowsToChunk(t: usize, z: usize, b0: i32, n: i32, O: i32, c0: i32, Og: i32, P: i32): void {
  const rowBytes = <usize>P << 2;
  for (let i = 0; i < n; i++)
    for (let o = 0; o < Og; o++) memory.copy(t + (<usize>(o * n + i) * rowBytes), z + (<usize>((b0 + i) * O + c0 + o) * rowBytes), rowBytes);
}

// dy[B,O,OH,OW] is overwritten with dpre = dy ⊙ act'(pre) (y is read by sigmoid and tanh). Then,
// each skipped when its pointer is 0: dw[O, Cg, KH, KW] = Σ_chunks dpre_chunk·col_chunkᵀ, db[O] =
// Σ dpre per channel, dx[B, C, H, W] = col2im(wᵀ·dpre). ws as for the forward.
export function f32_conv2d_bwd(dx: usize, dw: usize, db: usize, dy: usize, x: usize, w: usize, pre: usize, y: usize, ws: usize, B: i32, C: i32, H: i32, W: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, groups: i32, chunk: i32, act: i32, alpha: f32): void {
  const Cg = C / groups, Og = O / groups, Kc = Cg * KH * KW, P = OH * OW;
  if (act != ACT_LINEAR) f32_act_bwd(dy, dy, pre, y, B * O * P, act, alpha);
  if (db != 0) f32_sum_chan(db, dy, B, O, P, 0);
  if (pointwise(KH, KW, sh, sw, ph, pw, OH, OW, H, W)) {
    for (let b = 0; b < B; b++) {
      for (let g = 0; g < groups; g++) {
        const xg = x + ((<usize>(b * C + g * Cg) * H * W) << 2);
        const dyg = dy + ((<usize>(b * O + g * Og) * P) << 2);
        if (dw != 0) f32_gemm_nt(dw + ((<usize>g * Og * Kc) << 2), dyg, xg, Og, Kc, P, b > 0 ? 1 : 0);
        if (dx != 0) f32_gemm_tn(dx + ((<usize>(b * C + g * Cg) * H * W) << 2), w + ((<usize>g * Og * Kc) << 2), dyg, Kc, P, Og, 0);
      }
    }
    return;
  }
  const t = ws + ((<usize>Kc * chunk * P) << 2);
  for (let b0 = 0; b0 < B; b0 += chunk) {
    const n = min(chunk, B - b0), N = n * P;
    for (let g = 0; g < groups; g++) {
      let dyc = dy + ((<usize>(b0 * O + g * Og) * P) << 2);
      if (n > 1) {
        rowsToChunk(t, dy, b0, n, O, g * Og, Og, P);
        dyc = t;
      }
      if (dw != 0) {
        for (let i = 0; i < n; i++) {
          im2col(ws + ((<usize>i * P) << 2), N, x + ((<usize>((b0 + i) * C + g * Cg) * H * W) << 2), Cg, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
        }
        f32_gemm_nt(dw + ((<usize>g * Og * Kc) << 2), dyc, ws, Og, Kc, N, b0 > 0 ? 1 : 0);
      }
      if (dx != 0) {
        f32_gemm_tn(ws, w + ((<usize>g * Og * Kc) << 2), dyc, Kc, N, Og, 0);
        for (let i = 0; i < n; i++) {
          col2im(dx + ((<usize>((b0 + i) * C + g * Cg) * H * W) << 2), ws + ((<usize>i * P) << 2), N, Cg, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
        }
      }
    }
  }
}

export function f32_conv2d_bwd_ref(dx: usize, dw: usize, db: usize, dy: usize, x: usize, w: usize, pre: usize, y: usize, ws: usize, B: i32, C: i32, H: i32, W: i32, O: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32, dilh: i32, dilw: i32, groups: i32, chunk: i32, act: i32, alpha: f32): void {
  const Cg = C / groups, Og = O / groups, Kc = Cg * KH * KW, P = OH * OW;
  if (act != ACT_LINEAR) f32_act_bwd_ref(dy, dy, pre, y, B * O * P, act, alpha);
  if (db != 0) f32_sum_chan_ref(db, dy, B, O, P, 0);
  // The pointwise path is a chunk of one sample: the same order as below with chunk = 1.
  const c = pointwise(KH, KW, sh, sw, ph, pw, OH, OW, H, W) ? 1 : chunk;
  const t = ws + ((<usize>Kc * c * P) << 2);
  for (let b0 = 0; b0 < B; b0 += c) {
    const n = min(c, B - b0), N = n * P;
    for (let g = 0; g < groups; g++) {
      for (let i = 0; i < n; i++)
        for (let o = 0; o < Og; o++)
          for (let p = 0; p < P; p++) store<f32>(t + ((<usize>o * N + i * P + p) << 2), load<f32>(dy + ((<usize>((b0 + i) * O + g * Og + o) * P + p) << 2)));
      for (let i = 0; i < n; i++) {
        im2colRef(ws + ((<usize>i * P) << 2), N, x + ((<usize>((b0 + i) * C + g * Cg) * H * W) << 2), Cg, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
      }
      if (dw != 0) f32_gemm_nt_ref(dw + ((<usize>g * Og * Kc) << 2), t, ws, Og, Kc, N, b0 > 0 ? 1 : 0);
      if (dx != 0) {
        f32_gemm_tn_ref(ws, w + ((<usize>g * Og * Kc) << 2), t, Kc, N, Og, 0);
        for (let i = 0; i < n; i++) {
          col2imRef(dx + ((<usize>((b0 + i) * C + g * Cg) * H * W) << 2), ws + ((<usize>i * P) << 2), N, Cg, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw);
        }
      }
    }
  }
}
