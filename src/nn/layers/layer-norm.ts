// Layer normalisation over each row (all of a sample's values), with a learned scale and shift,
// as torch.nn.LayerNorm(row shape): y = (x − μ)/√(σ² + ε)·γ + β. It normalises with the row's own
// statistics, so training and inference compute the same thing.
// see: Ba, Kiros & Hinton, "Layer Normalization", arXiv:1607.06450
import { checkKnownKeys, checkNumber } from '../../core/errors.ts';
import { shapeSize, type Layer, type Pass, type Shape } from '../../core/layer.ts';
import { layerNormBackwardRows, layerNormForwardRows } from '../../core/ops/layer-ops.ts';
import type { LayerKind } from './kind.ts';

/** A layer-normalisation layer, as `layerNorm()` makes it. */
export interface LayerNormConfig {
  readonly type: 'layerNorm';
  /** Added to the variance; PyTorch's default 1e-5. */
  readonly eps?: number;
}

/** Normalises each row to zero mean and unit variance, then scales and shifts it per value
 *  (`weight` γ starts at 1, `bias` β at 0). Any row shape.
 *  @example new Sequential({ inputs: 16, layers: [dense(64, 'relu'), layerNorm(), dense(3)] }) */
export function layerNorm(options: { eps?: number } = {}): LayerNormConfig {
  checkKnownKeys('layerNorm', options, ['eps']);
  return LAYER_NORM.check('layerNorm', { type: 'layerNorm', ...options });
}

export const LAYER_NORM: LayerKind<LayerNormConfig> = {
  type: 'layerNorm',
  check(where, l) {
    checkKnownKeys(where, l, ['type', 'eps']);
    if (l.eps !== undefined && !(checkNumber(where, 'eps', l.eps) > 0))
      throw new RangeError(`${where}: eps must be > 0, got ${String(l.eps)}`);
    return l as unknown as LayerNormConfig;
  },
  build: (config, inputShape) => new LayerNormLayer(config.eps ?? 1e-5, inputShape),
};

class LayerNormLayer implements Layer {
  readonly name: string;
  readonly params;
  /** x̂ [D] and r [1] of each row, kept for the backward pass. */
  readonly scratch: readonly number[];
  readonly #size: number;

  constructor(
    readonly eps: number,
    readonly inputShape: Shape,
  ) {
    this.name = `layerNorm(eps ${eps})`;
    this.#size = shapeSize(inputShape);
    this.params = [
      { name: 'weight', shape: [this.#size], init: 'ones' },
      { name: 'bias', shape: [this.#size], init: 'zeros' },
    ] as const;
    this.scratch = [this.#size, 1];
  }

  get outputShape(): Shape {
    return this.inputShape;
  }

  forward(p: Pass): void {
    const keep = p.training;
    layerNormForwardRows(
      p.y,
      keep ? p.scratch[0] : undefined,
      keep ? p.scratch[1] : undefined,
      p.x,
      p.params[0]!,
      p.params[1]!,
      p.batch,
      this.#size,
      this.eps,
    );
  }

  backward(p: Pass): void {
    layerNormBackwardRows(p.dx, p.grads[0]!, p.grads[1]!, p.dy, p.scratch[0]!, p.scratch[1]!, p.params[0]!, p.batch, this.#size);
  }
}
