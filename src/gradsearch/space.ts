// The search space of gradient-based MLP search: candidate widths and activations per hidden
// layer, the super-network that mixes them, the discrete architecture its probabilities choose,
// and the expected parameter count under those probabilities (a differentiable size measure).
import { ACTIVATIONS, activationCode, type Activation } from '../core/activation.ts';
import { checkInteger, checkKnownKeys } from '../core/errors.ts';
import type { MixedLayerSpec, SuperNetSpec } from '../core/darts-engine.ts';

/** The identity candidate: a layer that chooses it is removed from the network. */
export const SKIP = 'skip';
/** What a hidden layer may become: an activation, or 'skip' (no layer). */
export type Operation = Activation | typeof SKIP;

/** The widths and operations a gradient search chooses among. */
export interface GradientCandidates {
  /** Candidate widths of every hidden layer. Default [16, 32, 64, 128, 256]. */
  widths?: readonly number[];
  /** Candidate activations, and 'skip' (the identity, which removes the layer; offered on every
   *  layer after the first, whose input is as wide as the widest candidate, and on the first
   *  when the data has exactly that many features). Default ['relu', 'tanh', 'gelu', 'skip']. */
  activations?: readonly Operation[];
  /** Hidden layers of the super-network: the most the result can have. Default 2. */
  layers?: number;
}

export interface ResolvedCandidates {
  readonly widths: readonly number[];
  readonly activations: readonly Activation[];
  readonly skip: boolean;
  readonly layers: number;
}

export const DEFAULT_CANDIDATES: ResolvedCandidates = {
  widths: [16, 32, 64, 128, 256],
  activations: ['relu', 'tanh', 'gelu'],
  skip: true,
  layers: 2,
};

export function resolveCandidates(where: string, c: GradientCandidates | undefined): ResolvedCandidates {
  if (c === undefined) return DEFAULT_CANDIDATES;
  checkKnownKeys(`${where} candidates`, c, ['widths', 'activations', 'layers']);
  const widths = c.widths ?? DEFAULT_CANDIDATES.widths;
  if (!Array.isArray(widths) || widths.length === 0)
    throw new RangeError(`${where}: candidates.widths must be a non-empty array of integers, got ${JSON.stringify(widths)}`);
  widths.forEach((w, i) => checkInteger(where, `candidates.widths[${i}]`, w, 1, 1 << 16));
  if (new Set(widths).size !== widths.length)
    throw new RangeError(`${where}: candidates.widths must not repeat a width, got ${JSON.stringify(widths)}`);
  const ops = c.activations ?? [...DEFAULT_CANDIDATES.activations, SKIP];
  if (!Array.isArray(ops)) throw new TypeError(`${where}: candidates.activations must be an array, got ${typeof ops}`);
  const activations = ops.flatMap((o, i) => (o === SKIP ? [] : [ACTIVATIONS[activationCode(`${where} candidates.activations[${i}]`, o)]!]));
  if (activations.length === 0)
    throw new RangeError(`${where}: candidates.activations needs at least one activation besides 'skip', got ${JSON.stringify(ops)}`);
  if (new Set(ops).size !== ops.length)
    throw new RangeError(`${where}: candidates.activations must not repeat an operation, got ${JSON.stringify(ops)}`);
  const layers = checkInteger(where, 'candidates.layers', c.layers ?? DEFAULT_CANDIDATES.layers, 0, 64);
  return { widths: [...widths], activations, skip: ops.includes(SKIP), layers };
}

/** The super-network of `layers` mixed layers over the candidates. */
export function superNetSpec(inputs: number, outputs: number, loss: SuperNetSpec['loss'], c: ResolvedCandidates): SuperNetSpec {
  const units = Math.max(...c.widths);
  const acts = c.activations.map((a) => ACTIVATIONS.indexOf(a));
  const layers: MixedLayerSpec[] = Array.from({ length: c.layers }, (_, l) => {
    const width = l === 0 ? inputs : units;
    return { inputs: width, widths: c.widths, acts, skip: c.skip && width === units };
  });
  return { inputs, outputs, layers, loss };
}

/** One hidden layer's probabilities: over `widths` and over `operations`, in candidate order. */
export interface LayerProbabilities {
  widths: number[];
  operations: number[];
}

