// An independent f64 MLP (dense layers, activations, the three losses) for gradient checks of
// whole networks: plain loops, written from the textbook formulas, sharing no code with kiln.
export type RefAct = 'linear' | 'relu' | 'leaky_relu' | 'sigmoid' | 'tanh' | 'gelu';
export interface RefLayer {
  units: number;
  inputs: number;
  act: RefAct;
  alpha: number;
}

// erf after Abramowitz-Stegun 7.1.26 is too coarse for gradient checks; use a series/continued
// fraction pair accurate to ~1e-15.
export function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = t,
      term = t;
    for (let n = 1; n < 80; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}

export function act(a: RefAct, x: number, alpha: number): number {
  switch (a) {
    case 'linear':
      return x;
    case 'relu':
      return x > 0 ? x : 0;
    case 'leaky_relu':
      return x > 0 ? x : alpha * x;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
  }
}

/** Forward pass of rows x [B, inputs] with params laid out as kiln's arena (W [units, inputs] then b). */
export function forward(layers: RefLayer[], params: ArrayLike<number>, x: ArrayLike<number>, B: number): number[] {
  let input = Array.from(x);
  let offset = 0;
  for (const l of layers) {
    const out = new Array<number>(B * l.units);
    const bias = offset + l.units * l.inputs;
    for (let b = 0; b < B; b++) {
      for (let n = 0; n < l.units; n++) {
        let s = params[bias + n]!;
        for (let k = 0; k < l.inputs; k++) s += input[b * l.inputs + k]! * params[offset + n * l.inputs + k]!;
        out[b * l.units + n] = act(l.act, s, l.alpha);
      }
    }
    offset = bias + l.units;
    input = out;
  }
  return input;
}

export function softmaxXent(logits: number[], labels: ArrayLike<number>, B: number, C: number): number {
  let total = 0;
  for (let b = 0; b < B; b++) {
    const row = logits.slice(b * C, b * C + C);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    total += lse - row[labels[b]!]!;
  }
  return total / B;
}

export function mse(pred: number[], target: ArrayLike<number>): number {
  return pred.reduce((s, p, i) => s + (p - target[i]!) ** 2, 0) / pred.length;
}

export function bceLogits(logits: number[], target: ArrayLike<number>): number {
  return logits.reduce((s, z, i) => s + Math.max(z, 0) - z * target[i]! + Math.log1p(Math.exp(-Math.abs(z))), 0) / logits.length;
}

/** Central finite differences of `loss(params)` in f64 for every parameter. */
export function numericGradient(params: Float64Array, loss: (p: Float64Array) => number, h = 1e-5): Float64Array {
  const g = new Float64Array(params.length);
  for (let i = 0; i < params.length; i++) {
    const keep = params[i]!;
    params[i] = keep + h;
    const up = loss(params);
    params[i] = keep - h;
    const down = loss(params);
    params[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}
