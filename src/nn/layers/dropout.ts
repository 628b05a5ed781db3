// Inverted dropout: in training zeroes each value with probability `rate` and scales the rest by
// 1/(1 − rate), with a mask drawn from the engine's seeded stream; at inference it passes values on.
import { checkKnownKeys, checkNumber } from '../../core/errors.ts';
import { shapeSize, type Layer, type Pass, type Shape } from '../../core/layer.ts';
import { copyValues, dropoutBackwardRows, dropoutForwardRows } from '../../core/ops/layer-ops.ts';
import type { LayerKind } from './kind.ts';

/** An inverted-dropout layer, as `dropout()` makes it. */
export interface DropoutConfig {
  readonly type: 'dropout';
  readonly rate: number;
}

/** Inverted dropout: in training zeroes each value with probability `rate` and scales the rest
 *  by 1/(1-rate); at inference it passes values through. Any row shape.
 *  @example dropout(0.2) */
export function dropout(rate: number): DropoutConfig {
  return DROPOUT.check('dropout', { type: 'dropout', rate });
}

export const DROPOUT: LayerKind<DropoutConfig> = {
  type: 'dropout',
  check(where, l) {
    checkKnownKeys(where, l, ['type', 'rate']);
    const rate = checkNumber(where, 'rate', l.rate, 0, 1);
    if (rate >= 1) throw new RangeError(`${where}: rate must be in [0, 1), got ${rate}`);
    return l as unknown as DropoutConfig;
  },
  build: (config, inputShape) => new DropoutLayer(config.rate, inputShape),
};

class DropoutLayer implements Layer {
  readonly name: string;
  readonly params = [];
  /** The mask of the last training pass. */
  readonly scratch: readonly number[];
  readonly #size: number;

  constructor(
    readonly rate: number,
    readonly inputShape: Shape,
  ) {
    this.name = `dropout(${rate})`;
    this.#size = shapeSize(inputShape);
    this.scratch = [this.#size];
  }

  get outputShape(): Shape {
    return this.inputShape;
  }

  forward(p: Pass): void {
    const n = p.batch * this.#size;
    if (p.training && this.rate > 0) dropoutForwardRows(p.rng, p.y, p.scratch[0]!, p.x, n, this.rate);
    else copyValues(p.y, p.x, n);
  }

  backward(p: Pass): void {
    if (!p.dx) return;
    const n = p.batch * this.#size;
    if (this.rate > 0) dropoutBackwardRows(p.dx, p.dy, p.scratch[0]!, n);
    else copyValues(p.dx, p.dy, n);
  }
}
