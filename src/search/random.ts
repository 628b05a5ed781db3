// Random streams for samplers. Each (seed, trial number, purpose) gets its own xoshiro128**
// stream, so a trial's draws depend only on the study's seed, the trial's number and the history
// it was sampled from: a study resumed in a fresh process, or asked in a batch, samples exactly
// what an uninterrupted run with the same history would.
import { Rng, type Seed } from '../core/ops/random.ts';
import { ndtriArray } from '../core/ops/search-math.ts';

const MASK64 = (1n << 64n) - 1n;

// splitmix64's finaliser: a bijection on 64-bit words that spreads every input bit.
function mix64(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** CRC-32 (IEEE 802.3, as zlib's crc32) of a string's UTF-8 bytes. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(text)) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The 64-bit seed of the stream for (seed, trial number, purpose). */
export function streamSeed(seed: Seed, trialNumber: number, purpose: string): bigint {
  const base = mix64(BigInt(seed) & MASK64);
  const withTrial = mix64((base + 0x9e3779b97f4a7c15n * BigInt(trialNumber + 1)) & MASK64);
  return mix64((withTrial ^ BigInt(crc32(purpose))) & MASK64);
}

const BLOCK = 64;

/** Buffered uniform and normal draws over one Rng; call `dispose()` (or use `withDraws`). */
export class Draws {
  #rng: Rng;
  #buf: Float64Array = new Float64Array(0);
  #pos = 0;

  constructor(seed: Seed, trialNumber: number, purpose: string) {
    this.#rng = new Rng(streamSeed(seed, trialNumber, purpose));
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    if (this.#pos >= this.#buf.length) {
      this.#buf = this.#rng.uniform64(BLOCK);
      this.#pos = 0;
    }
    return this.#buf[this.#pos++]!;
  }

  uniforms(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform();
    return out;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }

  /** n standard normal draws by inversion (Φ⁻¹ of uniforms kept away from 0). */
  normals(n: number): Float64Array {
    const u = this.uniforms(n);
    for (let i = 0; i < n; i++) u[i] = u[i]! + 2 ** -54;
    return ndtriArray(u);
  }

  dispose(): void {
    this.#rng.dispose();
  }
}

export function withDraws<T>(seed: Seed, trialNumber: number, purpose: string, run: (d: Draws) => T): T {
  const draws = new Draws(seed, trialNumber, purpose);
  try {
    return run(draws);
  } finally {
    draws.dispose();
  }
}
