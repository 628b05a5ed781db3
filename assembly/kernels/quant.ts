// Affine quantisation of f32 arrays, as PyTorch's fbgemm path does it:
//   q = clamp(nearest(x·inv) + zp, qmin, qmax),   inv = 1/scale rounded to f32 once
//   x' = (q − zp)·scale                              (dequantise)
// nearest is round-half-to-even (f32.nearest, f32x4.nearest), the product x·inv is one f32
// rounding, and the clamp happens on the rounded f32 before the conversion, so the integer
// conversion is exact and no lane can overflow. NaN quantises to zp (its clamp stays NaN and the
// saturating conversion gives 0). Every SIMD kernel performs the same f32 operations as its _ref
// twin on each element, so the two agree bit for bit.
// see: fbgemm QuantUtils.h Quantize<T, LEGACY=false> (zero point added after rounding)
// see: PyTorch torch/ao/quantization/observer.py _calculate_qparams (the dynamic parameters)

// torch.finfo(torch.float32).eps: the smallest scale an observer hands out.
const EPS: f32 = 1.1920928955078125e-7;

@inline function q1(x: f32, inv: f32, lo: f32, hi: f32, zp: i32): i32 {
  return <i32>min<f32>(max<f32>(nearest<f32>(x * inv), lo), hi) + zp;
}

// The clamp uses pmax/pmin (one minps/maxps each on x64, where f32x4.min/max take several
// instructions for NaN and signed-zero rules): they differ from max/min only in which zero comes
// out of ±0 (both convert to integer 0) and keep a NaN t as NaN (pmax(NaN, lo) and pmin(NaN, hi)
// return their first operand), so the integers equal those of the scalar twin's min/max.
@inline function q4(v: v128, inv: v128, lo: v128, hi: v128, zp: v128): v128 {
  return i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.mul(v, inv)), lo), hi)), zp);
}

// 16 quantised values of x from byte offset 4·i... as bytes: narrowing is exact, the values
// already lie in [qmin, qmax] ⊂ [−128, 255]; `unsigned` picks the narrowing that keeps them.
@inline function q16(x: usize, inv: v128, lo: v128, hi: v128, zp: v128, unsigned: bool): v128 {
  const a = i16x8.narrow_i32x4_s(q4(v128.load(x), inv, lo, hi, zp), q4(v128.load(x, 16), inv, lo, hi, zp));
  const b = i16x8.narrow_i32x4_s(q4(v128.load(x, 32), inv, lo, hi, zp), q4(v128.load(x, 48), inv, lo, hi, zp));
  return unsigned ? i8x16.narrow_i16x8_u(a, b) : i8x16.narrow_i16x8_s(a, b);
}

// q[n] (bytes) = clamp(nearest(x·(1/scale)) + zp, qmin, qmax), with −128 <= qmin <= qmax <= 255
// and qmax <= 127 when qmin < 0. Reference: f32_quantize_ref.
export function f32_quantize(q: usize, x: usize, n: i32, scale: f32, zp: i32, qmin: i32, qmax: i32): void {
  const inv: f32 = <f32>1.0 / scale;
  const lo = <f32>(qmin - zp), hi = <f32>(qmax - zp);
  const vinv = f32x4.splat(inv), vlo = f32x4.splat(lo), vhi = f32x4.splat(hi), vzp = i32x4.splat(zp);
  const unsigned = qmin >= 0;
  let i = 0;
  for (; i + 16 <= n; i += 16) v128.store(q + <usize>i, q16(x + (<usize>i << 2), vinv, vlo, vhi, vzp, unsigned));
  for (; i < n; i++) store<u8>(q + <usize>i, <u8>q1(load<f32>(x + (<usize>i << 2)), inv, lo, hi, zp));
}

export function f32_quantize_ref(q: usize, x: usize, n: i32, scale: f32, zp: i32, qmin: i32, qmax: i32): void {
  const inv: f32 = <f32>1.0 / scale;
  for (let i = 0; i < n; i++) {
    const t = nearest<f32>(load<f32>(x + (<usize>i << 2)) * inv);
    store<u8>(q + <usize>i, <u8>(<i32>min<f32>(max<f32>(t, <f32>(qmin - zp)), <f32>(qmax - zp)) + zp));
  }
}

