// What a compression step bought: quality, size on disk and measured inference latency.
import { checkInteger, checkKnownKeys } from '../../core/errors.ts';
import type { Dataset } from '../../data/dataset.ts';
import type { Sequential } from '../../nn/sequential.ts';
import { evaluate } from '../../train/evaluate.ts';
import { modelToBytes } from '../../io/model-file.ts';
import { sparseModelToBytes } from '../../io/sparse-file.ts';
import { SparseModel } from './sparse-model.ts';
import { checkModel } from './rank.ts';

/** Median prediction time on 1 row and on 64 rows. */
export interface Latency {
  /** Median milliseconds of one call on 1 row and on 64 rows. */
  batch1: number;
  batch64: number;
}

/** Size, sparsity, accuracy and latency of a model at one compression step. */
export interface CompressionReport {
  /** 0 for the model before compression, then 1, 2, … */
  step: number;
  /** Sparsity asked for at this step (weights for unstructured, hidden units for structured). */
  sparsity: number;
  /** Test accuracy (classifiers) or mean squared error (regression) on the report data. */
  accuracy?: number;
  mse?: number;
  parameters: number;
  /** Parameters that are not zero. */
  nonZeros: number;
  /** Bytes of the file this model saves to: the sparse format when it is pruned (has a mask) or
   *  when that is smaller, else the dense one. */
  fileBytes: number;
  denseFileBytes: number;
  sparseFileBytes: number;
  /** Through SparseModel (CSR or dense per layer, whichever the thresholds pick). */
  latencyMs: Latency;
  /** Through the model's own dense predict. */
  denseLatencyMs: Latency;
}

/** Options of `compressionReport`: step label, target sparsity and whether to time the model. */
export interface ReportOptions {
  step?: number;
  sparsity?: number;
  /** Measure latency (default true); false leaves the latencies NaN. */
  latency?: boolean;
  /** Calls per latency median (default 30). */
  repeats?: number;
}

/** Quality, parameters, non-zeros, file bytes and latency of `model` on `data`.
 *  @example const r = compressionReport(pruned, test); console.log(r.accuracy, r.fileBytes, r.latencyMs.batch1); */
export function compressionReport(model: Sequential, data: Dataset, options: ReportOptions = {}): CompressionReport {
  checkModel('compressionReport', model);
  checkKnownKeys('compressionReport', options, ['step', 'sparsity', 'latency', 'repeats']);
  const repeats = checkInteger('compressionReport', 'repeats', options.repeats ?? 30, 1, 1e6);
  const quality = evaluate(model, data);
  const params = model.parameterVector();
  let nonZeros = 0;
  for (let i = 0; i < params.length; i++) if (params[i] !== 0) nonZeros++;
  const denseFileBytes = modelToBytes(model, 'dense').length;
  const sparseFileBytes = sparseModelToBytes(model).length;
  const none: Latency = { batch1: NaN, batch64: NaN };
  let latencyMs = none, denseLatencyMs = none;
  if (options.latency ?? true) {
    const fast = SparseModel.from(model);
    try {
      [latencyMs, denseLatencyMs] = measurePair((x) => fast.predict(x), (x) => model.predict(x), data, repeats);
    } finally {
      fast.dispose();
    }
  }
  return {
    step: options.step ?? 0,
    sparsity: options.sparsity ?? 0,
    ...(quality.task === 'classification' ? { accuracy: quality.accuracy } : { mse: quality.mse }),
    parameters: model.parameterCount,
    nonZeros,
    fileBytes: model.pruningMask || sparseFileBytes < denseFileBytes ? sparseFileBytes : denseFileBytes,
    denseFileBytes,
    sparseFileBytes,
    latencyMs,
    denseLatencyMs,
  };
}

type Predict = (x: Float32Array) => unknown;

/** Median latencies of two predictors on the same rows, their calls alternated so that machine
 *  load falls on both alike. */
export function measurePair(a: Predict, b: Predict, data: Dataset, repeats: number): [Latency, Latency] {
  const rows = (n: number) => {
    const d = data.numFeatures;
    const x = new Float32Array(n * d);
    for (let r = 0; r < n; r++) x.set(data.features.subarray((r % data.numRows) * d, (r % data.numRows + 1) * d), r * d);
    return x;
  };
  const result: [Latency, Latency] = [{ batch1: 0, batch64: 0 }, { batch1: 0, batch64: 0 }];
  for (const [key, n] of [['batch1', 1], ['batch64', 64]] as const) {
    const x = rows(n);
    const times: [number[], number[]] = [[], []];
    // Batch 1 is a few microseconds: time 20 calls per sample to stay above the clock's grain.
    const inner = n === 1 ? 20 : 1;
    for (let w = 0; w < 3; w++) (a(x), b(x));
    for (let r = 0; r < repeats; r++) {
      for (const i of r % 2 ? [1, 0] : [0, 1]) {
        const f = i === 0 ? a : b;
        const start = performance.now();
        for (let k = 0; k < inner; k++) f(x);
        times[i]!.push((performance.now() - start) / inner);
      }
    }
    result[0][key] = median(times[0]);
    result[1][key] = median(times[1]);
  }
  return result;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
