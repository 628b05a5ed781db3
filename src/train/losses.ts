// Training losses as plain functions over arrays, for checks and loops written outside kiln: the
// same kernels `fit` runs, the same reductions and gradients.
import { checkKnownKeys, checkNumber } from '../core/errors.ts';
import { scope, Tensor } from '../core/tensor.ts';
import { addScaledInPlace, scaleInPlace } from '../core/ops/eltwise.ts';
import { distillationKL, softmaxCrossEntropy } from '../core/ops/loss.ts';

/** Options of `distillationLoss`: `fit`'s distillation settings and defaults. */
export interface DistillationLossOptions {
  /** Softmax temperature T > 0 of the soft term. Default 4. */
  temperature?: number;
  /** Weight α in [0, 1] of the soft term; the labels' cross-entropy gets 1 − α. Default 0.9. */
  alpha?: number;
}

/** The loss and its gradient with respect to the student's logits, [rows × classes] row-major. */
export interface DistillationLossResult {
  loss: number;
  gradient: Float32Array;
}

const rowsOf = (where: string, name: string, x: ArrayLike<number> | readonly ArrayLike<number>[], classes?: number): Float32Array => {
  if (Array.isArray(x) && x.length > 0 && typeof x[0] === 'object') {
    const rows = x as readonly ArrayLike<number>[];
    const C = rows[0]!.length;
    const out = new Float32Array(rows.length * C);
    rows.forEach((r, i) => {
      if (r.length !== C) throw new RangeError(`${where}: ${name}[${i}] has ${r.length} values, ${name}[0] has ${C}`);
      out.set(r, i * C);
    });
    return out;
  }
  if (x === null || typeof x !== 'object' || typeof (x as ArrayLike<number>).length !== 'number')
    throw new TypeError(`${where}: ${name} must be rows (number[][]) or a flat array, got ${x === null ? 'null' : typeof x}`);
  if (classes !== undefined && (x as ArrayLike<number>).length % classes !== 0)
    throw new RangeError(`${where}: ${name} has ${(x as ArrayLike<number>).length} values, not a multiple of ${classes} classes`);
  return Float32Array.from(x as ArrayLike<number>);
};

/**
 * The knowledge-distillation loss `fit` minimises with `distill` on a classifier (Hinton et al.
 * 2015): α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α)·CE(student, labels), both
 * terms batch means, with its gradient with respect to the student's logits. PyTorch:
 * `alpha * kl_div(log_softmax(s/T), softmax(t/T), reduction='batchmean') * T**2 + (1 - alpha) * cross_entropy(s, y)`.
 *
 * @example
 * const { loss, gradient } = distillationLoss(studentLogits, teacherLogits, labels, { temperature: 4, alpha: 0.9 });
 */
export function distillationLoss(
  student: ArrayLike<number> | readonly ArrayLike<number>[],
  teacher: ArrayLike<number> | readonly ArrayLike<number>[],
  labels: ArrayLike<number>,
  options: DistillationLossOptions = {},
): DistillationLossResult {
  const where = 'distillationLoss';
  checkKnownKeys(where, options, ['temperature', 'alpha']);
  const temperature = checkNumber(where, 'temperature', options.temperature ?? 4, Number.MIN_VALUE);
  const alpha = checkNumber(where, 'alpha', options.alpha ?? 0.9, 0, 1);
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number' || labels.length === 0)
    throw new TypeError(`${where}: labels must be a non-empty array of class indices`);
  const B = labels.length;
  const s = rowsOf(where, 'student', student);
  if (s.length % B !== 0 || s.length === 0)
    throw new RangeError(`${where}: student has ${s.length} values, not ${B} rows (one per label) of at least one class`);
  const C = s.length / B;
  const t = rowsOf(where, 'teacher', teacher, C);
  if (t.length !== s.length)
    throw new RangeError(`${where}: teacher has ${t.length} values, the student ${s.length} (${B} rows × ${C} classes)`);
  return scope(() => {
    const logits = Tensor.from(s, [B, C]);
    const soft = distillationKL(logits, Tensor.from(t, [B, C]), { temperature, grad: true });
    if (alpha === 1) return { loss: soft.loss, gradient: soft.grad!.read() };
    const hard = softmaxCrossEntropy(logits, Tensor.from(Int32Array.from(labels), [B], 'i32'), { grad: true });
    // As fit combines them: the hard gradient scaled by 1 − α, plus α times the soft one.
    scaleInPlace(hard.grad!, 1 - alpha);
    addScaledInPlace(hard.grad!, soft.grad!, alpha);
    return { loss: alpha * soft.loss + (1 - alpha) * hard.loss, gradient: hard.grad!.read() };
  });
}
