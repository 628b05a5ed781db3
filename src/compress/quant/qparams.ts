// Scale and zero point from a range, exactly as PyTorch's observers compute them
// (torch/ao/quantization/observer.py, _calculate_qparams, reduce_range=False), in f32:
//   min' = min(min, 0), max' = max(max, 0)                      (the range always holds 0)
//   symmetric: scale = max(−min', max') / ((qmax − qmin) / 2),   zero point 0
//   affine:    scale = (max' − min') / (qmax − qmin),
//              zero point = clamp(qmin − round(min' / scale), qmin, qmax)
//   scale = max(scale, eps) with eps = 2^-23 (torch.finfo(torch.float32).eps), so an all-zero
//   range still gives a valid scale; round is half-to-even (torch.round).
// Each f32 operation is one IEEE operation on f32 operands: computing it in f64 and rounding
// once with Math.fround gives the same bits (f64 carries more than 2·24 + 2 bits), so these
// numbers equal PyTorch's and the WebAssembly core's.

/** torch.finfo(torch.float32).eps, the smallest scale an observer returns. */
export const F32_EPS = 2 ** -23;

/** An integer code range. */
export interface QRange {
  readonly qmin: number;
  readonly qmax: number;
}

/** quint8: activations. */
export const QUINT8: QRange = Object.freeze({ qmin: 0, qmax: 255 });
/** qint8: weights. */
export const QINT8: QRange = Object.freeze({ qmin: -128, qmax: 127 });
/** Signed 4-bit codes (symmetric int4 weights). */
export const QINT4: QRange = Object.freeze({ qmin: -8, qmax: 7 });
/** Unsigned 4-bit codes (affine int4 weights, with a zero point). */
export const QUINT4: QRange = Object.freeze({ qmin: 0, qmax: 15 });

/** Scale and zero point mapping reals to integer codes: q = round(x / scale) + zeroPoint. */
export interface QParams {
  /** f32 value. */
  readonly scale: number;
  /** Integer in [qmin, qmax] (0 for symmetric ranges). */
  readonly zeroPoint: number;
}

/** Round half to even, as torch.round, std::nearbyint and WebAssembly's nearest. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Weight code range for a bit width: signed for symmetric, unsigned for affine 4-bit and
 *  signed for affine 8-bit weights (qint8 with a zero point, as PyTorch's affine weights). */
export function weightRange(bits: number, symmetric: boolean): QRange {
  if (bits === 8) return QINT8;
  if (bits === 4) return symmetric ? QINT4 : QUINT4;
  throw new RangeError(`quantize: weights must be 8 or 4 bits, got ${bits}`);
}

/**
 * PyTorch's observer parameters for the range [min, max] (f32 values).
 *
 * @example
 * calculateQParams(-1, 3, QUINT8, false); // { scale: 4/255 in f32, zeroPoint: 64 }
 */
export function calculateQParams(min: number, max: number, range: QRange, symmetric: boolean): QParams {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`calculateQParams: range must be finite, got [${min}, ${max}]`);
  if (min > max) throw new RangeError(`calculateQParams: min must be <= max, got [${min}, ${max}]`);
  const { qmin, qmax } = range;
  const minNeg = Math.min(Math.fround(min), 0);
  const maxPos = Math.max(Math.fround(max), 0);
  if (symmetric) {
    if (qmin >= 0) throw new RangeError(`calculateQParams: symmetric quantisation needs a signed code range, got [${qmin}, ${qmax}]`);
    const scale = Math.fround(Math.max(-minNeg, maxPos) / ((qmax - qmin) / 2));
    return { scale: Math.max(scale, F32_EPS), zeroPoint: 0 };
  }
  const scale = Math.max(Math.fround(Math.fround(maxPos - minNeg) / (qmax - qmin)), F32_EPS);
  const zeroPoint = Math.min(Math.max(qmin - roundHalfEven(Math.fround(minNeg / scale)), qmin), qmax);
  return { scale, zeroPoint };
}

/** q = clamp(round(x · f32(1/scale)) + zeroPoint, qmin, qmax): one value, as the kernels do. */
export function quantizeValue(x: number, p: QParams, range: QRange): number {
  const inv = Math.fround(1 / p.scale);
  const t = roundHalfEven(Math.fround(Math.fround(x) * inv)) + p.zeroPoint;
  return Math.min(Math.max(t, range.qmin), range.qmax);
}

/** x' = (q − zeroPoint) · scale in f32. */
export function dequantizeValue(q: number, p: QParams): number {
  return Math.fround((q - p.zeroPoint) * p.scale);
}
