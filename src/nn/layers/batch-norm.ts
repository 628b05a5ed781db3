// Batch normalisation per channel: rows [channels, height, width] normalise each channel over the
// batch and the image, flat rows [features] each feature over the batch. Training uses the batch's
// statistics and moves the running ones (non-trainable slots, saved with the model); inference
// uses the running ones. An optional activation follows, so conv → batchNorm(relu) needs no
// extra layer.
import { ACTIVATIONS, activationCode, type Activation } from '../../core/activation.ts';
import { checkKnownKeys, checkNumber } from '../../core/errors.ts';
import { shapeSize, type Layer, type Pass, type Shape } from '../../core/layer.ts';
import {
  activationBackward,
  activationForward,
  batchNormBackwardRows,
  batchNormEvalRows,
  batchNormTrainRows,
} from '../../core/ops/image-ops.ts';
import type { LayerKind } from './kind.ts';
import { ACT_LINEAR } from '../../../assembly/codes.ts';

/** A batch-normalisation layer, as `batchNorm()` makes it. */
export interface BatchNormConfig {
  readonly type: 'batchNorm';
  /** Weight of the batch statistic in each running-statistic update (PyTorch's 0.1 by default). */
  readonly momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  readonly eps?: number;
  /** Applied after the normalisation (default linear). */
  readonly activation?: Activation;
  readonly alpha?: number;
}

/** Batch normalisation per channel (per feature for flat rows), then an optional activation.
 *  @example batchNorm({ activation: 'relu' }) */
export function batchNorm(options: Omit<BatchNormConfig, 'type'> = {}): BatchNormConfig {
  checkKnownKeys('batchNorm', options, ['momentum', 'eps', 'activation', 'alpha']);
  return BATCH_NORM.check('batchNorm', { type: 'batchNorm', ...options });
}

export const BATCH_NORM: LayerKind<BatchNormConfig> = {
  type: 'batchNorm',
  check(where, l) {
    checkKnownKeys(where, l, ['type', 'momentum', 'eps', 'activation', 'alpha']);
    if (l.momentum !== undefined) checkNumber(where, 'momentum', l.momentum, 0, 1);
    if (l.eps !== undefined) {
      const eps = checkNumber(where, 'eps', l.eps, 0, 1);
      if (eps <= 0) throw new RangeError(`${where}: eps must be > 0, got ${eps}`);
    }
    if (l.activation !== undefined && !ACTIVATIONS.includes(l.activation as Activation))
      throw new TypeError(`${where}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(l.activation)}`);
    if (l.alpha !== undefined) checkNumber(where, 'alpha', l.alpha);
    return l as unknown as BatchNormConfig;
  },
  build: (config, inputShape) => new BatchNormLayer(config, inputShape),
};

class BatchNormLayer implements Layer {
  readonly name: string;
  readonly outputShape: Shape;
  readonly params;
  /** The pre-activations when there is an activation. */
  readonly scratch: readonly number[];
  /** The batch's mean and 1/√(σ² + eps) per channel, written by the training forward and read
   *  by the backward. */
  readonly workspace: readonly number[];
  readonly #channels: number;
  readonly #spatial: number;
  readonly #eps: number;
  readonly #momentum: number;
  readonly #act: number;
  readonly #alpha: number;

  constructor(
    config: BatchNormConfig,
    readonly inputShape: Shape,
  ) {
    const activation = config.activation ?? 'linear';
    this.name = `batchNorm(${activation})`;
    this.outputShape = inputShape;
    this.#channels = inputShape[0]!;
    this.#spatial = shapeSize(inputShape) / this.#channels;
    const C = this.#channels;
    this.params = [
      { name: 'weight', shape: [C], init: 'ones' },
      { name: 'bias', shape: [C], init: 'zeros' },
      { name: 'running_mean', shape: [C], init: 'zeros', trainable: false },
      { name: 'running_var', shape: [C], init: 'ones', trainable: false },
    ] as const;
    this.#act = activationCode(this.name, activation);
    this.#alpha = config.alpha ?? 0.01;
    this.#eps = config.eps ?? 1e-5;
    this.#momentum = config.momentum ?? 0.1;
    this.scratch = this.#act === ACT_LINEAR ? [] : [shapeSize(inputShape)];
    this.workspace = [C, C];
  }

  forward(p: Pass): void {
    const [gamma, beta] = p.params as [typeof p.x, typeof p.x];
    const [runMean, runVar] = p.state as [typeof p.x, typeof p.x];
    const activated = this.#act !== ACT_LINEAR;
    const z = activated && p.training ? p.scratch[0]! : p.y;
    if (p.training)
      batchNormTrainRows(
        z,
        p.x,
        gamma,
        beta,
        p.workspace[0]!,
        p.workspace[1]!,
        runMean,
        runVar,
        p.batch,
        this.#channels,
        this.#spatial,
        this.#eps,
        this.#momentum,
      );
    else batchNormEvalRows(z, p.x, gamma, beta, runMean, runVar, p.batch, this.#channels, this.#spatial, this.#eps);
    if (activated) activationForward(p.y, z, p.batch * this.#channels * this.#spatial, this.#act, this.#alpha);
  }

  backward(p: Pass): void {
    if (this.#act !== ACT_LINEAR)
      activationBackward(p.dy, p.scratch[0]!, p.y, p.batch * this.#channels * this.#spatial, this.#act, this.#alpha);
    batchNormBackwardRows(
      p.dx,
      p.grads[0]!,
      p.grads[1]!,
      p.dy,
      p.x,
      p.params[0]!,
      p.workspace[0]!,
      p.workspace[1]!,
      p.batch,
      this.#channels,
      this.#spatial,
    );
  }
}
