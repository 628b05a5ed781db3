// One call for the usual metrics of a model on a data set.
import type { Dataset } from '../data/dataset.ts';
import type { Sequential } from '../nn/sequential.ts';
import { accuracy, classificationReport, confusionMatrix, logLoss, type ClassificationReport } from '../metrics/classification.ts';
import { meanAbsoluteError, meanSquaredError, r2Score, rootMeanSquaredError } from '../metrics/regression.ts';
import { checkDataFits } from './fit.ts';
import { classesOf } from '../nn/predictor.ts';

/** What `evaluate` returns: classification or regression metrics. */
export type Evaluation =
  | { task: 'classification'; accuracy: number; logLoss: number; confusionMatrix: number[][]; report: ClassificationReport }
  | { task: 'regression'; mse: number; rmse: number; mae: number; r2: number };

/** Metrics of `model` on `data`: accuracy, log loss, confusion matrix and per-class precision /
 *  recall for classifiers; MSE, RMSE, MAE and R² for regression. */
export function evaluate(model: Sequential, data: Dataset): Evaluation {
  checkDataFits('evaluate', model, data);
  const out = model.predict(data.features);
  if (model.task === 'regression') {
    const k = data.numTargets;
    return {
      task: 'regression',
      mse: meanSquaredError(data.targets, out, k),
      rmse: rootMeanSquaredError(data.targets, out, k),
      mae: meanAbsoluteError(data.targets, out, k),
      r2: r2Score(data.targets, out, k),
    };
  }
  const probs =
    model.task === 'binary' ? Float32Array.from({ length: out.length * 2 }, (_, i) => (i % 2 ? out[i >> 1]! : 1 - out[i >> 1]!)) : out;
  const C = probs.length / data.numRows;
  const predicted = classesOf(probs, C);
  return {
    task: 'classification',
    accuracy: accuracy(data.labels, predicted),
    logLoss: logLoss(data.labels, probs),
    confusionMatrix: confusionMatrix(data.labels, predicted, C),
    report: classificationReport(data.labels, predicted, C),
  };
}
