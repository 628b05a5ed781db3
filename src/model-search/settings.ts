// The one settings resolver of the model search: a trial's sampled parameters, over the defaults,
// become an MLP's layers (after convolution blocks for image rows) and its training options. searchModel, runPipeline and `kiln search`
// all build and train their models from these settings.
import type { Activation } from '../core/activation.ts';
import type { ParamValue } from '../search/distributions.ts';
import { avgPool2d, batchNorm, conv2d, dense, dropout, flatten, maxPool2d, type LayerConfig } from '../nn/layers/index.ts';
import type { FitOptions } from '../train/fit.ts';
import { adam, adamw, gd, sgd, type Optimizer } from '../train/optimizers.ts';
import type { Schedule } from '../train/schedules.ts';

/** One trial's MLP and training settings, resolved from its parameters. */
export interface MlpSettings {
  /** Hidden widths; [] is a linear model. After convolution blocks, the dense head. */
  layers: number[];
  /** Filters of each convolution block (image rows only); undefined or []: none. A block is a
   *  'same' convolution, batch norm when `batchNorm`, the activation, then 2×2 pooling while the
   *  image is at least 2 high and wide; the blocks are flattened into the dense layers. */
  convBlocks?: number[];
  /** Kernel size of every block's convolution (default 3). */
  kernelSize?: number;
  /** Pooling after each block (default 'max'). */
  pooling?: 'max' | 'avg';
  /** Batch normalisation in each block (default false). */
  batchNorm?: boolean;
  activation: Activation;
  /** Dropout after each hidden layer (0: none). */
  dropout: number;
  optimizer: 'gd' | 'sgd' | 'adam' | 'adamw';
  /** Undefined: the optimizer's default (1e-3 for adam and adamw, 0.01 for sgd and gd). */
  lr?: number;
  /** sgd only; undefined: 0. */
  momentum?: number;
  /** sgd only. */
  nesterov?: boolean;
  /** Undefined: the optimizer's default (0.01 for adamw, else 0). */
  weightDecay?: number;
  clipNorm?: number;
  schedule?: Schedule;
  batchSize: number;
  /** Training epochs (and the pruner's largest resource). */
  epochs: number;
  labelSmoothing?: number;
  /** Patience of early stopping on the validation loss (the best epoch's weights are kept);
   *  undefined: off. */
  earlyStopping?: number;
}

/** Every key of `MlpSettings`. */
export const MLP_SETTING_KEYS = [
  'layers',
  'convBlocks',
  'kernelSize',
  'pooling',
  'batchNorm',
  'activation',
  'dropout',
  'optimizer',
  'lr',
  'momentum',
  'nesterov',
  'weightDecay',
  'clipNorm',
  'schedule',
  'batchSize',
  'epochs',
  'labelSmoothing',
  'earlyStopping',
] as const;

/** The settings a trial uses for names its search space leaves out. */
export const DEFAULT_MLP_SETTINGS: Readonly<MlpSettings> = {
  layers: [64],
  activation: 'relu',
  dropout: 0,
  optimizer: 'adam',
  batchSize: 64,
  epochs: 10,
};

// Space name → settings key, for the names that map one to one.
const PLAIN: Readonly<Record<string, Exclude<keyof MlpSettings, 'layers'>>> = {
  lr: 'lr',
  optimizer: 'optimizer',
  momentum: 'momentum',
  nesterov: 'nesterov',
  weight_decay: 'weightDecay',
  clip_norm: 'clipNorm',
  batch_size: 'batchSize',
  epochs: 'epochs',
  dropout: 'dropout',
  activation: 'activation',
  label_smoothing: 'labelSmoothing',
  kernel_size: 'kernelSize',
  pooling: 'pooling',
  batch_norm: 'batchNorm',
};

/**
 * The settings a trial's parameters give; names the space does not set keep their defaults.
 * `layers` with `units_{i}` (or one `units` for all) sets depth and widths; `units` alone sets
 * the width of every default layer.
 *
 * @example
 * mlpSettings({ lr: 0.01, layers: 2, units_0: 64, units_1: 32 }); // layers [64, 32], lr 0.01, the rest default
 */
