// Gaussian-process regression with a Matérn 5/2 ARD kernel over parameters scaled to [0, 1]
// (categorical dimensions contribute their Hamming distance, as in Optuna's GPSampler), kernel
// hyperparameters fitted by maximising the log marginal likelihood plus a log prior, with L-BFGS
// on their logarithms. f64 Cholesky in TS: the sampler keeps n at a few hundred.
// see: Rasmussen & Williams, Gaussian Processes for Machine Learning, ch. 2 and 5 (2006)
import { expArray, logArray, matern52 } from '../../../core/ops/search-math.ts';
import { lbfgs } from './lbfgs.ts';

/** Inputs [n, D] row-major in [0, 1] (category indices for categorical dimensions), outputs
 *  standardised to mean 0 and variance 1. */
export interface GpData {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly n: number;
  readonly dims: number;
  readonly categorical: Uint8Array;
}

export interface KernelParams {
  /** 1/ℓ² per dimension. */
  readonly inverseSquaredLengthscales: Float64Array;
  /** Signal variance. */
  readonly scale: number;
  /** Observation noise variance. */
  readonly noise: number;
}

/** Noise floor: keeps the kernel matrix well conditioned for noiseless objectives. */
const MIN_NOISE = 1e-6;
const LOG_2PI = 1.8378770664093453;
const BOUND = 12;

// Squared coordinate differences of every pair i < j, [pairs, D] row-major; 0/1 for categories.
function pairDiffs(d: GpData): Float64Array {
  const { n, dims, x, categorical } = d;
  const out = new Float64Array(((n * (n - 1)) / 2) * dims);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, p++) {
      for (let k = 0; k < dims; k++) {
        const diff = x[i * dims + k]! - x[j * dims + k]!;
        out[p * dims + k] = categorical[k] ? (diff === 0 ? 0 : 1) : diff * diff;
      }
    }
  }
  return out;
}

/** In-place lower Cholesky factor of a row-major SPD matrix; false when it is not positive definite. */
export function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = a[rj + j]!;
    for (let k = 0; k < j; k++) s -= a[rj + k]! * a[rj + k]!;
    if (!(s > 0)) return false;
    const ljj = Math.sqrt(s);
    a[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = a[ri + j]!;
      for (let k = 0; k < j; k++) t -= a[ri + k]! * a[rj + k]!;
      a[ri + j] = t / ljj;
    }
    for (let k = j + 1; k < n; k++) a[rj + k] = 0;
  }
  return true;
}

/** Inverse of a lower-triangular row-major matrix (lower-triangular too). */
export function invertLower(l: Float64Array, n: number): Float64Array {
  const t = invertLowerTransposed(l, n);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) inv[i * n + j] = t[j * n + i]!;
  return inv;
}

// (L⁻¹)ᵀ, upper-triangular, built row by row so both operands of every inner product are
// contiguous: row j holds column j of L⁻¹, T[j, i] = −(Σ_{j<=k<i} L[i, k]·T[j, k]) / L[i, i].
function invertLowerTransposed(l: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    t[rj + j] = 1 / l[rj + j]!;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = 0;
      for (let k = j; k < i; k++) s += l[ri + k]! * t[rj + k]!;
      t[rj + i] = -s / l[ri + i]!;
    }
  }
  return t;
}

// K⁻¹ = L⁻ᵀ·L⁻¹ from T = (L⁻¹)ᵀ: K⁻¹[a, b] = Σ_{k >= max(a, b)} T[a, k]·T[b, k].
function inverseFromFactor(t: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    const ra = a * n;
    for (let b = 0; b <= a; b++) {
      const rb = b * n;
      let s = 0;
      for (let k = a; k < n; k++) s += t[ra + k]! * t[rb + k]!;
      out[ra + b] = s;
      out[rb + a] = s;
    }
  }
  return out;
}

interface Factorised {
  /** The Cholesky factor L (row-major, lower). */
  l: Float64Array;
  kinv: Float64Array;
  alpha: Float64Array;
  logDet: number;
  k: Float64Array;
  dk: Float64Array;
}

function factorise(d: GpData, diffs: Float64Array, inv: Float64Array, scale: number, noise: number): Factorised | null {
  const { n, dims } = d;
  const pairs = (n * (n - 1)) / 2;
  const r2 = new Float64Array(pairs);
  for (let p = 0; p < pairs; p++) {
    let s = 0;
    for (let k = 0; k < dims; k++) s += inv[k]! * diffs[p * dims + k]!;
    r2[p] = s;
  }
  const dk = new Float64Array(pairs);
  const k = matern52(r2, scale, new Float64Array(pairs), dk);
  const a = new Float64Array(n * n);
  let p = 0;
  for (let i = 0; i < n; i++) {
    a[i * n + i] = scale + noise;
    for (let j = i + 1; j < n; j++, p++) a[j * n + i] = k[p]!;
  }
  if (!cholesky(a, n)) return null;
  const diag = new Float64Array(n);
  for (let i = 0; i < n; i++) diag[i] = a[i * n + i]!;
  let logDet = 0;
  for (const v of logArray(diag)) logDet += 2 * v;
  const kinv = inverseFromFactor(invertLowerTransposed(a, n), n);
  const alpha = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += kinv[i * n + j]! * d.y[j]!;
    alpha[i] = s;
  }
  return { l: a, kinv, alpha, logDet, k, dk };
}

