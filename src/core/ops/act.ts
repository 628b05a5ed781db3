// Activations and row softmax over f32 tensors (assembly/kernels/f32-act.ts).
import { kernels, type KernelName } from '../wasm.ts';
import type { Tensor } from '../tensor.ts';
import { checkKnownKeys } from '../errors.ts';
import { activationCode, type Activation } from '../activation.ts';
import { checkF32, checkF32Number, checkSameSize, outTensor, rowsAndCols } from './check.ts';

/** PyTorch's LeakyReLU default negative slope. */
export const DEFAULT_LEAKY_SLOPE = 0.01;

export interface ActivationOptions {
  /** Negative slope of leaky_relu (default 0.01); ignored by the others. */
  alpha?: number;
  /** Where to write the result (shape of x; may be x itself). A new tensor when absent. */
  out?: Tensor<'f32'>;
}

export interface ActivationBackwardOptions extends ActivationOptions {
  /** The forward output f(x), which sigmoid and tanh reuse (as PyTorch does); recomputed when absent. */
  y?: Tensor<'f32'>;
}

const FWD_KEYS = ['alpha', 'out'] as const;
const BWD_KEYS = ['alpha', 'out', 'y'] as const;

/**
 * y = f(x) element-wise for an activation name (linear, relu, leaky_relu, sigmoid, tanh, gelu;
 * gelu is the exact erf form, PyTorch's default).
 *
 * @example
 * const h = activationForward(pre, 'gelu');
 */
export function activationForward(x: Tensor<'f32'>, activation: Activation, options: ActivationOptions = {}): Tensor<'f32'> {
  const where = 'activationForward';
  checkKnownKeys(where, options, FWD_KEYS);
  const code = activationCode(where, activation);
  checkF32(where, 'x', x);
  const alpha = checkF32Number(where, 'alpha', options.alpha ?? DEFAULT_LEAKY_SLOPE);
  const out = outTensor(where, options.out, x.shape, 'f32');
  kernels().f32_act_fwd(out.ptr, x.ptr, x.size, code, alpha);
  return out;
}

/**
 * dx = dy ⊙ f′(x) for the pre-activation `x`. Pass `out: dy` to overwrite dy in place.
 *
 * @example
 * const dpre = activationBackward(dh, pre, 'tanh', { y: h });
 */
export function activationBackward(
  dy: Tensor<'f32'>,
  x: Tensor<'f32'>,
  activation: Activation,
  options: ActivationBackwardOptions = {},
): Tensor<'f32'> {
  const where = 'activationBackward';
  checkKnownKeys(where, options, BWD_KEYS);
  const code = activationCode(where, activation);
  checkF32(where, 'dy', dy);
  checkF32(where, 'x', x);
  checkSameSize(where, ['x', 'dy'], [x, dy]);
  if (options.y !== undefined) {
    checkF32(where, 'y', options.y);
    checkSameSize(where, ['x', 'y'], [x, options.y]);
  }
  const alpha = checkF32Number(where, 'alpha', options.alpha ?? DEFAULT_LEAKY_SLOPE);
  const out = outTensor(where, options.out, x.shape, 'f32');
  kernels().f32_act_bwd(out.ptr, dy.ptr, x.ptr, options.y?.ptr ?? 0, x.size, code, alpha);
  return out;
}

export interface SoftmaxOptions {
  /** Temperature T > 0: the logits are divided by T first (default 1). */
  temperature?: number;
  /** Where to write the result (shape of x; may be x itself). A new tensor when absent. */
  out?: Tensor<'f32'>;
}

const SOFTMAX_KEYS = ['temperature', 'out'] as const;

function softmaxLike(where: string, kernel: KernelName, x: Tensor<'f32'>, options: SoftmaxOptions): Tensor<'f32'> {
  checkKnownKeys(where, options, SOFTMAX_KEYS);
  checkF32(where, 'x', x);
  const [rows, cols] = rowsAndCols(where, 'x', x);
  const invT = inverseTemperature(where, options.temperature ?? 1);
  const out = outTensor(where, options.out, x.shape, 'f32');
  (kernels()[kernel] as (...args: number[]) => unknown)(out.ptr, x.ptr, rows, cols, invT);
  return out;
}

/** @internal 1/T as the f32 the kernels take, checked to be positive and finite. */
export function inverseTemperature(where: string, temperature: unknown): number {
  checkF32Number(where, 'temperature', temperature, Number.MIN_VALUE);
  const invT = Math.fround(1 / (temperature as number));
  if (!(invT > 0 && Number.isFinite(invT)))
    throw new RangeError(`${where}: temperature must have 1/temperature finite in f32, got ${temperature}`);
  return invT;
}

/**
 * softmax(x/T) over the last axis, max-subtracted so large logits cannot overflow.
 *
 * @example
 * const probs = softmax(logits, { temperature: 2 });
 */
export function softmax(x: Tensor<'f32'>, options: SoftmaxOptions = {}): Tensor<'f32'> {
  return softmaxLike('softmax', 'f32_softmax_rows', x, options);
}

/**
 * log_softmax(x/T) over the last axis, computed as x/T − logsumexp(x/T).
 *
 * @example
 * const logp = logSoftmax(logits);
 */
export function logSoftmax(x: Tensor<'f32'>, options: SoftmaxOptions = {}): Tensor<'f32'> {
  return softmaxLike('logSoftmax', 'f32_log_softmax_rows', x, options);
}
