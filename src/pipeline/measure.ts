// What each pipeline stage is measured by: test accuracy, parameters, non-zeros, file bytes and
// batch-1 latency. Every stage's file is written the same way (without feature names, which for
// 784 pixels would outweigh a small model's weights), so the byte counts compare like with like.
import type { Dataset } from '../data/dataset.ts';
import { accuracy } from '../metrics/classification.ts';
import type { Sequential } from '../nn/sequential.ts';
import type { QuantizedModel } from '../compress/quant/model.ts';
import { SparseModel } from '../compress/prune/sparse-model.ts';
import { median } from '../compress/prune/report.ts';
import { modelToBytes } from '../io/model-file.ts';
import { quantizedModelToBytes } from '../io/quantized-file.ts';

/** A model of any stage, as the pipeline sees it. */
export type StageModel = { kind: 'float'; model: Sequential } | { kind: 'quantized'; model: QuantizedModel };

/** The model file of a float model (dense, or sparse when it carries a pruning mask), without
 *  feature names. */
export function floatFileBytes(model: Sequential): Uint8Array {
  const kept = model.preprocessing;
  if (kept.featureNames === undefined) return modelToBytes(model);
  const { featureNames: _, ...rest } = kept;
  model.setPreprocessing(rest);
  try {
    return modelToBytes(model);
  } finally {
    model.setPreprocessing(kept);
  }
}

export function fileBytes(m: StageModel): Uint8Array {
  return m.kind === 'float' ? floatFileBytes(m.model) : quantizedModelToBytes(m.model);
}

/** Weights and biases that are not zero (for a quantised model: non-zero codes and biases). */
export function nonZeros(m: StageModel): number {
  let n = 0;
  if (m.kind === 'float') {
    const params = m.model.parameterVector();
    for (let i = 0; i < params.length; i++) if (params[i] !== 0) n++;
    return n;
  }
  for (const l of m.model.layers) {
    for (let i = 0; i < l.codes.length; i++) if (l.codes[i] !== 0) n++;
    for (let i = 0; i < l.bias.length; i++) if (l.bias[i] !== 0) n++;
  }
  return n;
}

export const parameterCount = (m: StageModel): number => m.model.parameterCount;

export function testAccuracy(m: StageModel, test: Dataset): number {
  return accuracy(test.labels, m.model.predictClasses(test.features));
}

/** A predictor for latency: pruned float models run through SparseModel (CSR where the layer is
 *  sparse enough to gain), the rest through their own predict. Call `dispose` when done. */
export function predictor(m: StageModel): { predict: (x: Float32Array) => unknown; dispose: () => void } {
  if (m.kind === 'float' && m.model.pruningMask) {
    const fast = SparseModel.from(m.model);
    return { predict: (x) => fast.predict(x), dispose: () => fast.dispose() };
  }
  return { predict: (x) => m.model.predict(x), dispose: () => {} };
}

type Predict = (x: Float32Array) => unknown;

/**
 * Median batch-1 latency in µs of each predictor on the first row of `data`. The predictors take
 * turns within every round (in a rotating order), so load on the machine falls on all of them
 * alike and their ratios hold even when the absolute times drift.
 */
export function latenciesUs(predictors: readonly Predict[], data: Dataset, rounds: number): number[] {
  const row = data.features.slice(0, data.numFeatures);
  // A model's first calls run cold code and fill its workspace: let the JIT settle first.
  for (let i = 0; i < 200; i++) for (const p of predictors) p(row);
  // One call is a few microseconds: time 20 per sample to stay well above the clock's grain.
  const inner = 20;
  const samples = predictors.map(() => new Float64Array(rounds));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < predictors.length; k++) {
      const i = (r + k) % predictors.length;
      const p = predictors[i]!;
      const start = performance.now();
      for (let j = 0; j < inner; j++) p(row);
      samples[i]![r] = ((performance.now() - start) * 1000) / inner;
    }
  }
  return samples.map((s) => median(Array.from(s)));
}
