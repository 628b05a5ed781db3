// Post-training quantisation of a trained Sequential into a QuantizedModel.
//   weights  int8: one (scale, zero point) per tensor or per output channel (row of W [out, in]);
//            int4: one per group of `groupSize` consecutive input columns of each row. Ranges are
//            the exact min and max (PyTorch's MinMaxObserver / PerChannelMinMaxObserver), the
//            parameters calculateQParams, the codes the core's quantise kernel.
//   activations (static schemes) the input of every dense layer, quint8 affine, its range
//            calibrated on the given rows with the chosen method.
import { activationCode } from '../../core/activation.ts';
import { checkFiniteData, checkKnownKeys } from '../../core/errors.ts';
import type { LayerHooks } from '../../core/layer.ts';
import { minMaxGroups, quantizeGroups, INT4_GROUP_SIZES } from '../../core/ops/quant.ts';
import { Tensor, scope } from '../../core/tensor.ts';
import { Dataset } from '../../data/dataset.ts';
import { Sequential } from '../../nn/sequential.ts';
import { foldBatchNorm } from '../fold-batch-norm.ts';
import { quantSourceLayers } from './layers.ts';
import { CALIBRATION_METHODS, calibrationRange, type CalibrationMethod } from './calibrate.ts';
import { QUANT_SCHEMES, QuantizedModel, bitsOf, type QuantScheme, type QuantizedLayer, type QuantizedModelSpec } from './model.ts';
import { StandardScaler } from '../../data/scaler.ts';
import { calculateQParams, weightRange, QUINT8, type QParams } from './qparams.ts';

/** Rows to measure activation ranges on, and how ranges are chosen from them. */
export interface CalibrationOptions {
  /** Representative raw input rows (before the model's standardisation): a Dataset, rows, or a
   *  flat Float32Array of n × inputs. Every value must be finite. */
  data: Dataset | Float32Array | readonly ArrayLike<number>[];
  /** Default 'minmax'. */
  method?: CalibrationMethod;
  /** For 'percentile'; default 99.99. */
  percentile?: number;
}

/** Options of `quantize`: scheme, weight symmetry, group size and calibration. */
export interface QuantizeOptions {
  scheme: QuantScheme;
  /** Weights: symmetric (zero point 0, codes in [-128, 127] or [-8, 7]) or affine (a zero point
   *  per scale; int4 codes in [0, 15]). Default true. Activations are always affine quint8. */
  symmetric?: boolean;
  /** int4: input columns per scale, 32, 64 or 128 (default 128); when it does not divide a
   *  layer's inputs, that layer's last group is shorter. */
  groupSize?: number;
  /** int8-dynamic: one activation range per chunk of rows ('batch', default, as PyTorch) or
   *  per row ('row': predictions independent of batching; an outlying row spoils only itself). */
  dynamicRange?: 'batch' | 'row';
  /** Static schemes (int8-per-tensor, int8-per-channel): the rows that set activation ranges. */
  calibration?: CalibrationOptions;
}

const KEYS = ['scheme', 'symmetric', 'groupSize', 'dynamicRange', 'calibration'];
const CAL_KEYS = ['data', 'method', 'percentile'];
const WHERE = 'quantize';

/**
 * Quantises a trained model. The source model is left untouched.
 *
 * @example
 * const q8 = quantize(model, { scheme: 'int8-per-channel', calibration: { data: train, method: 'entropy' } });
 * const q4 = quantize(model, { scheme: 'int4', groupSize: 32 });
 * accuracy(test.labels, q8.predictClasses(test.features));
 */
