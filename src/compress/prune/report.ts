// What a compression step bought: quality, size on disk and measured inference latency.
import { checkInteger, checkKnownKeys } from '../../core/errors.ts';
import type { Dataset } from '../../data/dataset.ts';
import type { Sequential } from '../../nn/sequential.ts';
import { evaluate } from '../../train/evaluate.ts';
import { modelToBytes } from '../../io/model-file.ts';
import { sparseModelToBytes } from '../../io/sparse-file.ts';
import { batchOf, nonZeros, timeCalls } from '../../metrics/measure.ts';
import { runsThroughCsr, SparseModel } from './sparse-model.ts';
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
  /** Through SparseModel (CSR or dense per layer, whichever the thresholds pick); a model with
   *  convolutions, which SparseModel does not run, through its own predict. */
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
  /** Timed samples per latency median (default 30; see timeCalls in src/metrics/measure.ts). */
  repeats?: number;
}

/** Quality, parameters, non-zeros, file bytes and latency of `model` on `data`.
 *  @example const r = compressionReport(pruned, test); console.log(r.accuracy, r.fileBytes, r.latencyMs.batch1); */
export function compressionReport(model: Sequential, data: Dataset, options: ReportOptions = {}): CompressionReport {
  checkModel('compressionReport', model);
  checkKnownKeys('compressionReport', options, ['step', 'sparsity', 'latency', 'repeats']);
  const repeats = checkInteger('compressionReport', 'repeats', options.repeats ?? 30, 1, 1e6);
  const quality = evaluate(model, data);
  const denseFileBytes = modelToBytes(model, 'dense').length;
  const sparseFileBytes = sparseModelToBytes(model).length;
  const none: Latency = { batch1: NaN, batch64: NaN };
  let latencyMs = none,
    denseLatencyMs = none;
  if (options.latency ?? true) {
    // Models with convolutions have no CSR path: both latencies are the Sequential's own.
    const fast = runsThroughCsr(model) ? SparseModel.from(model) : undefined;
    try {
      [latencyMs, denseLatencyMs] = measurePair(
        (x) => (fast ?? model).predict(x),
        (x) => model.predict(x),
        data,
        repeats,
      );
    } finally {
      fast?.dispose();
    }
  }
  return {
    step: options.step ?? 0,
    sparsity: options.sparsity ?? 0,
    ...(quality.task === 'classification' ? { accuracy: quality.accuracy } : { mse: quality.mse }),
    parameters: model.parameterCount,
    nonZeros: nonZeros(model),
    fileBytes: model.pruningMask || sparseFileBytes < denseFileBytes ? sparseFileBytes : denseFileBytes,
    denseFileBytes,
    sparseFileBytes,
    latencyMs,
    denseLatencyMs,
  };
}

type Predict = (x: Float32Array) => unknown;

/** Median latencies of two predictors on the same rows (batches of 1 and of 64), timed together
 *  by the measurement module so that machine load falls on both alike. */
export function measurePair(a: Predict, b: Predict, data: Dataset, repeats: number): [Latency, Latency] {
  const [a1, b1] = timeCalls([a, b], batchOf(data, 1), repeats);
  const [a64, b64] = timeCalls([a, b], batchOf(data, 64), repeats);
  return [
    { batch1: a1!.medianMs, batch64: a64!.medianMs },
    { batch1: b1!.medianMs, batch64: b64!.medianMs },
  ];
}