/** Splits the engine's probability arena into layers (width group, then op group, per layer). */
export function layerProbabilities(spec: SuperNetSpec, probs: ArrayLike<number>): LayerProbabilities[] {
  let at = 0;
  return spec.layers.map((l) => {
    const widths = Array.from({ length: l.widths.length }, (_, i) => probs[at + i]!);
    at += l.widths.length;
    const ops = l.acts.length + (l.skip ? 1 : 0);
    const operations = Array.from({ length: ops }, (_, i) => probs[at + i]!);
    at += ops;
    return { widths, operations };
  });
}

/** Names of a layer's operations in probability order. */
export const operationNames = (c: ResolvedCandidates, layer: MixedLayerSpec): Operation[] =>
  layer.skip ? [...c.activations, SKIP] : [...c.activations];

/** A hidden layer of the discrete network. */
export interface HiddenLayer {
  units: number;
  activation: Activation;
}

// First index of the largest value: ties go to the earlier candidate.
const argmax = (xs: readonly number[]): number => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);

/** The strongest choice per layer: the most probable width and operation; 'skip' drops the layer. */
export function discretize(spec: SuperNetSpec, c: ResolvedCandidates, probs: readonly LayerProbabilities[]): HiddenLayer[] {
  return spec.layers.flatMap((layer, l) => {
    const op = operationNames(c, layer)[argmax(probs[l]!.operations)]!;
    return op === SKIP ? [] : [{ units: layer.widths[argmax(probs[l]!.widths)]!, activation: op }];
  });
}

/** Weights and biases of an MLP with these hidden layers. */
export function parameterCount(inputs: number, hidden: readonly HiddenLayer[], outputs: number): number {
  let width = inputs,
    total = 0;
  for (const h of hidden) {
    total += (width + 1) * h.units;
    width = h.units;
  }
  return total + (width + 1) * outputs;
}

/**
 * E[parameters] of the discrete network when every layer draws its width from ρ and its operation
 * from π independently, and its gradient with respect to every probability (in the engine's
 * arena order). A layer is present with probability 1 − π_skip; its input width is the previous
 * present layer's, so with c_l the expected input width of layer l and w̄_l = Σ ρ_i·w_i:
 *   E = Σ_l (1 − s_l)·(c_l + 1)·w̄_l + (c_{L+1} + 1)·C,   c_{l+1} = s_l·c_l + (1 − s_l)·w̄_l
 * (products of expectations are exact: the factors depend on disjoint, independent choices).
 */
export function expectedParameters(spec: SuperNetSpec, probs: ArrayLike<number>): { value: number; gradient: Float64Array } {
  const gradient = new Float64Array(probs.length);
  const layers = spec.layers.map((l, i) => ({ l, at: 0, i }));
  let at = 0;
  for (const x of layers) {
    x.at = at;
    at += x.l.widths.length + x.l.acts.length + (x.l.skip ? 1 : 0);
  }
  const skipOf = (x: (typeof layers)[number]) => (x.l.skip ? probs[x.at + x.l.widths.length + x.l.acts.length]! : 0);
  const meanWidth = (x: (typeof layers)[number]) => x.l.widths.reduce((s, w, i) => s + probs[x.at + i]! * w, 0);
  const inputs: number[] = [];
  let c = spec.inputs,
    value = 0;
  for (const x of layers) {
    const s = skipOf(x),
      w = meanWidth(x);
    inputs.push(c);
    value += (1 - s) * (c + 1) * w;
    c = s * c + (1 - s) * w;
  }
  value += (c + 1) * spec.outputs;
  let dc = spec.outputs;
  for (let k = layers.length - 1; k >= 0; k--) {
    const x = layers[k]!;
    const s = skipOf(x),
      w = meanWidth(x),
      cin = inputs[k]!;
    const dw = (1 - s) * (cin + 1) + dc * (1 - s);
    x.l.widths.forEach((width, i) => (gradient[x.at + i] = dw * width));
    if (x.l.skip) gradient[x.at + x.l.widths.length + x.l.acts.length] = -(cin + 1) * w + dc * (cin - w);
    dc = (1 - s) * w + dc * s;
  }
  return { value, gradient };
}
