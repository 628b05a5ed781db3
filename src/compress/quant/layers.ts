// The layers quantisation works on: every dense and conv2d layer of a Sequential, in order, with
// its weights viewed as a matrix [units, inputs] (a convolution's filters [O, C/groups, KH, KW]
// as [O, (C/groups)·KH·KW]) and, for convolutions, the geometry and the pooling that follows.
// Flatten and dropout vanish; batch norms must have been folded (foldBatchNorm) first.
import type { Activation } from '../../core/activation.ts';
import type { QuantConvSpec, QuantPoolSpec } from '../../core/quant-engine.ts';
import type { Tensor } from '../../core/tensor.ts';
import type { Sequential } from '../../nn/sequential.ts';
import { windowGeometry } from '../../nn/layers/window.ts';
import { Pool2dLayer } from '../../nn/layers/pool2d.ts';

export interface QuantSourceLayer {
  /** Position in the model's layers (what hooks receive). */
  readonly layer: number;
  readonly units: number;
  readonly inputs: number;
  readonly activation: Activation;
  readonly alpha: number;
  /** [units, inputs], a view into the model. */
  readonly weight: Tensor<'f32'>;
  readonly bias: Tensor<'f32'>;
  readonly conv?: QuantConvSpec;
  readonly pools: QuantPoolSpec[];
}

const three = (s: readonly number[]) => [s[0]!, s[1] ?? 1, s[2] ?? 1] as [number, number, number];

/** The dense and conv2d layers of `model` (see the file comment); a RangeError naming `where` for
 *  a layer int8 inference cannot run. */
export function quantSourceLayers(model: Sequential, where: string): QuantSourceLayer[] {
  const out: QuantSourceLayer[] = [];
  const built = model.engine.layers;
  model.layers.forEach((config, i) => {
    const layer = built[i]!;
    const at = `${where}: layer ${i} (${layer.name})`;
    switch (config.type) {
      case 'dense':
      case 'conv2d': {
        const [weight, bias] = model.engine.layerParams(i) as [Tensor<'f32'>, Tensor<'f32'>];
        const units = weight.shape[0]!;
        const inputs = weight.size / units;
        let conv: QuantConvSpec | undefined;
        if (config.type === 'conv2d') {
          if (config.activation !== 'linear' && config.activation !== 'relu')
            throw new RangeError(`${at}: int8 convolutions fuse linear or relu activations, got ${config.activation}`);
          const g = windowGeometry(
            at,
            three(layer.inputShape),
            config.kernelSize,
            config.stride ?? 1,
            config.padding ?? 'valid',
            config.dilation ?? 1,
          );
          conv = {
            inputShape: three(layer.inputShape),
            outputShape: three(layer.outputShape),
            kernel: [g.KH, g.KW],
            stride: [g.sh, g.sw],
            padding: [g.ph, g.pw],
            dilation: [g.dilh, g.dilw],
            groups: config.groups ?? 1,
          };
        }
        out.push({
          layer: i,
          units,
          inputs,
          activation: config.activation,
          alpha: config.alpha ?? 0.01,
          weight: weight.reshape([units, inputs]),
          bias,
          ...(conv ? { conv } : {}),
          pools: [],
        });
        return;
      }
      case 'maxPool2d':
      case 'avgPool2d':
      case 'globalAvgPool2d': {
        const prev = out.at(-1);
        if (!prev?.conv || !(layer instanceof Pool2dLayer)) throw new RangeError(`${at}: int8 pooling follows a convolution`);
        const g = layer.geometry;
        prev.pools.push({
          kind: config.type === 'maxPool2d' ? 'max' : 'avg',
          inputShape: [g.C, g.H, g.W],
          outputShape: [g.C, g.OH, g.OW],
          kernel: [g.KH, g.KW],
          stride: [g.sh, g.sw],
          padding: [g.ph, g.pw],
        });
        return;
      }
      case 'flatten':
      case 'dropout':
        return;
      default:
        throw new RangeError(
          `${at}: int8 models hold dense, conv2d, pooling, flatten and dropout layers${config.type === 'batchNorm' ? ' (fold batch norms into the layer before them first: foldBatchNorm)' : ''}`,
        );
    }
  });
  return out;
}
