// Model-level limits as study constraints: the objective records what it built with
// trial.setUserAttr('parameters' | 'bytes' | 'latencyMs', value) (searchModel records the first
// two) and the study turns each limit into a constraint value, so trials over a limit rank below
// every trial within all limits.
import { checkKnownKeys, checkNumber } from '../core/errors.ts';
import type { FrozenTrial } from './trial-record.ts';

/** Size limits `modelLimits` turns into study constraints. */
export interface ModelLimits {
  /** Most trainable parameters (user attribute 'parameters', as searchModel records it). */
  maxParams?: number;
  /** Largest saved model in bytes (user attribute 'bytes'). */
  maxBytes?: number;
  /** Slowest allowed inference in milliseconds (user attribute 'latencyMs'). */
  maxLatencyMs?: number;
}

const ATTRS = { maxParams: 'parameters', maxBytes: 'bytes', maxLatencyMs: 'latencyMs' } as const;

/**
 * A `constraints` function for `createStudy`: one value per limit given, (measured − limit) /
 * limit, so <= 0 within the limit and violations in different units add up on a common scale.
 *
 * @example
 * const study = await createStudy({ constraints: modelLimits({ maxParams: 50_000, maxLatencyMs: 0.2 }) });
 * await study.optimize(async (trial) => {
 *   const model = build(trial);
 *   trial.setUserAttr('parameters', model.parameterCount);
 *   trial.setUserAttr('latencyMs', measureLatency(model));
 *   return validationLoss(model);
 * }, { trials: 40 });
 */
export function modelLimits(limits: ModelLimits): (trial: FrozenTrial) => number[] {
  const where = 'modelLimits';
  checkKnownKeys(where, limits, Object.keys(ATTRS));
  const active = (Object.keys(ATTRS) as (keyof ModelLimits)[]).filter((k) => limits?.[k] !== undefined);
  if (active.length === 0) throw new RangeError(`${where}: give at least one of ${Object.keys(ATTRS).join(', ')}`);
  for (const k of active) checkNumber(where, k, limits[k], Number.MIN_VALUE);
  return (trial) =>
    active.map((k) => {
      const attr = ATTRS[k];
      const measured = trial.userAttrs[attr];
      if (typeof measured !== 'number' || Number.isNaN(measured)) {
        throw new TypeError(
          `${where}: trial ${trial.number} has no numeric user attribute '${attr}' for ${k}; record it with trial.setUserAttr('${attr}', value)`,
        );
      }
      return (measured - limits[k]!) / limits[k]!;
    });
}
