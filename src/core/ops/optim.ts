// Optimizer updates over tensors (assembly/kernels/f32-optim.ts): PyTorch's SGD, Adam and AdamW
// rules in place on a parameter tensor and its state tensors; masking for pruned weights.
import { kernels } from '../wasm.ts';
import { Tensor } from '../tensor.ts';
import { checkInteger, checkKnownKeys, checkNumber, shapeText } from '../errors.ts';
import { checkF32, checkSameSize } from './check.ts';

export interface SgdStepOptions {
  /** Learning rate, >= 0. */
  lr: number;
  /** Momentum factor μ, >= 0 (default 0: plain (full-batch or stochastic) gradient descent). */
  momentum?: number;
  /** Dampening of the gradient in the momentum buffer, in [0, 1] (default 0). */
  dampening?: number;
  /** L2 penalty added to the gradient, >= 0 (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false); needs momentum > 0 and dampening 0, as in PyTorch. */
  nesterov?: boolean;
  /** True on the parameter's first step: the buffer is set to the gradient, not decayed into. */
  first?: boolean;
}

const SGD_KEYS = ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'first'] as const;

/**
 * One torch.optim.SGD step in place on `param` (and `buffer`, needed when momentum > 0).
 * `grad` is only read.
 *
 * @example
 * sgdStep(w, dw, buf, { lr: 0.1, momentum: 0.9, first: step === 1 });
 */
export function sgdStep(param: Tensor<'f32'>, grad: Tensor<'f32'>, buffer: Tensor<'f32'> | undefined, options: SgdStepOptions): void {
  const where = 'sgdStep';
  checkKnownKeys(where, options, SGD_KEYS);
  if (options === undefined) throw new TypeError(`${where}: options with lr are required`);
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false, first = false } = options;
  checkNumber(where, 'lr', lr, 0);
  checkNumber(where, 'momentum', momentum, 0);
  checkNumber(where, 'dampening', dampening, 0, 1);
  checkNumber(where, 'weightDecay', weightDecay, 0);
  checkFlag(where, 'nesterov', nesterov);
  checkFlag(where, 'first', first);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new RangeError(`${where}: nesterov needs momentum > 0 and dampening 0, got momentum=${momentum} dampening=${dampening}`);
  }
  checkF32(where, 'param', param);
  checkF32(where, 'grad', grad);
  if (momentum !== 0) {
    if (buffer === undefined) throw new TypeError(`${where}: momentum ${momentum} needs a momentum buffer tensor`);
    checkF32(where, 'buffer', buffer);
    checkSameSize(where, ['param', 'grad', 'buffer'], [param, grad, buffer]);
  } else {
    checkSameSize(where, ['param', 'grad'], [param, grad]);
  }
  const bufPtr = momentum !== 0 ? buffer!.ptr : 0;
  kernels().f32_sgd_step(param.ptr, grad.ptr, bufPtr, param.size, lr, momentum, dampening, weightDecay, nesterov ? 1 : 0, first ? 1 : 0);
}

export interface AdamStepOptions {
  /** Learning rate, >= 0 (default 0.001). */
  lr?: number;
  /** Decay of the first moment, in [0, 1) (default 0.9). */
  beta1?: number;
  /** Decay of the second moment, in [0, 1) (default 0.999). */
  beta2?: number;
  /** Added to √v̂ in the denominator, >= 0 (default 1e-8). */
  eps?: number;
  /** Weight decay, >= 0 (default 0; torch.optim.AdamW defaults to 0.01). */
  weightDecay?: number;
  /** true: AdamW's decoupled decay p ← p·(1 − lr·wd); false: Adam's L2 term g + wd·p (default). */
  decoupled?: boolean;
  /** The 1-based count of steps taken including this one, for the bias corrections. */
  step: number;
}

const ADAM_KEYS = ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'decoupled', 'step'] as const;

/**
 * One torch.optim.Adam (or AdamW, with `decoupled: true`) step in place on `param` and its
 * moments `m` and `v` (zeros before the first step). `grad` is only read.
 *
 * @example
 * adamStep(w, dw, m, v, { lr: 1e-3, weightDecay: 0.01, decoupled: true, step: t });
 */
export function adamStep(param: Tensor<'f32'>, grad: Tensor<'f32'>, m: Tensor<'f32'>, v: Tensor<'f32'>, options: AdamStepOptions): void {
  const where = 'adamStep';
  checkKnownKeys(where, options, ADAM_KEYS);
  if (options === undefined) throw new TypeError(`${where}: options with step are required`);
  const { lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, decoupled = false, step } = options;
  checkNumber(where, 'lr', lr, 0);
  checkBeta(where, 'beta1', beta1);
  checkBeta(where, 'beta2', beta2);
  checkNumber(where, 'eps', eps, 0);
  checkNumber(where, 'weightDecay', weightDecay, 0);
  checkFlag(where, 'decoupled', decoupled);
  checkInteger(where, 'step', step, 1, 2 ** 31 - 1);
  const names = ['param', 'grad', 'm', 'v'];
  [param, grad, m, v].forEach((t, i) => checkF32(where, names[i]!, t));
  checkSameSize(where, names, [param, grad, m, v]);
  kernels().f32_adam_step(param.ptr, grad.ptr, m.ptr, v.ptr, param.size, lr, beta1, beta2, eps, weightDecay, step, decoupled ? 1 : 0);
}

/** x ← x where mask != 0, else +0: keeps pruned weights exactly zero after each update. */
export function maskInPlace(x: Tensor<'f32'>, mask: Tensor<'u8'>): void {
  const where = 'maskInPlace';
  checkF32(where, 'x', x);
  if (!(mask instanceof Tensor) || mask.dtype !== 'u8')
    throw new TypeError(`${where}: mask must be a u8 tensor, got ${mask instanceof Tensor ? mask.dtype : typeof mask}`);
  if (mask.size !== x.size)
    throw new RangeError(`${where}: mask ${shapeText(mask.shape)} has ${mask.size} elements, x ${shapeText(x.shape)} has ${x.size}`);
  kernels().f32_mask_u8(x.ptr, mask.ptr, x.size);
}

function checkFlag(where: string, name: string, value: unknown): void {
  if (typeof value !== 'boolean') throw new TypeError(`${where}: ${name} must be a boolean, got ${typeof value}`);
}

function checkBeta(where: string, name: string, value: unknown): void {
  checkNumber(where, name, value, 0);
  if ((value as number) >= 1) throw new RangeError(`${where}: ${name} must be in [0, 1), got ${value}`);
}

/** Scales `grads` in place down to global L2 norm `maxNorm` when above it, as PyTorch's
 *  clip_grad_norm_ (factor maxNorm / (norm + 1e-6)); returns the norm before clipping. */
export function clipGlobalNorm(grads: Tensor<'f32'>, maxNorm: number): number {
  const k = kernels();
  const norm = Math.sqrt(k.f32_sumsq(grads.ptr, grads.size));
  const factor = maxNorm / (norm + 1e-6);
  if (factor < 1) k.f32_scale(grads.ptr, grads.size, factor);
  return norm;
}
