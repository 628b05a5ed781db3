// The optimizer step and the epoch rhythm every training loop shares: `fit` (with or without a
// teacher) and the weight half of gradient-based search call these, so clipping, schedules,
// hypergradients, divergence checks, cancellation and yielding behave the same everywhere.
import type { UpdateRule } from '../core/layer-engine.ts';
import type { Optimizer } from './optimizers.ts';
import { learningRate } from './schedules.ts';

/** Thrown when the loss becomes NaN or infinite; names where it happened. */
export class DivergenceError extends Error {
  constructor(
    readonly epoch: number,
    readonly step: number,
    readonly loss: number,
  ) {
    super(
      `fit: loss diverged to ${loss} at epoch ${epoch}, step ${step}; lower the learning rate, clip gradients (clipNorm) or standardise the features`,
    );
    this.name = 'DivergenceError';
  }
}

/** What an optimizer step needs of an engine whose gradients are computed. */
export interface Steppable {
  /** Optimizer updates applied so far in this run. */
  readonly updates: number;
  clipGradients(maxNorm: number): number;
  /** Applies one update; returns the learning rate used (hypergradient descent adapts it). */
  update(rule: UpdateRule, lr: number): number;
}

/** After a batch's gradients: checks the loss, clips, takes the scheduled learning rate and
 *  updates. `epoch` and `step` are 0-based; returns the learning rate the update used. */
export function optimizerStep(
  engine: Steppable,
  optimizer: Optimizer,
  loss: number,
  epoch: number,
  step: number,
  totalSteps: number,
): number {
  if (!Number.isFinite(loss)) throw new DivergenceError(epoch + 1, step + 1, loss);
  if (optimizer.clipNorm !== Infinity) engine.clipGradients(optimizer.clipNorm);
  const lr = learningRate(optimizer.lr, optimizer.schedule, engine.updates, epoch, totalSteps);
  return engine.update(optimizer.rule, lr);
}

/** The reason an aborted signal carries, or an AbortError. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('fit was aborted', 'AbortError');
}

/** Throws the signal's reason when it has been aborted. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/** Between epochs: lets timers, progress output and abort signals run, at most every 20 ms (a
 *  timer costs about a millisecond, which would dominate short epochs). */
export class EpochYield {
  #last = performance.now();

  async maybeYield(): Promise<void> {
    if (performance.now() - this.#last <= 20) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.#last = performance.now();
  }
}
