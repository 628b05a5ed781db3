// A fully connected layer: y = act(x·Wᵀ + b), W of shape [units, inputs], over flat rows.
import { ACTIVATIONS, activationCode, type Activation } from '../../core/activation.ts';
import { checkInteger, checkKnownKeys, checkNumber, shapeText } from '../../core/errors.ts';
import { INIT_KINDS, type InitKind } from '../../core/ops/random.ts';
import { denseBackwardRows, denseForwardRows } from '../../core/ops/layer-ops.ts';
import type { Layer, Pass, Shape } from '../../core/layer.ts';
import type { LayerKind } from './kind.ts';

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

/** A fully connected layer: y = act(x·Wᵀ + b), W of shape [units, inputs]. It takes flat rows
 *  (put `flatten()` before it after image layers).
 *  @example dense(128, 'relu') */
export function dense(units: number, activation: Activation = 'linear', options: { alpha?: number; init?: InitKind } = {}): DenseConfig {
  checkKnownKeys('dense', options, ['alpha', 'init']);
  return DENSE.check('dense', { type: 'dense', units, activation, ...options });
}

/** The initialiser a dense layer uses when its configuration names none. */
export function defaultInit(activation: Activation): InitKind {
  return activation === 'relu' || activation === 'leaky_relu' || activation === 'gelu' ? 'he_uniform' : 'glorot_uniform';
}

export const DENSE: LayerKind<DenseConfig> = {
  type: 'dense',
  check(where, l) {
    checkKnownKeys(where, l, ['type', 'units', 'activation', 'alpha', 'init']);
    checkInteger(where, 'units', l.units, 1, 1 << 20);
    if (!ACTIVATIONS.includes(l.activation as Activation))
      throw new TypeError(`${where}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(l.activation)}`);
    if (l.alpha !== undefined) checkNumber(where, 'alpha', l.alpha);
    if (l.init !== undefined && !INIT_KINDS.includes(l.init as InitKind))
      throw new TypeError(`${where}: init must be one of ${INIT_KINDS.join(', ')}, got ${String(l.init)}`);
    return l as unknown as DenseConfig;
  },
  build(config, inputShape, where) {
    if (inputShape.length !== 1)
      throw new RangeError(`${where}: dense takes flat rows, got rows of shape ${shapeText(inputShape)}; put flatten() before it`);
    return new DenseLayer(config, inputShape[0]!);
  },
};

class DenseLayer implements Layer {
  readonly name: string;
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  readonly params;
  /** The pre-activations, kept from forward to backward. */
  readonly scratch: readonly number[];
  readonly #inputs: number;
  readonly #units: number;
  readonly #act: number;
  readonly #alpha: number;

  constructor(config: DenseConfig, inputs: number) {
    const { units, activation } = config;
    this.name = `dense(${units}, ${activation})`;
    this.inputShape = [inputs];
    this.outputShape = [units];
    this.params = [
      { name: 'weight', shape: [units, inputs], init: { kind: config.init ?? defaultInit(activation), fanIn: inputs, fanOut: units } },
      { name: 'bias', shape: [units], init: 'zeros' },
    ] as const;
    this.scratch = [units];
    this.#inputs = inputs;
    this.#units = units;
    this.#act = activationCode(this.name, activation);
    this.#alpha = config.alpha ?? 0.01;
  }

  forward(p: Pass): void {
    const K = this.#inputs;
    p.hooks?.input(p.index, p.x.slice(0, [p.batch, K]), p.training);
    const w = p.hooks?.weights(p.index, true) ?? p.params[0]!;
    denseForwardRows(p.y, p.training ? p.scratch[0] : undefined, p.x, w, p.params[1]!, p.batch, this.#units, K, this.#act, this.#alpha);
  }

  backward(p: Pass): void {
    const K = this.#inputs;
    const w = p.hooks?.weights(p.index, false) ?? p.params[0]!;
    denseBackwardRows(p.dx, p.grads[0]!, p.grads[1]!, p.dy, p.x, w, p.scratch[0]!, p.y, p.batch, this.#units, K, this.#act, this.#alpha);
    if (p.hooks && p.dx) p.hooks.inputGrad(p.index, p.dx.slice(0, [p.batch, K]));
  }
}
