// The one measurement module: what a model costs. File bytes through src/io's writers, parameter
// and non-zero counts through the models' public parameters, and inference latency with one
// warm-up policy and one timing method. The compression reports, the pipeline's stage table and
// `kiln bench` all measure here, so their figures compare.
import type { Dataset } from '../data/dataset.ts';
import type { Sequential } from '../nn/sequential.ts';
import { modelToBytes } from '../io/model-file.ts';
import { decodeSafetensors } from '../io/safetensors.ts';

/** A model's file: its bytes and the format written in its header. */
export interface ModelFile {
  bytes: Uint8Array;
  format: string;
}

/**
 * The file a float model saves to (the sparse format when it carries a pruning mask), written
 * without feature names: for 784 pixels the names would outweigh a small model's weights, and
 * sizes should compare like with like.
 *
 * @example
 * const { bytes, format } = modelFile(model); // format 'kiln.sequential' or 'kiln.sequential.sparse'
 */
export function modelFile(model: Sequential, layout: 'auto' | 'dense' = 'auto'): ModelFile {
  const kept = model.preprocessing;
  let bytes: Uint8Array;
  if (kept.featureNames === undefined) {
    bytes = modelToBytes(model, layout);
  } else {
    const { featureNames: _, ...rest } = kept;
    model.setPreprocessing(rest);
    try {
      bytes = modelToBytes(model, layout);
    } finally {
      model.setPreprocessing(kept);
    }
  }
  return { bytes, format: fileFormat(bytes) };
}

/** The `format` a kiln model file names in its header. */
function fileFormat(bytes: Uint8Array): string {
  return String(decodeSafetensors(bytes).metadata.format);
}

/** Values that are not zero across arrays (weights, biases, integer codes alike). */
export function countNonZeros(arrays: Iterable<ArrayLike<number>>): number {
  let n = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (a[i] !== 0) n++;
  return n;
}

/** Weights and biases of a float model that are not zero.
 *  @example nonZeros(pruned) / pruned.parameterCount; // share kept */
export function nonZeros(model: Pick<Sequential, 'parameters'>): number {
  return countNonZeros(model.parameters().map((p) => p.data));
}

/** One call to time: a model's predict on a fixed batch. */
export type Predict = (x: Float32Array) => unknown;

/** Timings of one predictor, per call. */
export interface Timing {
  /** Median milliseconds per call. */
  medianMs: number;
  /** 90th percentile (nearest rank) of the per-call times of the samples. */
  p90Ms: number;
  /** Calls timed together in each sample. */
  callsPerSample: number;
}

/** A timed sample lasts at least this long, well above the clock's grain (browsers coarsen
 *  performance.now() to 0.1 ms or more). */
const MIN_SAMPLE_MS = 1;
const MAX_CALLS_PER_SAMPLE = 1 << 16;

/**
 * Times predictors on the same batch `x`: `repeats` timed samples each, the predictors taking
 * turns within every round in a rotating order, so load on the machine falls on all of them alike
 * and their ratios hold even when absolute times drift.
 *
 * Warm-up and timing, the same everywhere: each predictor first runs in batches of 1, 2, 4, …
 * calls until one batch lasts MIN_SAMPLE_MS (this settles the JIT and fills the model's
 * workspace), then one more untimed batch; each timed sample is that many calls under one pair
 * of performance.now() readings, divided by the count.
 *
 * @example
 * const [dense, sparse] = timeCalls([(x) => model.predict(x), (x) => fast.predict(x)], rows(test, 1), 30);
 * console.log(dense.medianMs / sparse.medianMs);
 */
export function timeCalls(predictors: readonly Predict[], x: Float32Array, repeats: number): Timing[] {
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`timeCalls: repeats must be an integer >= 1, got ${repeats}`);
  const calls = predictors.map((p) => callsPerSample(p, x));
  for (let i = 0; i < predictors.length; i++) for (let k = 0; k < calls[i]!; k++) predictors[i]!(x);
  const times = predictors.map(() => new Float64Array(repeats));
  for (let r = 0; r < repeats; r++) {
    for (let j = 0; j < predictors.length; j++) {
      const i = (r + j) % predictors.length;
      const p = predictors[i]!,
        n = calls[i]!;
      const start = performance.now();
      for (let k = 0; k < n; k++) p(x);
      times[i]![r] = (performance.now() - start) / n;
    }
  }
  return times.map((t, i) => ({ medianMs: quantile(t, 0.5), p90Ms: quantile(t, 0.9), callsPerSample: calls[i]! }));
}

// Batches of 1, 2, 4, … calls until one lasts MIN_SAMPLE_MS: the warm-up and the sample size.
function callsPerSample(p: Predict, x: Float32Array): number {
  for (let n = 1; ; n *= 2) {
    const start = performance.now();
    for (let k = 0; k < n; k++) p(x);
    if (performance.now() - start >= MIN_SAMPLE_MS || n >= MAX_CALLS_PER_SAMPLE) return n;
  }
}

/** The median (mean of the middle two for an even count) for q = 0.5, else the nearest rank.
 *  @example quantile([4, 1, 3, 2], 0.5); // 2.5 */
export function quantile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  if (q === 0.5) return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** `n` rows of `data` as one batch, from the first row on, wrapping around.
 *  @example const [t] = timeCalls([(x) => model.predict(x)], batchOf(test, 64), 50); */
export function batchOf(data: Dataset, n: number): Float32Array {
  const d = data.numFeatures;
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    const i = r % data.numRows;
    x.set(data.features.subarray(i * d, (i + 1) * d), r * d);
  }
  return x;
}