// Index of the first element of x [n] that is NaN or ±Inf, or −1 when all are finite: the check
// a quantised model runs on its input rows after copying them in (v − v is 0 exactly for finite
// v). Reference: f32_find_nonfinite_ref.
export function f32_find_nonfinite(x: usize, n: i32): i32 {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    const ok = v128.and(
      v128.and(f32x4.eq(f32x4.sub(a, a), zero), f32x4.eq(f32x4.sub(b, b), zero)),
      v128.and(f32x4.eq(f32x4.sub(c, c), zero), f32x4.eq(f32x4.sub(d, d), zero)),
    );
    if (!i32x4.all_true(ok)) break;
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v - v != 0) return i;
  }
  return -1;
}

export function f32_find_nonfinite_ref(x: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v - v != 0) return i;
  }
  return -1;
}

// Row r of x [rows, cols] with its own scale[r] and zp[r] (i32; zps == 0 means all 0): per
// channel (rows of W) and per group (W viewed as [N·K/G, G]). Bytes out, as f32_quantize.
// Reference: f32_quantize_rows_ref.
export function f32_quantize_rows(q: usize, x: usize, rows: i32, cols: i32, scales: usize, zps: usize, qmin: i32, qmax: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * <usize>cols;
    f32_quantize(q + o, x + (o << 2), cols, load<f32>(scales + (<usize>r << 2)), zps != 0 ? load<i32>(zps + (<usize>r << 2)) : 0, qmin, qmax);
  }
}

export function f32_quantize_rows_ref(q: usize, x: usize, rows: i32, cols: i32, scales: usize, zps: usize, qmin: i32, qmax: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * <usize>cols;
    f32_quantize_ref(q + o, x + (o << 2), cols, load<f32>(scales + (<usize>r << 2)), zps != 0 ? load<i32>(zps + (<usize>r << 2)) : 0, qmin, qmax);
  }
}

@inline function widen4(q: usize, signed: bool): v128 {
  const h = signed ? v128.load8x8_s(q) : v128.load8x8_u(q);
  return i32x4.extend_low_i16x8_s(h);
}

// y[n] f32 = f32(q − zp)·scale, q bytes read as i8 (signed != 0) or u8. Reference: q8_dequantize_ref.
export function q8_dequantize(y: usize, q: usize, n: i32, signed: i32, scale: f32, zp: i32): void {
  const s = signed != 0;
  const vs = f32x4.splat(scale), vz = i32x4.splat(zp);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = f32x4.convert_i32x4_s(i32x4.sub(widen4(q + <usize>i, s), vz));
    v128.store(y + (<usize>i << 2), f32x4.mul(v, vs));
  }
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), <f32>(byteAt(q + <usize>i, s) - zp) * scale);
}

export function q8_dequantize_ref(y: usize, q: usize, n: i32, signed: i32, scale: f32, zp: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), <f32>(byteAt(q + <usize>i, signed != 0) - zp) * scale);
}

@inline function byteAt(p: usize, signed: bool): i32 {
  return signed ? <i32>load<i8>(p) : <i32>load<u8>(p);
}

// Per-row dequantisation, the inverse of f32_quantize_rows. Reference: q8_dequantize_rows_ref.
export function q8_dequantize_rows(y: usize, q: usize, rows: i32, cols: i32, signed: i32, scales: usize, zps: usize): void {
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * <usize>cols;
    q8_dequantize(y + (o << 2), q + o, cols, signed, load<f32>(scales + (<usize>r << 2)), zps != 0 ? load<i32>(zps + (<usize>r << 2)) : 0);
  }
}

