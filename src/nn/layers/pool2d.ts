// Max and average pooling over rows [channels, height, width], each channel plane on its own.
// Windows skip positions outside the plane, so an average divides by the positions it covers
// (see assembly/kernels/f32-pool.ts); max pooling's backward finds each window's largest input
// again from the input, so the layer keeps nothing between its passes.
import { checkKnownKeys } from '../../core/errors.ts';
import type { Layer, Pass, Shape } from '../../core/layer.ts';
import { pool2dBackwardRows, pool2dForwardRows, type PoolKind, type WindowGeometry } from '../../core/ops/image-ops.ts';
import type { LayerKind } from './kind.ts';
import { checkPadding, checkSize2, imageShape, windowGeometry, windowText, type Padding, type Size2 } from './window.ts';

/** A max-pooling layer, as `maxPool2d()` makes it. */
export interface MaxPool2dConfig {
  readonly type: 'maxPool2d';
  readonly poolSize: Size2;
  /** Default: the pool size (windows side by side). */
  readonly stride?: Size2;
  /** Default 'valid'; explicit padding is at most half the pool size. */
  readonly padding?: Padding;
}

/** An average-pooling layer, as `avgPool2d()` makes it. */
export interface AvgPool2dConfig {
  readonly type: 'avgPool2d';
  readonly poolSize: Size2;
  readonly stride?: Size2;
  readonly padding?: Padding;
}

/** Options of the pooling layers beyond the pool size. */
export type Pool2dOptions = { stride?: Size2; padding?: Padding };

/** The largest value of each poolSize window of every channel.
 *  @example maxPool2d(2) */
export function maxPool2d(poolSize: Size2, options: Pool2dOptions = {}): MaxPool2dConfig {
  checkKnownKeys('maxPool2d', options, ['stride', 'padding']);
  return MAX_POOL_2D.check('maxPool2d', { type: 'maxPool2d', poolSize, ...options });
}

/** The mean of each poolSize window of every channel (over the positions inside the image).
 *  @example avgPool2d(2) */
export function avgPool2d(poolSize: Size2, options: Pool2dOptions = {}): AvgPool2dConfig {
  checkKnownKeys('avgPool2d', options, ['stride', 'padding']);
  return AVG_POOL_2D.check('avgPool2d', { type: 'avgPool2d', poolSize, ...options });
}

function poolKind<C extends MaxPool2dConfig | AvgPool2dConfig>(type: C['type'], kind: PoolKind): LayerKind<C> {
  return {
    type,
    check(where, l) {
      checkKnownKeys(where, l, ['type', 'poolSize', 'stride', 'padding']);
      checkSize2(where, 'poolSize', l.poolSize, 1);
      if (l.stride !== undefined) checkSize2(where, 'stride', l.stride, 1);
      if (l.padding !== undefined) checkPadding(where, l.padding);
      return l as unknown as C;
    },
    build(config, inputShape, where) {
      const image = imageShape(where, inputShape, type);
      const g = windowGeometry(where, image, config.poolSize, config.stride ?? config.poolSize, config.padding ?? 'valid');
      // A window must cover at least one position of the image; half the pool size guarantees it.
      if (typeof config.padding !== 'string' && config.padding !== undefined && (2 * g.ph > g.KH || 2 * g.pw > g.KW)) {
        throw new RangeError(
          `${where}: padding ${windowText(config.padding, undefined, undefined)} is more than half the pool size ${g.KH}x${g.KW}`,
        );
      }
      return new Pool2dLayer(kind, `${type}(${windowText(config.poolSize, config.stride, config.padding)})`, g, [g.C, g.OH, g.OW]);
    },
  };
}

export const MAX_POOL_2D: LayerKind<MaxPool2dConfig> = poolKind('maxPool2d', 'max');
export const AVG_POOL_2D: LayerKind<AvgPool2dConfig> = poolKind('avgPool2d', 'avg');

/** A pooling layer; global average pooling is one whose window is the whole image. */
export class Pool2dLayer implements Layer {
  readonly params = [];
  readonly scratch = [];
  readonly inputShape: Shape;

  constructor(
    readonly kind: PoolKind,
    readonly name: string,
    readonly geometry: WindowGeometry,
    readonly outputShape: Shape,
  ) {
    this.inputShape = [geometry.C, geometry.H, geometry.W];
  }

  forward(p: Pass): void {
    pool2dForwardRows(this.kind, p.y, p.x, p.batch, this.geometry);
  }

  backward(p: Pass): void {
    if (p.dx) pool2dBackwardRows(this.kind, p.dx, p.dy, p.x, p.batch, this.geometry);
  }
}
