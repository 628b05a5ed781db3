// Static activation ranges from calibration data. Each method turns the values one tensor took on
// the calibration set into a range [min, max]; calculateQParams then turns the range into a scale
// and zero point for quint8.
//   minmax      the observed extremes (PyTorch's MinMaxObserver)
//   percentile  the p-th and (100 − p)-th percentiles, linear interpolation between order
//               statistics (numpy's default): a few outliers no longer stretch the grid
//   mse         the clip ratio r in {1, 0.99, …, 0.01} whose range [r·min, r·max] gives the
//               least expected squared quantisation error over a 2048-bin histogram of the data
//   entropy     TensorRT's KL-divergence calibration: a 2048-bin histogram of |x|; for each
//               candidate threshold (bins 128 … 2048) the clipped distribution P is compared with
//               its 128-level quantisation Q, both smoothed with eps = 1e-4 as ONNX Runtime does,
//               and the threshold of least KL(P‖Q) wins; the range is [max(min, −t), min(max, t)]
// see: Migacz, "8-bit Inference with TensorRT", GTC 2017
// see: onnxruntime/python/tools/quantization/calibrate.py (HistogramCalibrater, smooth_distribution)
import { checkKnownKeys, checkNumber } from '../../core/errors.ts';
import { entropyThreshold } from '../../core/ops/quant.ts';
import { calculateQParams, quantizeValue, dequantizeValue, QUINT8 } from './qparams.ts';

/** Every `CalibrationMethod`. */
export const CALIBRATION_METHODS = ['minmax', 'percentile', 'mse', 'entropy'] as const;
/** How an activation range is chosen from observed values. */
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

export interface CalibrationRangeOptions {
  /** Default 'minmax'. */
  method?: CalibrationMethod;
  /** For 'percentile': in (50, 100]; default 99.99. */
  percentile?: number;
}

export interface Range {
  min: number;
  max: number;
}

const HIST_BINS = 2048;
const ENTROPY_LEVELS = 128;

/** The calibrated range of `values` (every value must be finite).
 *  @example calibrationRange(activations, { method: 'percentile', percentile: 99.9 }) */
export function calibrationRange(values: Float32Array, options: CalibrationRangeOptions = {}, where = 'calibrationRange'): Range {
  checkKnownKeys(where, options, ['method', 'percentile']);
  const method = options.method ?? 'minmax';
  if (!CALIBRATION_METHODS.includes(method))
    throw new TypeError(`${where}: method must be one of ${CALIBRATION_METHODS.join(', ')}, got ${String(method)}`);
  if (options.percentile !== undefined && method !== 'percentile')
    throw new TypeError(`${where}: percentile applies to method 'percentile', not '${method}'`);
  if (values.length === 0) throw new RangeError(`${where}: no calibration values`);
  const { min, max } = extremes(values, where);
  switch (method) {
    case 'minmax':
      return { min, max };
    case 'percentile': {
      const p = checkNumber(where, 'percentile', options.percentile ?? 99.99, 50, 100);
      if (p === 50) throw new RangeError(`${where}: percentile must be in (50, 100], got 50`);
      return percentileRange(values, p);
    }
    case 'mse':
      return mseRange(values, min, max);
    case 'entropy':
      return entropyRange(values, min, max);
  }
}

function extremes(values: Float32Array, where: string): Range {
  let min = Infinity,
    max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) throw new RangeError(`${where}: calibration data must be finite, got ${v} at index ${i}`);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

function quantile(sorted: Float32Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  const frac = pos - i;
  const a = sorted[i]!;
  return i + 1 < sorted.length ? a + (sorted[i + 1]! - a) * frac : a;
}

function percentileRange(values: Float32Array, p: number): Range {
  const sorted = values.slice().sort();
  return { min: Math.fround(quantile(sorted, 1 - p / 100)), max: Math.fround(quantile(sorted, p / 100)) };
}

function histogram(values: Float32Array, lo: number, hi: number, bins: number, abs: boolean): Float64Array {
  const counts = new Float64Array(bins);
  const width = (hi - lo) / bins;
  if (!(width > 0)) {
    counts[0] = values.length;
    return counts;
  }
  for (let i = 0; i < values.length; i++) {
    const v = abs ? Math.abs(values[i]!) : values[i]!;
    counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]!++;
  }
  return counts;
}

function mseRange(values: Float32Array, min: number, max: number): Range {
  const counts = histogram(values, min, max, HIST_BINS, false);
  const width = (max - min) / HIST_BINS;
  let best = { min, max },
    bestErr = Infinity;
  for (let step = 100; step >= 1; step--) {
    const r = step / 100;
    const lo = Math.fround(min * r),
      hi = Math.fround(max * r);
    const p = calculateQParams(lo, hi, QUINT8, false);
    let err = 0;
    for (let b = 0; b < HIST_BINS; b++) {
      if (counts[b] === 0) continue;
      const c = min + (b + 0.5) * width;
      const d = c - dequantizeValue(quantizeValue(c, p, QUINT8), p);
      err += counts[b]! * d * d;
    }
    // Strictly less: among equal errors the widest range (first tried) stays.
    if (err < bestErr) {
      bestErr = err;
      best = { min: lo, max: hi };
    }
  }
  return best;
}

function entropyRange(values: Float32Array, min: number, max: number): Range {
  const top = Math.max(Math.abs(min), Math.abs(max));
  if (top === 0) return { min, max };
  const hist = histogram(values, 0, top, HIST_BINS, true);
  const t = Math.fround(entropyThreshold(hist, ENTROPY_LEVELS) * (top / HIST_BINS));
  return { min: Math.max(min, -t), max: Math.min(max, t) };
}
