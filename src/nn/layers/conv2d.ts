// A 2-D convolution over rows [channels, height, width] (NCHW batches): filters [O, C/groups,
// KH, KW] as PyTorch's Conv2d lays them out, a bias per filter and an activation. The core runs it
// as im2col of a chunk of the batch + one packed GEMM per chunk (see assembly/kernels/f32-conv.ts),
// and the forward of 3×3 and 5×5 filters as Winograd (f32-winograd.ts); its buffers stay within
// about 4 MiB whatever the batch, plus Winograd's transformed filters (convColumnSize and
// winogradWorkspaceSize in image-ops.ts).
import { ACTIVATIONS, activationCode, type Activation } from '../../core/activation.ts';
import { checkInteger, checkKnownKeys, checkNumber } from '../../core/errors.ts';
import { INIT_KINDS, type InitKind } from '../../core/ops/random.ts';
import {
  conv2dBackwardRows,
  conv2dForwardRows,
  convColumnSize,
  winogradWorkspaceSize,
  type ConvGeometry,
} from '../../core/ops/image-ops.ts';
import type { Layer, Pass, Shape } from '../../core/layer.ts';
import { defaultInit } from './dense.ts';
import type { LayerKind } from './kind.ts';
import { checkPadding, checkSize2, imageShape, windowGeometry, windowText, type Padding, type Size2 } from './window.ts';

/** A convolution layer, as `conv2d()` makes it. */
export interface Conv2dConfig {
  readonly type: 'conv2d';
  readonly filters: number;
  readonly kernelSize: Size2;
  /** Default 1. */
  readonly stride?: Size2;
  /** Default 'valid'. */
  readonly padding?: Padding;
  /** Default 1. */
  readonly dilation?: Size2;
  /** Input and output channels split into this many independent groups (default 1); groups =
   *  input channels = filters is a depthwise convolution. */
  readonly groups?: number;
  readonly activation: Activation;
  readonly alpha?: number;
  readonly init?: InitKind;
}

/** Options of `conv2d` beyond filters and kernel size. */
export type Conv2dOptions = Partial<Pick<Conv2dConfig, 'stride' | 'padding' | 'dilation' | 'groups' | 'activation' | 'alpha' | 'init'>>;

/** A 2-D convolution: `filters` output channels from a kernelSize window over rows [C, H, W].
 *  @example conv2d(32, 5, { padding: 'same', activation: 'relu' }) */
export function conv2d(filters: number, kernelSize: Size2, options: Conv2dOptions = {}): Conv2dConfig {
  checkKnownKeys('conv2d', options, ['stride', 'padding', 'dilation', 'groups', 'activation', 'alpha', 'init']);
  return CONV2D.check('conv2d', { type: 'conv2d', filters, kernelSize, ...options, activation: options.activation ?? 'linear' });
}

export const CONV2D: LayerKind<Conv2dConfig> = {
  type: 'conv2d',
  check(where, l) {
    checkKnownKeys(where, l, ['type', 'filters', 'kernelSize', 'stride', 'padding', 'dilation', 'groups', 'activation', 'alpha', 'init']);
    checkInteger(where, 'filters', l.filters, 1, 1 << 16);
    checkSize2(where, 'kernelSize', l.kernelSize, 1);
    if (l.stride !== undefined) checkSize2(where, 'stride', l.stride, 1);
    if (l.dilation !== undefined) checkSize2(where, 'dilation', l.dilation, 1);
    if (l.padding !== undefined) checkPadding(where, l.padding);
    if (l.groups !== undefined) checkInteger(where, 'groups', l.groups, 1, 1 << 16);
    if (!ACTIVATIONS.includes(l.activation as Activation))
      throw new TypeError(`${where}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(l.activation)}`);
    if (l.alpha !== undefined) checkNumber(where, 'alpha', l.alpha);
    if (l.init !== undefined && !INIT_KINDS.includes(l.init as InitKind))
      throw new TypeError(`${where}: init must be one of ${INIT_KINDS.join(', ')}, got ${String(l.init)}`);
    return l as unknown as Conv2dConfig;
  },
  build(config, inputShape, where) {
    const image = imageShape(where, inputShape, 'conv2d');
    const groups = config.groups ?? 1;
    if (image[0] % groups !== 0 || config.filters % groups !== 0) {
      throw new RangeError(`${where}: groups (${groups}) must divide the input channels (${image[0]}) and the filters (${config.filters})`);
    }
    const window = windowGeometry(where, image, config.kernelSize, config.stride ?? 1, config.padding ?? 'valid', config.dilation ?? 1);
    return new Conv2dLayer(config, { ...window, O: config.filters, groups });
  },
};

