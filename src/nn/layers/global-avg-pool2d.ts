// Global average pooling: each channel of rows [channels, height, width] becomes its mean, giving
// flat rows [channels] a dense layer takes directly. It is average pooling with the whole image
// as its one window.
import { checkKnownKeys } from '../../core/errors.ts';
import type { LayerKind } from './kind.ts';
import { Pool2dLayer } from './pool2d.ts';
import { imageShape, windowGeometry } from './window.ts';

/** A global average-pooling layer, as `globalAvgPool2d()` makes it. */
export interface GlobalAvgPool2dConfig {
  readonly type: 'globalAvgPool2d';
}

/** The mean of every channel: rows [C, H, W] become flat rows [C].
 *  @example new Sequential({ inputs: [1, 28, 28], layers: [conv2d(8, 3, { activation: 'relu' }), globalAvgPool2d(), dense(10)] }) */
export function globalAvgPool2d(): GlobalAvgPool2dConfig {
  return { type: 'globalAvgPool2d' };
}

export const GLOBAL_AVG_POOL_2D: LayerKind<GlobalAvgPool2dConfig> = {
  type: 'globalAvgPool2d',
  check(where, l) {
    checkKnownKeys(where, l, ['type']);
    return l as unknown as GlobalAvgPool2dConfig;
  },
  build(_config, inputShape, where) {
    const image = imageShape(where, inputShape, 'globalAvgPool2d');
    const g = windowGeometry(where, image, [image[1], image[2]], 1, 'valid');
    return new Pool2dLayer('avg', 'globalAvgPool2d()', g, [image[0]]);
  },
};
