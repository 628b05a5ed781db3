// 2-D max and average pooling over planes: x[N, H, W] → y[N, OH, OW], N = batch·channels,
// row-major contiguous f32. Window (oh, ow) covers input rows oh·sh − ph ... + KH − 1 and columns
// ow·sw − pw ... + KW − 1; positions outside the plane are skipped (not read as zeros), so a
// window's average divides by the positions it covers inside the plane (Keras's 'same'
// convention; PyTorch's count_include_pad=False). The host only builds windows that cover at
// least one input position.
//
// Max: the first largest value in row-major window order wins (NaN never does); its backward
// finds the same position again from x instead of keeping indices. Backward passes overwrite dx
// and add the windows' terms in ascending output order, so overlapping windows sum in one fixed
// order. The _ref twins recompute every bound per element. 2×2 windows with stride 2 take a SIMD
// path (f32-maxpool2x2.ts) with the same comparisons.

import { isMaxPool2x2, maxPool2x2Bwd, maxPool2x2Fwd } from './f32-maxpool2x2';

// [lo, hi) of kernel offsets k with 0 <= start + k < size.
@inline function kLo(start: i32): i32 {
  return start < 0 ? -start : 0;
}

@inline function kHi(start: i32, K: i32, size: i32): i32 {
  return start + K > size ? size - start : K;
}

export function f32_maxpool2d_fwd(y: usize, x: usize, N: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  if (isMaxPool2x2(KH, KW, sh, sw, ph, pw)) {
    maxPool2x2Fwd(y, x, N, H, W, OH, OW);
    return;
  }
  let out = y;
  for (let n = 0; n < N; n++) {
    const plane = x + ((<usize>n * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - ph, khLo = kLo(h0), khHi = kHi(h0, KH, H);
      for (let ow = 0; ow < OW; ow++, out += 4) {
        const w0 = ow * sw - pw, kwLo = kLo(w0), kwHi = kHi(w0, KW, W);
        let best: f32 = -Infinity;
        for (let kh = khLo; kh < khHi; kh++) {
          const row = plane + ((<usize>(h0 + kh) * W + w0) << 2);
          for (let kw = kwLo; kw < kwHi; kw++) {
            const v = load<f32>(row + (<usize>kw << 2));
            if (v > best) best = v;
          }
        }
        store<f32>(out, best);
      }
    }
  }
}

export function f32_maxpool2d_fwd_ref(y: usize, x: usize, N: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let best: f32 = -Infinity;
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const ih = oh * sh - ph + kh, iw = ow * sw - pw + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const v = load<f32>(x + ((<usize>(n * H + ih) * W + iw) << 2));
            if (v > best) best = v;
          }
        }
        store<f32>(y + ((<usize>(n * OH + oh) * OW + ow) << 2), best);
      }
    }
  }
}

// dx = 0, then each window's dy goes to its first largest input.
export function f32_maxpool2d_bwd(dx: usize, dy: usize, x: usize, N: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  if (isMaxPool2x2(KH, KW, sh, sw, ph, pw)) {
    maxPool2x2Bwd(dx, dy, x, N, H, W, OH, OW);
    return;
  }
  memory.fill(dx, 0, (<usize>N * H * W) << 2);
  let grad = dy;
  for (let n = 0; n < N; n++) {
    const plane = x + ((<usize>n * H * W) << 2);
    const dplane = dx + ((<usize>n * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - ph, khLo = kLo(h0), khHi = kHi(h0, KH, H);
      for (let ow = 0; ow < OW; ow++, grad += 4) {
        const w0 = ow * sw - pw, kwLo = kLo(w0), kwHi = kHi(w0, KW, W);
        let best: f32 = -Infinity;
        let at: isize = -1;
        for (let kh = khLo; kh < khHi; kh++) {
          const base = (h0 + kh) * W + w0;
          for (let kw = kwLo; kw < kwHi; kw++) {
            const v = load<f32>(plane + (<usize>(base + kw) << 2));
            if (v > best) {
              best = v;
              at = base + kw;
            }
          }
        }
        if (at < 0) continue;
        const d = dplane + (<usize>at << 2);
        store<f32>(d, load<f32>(d) + load<f32>(grad));
      }
    }
  }
}

export function f32_maxpool2d_bwd_ref(dx: usize, dy: usize, x: usize, N: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  for (let i = 0; i < N * H * W; i++) store<f32>(dx + (<usize>i << 2), 0);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let best: f32 = -Infinity;
        let at = -1;
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const ih = oh * sh - ph + kh, iw = ow * sw - pw + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const v = load<f32>(x + ((<usize>(n * H + ih) * W + iw) << 2));
            if (v > best) {
              best = v;
              at = (n * H + ih) * W + iw;
            }
          }
        }
        if (at < 0) continue;
        const d = dx + (<usize>at << 2);
        store<f32>(d, load<f32>(d) + load<f32>(dy + ((<usize>(n * OH + oh) * OW + ow) << 2)));
      }
    }
  }
}

