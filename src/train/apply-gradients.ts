// An optimizer update with gradients the caller computed: the same step `fit` takes (clipping,
// the scheduled learning rate, the update rule and the pruning mask, all in the core), for
// training loops and checks written outside kiln.
import { checkInteger, checkKnownKeys, checkFiniteData } from '../core/errors.ts';
import { Sequential } from '../nn/sequential.ts';
import type { Optimizer } from './optimizers.ts';
import { optimizerStep } from './step.ts';

/** Where in a schedule an `applyGradients` update falls. */
export interface ApplyGradientsOptions {
  /** 0-based epoch, for the step and exponential schedules. Default 0. */
  epoch?: number;
  /** Updates of the whole run, the cosine schedule's default length. Default: the updates made
   *  so far, this one included (a cosine schedule then needs its own totalSteps). */
  totalSteps?: number;
}

/**
 * Applies one update of `optimizer` to `model`'s trainable parameters with `gradients`, one
 * value per parameter in the order of `model.parameterVector()` (∂loss/∂θ, as `fit` computes
 * them), and returns the learning rate used. The optimizer state (moments, momentum, the update
 * count) stays in the model: successive calls continue it, and `fit(..., { resumeOptimizer: true })`
 * continues from it. Pruned weights stay zero.
 *
 * @example
 * const opt = adam({ lr: 0.01 });
 * applyGradients(model, grads, opt); // the same update torch.optim.Adam.step() makes
 */
export function applyGradients(
  model: Sequential,
  gradients: ArrayLike<number>,
  optimizer: Optimizer,
  options: ApplyGradientsOptions = {},
): number {
  const where = 'applyGradients';
  if (!(model instanceof Sequential))
    throw new TypeError(`${where}: model must be a Sequential, got ${model === null ? 'null' : typeof model}`);
  checkKnownKeys(where, options, ['epoch', 'totalSteps']);
  if (optimizer === null || typeof optimizer !== 'object' || typeof optimizer.rule !== 'object')
    throw new TypeError(`${where}: optimizer must come from gd(), sgd(), adam() or adamw()`);
  const engine = model.engine;
  if (gradients === null || typeof gradients !== 'object' || typeof gradients.length !== 'number')
    throw new TypeError(`${where}: gradients must be an array of numbers, got ${gradients === null ? 'null' : typeof gradients}`);
  if (gradients.length !== engine.parameterCount)
    throw new RangeError(`${where}: the model has ${engine.parameterCount} trainable parameters, got ${gradients.length} gradients`);
  checkFiniteData(`${where} gradients`, gradients);
  const epoch = checkInteger(where, 'epoch', options.epoch ?? 0, 0);
  const totalSteps = checkInteger(where, 'totalSteps', options.totalSteps ?? engine.updates + 1, 1);
  engine.grads.view().set(gradients);
  return optimizerStep(engine, optimizer, 0, epoch, engine.updates, totalSteps);
}
