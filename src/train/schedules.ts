// Learning-rate schedules. 'step' and 'exponential' change the rate once per epoch (as PyTorch's
// StepLR and ExponentialLR are stepped); 'cosine' changes it every update, after a linear warmup.
// Powers and cosines come from the core so every runtime computes the same rate.
import { checkInteger, checkKnownKeys, checkNumber } from '../core/errors.ts';
import { cos64, pow64 } from '../core/scalar-math.ts';

/** A learning-rate schedule over epochs, as `learningRate` makes it. */
export type Schedule =
  | { type: 'constant' }
  | { type: 'step'; stepSize: number; gamma?: number }
  | { type: 'exponential'; gamma: number }
  | { type: 'cosine'; warmupSteps?: number; totalSteps?: number; minLr?: number };

export function checkSchedule(where: string, s: Schedule): Schedule {
  const at = `${where}: schedule`;
  if (!s || typeof s !== 'object') throw new TypeError(`${at} must be an object like { type: 'cosine' }, got ${String(s)}`);
  switch (s.type) {
    case 'constant':
      checkKnownKeys(at, s, ['type']);
      return s;
    case 'step':
      checkKnownKeys(at, s, ['type', 'stepSize', 'gamma']);
      checkInteger(at, 'stepSize', s.stepSize, 1);
      checkNumber(at, 'gamma', s.gamma ?? 0.1, 0);
      return s;
    case 'exponential':
      checkKnownKeys(at, s, ['type', 'gamma']);
      checkNumber(at, 'gamma', s.gamma, 0);
      return s;
    case 'cosine':
      checkKnownKeys(at, s, ['type', 'warmupSteps', 'totalSteps', 'minLr']);
      checkInteger(at, 'warmupSteps', s.warmupSteps ?? 0, 0);
      if (s.totalSteps !== undefined) checkInteger(at, 'totalSteps', s.totalSteps, 1);
      checkNumber(at, 'minLr', s.minLr ?? 0, 0);
      return s;
    default:
      throw new TypeError(`${at}.type must be one of constant, step, exponential, cosine, got ${String((s as { type: unknown }).type)}`);
  }
}

/** The learning rate for update `step` (0-based) in `epoch` (0-based); `totalSteps` is the
 *  number of updates the whole fit will make, the cosine's default length. */
export function learningRate(base: number, s: Schedule, step: number, epoch: number, totalSteps: number): number {
  switch (s.type) {
    case 'constant':
      return base;
    case 'step':
      return base * pow64(s.gamma ?? 0.1, Math.floor(epoch / s.stepSize));
    case 'exponential':
      return base * pow64(s.gamma, epoch);
    case 'cosine': {
      const warmup = s.warmupSteps ?? 0;
      if (step < warmup) return (base * (step + 1)) / warmup;
      const total = s.totalSteps ?? totalSteps;
      const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
      const minLr = s.minLr ?? 0;
      return minLr + (base - minLr) * 0.5 * (1 + cos64(Math.PI * progress));
    }
  }
}
