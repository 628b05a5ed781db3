// Batched f64 math for the search samplers (assembly/kernels/f64-search.ts) over plain
// Float64Arrays: each call copies its inputs into one scratch block in the core, runs the kernel
// and copies the results out, so src/search never sees an address. The copies run at memcpy
// speed; the per-element boundary crossings they replace cost several times the math.
import { kernels, type KernelName, allocBytes, freeBytes, u8View } from '../wasm.ts';

// A fresh f64 view over core memory (the seam exports none): the allocator aligns blocks to 16.
const f64At = (ptr: number, len: number): Float64Array => new Float64Array(u8View(ptr, len * 8).buffer, ptr, len);

function checkLengths(where: string, arrays: readonly Float64Array[], len: number): void {
  arrays.forEach((a, i) => {
    if (!(a instanceof Float64Array))
      throw new TypeError(`${where}: argument ${i} must be a Float64Array, got ${Object.prototype.toString.call(a)}`);
    if (a.length !== len) throw new RangeError(`${where}: argument ${i} has ${a.length} elements, expected ${len}`);
  });
}

// Copies `inputs` into one block, lays out `outputs` after them, calls `run(ptrs)` and copies
// the output regions back into `outputs`.
function withBlock(inputs: readonly Float64Array[], outputs: readonly Float64Array[], run: (ptrs: number[]) => void): void {
  const all = [...inputs, ...outputs];
  const total = all.reduce((s, a) => s + a.length, 0);
  if (total === 0) return;
  const block = allocBytes(total * 8);
  try {
    const ptrs: number[] = [];
    let offset = block;
    for (const a of all) {
      ptrs.push(offset);
      offset += a.length * 8;
    }
    inputs.forEach((a, i) => f64At(ptrs[i]!, a.length).set(a));
    run(ptrs);
    outputs.forEach((a, i) => a.set(f64At(ptrs[inputs.length + i]!, a.length)));
  } finally {
    freeBytes(block);
  }
}

function elementwise(name: KernelName, x: Float64Array, out: Float64Array): Float64Array {
  checkLengths(name, [x, out], x.length);
  withBlock([x], [out], ([xp, op]) => (kernels()[name] as (...args: number[]) => unknown)(op!, xp!, x.length));
  return out;
}

/** out[i] = exp(x[i]), bit-identical to `exp64`. */
export const expArray = (x: Float64Array, out = new Float64Array(x.length)): Float64Array => elementwise('f64_exp_array', x, out);
/** out[i] = log(x[i]), bit-identical to `log64`. */
export const logArray = (x: Float64Array, out = new Float64Array(x.length)): Float64Array => elementwise('f64_log_array', x, out);
/** out[i] = erfc(x[i]). */
export const erfcArray = (x: Float64Array, out = new Float64Array(x.length)): Float64Array => elementwise('f64_erfc_array', x, out);
/** out[i] = Φ⁻¹(p[i]), the standard normal quantile (AS 241). */
export const ndtriArray = (p: Float64Array, out = new Float64Array(p.length)): Float64Array => elementwise('f64_ndtri_array', p, out);

/** Scalar erfc computed in the core. */
export const erfc64 = (x: number): number => kernels().f64_erfc(x);

/** out[i] = log(Φ(b[i]) − Φ(a[i])) for a[i] <= b[i], accurate in both tails. */
export function logGaussMass(a: Float64Array, b: Float64Array, out = new Float64Array(a.length)): Float64Array {
  checkLengths('logGaussMass', [a, b, out], a.length);
  withBlock([a, b], [out], ([ap, bp, op]) => kernels().f64_log_gauss_mass(op!, ap!, bp!, a.length));
  return out;
}

/** out[r] = log Σ_c exp(m[r·cols + c]) over a row-major [rows, cols] matrix. */
export function logSumExpRows(m: Float64Array, rows: number, cols: number, out = new Float64Array(rows)): Float64Array {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0)
    throw new RangeError(`logSumExpRows: rows and cols must be integers >= 0, got ${rows}, ${cols}`);
  checkLengths('logSumExpRows', [m], rows * cols);
  checkLengths('logSumExpRows', [out], rows);
  withBlock([m], [out], ([mp, op]) => kernels().f64_logsumexp_rows(op!, mp!, rows, cols));
  return out;
}

/** log h(z) with h(z) = φ(z) + z·Φ(z), the log expected improvement of N(z, 1) over 0, and its
 *  derivative d log h/dz written to `dout`. Stable far into the left tail. */
export function logEi(z: Float64Array, out = new Float64Array(z.length), dout = new Float64Array(z.length)): Float64Array {
  checkLengths('logEi', [z, out, dout], z.length);
  withBlock([z], [out, dout], ([zp, op, dp]) => kernels().f64_log_ei(op!, dp!, zp!, z.length));
  return out;
}

