// Seeded random streams over the core's xoshiro128** (assembly/kernels/rng.ts): the only source
// of randomness in the library. Each Rng owns 16 bytes of WASM memory holding its state, so
// streams are independent and a seed gives the same numbers in every runtime.
import { INIT_GLOROT_NORMAL, INIT_GLOROT_UNIFORM, INIT_HE_NORMAL, INIT_HE_UNIFORM } from '../../../assembly/codes.ts';
import { kernels, allocBytes, freeBytes, u8View, u32View, MAX_BLOCK_BYTES } from '../wasm.ts';
import { Tensor, unscoped } from '../tensor.ts';
import { checkInteger, checkNumber, shapeText } from '../errors.ts';
import { checkF32, checkSameSize } from './check.ts';

/** Weight initialisers `f32_init` knows. */
export const INIT_KINDS = ['glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal'] as const;
/** One of `INIT_KINDS`. */
export type InitKind = (typeof INIT_KINDS)[number];

const INIT_CODES: Readonly<Record<InitKind, number>> = {
  glorot_uniform: INIT_GLOROT_UNIFORM,
  glorot_normal: INIT_GLOROT_NORMAL,
  he_uniform: INIT_HE_UNIFORM,
  he_normal: INIT_HE_NORMAL,
};

/** The code `f32_init` takes for an initialiser (assembly/codes.ts). */
export function initCode(kind: InitKind): number {
  return INIT_CODES[kind];
}

/** An integer seed: a number in [0, 2^53 − 1] or a bigint in [0, 2^64 − 1]. */
export type Seed = number | bigint;

const TWO_32 = 4294967296;

/** The seed as [low, high] 32-bit words, after checking it. */
export function seedWords(where: string, seed: unknown): [number, number] {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 1n << 64n) throw new RangeError(`${where}: a bigint seed must be in [0, 2^64 − 1], got ${seed}`);
    return [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  }
  if (typeof seed !== 'number') throw new TypeError(`${where}: seed must be an integer number or a bigint, got ${typeof seed}`);
  checkInteger(where, 'seed', seed);
  return [seed % TWO_32, Math.floor(seed / TWO_32)];
}

// A finite value that stays finite once the boundary rounds it to f32.
function checkF32Scalar(where: string, name: string, value: unknown): number {
  checkNumber(where, name, value);
  const rounded = Math.fround(value as number);
  if (!Number.isFinite(rounded)) throw new RangeError(`${where}: ${name} must fit in f32 (|x| < 3.4e38), got ${value}`);
  return rounded;
}

/**
 * A seeded random stream. It belongs to its creator, not to any open `scope()`: call `dispose()`
 * when done (16 bytes). Streams never share state: use one per purpose (init, shuffling,
 * dropout, a sampler).
 *
 * @example
 * const rng = new Rng(42);
 * const w = rng.init(Tensor.empty([128, 784]), 'he_uniform', 784, 128);
 * const order = rng.permutation(60000).read();
 * rng.dispose();
 */
export class Rng {
  #state: Tensor<'i32'>;

