// Tensor: a shape, a dtype and a block of WASM memory. Values never live in JS; reading gives a
// fresh view or a copy. Every tensor belongs to the innermost open scope, which frees it on exit.
import { allocBytes, freeBytes, f32View, i32View, i8View, u8View } from './wasm.ts';
import { checkShape, shapeText } from './errors.ts';

/** Element type of a tensor. */
export type DType = 'f32' | 'i32' | 'i8' | 'u8';
export type TypedArrayOf<D extends DType> = D extends 'f32'
  ? Float32Array
  : D extends 'i32'
    ? Int32Array
    : D extends 'i8'
      ? Int8Array
      : Uint8Array;

export const BYTES_PER_ELEMENT: Readonly<Record<DType, number>> = { f32: 4, i32: 4, i8: 1, u8: 1 };
const VIEW = { f32: f32View, i32: i32View, i8: i8View, u8: u8View } as const;

// Open scopes, innermost last, each with the tensors made in it (an unscoped stretch's tensors
// outlive it and are freed only when it throws).
const scopes: Tensor[][] = [];

/** An n-dimensional array of `f32`, `i32`, `i8` or `u8` values held in the core's WebAssembly memory. */
export class Tensor<D extends DType = DType> {
  readonly shape: readonly number[];
  readonly dtype: D;
  /** Number of elements. */
  readonly size: number;
  #ptr: number;
  #owner: Tensor | undefined;

  private constructor(ptr: number, shape: readonly number[], dtype: D, owner: Tensor | undefined) {
    this.#ptr = ptr;
    this.shape = Object.freeze(shape.slice());
    this.dtype = dtype;
    this.size = shape.reduce((a, b) => a * b, 1);
    this.#owner = owner;
    scopes.at(-1)?.push(this);
  }

  /** A tensor of `shape` with undefined contents (fast: nothing is written). */
  static empty<D extends DType = 'f32'>(shape: readonly number[], dtype: D = 'f32' as D): Tensor<D> {
    const dims = checkShape('Tensor', shape);
    if (!(dtype in BYTES_PER_ELEMENT)) throw new TypeError(`Tensor: dtype must be one of f32, i32, i8, u8, got ${String(dtype)}`);
    const bytes = dims.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[dtype];
    return new Tensor(allocBytes(bytes, `Tensor: shape ${shapeText(dims)} of ${dtype}`), dims, dtype, undefined);
  }

  static zeros<D extends DType = 'f32'>(shape: readonly number[], dtype: D = 'f32' as D): Tensor<D> {
    const t = Tensor.empty(shape, dtype);
    t.view().fill(0);
    return t;
  }

  /** Copies `data` into a new tensor; `shape` defaults to 1-D. */
  static from<D extends DType = 'f32'>(
    data: ArrayLike<number>,
    shape: readonly number[] = [data.length],
    dtype: D = 'f32' as D,
  ): Tensor<D> {
    const size = checkShape('Tensor.from', shape).reduce((a, b) => a * b, 1);
    if (data.length !== size)
      throw new RangeError(`Tensor.from: shape ${shapeText(shape)} holds ${size} elements, data has ${data.length}`);
    const t = Tensor.empty(shape, dtype);
    t.view().set(data);
    return t;
  }

  /** A tensor that shares `len` elements of this one's memory from element `offset`; freed with it. */
  slice(offset: number, shape: readonly number[]): Tensor<D> {
    const len = checkShape('Tensor.slice', shape).reduce((a, b) => a * b, 1);
    if (offset < 0 || offset + len > this.size)
      throw new RangeError(`Tensor.slice: elements [${offset}, ${offset + len}) lie outside a tensor of ${this.size}`);
    return new Tensor(this.ptr + offset * BYTES_PER_ELEMENT[this.dtype], shape, this.dtype, this.#owner ?? this);
  }

  /** The same memory seen with another shape of the same size. */
  reshape(shape: readonly number[]): Tensor<D> {
    const len = checkShape('Tensor.reshape', shape).reduce((a, b) => a * b, 1);
    if (len !== this.size)
      throw new RangeError(`Tensor.reshape: cannot view ${shapeText(this.shape)} (${this.size} elements) as ${shapeText(shape)} (${len})`);
    return this.slice(0, shape);
  }

  get disposed(): boolean {
    return this.#ptr === 0 || (this.#owner?.disposed ?? false);
  }

  /** @internal Address in WASM memory; only src/core uses it. */
  get ptr(): number {
    if (this.disposed) throw new Error(`Tensor ${shapeText(this.shape)} ${this.dtype} was used after dispose()`);
    return this.#ptr;
  }

  /** A live view over the tensor's memory. Use it at once: any later WASM allocation may move
   *  memory and empty the view. */
  view(): TypedArrayOf<D> {
    return VIEW[this.dtype](this.ptr, this.size) as TypedArrayOf<D>;
  }

  /** A copy of the values, safe to keep. */
  read(): TypedArrayOf<D> {
    return this.view().slice() as TypedArrayOf<D>;
  }

  /** Frees the memory (a slice only forgets its view). Safe to call twice. */
  dispose(): void {
    if (this.#ptr === 0) return;
    if (!this.#owner) freeBytes(this.#ptr);
    this.#ptr = 0;
  }
}

/** Runs `fn` and frees every tensor made inside it except those it returns (a tensor, or an array
 *  or plain object of tensors) and those passed to `keep`; also when `fn` throws. */
export function scope<T>(fn: (keep: <K extends Tensor>(t: K) => K) => T): T {
  const made: Tensor[] = [];
  const kept = new Set<Tensor>();
  scopes.push(made);
  let result: T;
  try {
    result = fn((t) => (kept.add(t), t));
  } catch (error) {
    scopes.pop();
    for (const t of made) t.dispose();
    throw error;
  }
  scopes.pop();
  collectTensors(result, kept);
  const outer = scopes.at(-1);
  for (const t of made) {
    if (kept.has(t)) outer?.push(t);
    else t.dispose();
  }
  return result;
}

function collectTensors(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) value.forEach((v) => collectTensors(v, into));
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    Object.values(value).forEach((v) => collectTensors(v, into));
}

/** Runs `fn` with scope tracking off: tensors it makes belong to their creator (a model's
 *  parameters, say), not to whatever scope the caller happens to have open. When `fn` throws,
 *  the tensors it made are freed, so a constructor that fails part-way leaks nothing. */
export function unscoped<T>(fn: () => T): T {
  const made: Tensor[] = [];
  scopes.push(made);
  try {
    return fn();
  } catch (error) {
    for (const t of made) t.dispose();
    throw error;
  } finally {
    scopes.pop();
  }
}
