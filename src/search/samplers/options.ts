// Option checks shared by the samplers.
import { seedWords, type Seed } from '../../core/ops/random.ts';
import { checkInteger, checkKnownKeys, checkNumber } from '../../core/errors.ts';

export function checkSamplerOptions<T extends { seed?: Seed }>(where: string, options: T, known: readonly string[]): T {
  checkKnownKeys(where, options, known);
  if (options.seed !== undefined) seedWords(where, options.seed);
  return options;
}

export const optionalInteger = (
  where: string,
  name: string,
  v: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number => (v === undefined ? fallback : checkInteger(where, name, v, min, max));

export const optionalNumber = (where: string, name: string, v: unknown, fallback: number, min: number, max = Infinity): number =>
  v === undefined ? fallback : checkNumber(where, name, v, min, max);

export function optionalBoolean(where: string, name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new TypeError(`${where}: ${name} must be a boolean, got ${typeof v}`);
  return v;
}
