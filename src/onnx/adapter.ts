// The one place where the ONNX room reads kiln models and builds them: every model kind becomes a
// plain description (a chain of layers with their weights), and an imported description becomes a
// Sequential, only through the models' public API (toConfig, parameters, setParameters,
// preprocessing; QuantizedModel's layers; SparseModel.toSequential). A new layer kind (conv2d,
// pooling, batch norm, flatten) is one more case in `describeFloat` and `buildSequential`, one
// more layer kind in the description, and its ONNX nodes in export.ts and import.ts.
import type { Activation } from '../core/activation.ts';
import { SparseModel } from '../compress/prune/sparse-model.ts';
import { QuantizedModel, type QuantizedLayer, type QuantScheme } from '../compress/quant/model.ts';
import { StandardScaler } from '../data/scaler.ts';
import { dense, flatten, type LayerConfig } from '../nn/layers/index.ts';
import { Sequential, type Preprocessing, type Task } from '../nn/sequential.ts';

/** A dense layer with f32 weights: y = act(x·Wᵀ + b), weight [units, inputs] row-major. */
export interface FloatDense {
  readonly kind: 'dense';
  /** The layer's name in kiln ('layers.<i>', i counting dropout layers too). */
  readonly name: string;
  readonly inputs: number;
  readonly units: number;
  readonly activation: Activation;
  /** Negative slope of leaky_relu. */
  readonly alpha: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

interface NetCommon {
  /** Values per input row. */
  readonly inputs: number;
  /** The shape of one input row ([inputs] for flat rows, [channels, height, width] for images). */
  readonly inputShape: readonly number[];
  readonly outputs: number;
  readonly task: Task;
  /** The standardisation as the f32 column affine kiln runs: x·scale + shift. */
  readonly standardize?: { readonly scale: Float32Array; readonly shift: Float32Array };
  /** Names and, for float models, the standardisation's mean and std (kept as metadata). */
  readonly preprocessing: Preprocessing;
}

/** A float network (dense, pruned, or int4 with its weights dequantised). */
export interface FloatNet extends NetCommon {
  readonly kind: 'float';
  readonly layers: readonly FloatDense[];
  /** Set when the weights came from a quantised model (int4): its scheme, for the metadata. */
  readonly from?: QuantScheme;
}

/** An int8 network: codes, scales and zero points as the QuantizedModel holds them. */
export interface Int8Net extends NetCommon {
  readonly kind: 'int8';
  readonly scheme: QuantScheme;
  /** Static: calibrated u8 inputs per layer; dynamic: u8 ranges from each batch. */
  readonly activations: 'static' | 'dynamic';
  readonly dynamicRange?: 'batch' | 'row';
  readonly calibration?: string;
  readonly layers: readonly QuantizedLayer[];
}

export type NetDescription = FloatNet | Int8Net;

/** Any model kiln can export. */
export type ExportableModel = Sequential | SparseModel | QuantizedModel;

/** The description of a kiln model; TypeError for anything else. */
export function describeModel(model: ExportableModel, where: string): NetDescription {
  if (model instanceof Sequential) return describeFloat(model);
  if (model instanceof SparseModel) {
    // Sparse models export dense: ONNX Runtime's Gemm has no sparse weights to take.
    const dense = model.toSequential();
    try {
      return describeFloat(dense);
    } finally {
      dense.dispose();
    }
  }
  if (model instanceof QuantizedModel) return describeQuantized(model);
  const kind = model === null ? 'null' : typeof model === 'object' ? ((model as object).constructor?.name ?? 'object') : typeof model;
  throw new TypeError(`${where}: model must be a Sequential, SparseModel or QuantizedModel, got ${kind}`);
}

function describeFloat(model: Sequential): FloatNet {
  const config = model.toConfig();
  const params = new Map(model.parameters().map((p) => [p.name, p.data]));
  const layers: FloatDense[] = [];
  let width = model.inputs;
  config.layers.forEach((l, i) => {
    // Inference: dropout is the identity, and flatten too, since rows are stored flat.
    if (l.type !== 'dense') return;
    layers.push({
      kind: 'dense',
      name: `layers.${i}`,
      inputs: width,
      units: l.units,
      activation: l.activation,
      alpha: l.alpha ?? 0.01,
      weight: params.get(`layers.${i}.weight`)!,
      bias: params.get(`layers.${i}.bias`)!,
    });
    width = l.units;
  });
  const { mean, std } = model.preprocessing;
  return {
    kind: 'float',
    inputs: model.inputs,
    inputShape: [...model.inputShape],
    outputs: model.outputs,
    task: config.task,
    layers,
    preprocessing: { ...model.preprocessing },
    ...(mean && std ? { standardize: StandardScaler.fromJSON({ kind: 'StandardScaler', mean, std }).affine() } : {}),
  };
}

function describeQuantized(model: QuantizedModel): NetDescription {
  const common = {
    inputs: model.inputs,
    inputShape: [model.inputs],
    outputs: model.outputs,
    task: model.task,
    preprocessing: {
      ...(model.featureNames ? { featureNames: model.featureNames } : {}),
      ...(model.classNames ? { classNames: model.classNames } : {}),
    },
    ...(model.standardize ? { standardize: model.standardize } : {}),
  };
  if (model.scheme === 'int4') {
    // ONNX has 4-bit types from opset 21 on; at opset 13 the faithful form is the f32 weights
    // kiln's int4 GEMM multiplies by: (code − zero point)·scale per group.
    const groupSize = model.groupSize!;
    return {
      kind: 'float',
      ...common,
      from: 'int4',
      layers: model.layers.map((l, i) => ({
        kind: 'dense',
        name: `layers.${i}`,
        inputs: l.inputs,
        units: l.units,
        activation: l.activation,
        alpha: l.alpha,
        weight: dequantizeGroups(l, groupSize),
        bias: l.bias,
      })),
    };
  }
  return {
    kind: 'int8',
    ...common,
    scheme: model.scheme,
    layers: model.layers,
    activations: model.scheme === 'int8-dynamic' ? 'dynamic' : 'static',
    ...(model.dynamicRange ? { dynamicRange: model.dynamicRange } : {}),
    ...(model.calibration ? { calibration: model.calibration } : {}),
  };
}

function dequantizeGroups(l: QuantizedLayer, groupSize: number): Float32Array {
  const groups = Math.ceil(l.inputs / groupSize);
  const w = new Float32Array(l.units * l.inputs);
  for (let n = 0; n < l.units; n++) {
    for (let k = 0; k < l.inputs; k++) {
      const g = n * groups + Math.floor(k / groupSize);
      w[n * l.inputs + k] = (l.codes[n * l.inputs + k]! - (l.zeroPoints?.[g] ?? 0)) * l.scales[g]!;
    }
  }
  return w;
}

/** A Sequential (seed 0) holding the description's layers and weights; shaped rows get a
 *  flatten() before the first dense layer. */
export function buildSequential(net: FloatNet): Sequential {
  const shaped = net.inputShape.length > 1;
  const layers: LayerConfig[] = net.layers.map((l) =>
    dense(l.units, l.activation, l.activation === 'leaky_relu' ? { alpha: l.alpha } : {}),
  );
  const model = new Sequential({
    inputs: shaped ? [...net.inputShape] : net.inputs,
    layers: shaped ? [flatten(), ...layers] : layers,
    task: net.task,
    preprocessing: net.preprocessing,
  });
  try {
    const first = shaped ? 1 : 0;
    model.setParameters(
      Object.fromEntries(
        net.layers.flatMap((l, i) => [
          [`layers.${i + first}.weight`, l.weight],
          [`layers.${i + first}.bias`, l.bias],
        ]),
      ),
    );
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
