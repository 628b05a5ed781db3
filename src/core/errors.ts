// Validation at the public boundary: every check names where, what, the constraint and the value.
// RangeError for values and shapes, TypeError for kinds. Checks run before any pointer exists.

export const shapeText = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/** Thrown when the WebAssembly core itself reports a failed precondition (an `abort`). */
export class CoreAbortError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`kiln core: ${message} (${file}:${line}:${column})`);
    this.name = 'CoreAbortError';
  }
}

/** Thrown when the running engine cannot run the core (no WebAssembly or no SIMD128). */
export class UnsupportedRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedRuntimeError';
  }
}

export function checkInteger(where: string, name: string, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw new TypeError(`${where}: ${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${where}: ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

export function checkNumber(where: string, name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number') throw new TypeError(`${where}: ${name} must be a number, got ${typeof value}`);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`${where}: ${name} must be a finite number in [${min}, ${max}], got ${value}`);
  }
  return value;
}

export function checkShape(where: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${where}: shape must be an array of integers, got ${typeof shape}`);
  shape.forEach((d, i) => checkInteger(where, `shape[${i}]`, d, 0, 2 ** 31 - 1));
  return shape.slice();
}

/** Rejects NaN and ±Inf, naming the first bad element and its row and column for 2-D data. */
export function checkFiniteData(where: string, data: ArrayLike<number>, columns = 0): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) {
      const at = columns > 0 ? `row ${Math.floor(i / columns)}, column ${i % columns}` : `index ${i}`;
      throw new RangeError(`${where}: data must be finite, got ${v} at ${at}`);
    }
  }
}

/** Rejects option keys the entry point does not know, so typos do not pass silently. */
export function checkKnownKeys(where: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${where}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`${where}: unknown option '${key}' (known: ${known.join(', ')})`);
  }
}
