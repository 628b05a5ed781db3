// What each pipeline stage is measured by, through the one measurement module (src/metrics/
// measure.ts): test accuracy, parameters, non-zeros, file bytes and batch-1 latency.
import type { Dataset } from '../data/dataset.ts';
import { accuracy, classificationReport, confusionMatrix } from '../metrics/classification.ts';
import { batchOf, countNonZeros, modelFile, nonZeros, timeCalls, type ModelFile } from '../metrics/measure.ts';
import type { Sequential } from '../nn/sequential.ts';
import type { QuantizedModel } from '../compress/quant/model.ts';
import { SparseModel } from '../compress/prune/sparse-model.ts';
import { QUANTIZED_FORMAT, quantizedModelToBytes } from '../compress/quant/file.ts';
import type { FinalEvaluation, RowStage, SettingValue } from './types.ts';

/** A model of any stage, as the pipeline sees it. */
export type StageModel = { kind: 'float'; model: Sequential } | { kind: 'quantized'; model: QuantizedModel };

/** The stage's model file (without feature names, so stages compare like with like). */
export function stageFile(m: StageModel): ModelFile {
  return m.kind === 'float' ? modelFile(m.model) : { bytes: quantizedModelToBytes(m.model), format: QUANTIZED_FORMAT };
}

/** Weights and biases that are not zero (for a quantised model: non-zero codes and biases). */
export function stageNonZeros(m: StageModel): number {
  return m.kind === 'float' ? nonZeros(m.model) : countNonZeros(m.model.layers.flatMap((l) => [l.codes, l.bias]));
}

export function testAccuracy(m: StageModel, test: Dataset): number {
  return accuracy(test.labels, m.model.predictClasses(test.features));
}

/** A predictor for latency: pruned float models (with a pruning mask) run through SparseModel (CSR where the layer is
 *  sparse enough to gain), the rest through their own predict. Call `dispose` when done. */
export function predictor(m: StageModel): { predict: (x: Float32Array) => unknown; dispose: () => void } {
  if (m.kind === 'float' && m.model.pruningMask) {
    const fast = SparseModel.from(m.model);
    return { predict: (x) => fast.predict(x), dispose: () => fast.dispose() };
  }
  return { predict: (x) => m.model.predict(x), dispose: () => {} };
}

/** Median batch-1 latency in µs of each predictor on the first row of `data`, all timed in the
 *  same rounds. */
export function latenciesUs(predictors: readonly ((x: Float32Array) => unknown)[], data: Dataset, rounds: number): number[] {
  return timeCalls(predictors, batchOf(data, 1), rounds).map((t) => t.medianMs * 1000);
}

/** Confusion matrix and per-class precision, recall, F1 and support of a stage's model on the
 *  test rows (src/metrics' definitions). */
export function finalEvaluation(m: StageModel, stage: RowStage, test: Dataset): FinalEvaluation {
  const predicted = m.model.predictClasses(test.features);
  const k = test.numClasses;
  const report = classificationReport(test.labels, predicted, k);
  return {
    stage,
    classNames: test.classNames.slice(),
    confusion: confusionMatrix(test.labels, predicted, k),
    precision: report.precision,
    recall: report.recall,
    f1: report.f1,
    support: report.support,
  };
}

/** Settings as the report lists them: undefined values left out, objects (a schedule) as JSON. */
export function settingsRecord(settings: object): Record<string, SettingValue> {
  const out: Record<string, SettingValue> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    const isNumbers = Array.isArray(value) && value.every((v) => typeof v === 'number');
    out[key] = typeof value === 'object' && !isNumbers ? JSON.stringify(value) : (value as SettingValue);
  }
  return out;
}
