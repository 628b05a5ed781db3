// Flatten: rows of any shape ([channels, height, width], say) become flat rows of the same values
// in row-major order, which is how the engine already stores them; the passes copy.
import { checkKnownKeys } from '../../core/errors.ts';
import { shapeSize, type Layer, type Pass, type Shape } from '../../core/layer.ts';
import { copyValues } from '../../core/ops/layer-ops.ts';
import type { LayerKind } from './kind.ts';

/** A flatten layer, as `flatten()` makes it. */
export interface FlattenConfig {
  readonly type: 'flatten';
}

/** Rows of any shape become flat rows ([c, h, w] → [c·h·w]), values in row-major order.
 *  @example new Sequential({ inputs: [1, 28, 28], layers: [flatten(), dense(10)] }) */
export function flatten(): FlattenConfig {
  return { type: 'flatten' };
}

export const FLATTEN: LayerKind<FlattenConfig> = {
  type: 'flatten',
  check(where, l) {
    checkKnownKeys(where, l, ['type']);
    return l as unknown as FlattenConfig;
  },
  build: (_config, inputShape) => new FlattenLayer(inputShape),
};

class FlattenLayer implements Layer {
  readonly name = 'flatten()';
  readonly params = [];
  readonly scratch = [];
  readonly outputShape: Shape;

  constructor(readonly inputShape: Shape) {
    this.outputShape = [shapeSize(inputShape)];
  }

  forward(p: Pass): void {
    copyValues(p.y, p.x, p.batch * this.outputShape[0]!);
  }

  backward(p: Pass): void {
    if (p.dx) copyValues(p.dx, p.dy, p.batch * this.outputShape[0]!);
  }
}
