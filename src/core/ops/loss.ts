// Losses over f32 tensors (assembly/kernels/f32-loss.ts), mean-reduced as PyTorch's defaults.
// Each returns the loss and, when asked, the gradient of that mean loss: `grad: true` allocates
// it, `grad: someTensor` writes into it (no allocation: the form a training loop wants; it may be
// the input tensor itself), absent or false skips it. An empty batch gives loss NaN.
import { kernels } from '../wasm.ts';
import { Tensor } from '../tensor.ts';
import { checkKnownKeys, shapeText } from '../errors.ts';
import { checkF32, checkF32Number, checkSameSize, outTensor } from './check.ts';

export interface LossResult {
  /** The mean loss (computed in f64, rounded to f32). */
  loss: number;
  /** d loss / d input, when requested. */
  grad: Tensor<'f32'> | undefined;
}

/** `true` for a new gradient tensor, a tensor to write it into, or false/absent for none. */
export type GradOption = boolean | Tensor<'f32'>;

function gradTensor(where: string, grad: GradOption | undefined, like: Tensor): Tensor<'f32'> | undefined {
  if (grad === undefined || grad === false) return undefined;
  return outTensor(where, grad === true ? undefined : grad, like.shape, 'f32');
}

function checkMatrix(where: string, name: string, x: Tensor): [number, number] {
  if (x.shape.length !== 2) throw new RangeError(`${where}: ${name} must be 2-D [batch, classes], got shape ${shapeText(x.shape)}`);
  return [x.shape[0]!, x.shape[1]!];
}

function checkUnitInterval(where: string, name: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= 0 && v <= 1)) throw new RangeError(`${where}: ${name} must lie in [0, 1], got ${v} at index ${i}`);
  }
}

export interface MseOptions {
  grad?: GradOption;
}

/**
 * MSELoss: mean over all elements of (pred − target)²; gradient 2(pred − target)/n.
 *
 * @example
 * const { loss } = meanSquaredError(pred, target, { grad: dpred });
 */
export function meanSquaredError(pred: Tensor<'f32'>, target: Tensor<'f32'>, options: MseOptions = {}): LossResult {
  const where = 'meanSquaredError';
  checkKnownKeys(where, options, ['grad']);
  checkF32(where, 'pred', pred);
  checkF32(where, 'target', target);
  checkSameSize(where, ['pred', 'target'], [pred, target]);
  const grad = gradTensor(where, options.grad, pred);
  const loss = kernels().f32_mse(grad?.ptr ?? 0, pred.ptr, target.ptr, pred.size);
  return { loss, grad };
}

export interface CrossEntropyOptions {
  /** Label smoothing ε in [0, 1] (default 0), as torch.nn.CrossEntropyLoss(label_smoothing). */
  smoothing?: number;
  /** Per-class weights f32 [C], finite and >= 0, as CrossEntropyLoss(weight). */
  classWeights?: Tensor<'f32'>;
  grad?: GradOption;
}

const XENT_KEYS = ['smoothing', 'classWeights', 'grad'] as const;

/**
 * torch.nn.CrossEntropyLoss on logits [B, C] and integer labels [B] in [0, C). With class weights
 * the mean divides by Σ_i w[y_i], and the smoothing term weights each class c by w[c], exactly as
 * PyTorch combines them.
 *
 * @example
 * const { loss } = softmaxCrossEntropy(logits, labels, { smoothing: 0.1, grad: dlogits });
 */