export function mlpSettings(
  params: Readonly<Record<string, ParamValue>>,
  defaults: Readonly<MlpSettings> = DEFAULT_MLP_SETTINGS,
): MlpSettings {
  const settings: MlpSettings = {
    ...defaults,
    layers: defaults.layers.slice(),
    ...(defaults.convBlocks ? { convBlocks: defaults.convBlocks.slice() } : {}),
  };
  const chosen = settings as unknown as Record<string, ParamValue>;
  for (const [name, key] of Object.entries(PLAIN)) if (name in params) chosen[key] = params[name]!;
  if ('layers' in params) {
    const fallback = (params.units as number | undefined) ?? defaults.layers[0] ?? 64;
    settings.layers = Array.from({ length: params.layers as number }, (_, i) => (params[`units_${i}`] as number | undefined) ?? fallback);
  } else if ('units' in params) {
    settings.layers = (settings.layers.length ? settings.layers : [0]).map(() => params.units as number);
  }
  if ('conv_blocks' in params) {
    const fallback = (params.filters as number | undefined) ?? defaults.convBlocks?.[0] ?? 16;
    settings.convBlocks = Array.from(
      { length: params.conv_blocks as number },
      (_, i) => (params[`filters_${i}`] as number | undefined) ?? fallback,
    );
  } else if ('filters' in params) {
    settings.convBlocks = (settings.convBlocks?.length ? settings.convBlocks : [0]).map(() => params.filters as number);
  }
  return settings;
}

/** The convolution blocks (for rows of shape [c, h, w]), the hidden layers (with dropout after
 *  each when set) and a linear output layer of `outputs` units.
 *  @example new Sequential({ inputs: 4, layers: mlpLayers(mlpSettings(trial.params), 3) }); */
export function mlpLayers(
  settings: Pick<MlpSettings, 'layers' | 'activation' | 'dropout' | 'convBlocks' | 'kernelSize' | 'pooling' | 'batchNorm'>,
  outputs: number,
  inputShape?: readonly number[],
): LayerConfig[] {
  const conv: LayerConfig[] = [];
  if (settings.convBlocks?.length) {
    if (inputShape?.length !== 3)
      throw new RangeError(
        `mlpLayers: convolution blocks need rows of shape [channels, height, width], got ${inputShape ? `[${inputShape.join(', ')}]` : 'flat rows'}`,
      );
    let [, h, w] = inputShape as [number, number, number];
    const k = settings.kernelSize ?? 3;
    const act = settings.activation;
    for (const filters of settings.convBlocks) {
      if (settings.batchNorm) conv.push(conv2d(filters, k, { padding: 'same' }), batchNorm({ activation: act }));
      else conv.push(conv2d(filters, k, { padding: 'same', activation: act }));
      if (h >= 2 && w >= 2) {
        conv.push(settings.pooling === 'avg' ? avgPool2d(2) : maxPool2d(2));
        h = Math.floor(h / 2);
        w = Math.floor(w / 2);
      }
    }
    conv.push(flatten());
  }
  return [
    ...conv,
    ...settings.layers.flatMap((u) =>
      settings.dropout > 0 ? [dense(u, settings.activation), dropout(settings.dropout)] : [dense(u, settings.activation)],
    ),
    dense(outputs),
  ];
}

/** The optimizer of the settings; options left undefined take the optimizer's defaults. */
function mlpOptimizer(settings: MlpSettings): Optimizer {
  const { lr, weightDecay, clipNorm, schedule } = settings;
  const common = {
    ...(lr !== undefined ? { lr } : {}),
    ...(weightDecay !== undefined ? { weightDecay } : {}),
    ...(clipNorm !== undefined ? { clipNorm } : {}),
    ...(schedule ? { schedule } : {}),
  };
  switch (settings.optimizer) {
    case 'sgd':
      return sgd({
        ...common,
        ...(settings.momentum !== undefined ? { momentum: settings.momentum } : {}),
        ...(settings.nesterov ? { nesterov: true } : {}),
      });
    case 'gd':
      return gd(common);
    case 'adamw':
      return adamw(common);
    case 'adam':
      return adam(common);
    default:
      throw new TypeError(`mlpSettings: optimizer must be 'gd', 'sgd', 'adam' or 'adamw', got ${JSON.stringify(settings.optimizer)}`);
  }
}

/** fit's options for the settings (rows, seed and callbacks aside). */
export function mlpFitOptions(settings: MlpSettings): FitOptions {
  return {
    optimizer: mlpOptimizer(settings),
    epochs: settings.epochs,
    batchSize: settings.batchSize,
    ...(settings.labelSmoothing !== undefined ? { labelSmoothing: settings.labelSmoothing } : {}),
    ...(settings.earlyStopping !== undefined ? { earlyStopping: { patience: settings.earlyStopping } } : {}),
  };
}