/** Matérn 5/2 covariance k = scale·(1 + √5r + 5r²/3)·e^(−√5r) from squared distances r2, and
 *  its derivative with respect to r² in `dk`. */
export function matern52(r2: Float64Array, scale: number, k = new Float64Array(r2.length), dk?: Float64Array): Float64Array {
  checkLengths('matern52', dk ? [r2, k, dk] : [r2, k], r2.length);
  withBlock([r2], dk ? [k, dk] : [k], ([rp, kp, dp]) => kernels().f64_matern52(kp!, dp ?? 0, rp!, r2.length, scale));
  return k;
}

/**
 * Log scores of n points under each of K mixture kernels, accumulated in the core one parameter
 * at a time (m[i, k] starts at the kernel's log weight) and reduced by log-sum-exp over the
 * kernels. Owns an n·K block of core memory until `dispose()`.
 */
export class MixtureScores {
  readonly n: number;
  readonly components: number;
  #ptr: number;

  constructor(n: number, logWeights: Float64Array) {
    const K = logWeights.length;
    if (!Number.isInteger(n) || n < 0 || K === 0)
      throw new RangeError(`MixtureScores: need n >= 0 points and at least one kernel, got n=${n}, K=${K}`);
    this.n = n;
    this.components = K;
    this.#ptr = allocBytes(Math.max(8, n * K * 8));
    withBlock([logWeights], [], ([wp]) => kernels().f64_mix_fill(this.#ptr, wp!, n, K));
  }

  #live(where: string): number {
    if (this.#ptr === 0) throw new Error(`MixtureScores.${where}: used after dispose()`);
    return this.#ptr;
  }

  /** m[i, k] −= ½((y[i] − mu[k])·inv[k])² + c[k]. */
  addGauss(y: Float64Array, mu: Float64Array, inv: Float64Array, c: Float64Array): void {
    const m = this.#live('addGauss');
    checkLengths('MixtureScores.addGauss', [y], this.n);
    checkLengths('MixtureScores.addGauss', [mu, inv, c], this.components);
    withBlock([y, mu, inv, c], [], ([yp, mp, ip, cp]) => kernels().f64_mix_add_gauss(m, yp!, this.n, mp!, ip!, cp!, this.components));
  }

  /** m[i, k] += log(Φ((hi[i] − mu[k])·inv[k]) − Φ((lo[i] − mu[k])·inv[k])) − c[k]. */
  addCells(lo: Float64Array, hi: Float64Array, mu: Float64Array, inv: Float64Array, c: Float64Array): void {
    const m = this.#live('addCells');
    checkLengths('MixtureScores.addCells', [lo, hi], this.n);
    checkLengths('MixtureScores.addCells', [mu, inv, c], this.components);
    withBlock([lo, hi, mu, inv, c], [], ([lp, hp, mp, ip, cp]) =>
      kernels().f64_mix_add_cells(m, lp!, hp!, this.n, mp!, ip!, cp!, this.components),
    );
  }

  /** m[i, k] += table[k·choices + x[i]] for whole-number x[i] in [0, choices). */
  addTable(x: Float64Array, table: Float64Array, choices: number): void {
    const m = this.#live('addTable');
    checkLengths('MixtureScores.addTable', [x], this.n);
    checkLengths('MixtureScores.addTable', [table], this.components * choices);
    for (const v of x)
      if (!(Number.isInteger(v) && v >= 0 && v < choices))
        throw new RangeError(`MixtureScores.addTable: index ${v} outside [0, ${choices})`);
    withBlock([x, table], [], ([xp, tp]) => kernels().f64_mix_add_table(m, xp!, this.n, tp!, choices, this.components));
  }

  /** out[i] = log Σ_k exp(m[i, k]). */
  logSumExp(out = new Float64Array(this.n)): Float64Array {
    const m = this.#live('logSumExp');
    checkLengths('MixtureScores.logSumExp', [out], this.n);
    withBlock([], [out], ([op]) => kernels().f64_logsumexp_rows(op!, m, this.n, this.components));
    return out;
  }

  dispose(): void {
    if (this.#ptr !== 0) freeBytes(this.#ptr);
    this.#ptr = 0;
  }
}

/** The stable ascending order of `keys` (ties keep index order, NaN last), as indices. */
export function argsort(keys: Float64Array): Int32Array {
  const n = keys.length;
  checkLengths('argsort', [keys], n);
  const out = new Int32Array(n);
  if (n === 0) return out;
  const block = allocBytes(n * 16);
  try {
    f64At(block, n).set(keys);
    kernels().f64_argsort(block + n * 8, block, block + n * 12, n);
    out.set(new Int32Array(u8View(block + n * 8, n * 4).slice().buffer));
  } finally {
    freeBytes(block);
  }
  return out;
}
