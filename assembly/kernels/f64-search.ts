// Batched f64 math for the model-search samplers (src/search): the Parzen estimators and the
// Gaussian process evaluate tens of thousands of exp/log/erfc per trial, and one boundary
// crossing per element costs more than the math itself. Scalar loops throughout: the core has no
// SIMD exp or erfc, and every result must equal the scalar f64_* exports bit for bit, so these
// need no separate _ref twins (the tests compare them with the scalar exports element by element).
import { f64_erfc } from "./math";

const INV_SQRT2: f64 = 0.7071067811865476;
const LOG_SQRT_2PI: f64 = 0.9189385332046728;
const SQRT5: f64 = 2.23606797749979;

// out[i] = exp(x[i]) for x, out [n]. out may be x.
export function f64_exp_array(out: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 3;
    store<f64>(out + at, Math.exp(load<f64>(x + at)));
  }
}

// out[i] = log(x[i]) for x, out [n]. out may be x.
export function f64_log_array(out: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 3;
    store<f64>(out + at, Math.log(load<f64>(x + at)));
  }
}

// out[i] = erfc(x[i]) for x, out [n]. out may be x.
export function f64_erfc_array(out: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 3;
    store<f64>(out + at, f64_erfc(load<f64>(x + at)));
  }
}

// out[r] = log Σ_c exp(m[r, c]) for m [rows, cols] row-major, out [rows]. Each row is shifted by
// its maximum so no term overflows; a row that is all −∞ gives −∞, an empty row gives −∞. Terms
// below e^−50 of the largest are skipped: together they move the sum by less than cols·2e−22 of
// it, and in a Parzen mixture most kernels are that far from any one point, so this skips most
// of the exp calls.
export function f64_logsumexp_rows(out: usize, m: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = m + ((<usize>r * cols) << 3);
    let top = -Infinity;
    for (let c = 0; c < cols; c++) top = Math.max(top, load<f64>(row + (<usize>c << 3)));
    if (top == -Infinity || top != top) {
      store<f64>(out + (<usize>r << 3), top);
      continue;
    }
    let sum: f64 = 0;
    for (let c = 0; c < cols; c++) {
      const d = load<f64>(row + (<usize>c << 3)) - top;
      if (d > -50.0) sum += Math.exp(d);
    }
    store<f64>(out + (<usize>r << 3), top + Math.log(sum));
  }
}

// Mixture scores m [n, K] row-major: m[i, k] accumulates log w_k + Σ_d log p_kd(x_id), the log
// weight plus the log density of point i under kernel k, one parameter d at a time, before
// f64_logsumexp_rows reduces each row. The matrix stays in the core between the calls.

// m[i, k] = row[k] for i < n.
export function f64_mix_fill(m: usize, row: usize, n: i32, K: i32): void {
  const rowBytes = <usize>K << 3;
  for (let i = 0; i < n; i++) memory.copy(m + <usize>i * rowBytes, row, rowBytes);
}

// Normal kernels: m[i, k] −= ½((y[i] − mu[k])·inv[k])² + c[k] for y [n], mu, inv (1/σ), c [K].
export function f64_mix_add_gauss(m: usize, y: usize, n: i32, mu: usize, inv: usize, c: usize, K: i32): void {
  for (let i = 0; i < n; i++) {
    const yi = load<f64>(y + (<usize>i << 3));
    const row = m + ((<usize>i * K) << 3);
    for (let k = 0; k < K; k++) {
      const at = <usize>k << 3;
      const z = (yi - load<f64>(mu + at)) * load<f64>(inv + at);
      store<f64>(row + at, load<f64>(row + at) - (0.5 * z * z + load<f64>(c + at)));
    }
  }
}

// Normal kernels integrated over cells: m[i, k] += log(Φ(b) − Φ(a)) − c[k] with
// a = (lo[i] − mu[k])·inv[k], b = (hi[i] − mu[k])·inv[k], for lo, hi [n] and mu, inv, c [K].
export function f64_mix_add_cells(m: usize, lo: usize, hi: usize, n: i32, mu: usize, inv: usize, c: usize, K: i32): void {
  for (let i = 0; i < n; i++) {
    const l = load<f64>(lo + (<usize>i << 3));
    const h = load<f64>(hi + (<usize>i << 3));
    const row = m + ((<usize>i * K) << 3);
    for (let k = 0; k < K; k++) {
      const at = <usize>k << 3;
      const mk = load<f64>(mu + at);
      const ik = load<f64>(inv + at);
      store<f64>(row + at, load<f64>(row + at) + logGaussMass((l - mk) * ik, (h - mk) * ik) - load<f64>(c + at));
    }
  }
}

