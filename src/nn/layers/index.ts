// The layer kinds a Sequential can hold, one file each. Configurations are plain JSON objects, so
// a model's architecture saves as it is written; adding a kind means writing its file (its
// configuration, `check` and `build`) and listing it here.
import type { Layer, Shape } from '../../core/layer.ts';
import { DENSE, type DenseConfig } from './dense.ts';
import { DROPOUT, type DropoutConfig } from './dropout.ts';
import { FLATTEN, type FlattenConfig } from './flatten.ts';
import { LAYER_NORM, type LayerNormConfig } from './layer-norm.ts';
import { CONV2D, type Conv2dConfig } from './conv2d.ts';
import { AVG_POOL_2D, MAX_POOL_2D, type AvgPool2dConfig, type MaxPool2dConfig } from './pool2d.ts';
import { GLOBAL_AVG_POOL_2D, type GlobalAvgPool2dConfig } from './global-avg-pool2d.ts';
import { BATCH_NORM, type BatchNormConfig } from './batch-norm.ts';
import type { LayerKind } from './kind.ts';

export { dense, defaultInit, type DenseConfig } from './dense.ts';
export { dropout, type DropoutConfig } from './dropout.ts';
export { flatten, type FlattenConfig } from './flatten.ts';
export { layerNorm, type LayerNormConfig } from './layer-norm.ts';
export { conv2d, type Conv2dConfig, type Conv2dOptions } from './conv2d.ts';
export { maxPool2d, avgPool2d, type MaxPool2dConfig, type AvgPool2dConfig, type Pool2dOptions } from './pool2d.ts';
export { globalAvgPool2d, type GlobalAvgPool2dConfig } from './global-avg-pool2d.ts';
export { batchNorm, type BatchNormConfig } from './batch-norm.ts';
export type { Padding, Size2 } from './window.ts';

/** A layer of a `Sequential`. */
export type LayerConfig =
  | DenseConfig
  | DropoutConfig
  | FlattenConfig
  | LayerNormConfig
  | Conv2dConfig
  | MaxPool2dConfig
  | AvgPool2dConfig
  | GlobalAvgPool2dConfig
  | BatchNormConfig;

const KINDS: Readonly<Record<LayerConfig['type'], LayerKind<LayerConfig>>> = {
  dense: DENSE as LayerKind<LayerConfig>,
  dropout: DROPOUT as LayerKind<LayerConfig>,
  flatten: FLATTEN as LayerKind<LayerConfig>,
  layerNorm: LAYER_NORM as LayerKind<LayerConfig>,
  conv2d: CONV2D as LayerKind<LayerConfig>,
  maxPool2d: MAX_POOL_2D as LayerKind<LayerConfig>,
  avgPool2d: AVG_POOL_2D as LayerKind<LayerConfig>,
  globalAvgPool2d: GLOBAL_AVG_POOL_2D as LayerKind<LayerConfig>,
  batchNorm: BATCH_NORM as LayerKind<LayerConfig>,
};

/** The layer types kiln knows, in the order the docs list them. */
export const LAYER_TYPES = Object.keys(KINDS) as readonly LayerConfig['type'][];

/** Validates one layer configuration (also those read from a model file). */
export function checkLayer(where: string, layer: unknown): LayerConfig {
  if (!layer || typeof layer !== 'object') throw new TypeError(`${where}: a layer must be an object, got ${String(layer)}`);
  const l = layer as Record<string, unknown>;
  const kind = Object.hasOwn(KINDS, l.type as string) ? KINDS[l.type as LayerConfig['type']] : undefined;
  if (!kind) throw new TypeError(`${where}: layer type must be one of ${LAYER_TYPES.join(', ')}, got ${String(l.type)}`);
  return kind.check(where, l);
}

/** The engine layers of a stack, each built for the shape the previous one gives. */
export function buildLayers(where: string, inputShape: Shape, configs: readonly LayerConfig[]): Layer[] {
  let shape = inputShape;
  return configs.map((config, i) => {
    const layer = KINDS[config.type].build(config, shape, `${where} layers[${i}] (${config.type})`);
    shape = layer.outputShape;
    return layer;
  });
}
