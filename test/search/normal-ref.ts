// Independent f64 references for the normal distribution, written from textbook series, for the
// search tests: erf by its Taylor series near 0, erfc by its continued fraction in the tails.
const SQRT_PI = 1.7724538509055159;

function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / SQRT_PI) * sum;
}

// erfc(x)·exp(x²) for x >= 2: exp(−x²) is factored out so far tails keep their exponent.
// Continued fraction erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))).
function erfcScaledCf(x: number): number {
  let acc = x;
  for (let k = 200; k >= 1; k--) acc = x + k / 2 / acc;
  return 1 / (acc * SQRT_PI);
}

export function erfcRef(x: number): number {
  if (x < 0) return 2 - erfcRef(-x);
  if (x < 2) return 1 - erfSeries(x);
  return erfcScaledCf(x) * Math.exp(-x * x);
}

/** log erfc(x) for x >= 0, finite far beyond where erfc underflows. */
export function logErfcRef(x: number): number {
  return x < 2 ? Math.log(erfcRef(x)) : -x * x + Math.log(erfcScaledCf(x));
}

export const cdfRef = (z: number): number => 0.5 * erfcRef(-z / Math.SQRT2);
export const pdfRef = (z: number): number => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

/** log Φ(z) for any z (left tail through logErfcRef). */
export const logCdfRef = (z: number): number => (z < 0 ? Math.log(0.5) + logErfcRef(-z / Math.SQRT2) : Math.log(cdfRef(z)));

/** Mills' ratio R(t) = Φ(−t)/φ(t), for t >= 0, without under- or overflow. */
export function millsRef(t: number): number {
  const x = t / Math.SQRT2;
  return x < 2 ? (0.5 * erfcRef(x)) / pdfRef(t) : 0.5 * erfcScaledCf(x) * Math.sqrt(2 * Math.PI);
}
