// The accuracy budget of the pipeline's compression: every candidate (student width, pruning,
// number format) is a trial measured on the validation rows for accuracy, file bytes and batch-1
// latency; the front is what no other candidate beats on all three, and the choice is the
// smallest (or fastest) candidate whose accuracy is within `maxDrop` of the searched model's.

/** One compression trial, measured on the validation rows. */
export interface CompressionCandidate {
  /** "784-32-10 f32, structured 50%, int8-per-channel". */
  name: string;
  /** Hidden widths of the model. */
  widths: number[];
  /** Distilled from the teacher (false: the searched model itself). */
  distilled: boolean;
  pruning: 'none' | 'structured' | 'unstructured';
  /** Share of neurons (structured) or weights (unstructured) removed; 0 without pruning. */
  sparsity: number;
  /** 'f32' or a quantisation scheme. */
  format: string;
  /** Validation accuracy. */
  accuracy: number;
  bytes: number;
  latencyUs: number;
}

/** What the study chose and why: the reference accuracy, the budget line, the front. */
export interface CompressionStudy {
  /** Largest accepted validation-accuracy drop below the searched model's (a fraction). */
  maxDrop: number;
  optimizeFor: 'bytes' | 'latency';
  /** The searched (uncompressed) model's validation accuracy. */
  reference: number;
  /** reference − maxDrop: candidates at or above it are within budget. */
  line: number;
  candidates: CompressionCandidate[];
  /** Indices into candidates of the Pareto front (accuracy up, bytes and latency down). */
  front: number[];
  /** Index into candidates of the chosen one. */
  chosen: number;
}

/** Indices of the candidates no other beats on accuracy, bytes and latency at once (at least as
 *  good on all three and better on one), in the order given. */
export function paretoFront(candidates: readonly Pick<CompressionCandidate, 'accuracy' | 'bytes' | 'latencyUs'>[]): number[] {
  const dominates = (a: (typeof candidates)[number], b: (typeof candidates)[number]) =>
    a.accuracy >= b.accuracy &&
    a.bytes <= b.bytes &&
    a.latencyUs <= b.latencyUs &&
    (a.accuracy > b.accuracy || a.bytes < b.bytes || a.latencyUs < b.latencyUs);
  return candidates.flatMap((c, i) => (candidates.some((d, j) => j !== i && dominates(d, c)) ? [] : [i]));
}

/**
 * The candidate to keep: among those whose accuracy is at least `reference − maxDrop` (to a
 * relative 1e-9, so a drop of exactly maxDrop counts as within), the smallest file (or the lowest
 * latency with optimizeFor 'latency'), ties broken by accuracy, then by the other measure.
 * Returns -1 when none is within budget.
 */
export function selectWithinBudget(
  candidates: readonly Pick<CompressionCandidate, 'accuracy' | 'bytes' | 'latencyUs'>[],
  reference: number,
  maxDrop: number,
  optimizeFor: 'bytes' | 'latency' = 'bytes',
): number {
  const line = reference - maxDrop - 1e-9 * Math.max(1, Math.abs(reference));
  const [first, second] = optimizeFor === 'bytes' ? (['bytes', 'latencyUs'] as const) : (['latencyUs', 'bytes'] as const);
  let best = -1;
  candidates.forEach((c, i) => {
    if (!(c.accuracy >= line)) return;
    const b = candidates[best];
    if (
      !b ||
      c[first] < b[first] ||
      (c[first] === b[first] && (c.accuracy > b.accuracy || (c.accuracy === b.accuracy && c[second] < b[second])))
    )
      best = i;
  });
  return best;
}
