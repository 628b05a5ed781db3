// kiln train's default model when no flag describes one: a linear model or the default MLP,
// chosen by cross-validation on the training rows (never the test rows) with the
// one-standard-error rule.
import type { Command } from 'commander';
import { evaluate, fit, kFold, type Dataset, type Evaluation, type FitOptions } from '../../index.ts';
import { buildModel, type ArchitectureFlags, type TaskFlag } from '../architecture-flags.ts';
import { optimizerFrom, type TrainingFlags } from '../training-flags.ts';

// Five folds: each candidate trains on 80 % of the training rows, as the final model trains on
// 80 % of all rows. Up to 2,000 training rows, one validation slice would be too coarse to choose
// by (a fifth of iris's 120 is 24 rows: one row is 4 points), so every row validates once.
// Above it the choice is skipped and the MLP kept: on the MNIST digits (8,000 training rows) a
// linear model's test accuracy is 0.896 at lr 1e-3 and 0.871 at LINEAR_LR, the MLP's 0.9405, and
// ten extra trainings of a large data set would cost minutes.
export const CV_FOLDS = 5;
export const CV_MAX_ROWS = 2000;
// Fewer rows than two a fold leave nothing to validate on; such data keeps the MLP.
const CV_MIN_ROWS = 2 * CV_FOLDS;
// A linear model's loss is convex: it tolerates a larger step, and needs it, since at the MLP's
// lr 1e-3 the update budget leaves it far from converged (iris seed 0: 0.700 at 1e-3, 0.967 at 0.05).
export const LINEAR_LR = 0.05;

/** `--layers`'s default in `kiln train --help`. */
export const DEFAULT_MODEL_TEXT = `64, or none if that cross-validates within one standard error of it (classification, up to ${CV_MAX_ROWS} training rows)`;

/** One candidate of the choice, with its mean cross-validated score. */
export interface CandidateScore {
  name: 'linear' | 'mlp';
  layers: number[];
  lr: number | null;
  /** Accuracy on each fold's held-out rows. */
  folds: number[];
  mean: number;
  /** Standard error of `mean`: the folds' sample standard deviation over √folds. */
  standardError: number;
}

/** What `chooseDefaultModel` decided, as `--json` reports it (`modelChoice`). */
export interface ModelChoice {
  chosen: 'linear' | 'mlp';
  folds: number;
  candidates: CandidateScore[];
}

/** Whether the choice applies: a new classification model, no architecture flag, 10 to 2,000 training rows. */
export function choosesDefaultModel(givenArchitectureFlag: string | undefined, continuing: boolean, train: Dataset): boolean {
  return (
    givenArchitectureFlag === undefined &&
    !continuing &&
    train.task === 'classification' &&
    train.numRows >= CV_MIN_ROWS &&
    train.numRows <= CV_MAX_ROWS
  );
}

/**
 * Scores the candidates (simplest first) by k-fold cross-validation on `train`, each trained as
 * the final model would be (`epochsFor` rows → epochs), and returns the simplest candidate whose
 * mean is within one standard error of the best mean (the one-standard-error rule).
 * Deterministic from the seed: folds and initial weights both come from it.
 */
export async function chooseDefaultModel(
  cmd: Command,
  o: TrainingFlags & ArchitectureFlags & { task: TaskFlag; seed: number },
  train: Dataset,
  options: FitOptions,
  epochsFor: (rows: number) => number,
): Promise<ModelChoice> {
  const folds = kFold(train, CV_FOLDS, o.seed);
  // The folds' held-out rows are their validation; --validation-split's rows stay out of the choice.
  const { validation: _, ...foldOptions } = options;
  const candidates: CandidateScore[] = [];
  for (const candidate of candidatesOf(o)) {
    const scores: number[] = [];
    for (const fold of folds) {
      const model = buildModel({ ...o, layers: candidate.layers }, o.task, fold.train, o.seed);
      try {
        const optimizer = optimizerFrom(cmd, candidate.lr === null ? o : { ...o, lr: candidate.lr });
        await fit(model, fold.train, { ...foldOptions, optimizer, epochs: epochsFor(fold.train.numRows) });
        scores.push(accuracyOf(evaluate(model, fold.validation)));
      } finally {
        model.dispose();
      }
    }
    candidates.push({ ...candidate, ...meanAndStandardError(scores) });
  }
  // The one-standard-error rule (Breiman et al. 1984; Hastie, Tibshirani and Friedman, The Elements
  // of Statistical Learning, 7.10): a fold of iris's training rows is 24 rows, so fold accuracies
  // move by several points, and a bigger model whose mean is higher by less than the best mean's
  // standard error has not shown that it is better. The simplest candidate within it is kept.
  const best = candidates.reduce((a, b) => (b.mean > a.mean ? b : a));
  const chosen = candidates.find((c) => c.mean >= best.mean - best.standardError)!;
  return { chosen: chosen.name, folds: CV_FOLDS, candidates };
}

function meanAndStandardError(scores: number[]): { folds: number[]; mean: number; standardError: number } {
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const variance = scores.reduce((a, b) => a + (b - mean) ** 2, 0) / (scores.length - 1);
  return { folds: scores, mean, standardError: Math.sqrt(variance / scores.length) };
}

/** The flags and learning rate of the chosen candidate, for the final model. */
export function chosenSettings(choice: ModelChoice): { layers: number[]; lr: number | null } {
  return choice.candidates.find((c) => c.name === choice.chosen)!;
}

/** "linear (cv 0.967 ± 0.016) over mlp 64 (cv 0.975 ± 0.010), by 5-fold cross-validation on the training rows, …" */
export function modelChoiceLine(choice: ModelChoice): string {
  const text = (c: CandidateScore) =>
    `${c.name}${c.layers.length ? ` ${c.layers.join(',')}` : ''} (cv ${c.mean.toFixed(3)} ± ${c.standardError.toFixed(3)})`;
  const chosen = choice.candidates.find((c) => c.name === choice.chosen)!;
  const others = choice.candidates.filter((c) => c !== chosen).map(text);
  return `${text(chosen)} over ${others.join(', ')}, by ${choice.folds}-fold cross-validation on the training rows, the simplest within one standard error of the best`;
}

// The user's --lr applies to both; without it the linear model takes its own.
function candidatesOf(o: TrainingFlags & ArchitectureFlags): Omit<CandidateScore, 'folds' | 'mean' | 'standardError'>[] {
  return [
    { name: 'linear', layers: [], lr: o.lr === undefined && o.optimizer !== 'gd' && o.optimizer !== 'sgd' ? LINEAR_LR : null },
    { name: 'mlp', layers: o.layers, lr: null },
  ];
}

// The choice is made for classification only (choosesDefaultModel), where evaluate reports accuracy.
function accuracyOf(e: Evaluation): number {
  if (e.task === 'regression') throw new Error('chooseDefaultModel: the choice is made for classification only');
  return e.accuracy;
}