export function q8_dequantize_rows_ref(y: usize, q: usize, rows: i32, cols: i32, signed: i32, scales: usize, zps: usize): void {
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * <usize>cols;
    q8_dequantize_ref(y + (o << 2), q + o, cols, signed, load<f32>(scales + (<usize>r << 2)), zps != 0 ? load<i32>(zps + (<usize>r << 2)) : 0);
  }
}

// out[2·r] = min, out[2·r+1] = max of row r of x [rows, cols]; NaN when the row holds a NaN
// (f32.min and f32.max propagate it), +Inf and −Inf for an empty row. Reference: f32_minmax_rows_ref.
export function f32_minmax_rows(out: usize, x: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const p = x + ((<usize>r * <usize>cols) << 2);
    let vmin = f32x4.splat(Infinity), vmax = f32x4.splat(-Infinity);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const v = v128.load(p + (<usize>i << 2));
      vmin = f32x4.min(vmin, v);
      vmax = f32x4.max(vmax, v);
    }
    let lo = min<f32>(min<f32>(f32x4.extract_lane(vmin, 0), f32x4.extract_lane(vmin, 1)), min<f32>(f32x4.extract_lane(vmin, 2), f32x4.extract_lane(vmin, 3)));
    let hi = max<f32>(max<f32>(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)), max<f32>(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
    for (; i < cols; i++) {
      const v = load<f32>(p + (<usize>i << 2));
      lo = min<f32>(lo, v);
      hi = max<f32>(hi, v);
    }
    store<f32>(out + (<usize>r << 3), lo);
    store<f32>(out + (<usize>r << 3), hi, 4);
  }
}

// Minimum and maximum are exact whatever the order; with a NaN both twins give NaN.
export function f32_minmax_rows_ref(out: usize, x: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    let lo: f32 = Infinity, hi: f32 = -Infinity;
    for (let i = 0; i < cols; i++) {
      const v = load<f32>(x + ((<usize>r * <usize>cols + <usize>i) << 2));
      lo = min<f32>(lo, v);
      hi = max<f32>(hi, v);
    }
    store<f32>(out + (<usize>r << 3), lo);
    store<f32>(out + (<usize>r << 3), hi, 4);
  }
}

// Observer parameters of quint8 [0, 255] from a range, as _calculate_qparams (affine,
// reduce_range=False) computes them in f32: min' = min(lo, 0), max' = max(hi, 0),
// scale = max((max' − min') / 255, eps), zp = clamp(0 − nearest(min' / scale), 0, 255).
@inline function affineScale(lo: f32, hi: f32): f32 {
  return max<f32>((max<f32>(hi, 0) - min<f32>(lo, 0)) / <f32>255.0, EPS);
}

@inline function affineZero(lo: f32, scale: f32): i32 {
  return <i32>min<f32>(max<f32>(<f32>0 - nearest<f32>(min<f32>(lo, 0) / scale), 0), 255);
}

// Dynamic quantisation of x [n] to quint8: the range of x gives scale and zero point (the
// observer formula above), written to params (f32 scale at +0, i32 zero point at +4), then
// q[n] = f32_quantize(x, scale, zp, 0, 255). Reference: f32_quantize_dynamic_ref.
export function f32_quantize_dynamic(q: usize, params: usize, x: usize, n: i32): void {
  quantizeDynamic(q, params, x, n, true);
}

// The twin runs the scalar range and quantise twins around the same parameter formula.
export function f32_quantize_dynamic_ref(q: usize, params: usize, x: usize, n: i32): void {
  quantizeDynamic(q, params, x, n, false);
}

@inline function quantizeDynamic(q: usize, params: usize, x: usize, n: i32, simd: bool): void {
  if (simd) f32_minmax_rows(params, x, 1, n);
  else f32_minmax_rows_ref(params, x, 1, n);
  const lo = load<f32>(params), hi = load<f32>(params, 4);
  const scale = affineScale(lo, hi), zp = affineZero(lo, scale);
  store<f32>(params, scale);
  store<i32>(params, zp, 4);
  if (simd) f32_quantize(q, x, n, scale, zp, 0, 255);
  else f32_quantize_ref(q, x, n, scale, zp, 0, 255);
}