// Table lookups: m[i, k] += table[k, x[i]] for x [n] (whole numbers stored as f64), table [K, C].
export function f64_mix_add_table(m: usize, x: usize, n: i32, table: usize, C: i32, K: i32): void {
  for (let i = 0; i < n; i++) {
    const xi = <i32>load<f64>(x + (<usize>i << 3));
    const row = m + ((<usize>i * K) << 3);
    for (let k = 0; k < K; k++) {
      const at = <usize>k << 3;
      store<f64>(row + at, load<f64>(row + at) + load<f64>(table + ((<usize>k * C + xi) << 3)));
    }
  }
}

// idx [n] (i32) = the ascending order of keys [n]: keys[idx[0]] <= keys[idx[1]] <= …, ties in
// index order (stable), NaN keys last. Insertion sort on runs of 16, then bottom-up merges
// through tmp [n] (i32 scratch) with the two front keys held in locals. The samplers rank trials
// and kernel centres with it: comparator sorts in JS cost several times more.
export function f64_argsort(idx: usize, keys: usize, tmp: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<i32>(idx + (<usize>i << 2), i);
  const RUN = 16;
  for (let lo = 0; lo < n; lo += RUN) {
    const hi = min(lo + RUN, n);
    for (let i = lo + 1; i < hi; i++) {
      const v = load<i32>(idx + (<usize>i << 2));
      const kv = load<f64>(keys + (<usize>v << 3));
      let j = i;
      while (j > lo) {
        const u = load<i32>(idx + (<usize>(j - 1) << 2));
        if (!before(kv, load<f64>(keys + (<usize>u << 3)))) break;
        store<i32>(idx + (<usize>j << 2), u);
        j--;
      }
      store<i32>(idx + (<usize>j << 2), v);
    }
  }
  let src = idx;
  let dst = tmp;
  for (let width = RUN; width < n; width <<= 1) {
    for (let lo = 0; lo < n; lo += width << 1) {
      const mid = min(lo + width, n);
      const hi = min(lo + (width << 1), n);
      let a = lo;
      let b = mid;
      let ia = load<i32>(src + (<usize>a << 2));
      let ib = b < hi ? load<i32>(src + (<usize>b << 2)) : 0;
      let ka = load<f64>(keys + (<usize>ia << 3));
      let kb = b < hi ? load<f64>(keys + (<usize>ib << 3)) : 0.0;
      for (let k = lo; k < hi; k++) {
        // Right first only when strictly before: equal keys keep the left (earlier) index.
        if (b < hi && (a >= mid || before(kb, ka))) {
          store<i32>(dst + (<usize>k << 2), ib);
          if (++b < hi) {
            ib = load<i32>(src + (<usize>b << 2));
            kb = load<f64>(keys + (<usize>ib << 3));
          }
        } else {
          store<i32>(dst + (<usize>k << 2), ia);
          if (++a < mid) {
            ia = load<i32>(src + (<usize>a << 2));
            ka = load<f64>(keys + (<usize>ia << 3));
          }
        }
      }
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src != idx) memory.copy(idx, src, <usize>n << 2);
}

// Strict order for the sort: x before y when x < y, or when y is NaN and x is not.
// @ts-ignore: decorator
@inline
function before(x: f64, y: f64): bool {
  return x < y || (y != y && x == x);
}

// 1 / (t + 2/(t + 3/(t + …))), the tail of the continued fraction for Mills' ratio
// R(t) = Φ(−t)/φ(t) = 1/(t + q(t)). Evaluated backwards from a fixed depth: used for t >= 3 only,
// where 60 terms settle it to the last bit.
function millsTail(t: f64): f64 {
  let acc: f64 = t;
  for (let k = 60; k >= 2; k--) acc = t + <f64>k / acc;
  return 1.0 / acc;
}

// log Φ(z) for the standard normal CDF. erfc underflows below z ≈ −38, so below −20 it uses
// log Φ(z) = log φ(z) + log R(−z) with the continued fraction.
function logNdtr(z: f64): f64 {
  if (z > -20.0) return Math.log(0.5 * f64_erfc(-z * INV_SQRT2));
  const t = -z;
  return -0.5 * z * z - LOG_SQRT_2PI - Math.log(t + millsTail(t));
}

// log(e^big − e^small) for big >= small.
function logDiffExp(big: f64, small: f64): f64 {
  if (big == -Infinity) return -Infinity;
  return big + Math.log1p(-Math.exp(small - big));
}

// out[i] = log(Φ(b[i]) − Φ(a[i])), the log mass of the standard normal on [a[i], b[i]], for
// a <= b, all [n]. Computed on the side of zero where the mass is not a difference of numbers
// near 1, so bins far in either tail keep their (tiny) mass instead of rounding to log 0.
// Reference: scipy.stats.truncnorm's _log_gauss_mass; tests compare with erfc in f64.
export function f64_log_gauss_mass(out: usize, a: usize, b: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 3;
    store<f64>(out + at, logGaussMass(load<f64>(a + at), load<f64>(b + at)));
  }
}