/**
 * The negative log marginal likelihood plus negative log prior as a function of
 * θ = (log 1/ℓ²_d, log scale, log(noise − MIN_NOISE)), with its gradient; Infinity where the
 * kernel matrix is not positive definite. Priors: each lengthscale ℓ ~ Gamma(3, 6) (mean 0.5 on
 * the unit cube; BoTorch's long-time default), signal scale ~ Gamma(2, 1) and noise ~
 * Gamma(1.1, 30) as Optuna's (constants dropped). Optuna's own lengthscale prior,
 * −0.1/v − 0.1·v on v = 1/ℓ², is so flat that on Hartmann-6 the fit declared two of the six
 * inputs irrelevant and every seed we tried settled at a local minimum (−2.87, optimum −3.32);
 * the Gamma prior keeps lengthscales near the scale of the cube until the data says otherwise.
 * `deterministic` fixes the noise at MIN_NOISE and ignores the last component of θ.
 */
export function negLogPosterior(d: GpData, deterministic: boolean): (theta: Float64Array, grad: Float64Array) => number {
  const { n, dims } = d;
  const diffs = pairDiffs(d);
  return (theta, grad) => {
    const e = expArray(theta);
    const inv = e.subarray(0, dims);
    const scale = e[dims]!;
    const noiseExtra = deterministic ? 0 : e[dims + 1]!;
    const noise = MIN_NOISE + noiseExtra;
    const f = factorise(d, diffs, inv, scale, noise);
    if (!f) return Infinity;
    let yAlpha = 0;
    for (let i = 0; i < n; i++) yAlpha += d.y[i]! * f.alpha[i]!;
    const lml = -0.5 * yAlpha - 0.5 * f.logDet - 0.5 * n * LOG_2PI;
    // W = ααᵀ − K⁻¹; ∂lml/∂θ = ½ tr(W ∂K/∂θ), summed over pairs i < j once (W and K symmetric).
    grad.fill(0);
    let traceW = 0;
    for (let i = 0; i < n; i++) traceW += f.alpha[i]! * f.alpha[i]! - f.kinv[i * n + i]!;
    let scaleTerm = 0.5 * traceW * scale;
    let p = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++, p++) {
        const w = f.alpha[i]! * f.alpha[j]! - f.kinv[i * n + j]!;
        scaleTerm += w * f.k[p]!;
        const wd = w * f.dk[p]!;
        for (let k = 0; k < dims; k++) grad[k]! += wd * diffs[p * dims + k]!;
      }
    }
    let prior = 0;
    for (let k = 0; k < dims; k++) {
      const v = inv[k]!;
      // Gamma(3, 6) on ℓ = v^(−1/2), as density over θ = log v: 3·log ℓ − 6ℓ = −1.5θ − 6ℓ.
      const l = 1 / Math.sqrt(v);
      grad[k] = v * grad[k]! + (-1.5 + 3 * l);
      prior += -1.5 * theta[k]! - 6 * l;
    }
    grad[dims] = scaleTerm + (1 - scale);
    prior += theta[dims]! - scale;
    if (deterministic) grad[dims + 1] = 0;
    else {
      grad[dims + 1] = 0.5 * traceW * noiseExtra + (0.1 / noise - 30) * noiseExtra;
      prior += 0.1 * logArray(Float64Array.of(noise))[0]! - 30 * noise;
    }
    for (let k = 0; k < dims + 2; k++) grad[k] = -grad[k]!;
    return -(lml + prior);
  };
}

/** Fits the kernel hyperparameters: the minimum of `negLogPosterior` by box-bounded L-BFGS from
 *  unit lengthscales and scale (or `start`). */
