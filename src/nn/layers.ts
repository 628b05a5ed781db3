// Layer configurations: plain JSON objects, so a model's architecture saves as it is written.
import { ACTIVATIONS, type Activation } from '../core/activation.ts';
import { checkInteger, checkKnownKeys, checkNumber } from '../core/errors.ts';
import { INIT_KINDS, type InitKind } from '../core/mlp-engine.ts';

/** A fully connected layer, as `dense()` makes it. */
export interface DenseConfig {
  readonly type: 'dense';
  readonly units: number;
  readonly activation: Activation;
  /** Negative slope of leaky_relu (PyTorch's default 0.01). */
  readonly alpha?: number;
  /** Weight initialisation; default He for the ReLU family and GELU, Glorot otherwise. */
  readonly init?: InitKind;
}
/** An inverted-dropout layer, as `dropout()` makes it. */
export interface DropoutConfig {
  readonly type: 'dropout';
  readonly rate: number;
}
/** A layer of a `Sequential`. */
export type LayerConfig = DenseConfig | DropoutConfig;

/** A fully connected layer: y = act(x·Wᵀ + b), W of shape [units, inputs].
 *  @example dense(128, 'relu') */
export function dense(units: number, activation: Activation = 'linear', options: { alpha?: number; init?: InitKind } = {}): DenseConfig {
  checkKnownKeys('dense', options, ['alpha', 'init']);
  return checkLayer('dense', { type: 'dense', units, activation, ...options }) as DenseConfig;
}

/** Inverted dropout: in training zeroes each value with probability `rate` and scales the rest
 *  by 1/(1-rate); at inference it passes values through. */
export function dropout(rate: number): DropoutConfig {
  return checkLayer('dropout', { type: 'dropout', rate }) as DropoutConfig;
}

export function defaultInit(activation: Activation): InitKind {
  return activation === 'relu' || activation === 'leaky_relu' || activation === 'gelu' ? 'he_uniform' : 'glorot_uniform';
}

/** Validates one layer configuration (also those read from a model file). */
export function checkLayer(where: string, layer: unknown): LayerConfig {
  if (!layer || typeof layer !== 'object') throw new TypeError(`${where}: a layer must be an object, got ${String(layer)}`);
  const l = layer as Record<string, unknown>;
  if (l.type === 'dense') {
    checkKnownKeys(where, l, ['type', 'units', 'activation', 'alpha', 'init']);
    checkInteger(where, 'units', l.units, 1, 1 << 20);
    if (!ACTIVATIONS.includes(l.activation as Activation)) throw new TypeError(`${where}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(l.activation)}`);
    if (l.alpha !== undefined) checkNumber(where, 'alpha', l.alpha);
    if (l.init !== undefined && !INIT_KINDS.includes(l.init as InitKind)) throw new TypeError(`${where}: init must be one of ${INIT_KINDS.join(', ')}, got ${String(l.init)}`);
  } else if (l.type === 'dropout') {
    checkKnownKeys(where, l, ['type', 'rate']);
    const rate = checkNumber(where, 'rate', l.rate, 0, 1);
    if (rate >= 1) throw new RangeError(`${where}: rate must be in [0, 1), got ${rate}`);
  } else {
    throw new TypeError(`${where}: layer type must be 'dense' or 'dropout', got ${String(l.type)}`);
  }
  return l as unknown as LayerConfig;
}