export function softmaxCrossEntropy(logits: Tensor<'f32'>, labels: Tensor<'i32'>, options: CrossEntropyOptions = {}): LossResult {
  const where = 'softmaxCrossEntropy';
  checkKnownKeys(where, options, XENT_KEYS);
  checkF32(where, 'logits', logits);
  const [B, C] = checkMatrix(where, 'logits', logits);
  if (C < 1) throw new RangeError(`${where}: logits need at least 1 class, got shape ${shapeText(logits.shape)}`);
  if (!(labels instanceof Tensor))
    throw new TypeError(`${where}: labels must be an i32 Tensor, got ${labels === null ? 'null' : typeof labels}`);
  if (labels.dtype !== 'i32') throw new TypeError(`${where}: labels must be an i32 tensor, got ${labels.dtype}`);
  if (labels.size !== B)
    throw new RangeError(
      `${where}: labels ${shapeText(labels.shape)} have ${labels.size} entries, logits ${shapeText(logits.shape)} have ${B} rows`,
    );
  const ys = labels.view();
  for (let i = 0; i < B; i++) {
    if (ys[i]! < 0 || ys[i]! >= C) throw new RangeError(`${where}: labels must be integers in [0, ${C - 1}], got ${ys[i]} at index ${i}`);
  }
  const smoothing = checkF32Number(where, 'smoothing', options.smoothing ?? 0, 0, 1);
  const weights = options.classWeights;
  if (weights !== undefined) {
    checkF32(where, 'classWeights', weights);
    if (weights.size !== C)
      throw new RangeError(`${where}: classWeights ${shapeText(weights.shape)} has ${weights.size} entries, expected ${C} (one per class)`);
    const w = weights.view();
    for (let c = 0; c < C; c++) {
      if (!(w[c]! >= 0 && Number.isFinite(w[c]!)))
        throw new RangeError(`${where}: classWeights must be finite and >= 0, got ${w[c]} at class ${c}`);
    }
  }
  const grad = gradTensor(where, options.grad, logits);
  const loss = kernels().f32_softmax_xent(grad?.ptr ?? 0, logits.ptr, labels.ptr, B, C, smoothing, weights?.ptr ?? 0);
  return { loss, grad };
}

export interface BceOptions {
  /** Weight of the positive term (BCEWithLogitsLoss pos_weight as one scalar), >= 0; default 1. */
  posWeight?: number;
  grad?: GradOption;
}

/**
 * torch.nn.BCEWithLogitsLoss on logits and targets in [0, 1] of the same size, in the stable
 * log-sum-exp form (logits of ±100 give finite values).
 *
 * @example
 * const { loss } = bceWithLogits(logits, targets, { posWeight: 3, grad: true });
 */
export function bceWithLogits(logits: Tensor<'f32'>, targets: Tensor<'f32'>, options: BceOptions = {}): LossResult {
  const where = 'bceWithLogits';
  checkKnownKeys(where, options, ['posWeight', 'grad']);
  checkF32(where, 'logits', logits);
  checkF32(where, 'targets', targets);
  checkSameSize(where, ['logits', 'targets'], [logits, targets]);
  checkUnitInterval(where, 'targets', targets.view());
  const posWeight = checkF32Number(where, 'posWeight', options.posWeight ?? 1, 0);
  const grad = gradTensor(where, options.grad, logits);
  const loss = kernels().f32_bce_logits(grad?.ptr ?? 0, logits.ptr, targets.ptr, logits.size, posWeight);
  return { loss, grad };
}

export interface DistillationOptions {
  /** Softmax temperature T > 0 (default 1). */
  temperature?: number;
  /** Gradient with respect to the student logits. */
  grad?: GradOption;
}

/**
 * Knowledge-distillation loss T²·mean_b KL(softmax(teacher_b/T) ‖ softmax(student_b/T)), i.e.
 * PyTorch `kl_div(log_softmax(s/T), softmax(t/T), reduction='batchmean') * T**2`; the gradient
 * T·(softmax(s/T) − softmax(t/T))/B goes to the student. Logits are [B, C].
 *
 * @example
 * const { loss } = distillationKL(studentLogits, teacherLogits, { temperature: 4, grad: dstudent });
 */
export function distillationKL(student: Tensor<'f32'>, teacher: Tensor<'f32'>, options: DistillationOptions = {}): LossResult {
  const where = 'distillationKL';
  checkKnownKeys(where, options, ['temperature', 'grad']);
  checkF32(where, 'student', student);
  checkF32(where, 'teacher', teacher);
  const [B, C] = checkMatrix(where, 'student', student);
  if (teacher.shape.length !== 2 || teacher.shape[0] !== B || teacher.shape[1] !== C) {
    throw new RangeError(`${where}: teacher has shape ${shapeText(teacher.shape)}, expected the student's ${shapeText(student.shape)}`);
  }
  const temperature = checkF32Number(where, 'temperature', options.temperature ?? 1, Number.MIN_VALUE);
  if (Math.fround(temperature) === 0) throw new RangeError(`${where}: temperature must be positive in f32, got ${temperature}`);
  const grad = gradTensor(where, options.grad, student);
  const loss = kernels().f32_kl_distill(grad?.ptr ?? 0, student.ptr, teacher.ptr, B, C, temperature);
  return { loss, grad };
}
