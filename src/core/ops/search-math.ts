// Batched f64 math for the search samplers (assembly/kernels/f64-search.ts) over plain
// Float64Arrays: each call copies its inputs into one scratch block in the core, runs the kernel
// and copies the results out, so src/search never sees an address. The copies run at memcpy
// speed; the per-element boundary crossings they replace cost several times the math.
import { kernels, allocBytes, freeBytes, u8View } from '../wasm.ts';

// A fresh f64 view over core memory (the seam exports none): the allocator aligns blocks to 16.
const f64At = (ptr: number, len: number): Float64Array => new Float64Array(u8View(ptr, len * 8).buffer, ptr, len);

function checkLengths(where: string, arrays: readonly Float64Array[], len: number): void {
  arrays.forEach((a, i) => {
    if (!(a instanceof Float64Array)) throw new TypeError(`${where}: argument ${i} must be a Float64Array, got ${Object.prototype.toString.call(a)}`);
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

function elementwise(name: string, x: Float64Array, out: Float64Array): Float64Array {
  checkLengths(name, [x, out], x.length);
  withBlock([x], [out], ([xp, op]) => kernels()[name]!(op!, xp!, x.length));
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
export const erfc64 = (x: number): number => kernels().f64_erfc!(x);

/** out[i] = log(Φ(b[i]) − Φ(a[i])) for a[i] <= b[i], accurate in both tails. */
export function logGaussMass(a: Float64Array, b: Float64Array, out = new Float64Array(a.length)): Float64Array {
  checkLengths('logGaussMass', [a, b, out], a.length);
  withBlock([a, b], [out], ([ap, bp, op]) => kernels().f64_log_gauss_mass!(op!, ap!, bp!, a.length));
  return out;
}

/** out[r] = log Σ_c exp(m[r·cols + c]) over a row-major [rows, cols] matrix. */
export function logSumExpRows(m: Float64Array, rows: number, cols: number, out = new Float64Array(rows)): Float64Array {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) throw new RangeError(`logSumExpRows: rows and cols must be integers >= 0, got ${rows}, ${cols}`);
  checkLengths('logSumExpRows', [m], rows * cols);
  checkLengths('logSumExpRows', [out], rows);
  withBlock([m], [out], ([mp, op]) => kernels().f64_logsumexp_rows!(op!, mp!, rows, cols));
  return out;
}

/** log h(z) with h(z) = φ(z) + z·Φ(z), the log expected improvement of N(z, 1) over 0, and its
 *  derivative d log h/dz written to `dout`. Stable far into the left tail. */
export function logEi(z: Float64Array, out = new Float64Array(z.length), dout = new Float64Array(z.length)): Float64Array {
  checkLengths('logEi', [z, out, dout], z.length);
  withBlock([z], [out, dout], ([zp, op, dp]) => kernels().f64_log_ei!(op!, dp!, zp!, z.length));
  return out;
}

/** Matérn 5/2 covariance k = scale·(1 + √5r + 5r²/3)·e^(−√5r) from squared distances r2, and
 *  its derivative with respect to r² in `dk`. */
export function matern52(r2: Float64Array, scale: number, k = new Float64Array(r2.length), dk?: Float64Array): Float64Array {
  checkLengths('matern52', dk ? [r2, k, dk] : [r2, k], r2.length);
  withBlock([r2], dk ? [k, dk] : [k], ([rp, kp, dp]) => kernels().f64_matern52!(kp!, dp ?? 0, rp!, r2.length, scale));
  return k;
}
