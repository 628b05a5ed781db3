// An ensemble teacher's outputs: the average of several classifiers' probabilities, as logits.
import { kernels } from '../wasm.ts';
import { Tensor, scope } from '../tensor.ts';

/**
 * out [B, C] = log((1/K)·Σ_k softmax(logits[k])) for logits [K, B, C] (f32_log_mean_softmax):
 * logits whose softmax is the ensemble's mean probability (and softmax(out/T) its tempered form).
 */
export function logMeanSoftmax(out: Tensor<'f32'>, logits: Tensor<'f32'>, K: number, B: number, C: number): void {
  if (logits.size < K * B * C || out.size < B * C)
    throw new RangeError(`logMeanSoftmax: ${K} models × ${B} rows × ${C} classes do not fit the tensors given`);
  scope(() => {
    const scratch = Tensor.empty([2 * K]); // K f64
    kernels().f32_log_mean_softmax(out.ptr, logits.ptr, K, B, C, scratch.ptr);
  });
}

/** out [B, C] = (1/K)·Σ_k values[k] for values [K, B, C] (a regression ensemble), in the core. */
export function meanOfModels(out: Tensor<'f32'>, values: Tensor<'f32'>, K: number, B: number, C: number): void {
  const k = kernels();
  k.f32_copy(out.ptr, values.ptr, B * C);
  for (let m = 1; m < K; m++) k.f32_axpy(out.ptr, values.ptr + m * B * C * 4, B * C, 1);
  k.f32_scale(out.ptr, B * C, 1 / K);
}

/** Writes to out [n, C] the teacher outputs of K models' raw outputs (each [n, C]): the one
 *  model's as they are, the mean probability as logits for classifiers (logMeanSoftmax), the
 *  mean value for regression. */
export function combineOutputs(out: Tensor<'f32'>, outputs: readonly Tensor<'f32'>[], regression: boolean): void {
  const K = outputs.length;
  const [n, C] = [outputs[0]!.shape[0]!, outputs[0]!.shape[1]!];
  const k = kernels();
  if (K === 1) {
    k.f32_copy(out.ptr, outputs[0]!.ptr, n * C);
    return;
  }
  scope(() => {
    const stack = Tensor.empty([K, n, C]);
    outputs.forEach((y, m) => k.f32_copy(stack.ptr + m * n * C * 4, y.ptr, n * C));
    if (regression) meanOfModels(out, stack, K, n, C);
    else logMeanSoftmax(out, stack, K, n, C);
  });
}