function logGaussMass(lo: f64, hi: f64): f64 {
  if (hi <= 0) return logDiffExp(logNdtr(hi), logNdtr(lo));
  if (lo >= 0) return logDiffExp(logNdtr(-lo), logNdtr(-hi));
  return Math.log1p(-0.5 * f64_erfc(-lo * INV_SQRT2) - 0.5 * f64_erfc(hi * INV_SQRT2));
}

// out[i] = Φ⁻¹(p[i]), the standard normal quantile, for p, out [n]; Φ⁻¹(0) = −∞, Φ⁻¹(1) = +∞,
// NaN outside [0, 1]. Wichura's PPND16, relative error about 1e-16.
// see: M. J. Wichura, Algorithm AS 241, Applied Statistics 37(3), 477-484 (1988)
export function f64_ndtri_array(out: usize, p: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 3;
    store<f64>(out + at, ndtri(load<f64>(p + at)));
  }
}

function ndtri(p: f64): f64 {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p == 0) return -Infinity;
  if (p == 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r +
      45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r + 133.14166789178437745) * r +
      3.3871328727963666080)) /
      (((((((5226.4952788528545610 * r + 28729.085735721942674) * r + 39307.895800092710610) * r +
        21213.794301586595867) * r + 5394.1960214247511077) * r + 687.18700749205790830) * r + 42.313330701600911252) * r + 1.0);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1.0 - p));
  let x: f64;
  if (r <= 5.0) {
    r -= 1.6;
    x = (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r + 2.41780725177450611770e-1) * r +
      1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.76949722146069140550) * r + 4.63033784615654529590) * r +
      1.42343711074968357734) /
      (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r + 1.51986665636164571966e-2) * r +
        1.48103976427480074590e-1) * r + 6.89767334985100004550e-1) * r + 1.67638483018380384940) * r + 2.05319162663775882187) * r + 1.0);
  } else {
    r -= 5.0;
    x = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 1.24266094738807843860e-3) * r +
      2.65321895265761230930e-2) * r + 2.96560571828504891230e-1) * r + 1.78482653991729133580) * r + 5.46378491116411436990) * r +
      6.65790464350110377720) /
      (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r + 1.84631831751005468180e-5) * r +
        7.86869131145613259100e-4) * r + 1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r + 5.99832206555887937690e-1) * r + 1.0);
  }
  return q < 0 ? -x : x;
}

// Log expected improvement of a standard normal over 0 at offset z: out[i] = log h(z[i]) with
// h(z) = φ(z) + z·Φ(z) = E[max(Z + z, 0)], and dout[i] = d log h / dz = Φ(z)/h(z) (dout may be 0).
// For z < −3 the direct form cancels; there h(z) = φ(z)·q/(t + q) and Φ/h = 1/q with t = −z and
// q Mills' continued-fraction tail, which keeps full precision down to z = −1e100.
// see: Ament et al., "Unexpected Improvements to Expected Improvement", NeurIPS 2023 (log-EI)
export function f64_log_ei(out: usize, dout: usize, z: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 3;
    const zi = load<f64>(z + at);
    let lh: f64, d: f64;
    if (zi >= -3.0) {
      const cdf = 0.5 * f64_erfc(-zi * INV_SQRT2);
      const h = Math.exp(-0.5 * zi * zi - LOG_SQRT_2PI) + zi * cdf;
      lh = Math.log(h);
      d = cdf / h;
    } else {
      const t = -zi;
      const q = millsTail(t);
      lh = -0.5 * zi * zi - LOG_SQRT_2PI + Math.log(q / (t + q));
      d = 1.0 / q;
    }
    store<f64>(out + at, lh);
    if (dout != 0) store<f64>(dout + at, d);
  }
}

// Matérn 5/2 covariance from squared scaled distances: for r2, k, dk [n],
// k[i] = scale·(1 + √5·r + 5r²/3)·exp(−√5·r) with r = √r2[i], and (when dk != 0)
// dk[i] = ∂k/∂r² = −(5/6)·scale·(1 + √5·r)·exp(−√5·r). k may be r2.
// see: Rasmussen & Williams, Gaussian Processes for Machine Learning, eq. 4.17
export function f64_matern52(k: usize, dk: usize, r2: usize, n: i32, scale: f64): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 3;
    const s = load<f64>(r2 + at);
    const r = Math.sqrt(s);
    const e = scale * Math.exp(-SQRT5 * r);
    if (dk != 0) store<f64>(dk + at, (-5.0 / 6.0) * (1.0 + SQRT5 * r) * e);
    store<f64>(k + at, (1.0 + SQRT5 * r + (5.0 / 3.0) * s) * e);
  }
}