  /** Seeds the stream through splitmix64; the same seed always yields the same stream. */
  constructor(seed: Seed) {
    const [lo, hi] = seedWords('Rng', seed);
    this.#state = unscoped(() => Tensor.empty([4], 'i32'));
    kernels().rng_seed(this.#state.ptr, lo, hi);
  }

  get disposed(): boolean {
    return this.#state.disposed;
  }

  #ptr(where: string): number {
    if (this.#state.disposed) throw new Error(`Rng.${where}: this stream was used after dispose()`);
    return this.#state.ptr;
  }

  /** The next raw 32-bit output, in [0, 2^32). */
  nextU32(): number {
    return kernels().rng_next_u32(this.#ptr('nextU32')) >>> 0;
  }

  /** The four 32-bit state words (s0..s3), to store alongside a checkpoint. */
  getState(): Uint32Array {
    return u32View(this.#ptr('getState'), 4).slice();
  }

  /** Restores words from `getState()`, so the stream continues exactly where it was. */
  setState(words: ArrayLike<number>): void {
    const ptr = this.#ptr('setState');
    if (words === null || typeof words !== 'object' || typeof words.length !== 'number')
      throw new TypeError('Rng.setState: words must be an array of 4 integers');
    if (words.length !== 4) throw new RangeError(`Rng.setState: expected 4 state words, got ${words.length}`);
    for (let i = 0; i < 4; i++) checkInteger('Rng.setState', `words[${i}]`, words[i], 0, TWO_32 - 1);
    if (Array.from(words).every((w) => w === 0)) throw new RangeError('Rng.setState: an all-zero state would only ever produce zeros');
    u32View(ptr, 4).set(words);
  }

  /** Fills `out` with values uniform in [lo, hi) (24 random bits each; lo, hi rounded to f32). */
  uniform(out: Tensor<'f32'>, lo = 0, hi = 1): Tensor<'f32'> {
    checkF32('Rng.uniform', 'out', out);
    const loF = checkF32Scalar('Rng.uniform', 'lo', lo);
    const hiF = checkF32Scalar('Rng.uniform', 'hi', hi);
    if (!(loF < hiF)) throw new RangeError(`Rng.uniform: lo must be below hi (after rounding to f32), got lo=${lo} hi=${hi}`);
    kernels().f32_rand_uniform(this.#ptr('uniform'), out.ptr, out.size, loF, hiF);
    return out;
  }

  /** Fills `out` with normal values N(mean, std²) (Marsaglia's polar method). */
  normal(out: Tensor<'f32'>, mean = 0, std = 1): Tensor<'f32'> {
    checkF32('Rng.normal', 'out', out);
    const meanF = checkF32Scalar('Rng.normal', 'mean', mean);
    const stdF = checkF32Scalar('Rng.normal', 'std', std);
    if (stdF < 0) throw new RangeError(`Rng.normal: std must be >= 0, got ${std}`);
    kernels().f32_rand_normal(this.#ptr('normal'), out.ptr, out.size, meanF, stdF);
    return out;
  }

  /** A uniformly random permutation of 0 … n−1 as an i32 tensor, written into `out` when given
   *  (size n; reuse one per epoch for batch order that a gather kernel reads). */
  permutation(n: number, out?: Tensor<'i32'>): Tensor<'i32'> {
    checkInteger('Rng.permutation', 'n', n, 0, 2 ** 31 - 1);
    if (out !== undefined) {
      if (!(out instanceof Tensor) || out.dtype !== 'i32')
        throw new TypeError(`Rng.permutation: out must be an i32 tensor, got ${out instanceof Tensor ? out.dtype : typeof out}`);
      if (out.size !== n) throw new RangeError(`Rng.permutation: out ${shapeText(out.shape)} has ${out.size} elements, expected n = ${n}`);
    }
    const state = this.#ptr('permutation');
    const target = out ?? Tensor.empty([n], 'i32');
    kernels().i32_permutation(state, target.ptr, n);
    return target;
  }

  /** `n` doubles uniform in [0, 1) with 53 random bits each, for samplers that work in JS. */
  uniform64(n: number): Float64Array {
    checkInteger('Rng.uniform64', 'n', n, 0, MAX_BLOCK_BYTES / 8);
    const state = this.#ptr('uniform64');
    const block = allocBytes(n * 8);
    try {
      kernels().f64_rand_uniform(state, block, n);
      // Copied byte-wise: the seam has no f64 view, and WASM memory is little-endian like every
      // engine this library supports.
      return new Float64Array(u8View(block, n * 8).slice().buffer);
    } finally {
      freeBytes(block);
    }
  }

  /** Fills `out` with initial weights for a layer with `fanIn` inputs and `fanOut` outputs:
   *  glorot_uniform U(±√(6/(fanIn+fanOut))), glorot_normal N(0, 2/(fanIn+fanOut)),
   *  he_uniform U(±√(6/fanIn)), he_normal N(0, 2/fanIn); the normals are untruncated. */
  init(out: Tensor<'f32'>, kind: InitKind, fanIn: number, fanOut: number): Tensor<'f32'> {
    checkF32('Rng.init', 'out', out);
    if (!INIT_KINDS.includes(kind)) throw new TypeError(`Rng.init: kind must be one of ${INIT_KINDS.join(', ')}, got ${String(kind)}`);
    const code = initCode(kind);
    checkInteger('Rng.init', 'fanIn', fanIn, 1, 2 ** 31 - 1);
    checkInteger('Rng.init', 'fanOut', fanOut, 0, 2 ** 31 - 1);
    kernels().f32_init(this.#ptr('init'), out.ptr, out.size, code, fanIn, fanOut);
    return out;
  }

  /** Inverted dropout: each element kept with probability 1 − p; `mask` receives 1/(1 − p) for
   *  kept and 0 for dropped elements, `y` = x·mask. p = 0 copies x and draws nothing. y may be x. */
  dropout(y: Tensor<'f32'>, mask: Tensor<'f32'>, x: Tensor<'f32'>, p: number): void {
    const where = 'Rng.dropout';
    [y, mask, x].forEach((t, i) => checkF32(where, ['y', 'mask', 'x'][i]!, t));
    checkSameSize(where, ['x', 'y', 'mask'], [x, y, mask]);
    checkNumber(where, 'p', p, 0, 1);
    kernels().f32_dropout_fwd(this.#ptr('dropout'), y.ptr, mask.ptr, x.ptr, x.size, p);
  }

  /** Frees the state; safe to call twice. */
  dispose(): void {
    this.#state.dispose();
  }
}

/** dx = dy·mask, the gradient of `Rng.dropout` given its mask. dx may be dy. */
export function dropoutBackward(dx: Tensor<'f32'>, dy: Tensor<'f32'>, mask: Tensor<'f32'>): void {
  const where = 'dropoutBackward';
  [dx, dy, mask].forEach((t, i) => checkF32(where, ['dx', 'dy', 'mask'][i]!, t));
  checkSameSize(where, ['dy', 'dx', 'mask'], [dy, dx, mask]);
  kernels().f32_dropout_bwd(dx.ptr, dy.ptr, mask.ptr, dy.size);
}