// f32_quantize_dynamic on each row of x [rows, cols]: per row its own scale and zero point,
// written to params + 8·r. Reference: f32_quantize_dynamic_rows_ref.
export function f32_quantize_dynamic_rows(q: usize, params: usize, x: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * <usize>cols;
    f32_quantize_dynamic(q + o, params + (<usize>r << 3), x + (o << 2), cols);
  }
}

export function f32_quantize_dynamic_rows_ref(q: usize, params: usize, x: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * <usize>cols;
    f32_quantize_dynamic_ref(q + o, params + (<usize>r << 3), x + (o << 2), cols);
  }
}

// Fake quantisation (quantise then dequantise, in f32) for quantisation-aware training, as
// torch.fake_quantize_per_tensor_affine: t = nearest(x·inv) + zp; y = (clamp(t) − zp)·scale;
// mask[i] = 1 when qmin <= t <= qmax (the straight-through estimator passes the gradient there),
// else 0; mask == 0 skips it. y may alias x. Reference: f32_fake_quant_ref.
export function f32_fake_quant(y: usize, mask: usize, x: usize, n: i32, scale: f32, zp: i32, qmin: i32, qmax: i32): void {
  const inv: f32 = <f32>1.0 / scale;
  const lo = <f32>(qmin - zp), hi = <f32>(qmax - zp);
  const vinv = f32x4.splat(inv), vlo = f32x4.splat(lo), vhi = f32x4.splat(hi), vs = f32x4.splat(scale);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const t = f32x4.nearest(f32x4.mul(v128.load(x + (<usize>i << 2)), vinv));
    const c = f32x4.convert_i32x4_s(i32x4.trunc_sat_f32x4_s(f32x4.min(f32x4.max(t, vlo), vhi)));
    v128.store(y + (<usize>i << 2), f32x4.mul(c, vs));
    if (mask != 0) {
      const inside = v128.and(f32x4.ge(t, vlo), f32x4.le(t, vhi));
      const m = v128.and(inside, i32x4.splat(1));
      const h = i16x8.narrow_i32x4_s(m, m);
      v128.store32_lane(mask + <usize>i, i8x16.narrow_i16x8_u(h, h), 0);
    }
  }
  for (; i < n; i++) fakeOne(y, mask, x, i, inv, lo, hi, scale);
}

// t − zp is compared with qmin − zp and qmax − zp: the same test as qmin <= t <= qmax for the
// small integers involved, and (clamp(t) − zp)·scale is computed as clamp(t − zp)·scale, through
// an integer so that a −0 from nearest() becomes +0 as in PyTorch's integer arithmetic.
@inline function fakeOne(y: usize, mask: usize, x: usize, i: i32, inv: f32, lo: f32, hi: f32, scale: f32): void {
  const t = nearest<f32>(load<f32>(x + (<usize>i << 2)) * inv);
  store<f32>(y + (<usize>i << 2), <f32>(<i32>min<f32>(max<f32>(t, lo), hi)) * scale);
  if (mask != 0) store<u8>(mask + <usize>i, <u8>(t >= lo && t <= hi ? 1 : 0));
}

export function f32_fake_quant_ref(y: usize, mask: usize, x: usize, n: i32, scale: f32, zp: i32, qmin: i32, qmax: i32): void {
  const inv: f32 = <f32>1.0 / scale;
  const lo = <f32>(qmin - zp), hi = <f32>(qmax - zp);
  for (let i = 0; i < n; i++) fakeOne(y, mask, x, i, inv, lo, hi, scale);
}

// Per-row fake quantisation (weights per output channel). Reference: f32_fake_quant_rows_ref.
export function f32_fake_quant_rows(y: usize, mask: usize, x: usize, rows: i32, cols: i32, scales: usize, zps: usize, qmin: i32, qmax: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * <usize>cols;
    f32_fake_quant(y + (o << 2), mask != 0 ? mask + o : 0, x + (o << 2), cols, load<f32>(scales + (<usize>r << 2)), zps != 0 ? load<i32>(zps + (<usize>r << 2)) : 0, qmin, qmax);
  }
}