export function quantize(model: Sequential, options: QuantizeOptions): QuantizedModel {
  if (!(model instanceof Sequential))
    throw new TypeError(`${WHERE}: model must be a Sequential, got ${model === null ? 'null' : typeof model}`);
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${WHERE}: options must be an object with a scheme (${QUANT_SCHEMES.join(', ')})`);
  checkKnownKeys(WHERE, options, KEYS);
  const scheme = options.scheme;
  if (!QUANT_SCHEMES.includes(scheme))
    throw new TypeError(`${WHERE}: scheme must be one of ${QUANT_SCHEMES.join(', ')}, got ${String(scheme)}`);
  const symmetric = options.symmetric ?? true;
  if (typeof symmetric !== 'boolean') throw new TypeError(`${WHERE}: symmetric must be a boolean, got ${typeof symmetric}`);
  const groupSize = scheme === 'int4' ? (options.groupSize ?? 128) : undefined;
  if (scheme !== 'int4' && options.groupSize !== undefined)
    throw new TypeError(`${WHERE}: groupSize applies to the int4 scheme, not ${scheme}`);
  if (groupSize !== undefined && !(INT4_GROUP_SIZES as readonly number[]).includes(groupSize))
    throw new RangeError(`${WHERE}: groupSize must be one of ${INT4_GROUP_SIZES.join(', ')}, got ${groupSize}`);
  const dynamicRange = options.dynamicRange;
  if (dynamicRange !== undefined && scheme !== 'int8-dynamic')
    throw new TypeError(`${WHERE}: dynamicRange applies to the int8-dynamic scheme, not ${scheme}`);
  if (dynamicRange !== undefined && dynamicRange !== 'batch' && dynamicRange !== 'row')
    throw new TypeError(`${WHERE}: dynamicRange must be 'batch' or 'row', got ${String(dynamicRange)}`);
  const isStatic = scheme === 'int8-per-tensor' || scheme === 'int8-per-channel';
  if (!isStatic && options.calibration !== undefined)
    throw new TypeError(`${WHERE}: calibration sets static activation ranges; ${scheme} has none (drop the calibration option)`);
  if (isStatic && options.calibration === undefined)
    throw new TypeError(
      `${WHERE}: ${scheme} quantises activations with calibrated ranges and needs calibration: { data } (representative input rows)`,
    );

  // Batch norms fold into the convolution or dense layer before them; the copy is quantised.
  const source = model.layers.some((l) => l.type === 'batchNorm') ? foldBatchNorm(model) : model;
  try {
    const inputs = isStatic ? calibrate(source, options.calibration!) : undefined;
    const weights = quantizeWeights(source, scheme, symmetric, groupSize);
    const layers = weights.map((w, i) => ({ ...w, ...(inputs ? { input: inputs[i]! } : {}) }));
    return new QuantizedModel({
      scheme,
      symmetric,
      groupSize,
      ...(dynamicRange ? { dynamicRange } : {}),
      ...describeSource(source),
      layers,
      ...(isStatic ? { calibration: options.calibration!.method ?? 'minmax' } : {}),
    });
  } finally {
    if (source !== model) source.dispose();
  }
}

type WeightPart = Omit<QuantizedLayer, 'input'>;

/** What a quantised model keeps of its source: task, input shape, names and the standardisation
 *  as the exact f32 per-column affine the source runs. */
export function describeSource(
  model: Sequential,
): Pick<QuantizedModelSpec, 'task' | 'standardize' | 'classNames' | 'featureNames' | 'inputShape'> {
  const { mean, std, classNames, featureNames } = model.preprocessing;
  return {
    task: model.task,
    ...(model.inputShape.length > 1 ? { inputShape: model.inputShape.slice() } : {}),
    ...(mean && std ? { standardize: StandardScaler.fromJSON({ kind: 'StandardScaler', mean, std }).affine() } : {}),
    ...(classNames ? { classNames: classNames.slice() } : {}),
    ...(featureNames ? { featureNames: featureNames.slice() } : {}),
  };
}

/** Codes, scales and zero points of every dense and conv2d layer of `model` (see layers.ts). */
export function quantizeWeights(model: Sequential, scheme: QuantScheme, symmetric: boolean, groupSize: number | undefined): WeightPart[] {
  const bits = bitsOf(scheme);
  const range = weightRange(bits, symmetric);
  const sources = quantSourceLayers(model, WHERE);
  if (bits === 4 && sources.some((s) => s.conv))
    throw new TypeError(`${WHERE}: int4 applies to dense models; quantise convolutions to int8`);
  return sources.map((layer, i) => {
    const { units, inputs } = layer;
    activationCode(WHERE, layer.activation);
    return scope(() => {
      const wt = Tensor.from(layer.weight.read(), [units, inputs]);
      const G = bits === 4 ? groupSize! : scheme === 'int8-per-tensor' ? undefined : inputs;
      const view = G === undefined ? wt.reshape([1, units * inputs]) : wt;
      const mm = minMaxGroups(view, G);
      const qp: QParams[] = [];
      for (let g = 0; g < mm.length / 2; g++) {
        if (!Number.isFinite(mm[2 * g]!) || !Number.isFinite(mm[2 * g + 1]!))
          throw new RangeError(`${WHERE}: layer ${i} weights must be finite (a NaN or infinity in layers.${layer.layer}.weight)`);
        qp.push(calculateQParams(mm[2 * g]!, mm[2 * g + 1]!, range, symmetric));
      }
      const scales = Float32Array.from(qp, (p) => p.scale);
      const zeroPoints = symmetric ? undefined : Int32Array.from(qp, (p) => p.zeroPoint);
      const codes = quantizeGroups(view, { scales, zeroPoints, qmin: range.qmin, qmax: range.qmax, groupSize: G ?? units * inputs }).read();
      return {
        inputs,
        units,
        activation: layer.activation,
        alpha: layer.alpha,
        codes,
        scales,
        ...(zeroPoints ? { zeroPoints } : {}),
        bias: layer.bias.read(),
        ...(layer.conv ? { conv: layer.conv } : {}),
        ...(layer.pools.length ? { pools: layer.pools } : {}),
      };
    });
  });
}

/** The quint8 parameters of every dense layer's input from the calibration rows. */
function calibrate(model: Sequential, cal: CalibrationOptions): QParams[] {
  const where = `${WHERE} calibration`;
  if (cal === null || typeof cal !== 'object') throw new TypeError(`${where}: must be { data, method, percentile }`);
  checkKnownKeys(where, cal, CAL_KEYS);
  const method = cal.method ?? 'minmax';
  if (!CALIBRATION_METHODS.includes(method))
    throw new TypeError(`${where}: method must be one of ${CALIBRATION_METHODS.join(', ')}, got ${String(method)}`);
  const rows = calibrationRows(where, cal.data, model.inputs);
  const captured = captureDenseInputs(model, rows);
  return captured.map((values, i) => {
    const r = calibrationRange(
      values,
      { method, ...(cal.percentile !== undefined ? { percentile: cal.percentile } : {}) },
      `${where} (layer ${i} input)`,
    );
    return calculateQParams(r.min, r.max, QUINT8, false);
  });
}

function calibrationRows(where: string, data: CalibrationOptions['data'], inputs: number): Float32Array {
  let flat: Float32Array;
  if (data instanceof Dataset) {
    if (data.numFeatures !== inputs) throw new RangeError(`${where}: the model takes ${inputs} features, the data has ${data.numFeatures}`);
    flat = data.features;
  } else if (data instanceof Float32Array) {
    flat = data;
  } else if (Array.isArray(data)) {
    flat = new Float32Array(data.length * inputs);
    data.forEach((row: ArrayLike<number>, r: number) => {
      if (row?.length !== inputs) throw new RangeError(`${where}: row ${r} has ${row?.length} features, expected ${inputs}`);
      flat.set(row, r * inputs);
    });
  } else {
    throw new TypeError(`${where}: data must be a Dataset, rows or a Float32Array, got ${data === null ? 'null' : typeof data}`);
  }
  if (flat.length === 0) throw new RangeError(`${where}: data has no rows`);
  if (flat.length % inputs !== 0) throw new RangeError(`${where}: data has ${flat.length} values, not a multiple of ${inputs} features`);
  checkFiniteData(where, flat, inputs);
  return flat;
}

/** Runs the f32 model on rows and returns, per dense and conv2d layer, every value its input took. */
export function captureDenseInputs(model: Sequential, rows: Float32Array): Float32Array[] {
  const dense = model.layers.flatMap((l, i) => (l.type === 'dense' || l.type === 'conv2d' ? [i] : []));
  const parts: Float32Array[][] = dense.map(() => []);
  const previous = model.hooks;
  const capture: LayerHooks = {
    weights: (layer, forward) => previous?.weights(layer, forward),
    input: (layer, x, training) => {
      previous?.input(layer, x, training);
      parts[dense.indexOf(layer)]!.push(x.read());
    },
    inputGrad: () => {},
  };
  // Wraps the hooks in force (a QAT session's), so the inputs are seen as that session makes them.
  model.setHooks(undefined);
  model.setHooks(capture);
  try {
    model.predict(rows);
  } finally {
    model.setHooks(undefined);
    model.setHooks(previous);
  }
  return parts.map((chunks) => {
    const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  });
}
