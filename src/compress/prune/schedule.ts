// Gradual pruning: sparsity raised step by step along Zhu & Gupta's cubic schedule, with
// fine-tuning between steps, so the network adapts while it loses weights or neurons.
// see: Zhu & Gupta, "To prune, or not to prune", arXiv:1710.01878
import { checkInteger, checkKnownKeys, checkNumber } from '../../core/errors.ts';
import type { Dataset } from '../../data/dataset.ts';
import type { Sequential } from '../../nn/sequential.ts';
import { fit, type FitOptions } from '../../train/fit.ts';
import { neuronScores, type NeuronCriterion, type WeightCriterion } from './importance.ts';
import { checkModel, checkScope, checkSparsity, prunedCount, type PruneScope } from './rank.ts';
import { compressionReport, type CompressionReport } from './report.ts';
import { hiddenUnits, pruneFilters, removeLowest } from './structured.ts';
import { pruneWeights } from './unstructured.ts';

/** Sparsity rising from s_i to s_f over n steps along a cubic (Zhu & Gupta). */
export interface PolynomialSchedule {
  /** s_i, default 0. */
  initialSparsity?: number;
  /** s_f. */
  finalSparsity: number;
  /** t0, the first pruning step (default 0). */
  beginStep?: number;
  /** n, the number of pruning steps after t0. */
  steps: number;
  /** Δt, steps between pruning events (default 1). */
  frequency?: number;
}

/**
 * s_t = s_f + (s_i − s_f)·(1 − (t − t0)/(n·Δt))³ for t0 <= t <= t0 + n·Δt; s_i before, s_f after.
 * Pruning fast while many weights are redundant, then slower near the target.
 *
 * @example
 * polynomialSparsity(2, { finalSparsity: 0.9, steps: 4 }); // 0.9 − 0.9·0.125 = 0.7875
 */
export function polynomialSparsity(t: number, schedule: PolynomialSchedule): number {
  const where = 'polynomialSparsity';
  checkKnownKeys(where, schedule, ['initialSparsity', 'finalSparsity', 'beginStep', 'steps', 'frequency']);
  checkNumber(where, 't', t);
  const si = checkNumber(where, 'initialSparsity', schedule.initialSparsity ?? 0, 0, 1);
  const sf = checkNumber(where, 'finalSparsity', schedule.finalSparsity, 0, 1);
  const t0 = checkNumber(where, 'beginStep', schedule.beginStep ?? 0);
  const n = checkInteger(where, 'steps', schedule.steps, 1);
  const dt = checkNumber(where, 'frequency', schedule.frequency ?? 1, Number.MIN_VALUE);
  const progress = Math.min(1, Math.max(0, (t - t0) / (n * dt)));
  const rest = 1 - progress;
  return sf + (si - sf) * rest * rest * rest;
}

/** Options of `pruneIteratively`: sparsity schedule, pruning kind and fine-tuning per step. */
export interface IterativePruneOptions {
  finalSparsity: number;
  /** Default 0. */
  initialSparsity?: number;
  /** Pruning steps n (default 5), each followed by fine-tuning. */
  steps?: number;
  /** Remove hidden neurons and conv2d filters (the model shrinks) instead of masking weights.
   *  Default false. */
  structured?: boolean;
  criterion?: WeightCriterion | NeuronCriterion;
  /** Default 'layer'. */
  scope?: PruneScope;
  /** Options of the fine-tuning fit after each step; default { epochs: 2 }, and standardize
   *  false so the model keeps the input scaling it was trained with. */
  fineTune?: FitOptions;
  /** Data the reports (and the data-based criteria) are measured on; default the training data. */
  evaluation?: Dataset;
  /** Measure latency in the reports (default true). */
  latency?: boolean;
  onStep?: (report: CompressionReport, model: Sequential) => void | Promise<void>;
}

/** What `pruneIteratively` returns: the pruned model and a report per step. */
export interface IterativePruneResult {
  /** The pruned, fine-tuned model: the input model itself when unstructured, a new one when
   *  structured (the input is left as it was). */
  model: Sequential;
  /** Step 0 is the model as given; then one report per pruning step, after its fine-tuning. */
  reports: CompressionReport[];
}

const KEYS = [
  'finalSparsity',
  'initialSparsity',
  'steps',
  'structured',
  'criterion',
  'scope',
  'fineTune',
  'evaluation',
  'latency',
  'onStep',
];

/**
 * Prunes along the polynomial schedule (t = 1 … n, Δt = 1), fine-tuning with `fit` after each
 * step. Masks hold through fine-tuning; structured steps rebuild the model smaller.
 *
 * @example
 * const { model: small, reports } = await pruneIteratively(model, train, {
 *   finalSparsity: 0.9, steps: 4, fineTune: { epochs: 2 }, evaluation: test });
 */
export async function pruneIteratively(model: Sequential, data: Dataset, options: IterativePruneOptions): Promise<IterativePruneResult> {
  const where = 'pruneIteratively';
  checkModel(where, model);
  checkKnownKeys(where, options, KEYS);
  const finalSparsity = checkSparsity(where, options.finalSparsity);
  const initialSparsity = checkNumber(where, 'initialSparsity', options.initialSparsity ?? 0, 0, finalSparsity);
  const steps = checkInteger(where, 'steps', options.steps ?? 5, 1, 1000);
  const scope = checkScope(where, options.scope ?? 'layer');
  const structured = options.structured ?? false;
  const evaluation = options.evaluation ?? data;
  const schedule = { initialSparsity, finalSparsity, steps };
  const report = (m: Sequential, step: number, sparsity: number) =>
    compressionReport(m, evaluation, { step, sparsity, latency: options.latency });
  const reports = [report(model, 0, 0)];
  const original = hiddenUnits(model);
  const filters = new Map(model.layers.flatMap((l, i) => (l.type === 'conv2d' ? [[i, l.filters] as const] : [])));
  let current = model;
  try {
    for (let t = 1; t <= steps; t++) {
      const sparsity = polynomialSparsity(t, schedule);
      if (structured) {
        const criterion = options.criterion as NeuronCriterion | undefined;
        // Filters per conv2d layer: the schedule's share of the original count, per layer.
        const convs = pruneFilters(
          where,
          current,
          { criterion, data: evaluation },
          (_, l) => filters.get(l)! - prunedCount(sparsity, filters.get(l)!),
        );
        if (convs !== current && current !== model) current.dispose();
        current = convs;
        const scores = neuronScores(current, { criterion, data: evaluation });
        const units = hiddenUnits(current);
        const removals =
          scope === 'layer'
            ? original.map((u, l) => units[l]! - (u - prunedCount(sparsity, u)))
            : units.reduce((a, b) => a + b, 0) -
              (original.reduce((a, b) => a + b, 0) -
                prunedCount(
                  sparsity,
                  original.reduce((a, b) => a + b, 0),
                ));
        const next = removeLowest(current, scores, removals);
        if (current !== model) current.dispose();
        current = next;
      } else {
        pruneWeights(current, { sparsity, scope, criterion: options.criterion as WeightCriterion | undefined, data: evaluation });
      }
      await fit(current, data, { epochs: 2, standardize: false, ...options.fineTune });
      const r = report(current, t, sparsity);
      reports.push(r);
      await options.onStep?.(r, current);
    }
  } catch (error) {
    if (current !== model) current.dispose();
    throw error;
  }
  return { model: current, reports };
}