class Conv2dLayer implements Layer {
  readonly name: string;
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  readonly params;
  /** The pre-activations, kept from forward to backward. */
  readonly scratch: readonly number[];
  #workspace: readonly number[] | undefined;
  #colAt = -1;
  #winogradAt = -1;
  readonly #g: ConvGeometry;
  readonly #act: number;
  readonly #alpha: number;

  constructor(config: Conv2dConfig, g: ConvGeometry) {
    const { filters, activation } = config;
    const groups = g.groups > 1 ? `, groups ${g.groups}` : '';
    this.name = `conv2d(${filters}, ${windowText(config.kernelSize, config.stride, config.padding)}${groups}, ${activation})`;
    this.#g = g;
    this.inputShape = [g.C, g.H, g.W];
    this.outputShape = [g.O, g.OH, g.OW];
    const fanIn = (g.C / g.groups) * g.KH * g.KW,
      fanOut = (g.O / g.groups) * g.KH * g.KW;
    this.params = [
      { name: 'weight', shape: [g.O, g.C / g.groups, g.KH, g.KW], init: { kind: config.init ?? defaultInit(activation), fanIn, fanOut } },
      { name: 'bias', shape: [g.O], init: 'zeros' },
    ] as const;
    this.scratch = [g.O * g.OH * g.OW];
    this.#act = activationCode(this.name, activation);
    this.#alpha = config.alpha ?? 0.01;
  }

  /** The column buffer of a chunk of samples and its GEMM output (none for a pointwise
   *  convolution), then the Winograd forward's buffers when it takes Winograd. Sized on first use,
   *  when the engine allocates, so that building a layer does not start the core. */
  get workspace(): readonly number[] {
    if (!this.#workspace) {
      const sizes = [convColumnSize(this.#g), winogradWorkspaceSize(this.#g)];
      this.#colAt = sizes[0]! > 0 ? 0 : -1;
      this.#winogradAt = sizes[1]! > 0 ? (sizes[0]! > 0 ? 1 : 0) : -1;
      this.#workspace = sizes.filter((n) => n > 0);
    }
    return this.#workspace;
  }

  // Hooks (quantisation-aware training, calibration) see the input as [batch, C·H·W] and may
  // substitute the filters, as for dense layers.
  forward(p: Pass): void {
    p.hooks?.input(p.index, p.x.slice(0, [p.batch, this.inputShape.reduce((a, b) => a * b, 1)]), p.training);
    conv2dForwardRows(
      p.y,
      p.training ? p.scratch[0] : undefined,
      p.x,
      p.hooks?.weights(p.index, true) ?? p.params[0]!,
      p.params[1]!,
      p.workspace[this.#colAt],
      p.workspace[this.#winogradAt],
      p.batch,
      this.#g,
      this.#act,
      this.#alpha,
    );
  }

  backward(p: Pass): void {
    conv2dBackwardRows(
      p.dx,
      p.grads[0]!,
      p.grads[1]!,
      p.dy,
      p.x,
      p.hooks?.weights(p.index, false) ?? p.params[0]!,
      p.scratch[0]!,
      p.y,
      p.workspace[this.#colAt],
      p.batch,
      this.#g,
      this.#act,
      this.#alpha,
    );
    if (p.hooks && p.dx) p.hooks.inputGrad(p.index, p.dx.slice(0, [p.batch, this.inputShape.reduce((a, b) => a * b, 1)]));
  }
}