export function fitKernel(d: GpData, deterministic: boolean, start?: KernelParams): KernelParams {
  const dims = d.dims;
  const nTheta = dims + 2;
  const theta0 = new Float64Array(nTheta);
  if (start) {
    theta0.set(logArray(start.inverseSquaredLengthscales));
    theta0[dims] = logArray(Float64Array.of(start.scale))[0]!;
    theta0[dims + 1] = logArray(Float64Array.of(Math.max(start.noise - MIN_NOISE, 1e-10)))[0]!;
  } else theta0[dims + 1] = -4.6;
  const lower = new Float64Array(nTheta).fill(-BOUND);
  const upper = new Float64Array(nTheta).fill(BOUND);
  lower[dims + 1] = -2 * BOUND;
  const best = lbfgs(negLogPosterior(d, deterministic), theta0, { maxIterations: 150, lower, upper, gradTol: 1e-4, fTol: 1e-9 });
  const e = expArray(best.x);
  return {
    inverseSquaredLengthscales: e.slice(0, dims),
    scale: e[dims]!,
    noise: MIN_NOISE + (deterministic ? 0 : e[dims + 1]!),
  };
}

/** The posterior of the latent function given the data and fitted kernel parameters. */
export class Posterior {
  readonly data: GpData;
  readonly params: KernelParams;
  readonly #f: Factorised;

  constructor(data: GpData, params: KernelParams) {
    this.data = data;
    this.params = params;
    let f = factorise(data, pairDiffs(data), params.inverseSquaredLengthscales, params.scale, params.noise);
    // Fitted parameters always factorise; the jitter ladder only guards hand-made ones.
    for (let jitter = 1e-8; !f && jitter < 1; jitter *= 10)
      f = factorise(data, pairDiffs(data), params.inverseSquaredLengthscales, params.scale, params.noise + jitter);
    if (!f) throw new RangeError('GpSampler: the kernel matrix is not positive definite even with jitter');
    this.#f = f;
  }

  // Squared scaled distances from point x (row `row` of xs) to every training point.
  #r2(xs: Float64Array, row: number, out: Float64Array, offset: number): void {
    const { n, dims, x, categorical } = this.data;
    const inv = this.params.inverseSquaredLengthscales;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < dims; k++) {
        const diff = xs[row * dims + k]! - x[j * dims + k]!;
        s += inv[k]! * (categorical[k] ? (diff === 0 ? 0 : 1) : diff * diff);
      }
      out[offset + j] = s;
    }
  }

  /** Mean and variance at m points xs [m, D]. */
  predict(xs: Float64Array, m: number): { mean: Float64Array; variance: Float64Array } {
    const n = this.data.n;
    const r2 = new Float64Array(m * n);
    for (let i = 0; i < m; i++) this.#r2(xs, i, r2, i * n);
    const k = matern52(r2, this.params.scale);
    const mean = new Float64Array(m);
    const variance = new Float64Array(m);
    const { alpha, l } = this.#f;
    const w = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      const row = i * n;
      let mu = 0;
      for (let j = 0; j < n; j++) mu += k[row + j]! * alpha[j]!;
      // ‖L⁻¹k‖² by forward substitution.
      let q = 0;
      for (let a = 0; a < n; a++) {
        const ra = a * n;
        let s = k[row + a]!;
        for (let b = 0; b < a; b++) s -= l[ra + b]! * w[b]!;
        const wa = s / l[ra + a]!;
        w[a] = wa;
        q += wa * wa;
      }
      mean[i] = mu;
      variance[i] = Math.max(this.params.scale - q, 1e-12 * this.params.scale);
    }
    return { mean, variance };
  }

  /** Mean, variance and their gradients in the continuous dimensions at one point x [D]. */
  predictWithGradient(x: Float64Array): { mean: number; variance: number; dMean: Float64Array; dVariance: Float64Array } {
    const { n, dims, categorical } = this.data;
    const inv = this.params.inverseSquaredLengthscales;
    const r2 = new Float64Array(n);
    this.#r2(x, 0, r2, 0);
    const dk = new Float64Array(n);
    const k = matern52(r2, this.params.scale, new Float64Array(n), dk);
    const { alpha, kinv } = this.#f;
    let mean = 0;
    let q = 0;
    const w = new Float64Array(n);
    for (let a = 0; a < n; a++) {
      mean += alpha[a]! * k[a]!;
      let s = 0;
      for (let b = 0; b < n; b++) s += kinv[a * n + b]! * k[b]!;
      w[a] = s;
      q += s * k[a]!;
    }
    const dMean = new Float64Array(dims);
    const dVariance = new Float64Array(dims);
    for (let d = 0; d < dims; d++) {
      if (categorical[d]) continue;
      let gm = 0;
      let gv = 0;
      for (let j = 0; j < n; j++) {
        const dkdx = dk[j]! * 2 * inv[d]! * (x[d]! - this.data.x[j * dims + d]!);
        gm += alpha[j]! * dkdx;
        gv += w[j]! * dkdx;
      }
      dMean[d] = gm;
      dVariance[d] = -2 * gv;
    }
    const floor = 1e-12 * this.params.scale;
    const variance = this.params.scale - q;
    if (variance < floor) dVariance.fill(0);
    return { mean, variance: Math.max(variance, floor), dMean, dVariance };
  }
}