// y = the mean of each window's positions inside the plane, summed in f32 in row-major order.
export function f32_avgpool2d_fwd(y: usize, x: usize, N: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  let out = y;
  for (let n = 0; n < N; n++) {
    const plane = x + ((<usize>n * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - ph, khLo = kLo(h0), khHi = kHi(h0, KH, H);
      for (let ow = 0; ow < OW; ow++, out += 4) {
        const w0 = ow * sw - pw, kwLo = kLo(w0), kwHi = kHi(w0, KW, W);
        let sum: f32 = 0;
        for (let kh = khLo; kh < khHi; kh++) {
          const row = plane + ((<usize>(h0 + kh) * W + w0) << 2);
          for (let kw = kwLo; kw < kwHi; kw++) sum += load<f32>(row + (<usize>kw << 2));
        }
        const count = (khHi - khLo) * (kwHi - kwLo);
        store<f32>(out, count > 0 ? sum / <f32>count : 0);
      }
    }
  }
}

export function f32_avgpool2d_fwd_ref(y: usize, x: usize, N: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let sum: f32 = 0;
        let count = 0;
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const ih = oh * sh - ph + kh, iw = ow * sw - pw + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            sum += load<f32>(x + ((<usize>(n * H + ih) * W + iw) << 2));
            count++;
          }
        }
        store<f32>(y + ((<usize>(n * OH + oh) * OW + ow) << 2), count > 0 ? sum / <f32>count : 0);
      }
    }
  }
}

// dx = 0, then each window adds dy / count to every position it covers.
export function f32_avgpool2d_bwd(dx: usize, dy: usize, N: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  memory.fill(dx, 0, (<usize>N * H * W) << 2);
  let grad = dy;
  for (let n = 0; n < N; n++) {
    const dplane = dx + ((<usize>n * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - ph, khLo = kLo(h0), khHi = kHi(h0, KH, H);
      for (let ow = 0; ow < OW; ow++, grad += 4) {
        const w0 = ow * sw - pw, kwLo = kLo(w0), kwHi = kHi(w0, KW, W);
        const count = (khHi - khLo) * (kwHi - kwLo);
        if (count <= 0) continue;
        const share = load<f32>(grad) / <f32>count;
        for (let kh = khLo; kh < khHi; kh++) {
          const row = dplane + ((<usize>(h0 + kh) * W + w0) << 2);
          for (let kw = kwLo; kw < kwHi; kw++) {
            const d = row + (<usize>kw << 2);
            store<f32>(d, load<f32>(d) + share);
          }
        }
      }
    }
  }
}

export function f32_avgpool2d_bwd_ref(dx: usize, dy: usize, N: i32, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, sh: i32, sw: i32, ph: i32, pw: i32): void {
  for (let i = 0; i < N * H * W; i++) store<f32>(dx + (<usize>i << 2), 0);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let count = 0;
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const ih = oh * sh - ph + kh, iw = ow * sw - pw + kw;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) count++;
          }
        }
        if (count == 0) continue;
        const share = load<f32>(dy + ((<usize>(n * OH + oh) * OW + ow) << 2)) / <f32>count;
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const ih = oh * sh - ph + kh, iw = ow * sw - pw + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const d = dx + ((<usize>(n * H + ih) * W + iw) << 2);
            store<f32>(d, load<f32>(d) + share);
          }
        }
      }
    }
  }
}