export function f32_fake_quant_rows_ref(y: usize, mask: usize, x: usize, rows: i32, cols: i32, scales: usize, zps: usize, qmin: i32, qmax: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * <usize>cols;
    f32_fake_quant_ref(y + (o << 2), mask != 0 ? mask + o : 0, x + (o << 2), cols, load<f32>(scales + (<usize>r << 2)), zps != 0 ? load<i32>(zps + (<usize>r << 2)) : 0, qmin, qmax);
  }
}

// Entropy calibration (TensorRT's KL search), scalar f64. hist [bins] holds counts of |x| over
// [0, max|x|]. For each candidate i in [levels, bins]: P = hist[0:i) with the outliers (the count
// of hist[i:bins)) added to its last bin; Q merges hist[0:i) into `levels` runs of ⌊i/levels⌋
// bins (the remainder joins the last run) and spreads each run's count evenly over the bins
// where P is nonzero. Both are smoothed as ONNX Runtime's smooth_distribution does (eps = 1e-4
// of mass onto each empty bin, taken evenly from the others; no candidate if P or Q has no mass
// or a bin would go negative) and normalised; the candidate of least KL(P‖Q) = Σ P·log(P/Q) wins,
// the first on ties. Returns i (the threshold is i bin widths); p and q are scratch f64 [bins].
// see: onnxruntime/python/tools/quantization/calibrate.py (get_entropy_threshold)
export function f64_entropy_threshold(hist: usize, p: usize, q: usize, bins: i32, levels: i32): i32 {
  let total: f64 = 0;
  for (let b = 0; b < bins; b++) total += load<f64>(hist + (<usize>b << 3));
  let inside: f64 = 0;
  for (let b = 0; b < levels - 1; b++) inside += load<f64>(hist + (<usize>b << 3));
  let best = bins;
  let bestKl = Infinity;
  for (let i = levels; i <= bins; i++) {
    inside += load<f64>(hist + (<usize>(i - 1) << 3));
    memory.copy(p, hist, <usize>i << 3);
    const last = p + (<usize>(i - 1) << 3);
    store<f64>(last, load<f64>(last) + (total - inside));
    const merged = i / levels;
    for (let level = 0; level < levels; level++) {
      const start = level * merged;
      const end = level == levels - 1 ? i : start + merged;
      let sum: f64 = 0;
      let nonzero = 0;
      for (let b = start; b < end; b++) {
        sum += load<f64>(hist + (<usize>b << 3));
        if (load<f64>(p + (<usize>b << 3)) != 0) nonzero++;
      }
      for (let b = start; b < end; b++) {
        const o = <usize>b << 3;
        store<f64>(q + o, nonzero > 0 && load<f64>(p + o) != 0 ? sum / <f64>nonzero : 0);
      }
    }
    if (!smooth(p, i) || !smooth(q, i)) continue;
    let kl: f64 = 0;
    for (let b = 0; b < i; b++) {
      const pb = load<f64>(p + (<usize>b << 3));
      kl += pb * Math.log(pb / load<f64>(q + (<usize>b << 3)));
    }
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return best;
}

const SMOOTH_EPS: f64 = 1e-4;

function smooth(d: usize, n: i32): bool {
  let zeros = 0;
  for (let b = 0; b < n; b++) if (load<f64>(d + (<usize>b << 3)) == 0) zeros++;
  if (zeros == n) return false;
  const take = SMOOTH_EPS * <f64>zeros / <f64>(n - zeros);
  let sum: f64 = 0;
  for (let b = 0; b < n; b++) {
    const o = <usize>b << 3;
    const v = load<f64>(d + o);
    const s = v == 0 ? SMOOTH_EPS : v - take;
    if (s <= 0) return false;
    store<f64>(d + o, s);
    sum += s;
  }
  for (let b = 0; b < n; b++) store<f64>(d + (<usize>b << 3), load<f64>(d + (<usize>b << 3)) / sum);
  return true;
}
