// Quantised model files: safetensors with the scheme and architecture in __metadata__ and, per
// dense layer j (in order, dropout layers gone):
//   layers.j.weight             I8 [units, inputs] int8 codes, or U8 [units, ceil(inputs/2)] int4
//                               codes two per byte along the inputs, low nibble first (the
//                               first of the pair); symmetric int4 codes are two's-complement
//                               nibbles in [-8, 7], affine ones unsigned in [0, 15]; a row's
//                               padding nibble (odd inputs) is 0
//   layers.j.weight_scale       F32 [1] per tensor, [units] per channel, [units, groups] int4
//   layers.j.weight_zero_point  affine weights only: I8 (int8) or U8 (int4), shaped as the scales
//   layers.j.bias               F32 [units]
//   layers.j.input_scale        F32 [1]  } static int8 schemes: the layer input's quint8
//   layers.j.input_zero_point   I32 [1]  } parameters
//   standardize.scale, .shift   F32 [inputs]: the per-column input affine, when the model has one
// Metadata: scheme, symmetric, group_size, dynamic_range, task, calibration, the layers as JSON
// (inputs, units, activation, alpha; a convolution's geometry as `conv` and the pooling after it
// as `pools`, whose weight is [filters, (C/groups)·KH·KW] codes in [O, C/groups, KH, KW] order),
// input_shape for image rows ([C, H, W]), class_names, and feature_names only when asked for: for a
// 784-pixel model those names alone would outweigh the rest of the header several times over.
// Reading checks every field and rebuilds exactly the model that was written.
import {
  decodeSafetensors,
  encodeSafetensors,
  ModelFileError,
  type SafetensorsTensor,
  type DecodedSafetensors,
} from '../../io/safetensors.ts';
import { readFileBytes, writeFileAtomic } from '../../io/atomic-write.ts';
import { checkIntegrity, withChecksum } from '../../io/integrity.ts';
import { checkFormat } from '../../io/model-header.ts';
import { QuantizedModel, QUANT_SCHEMES, type QuantScheme, type QuantizedLayer } from './model.ts';
import type { Activation } from '../../core/activation.ts';
import type { QuantConvSpec, QuantPoolSpec } from '../../core/quant-engine.ts';
import { checkKnownKeys } from '../../core/errors.ts';
import { INT4_GROUP_SIZES } from '../../core/ops/quant.ts';
import type { Task } from '../../nn/sequential.ts';

/** The `format` metadata value of a quantized model file. */
export const QUANTIZED_FORMAT = 'kiln.quantized';
// Version 2 adds the checksum (`crc32`); version 1 files are still read.
const QUANTIZED_FORMAT_VERSION = '2';
const READ_VERSIONS = ['1', QUANTIZED_FORMAT_VERSION];

const WHERE = 'quantized model file';

interface LayerMeta {
  inputs: number;
  units: number;
  activation: Activation;
  alpha: number;
  conv?: QuantConvSpec;
  pools?: readonly QuantPoolSpec[];
}

/** Options of `quantizedModelToBytes` and `saveQuantizedModel`. */
export interface QuantizedFileOptions {
  /** Keep the input feature names (default false). */
  featureNames?: boolean;
}

/** Serialises a quantised model to safetensors bytes.
 *  @example const bytes = quantizedModelToBytes(q); // bytes.length ≈ q.bytes + header */
export function quantizedModelToBytes(model: QuantizedModel, options: QuantizedFileOptions = {}): Uint8Array {
  if (!(model instanceof QuantizedModel))
    throw new TypeError(`quantizedModelToBytes: model must be a QuantizedModel, got ${model === null ? 'null' : typeof model}`);
  checkKnownKeys('quantizedModelToBytes', options, ['featureNames']);
  const int4 = model.scheme === 'int4';
  const tensors: Record<string, SafetensorsTensor> = {};
  model.layers.forEach((l, j) => {
    const p = `layers.${j}.`;
    const scaleShape = int4 ? [l.units, l.scales.length / l.units] : [l.scales.length];
    tensors[`${p}weight`] = int4
      ? { dtype: 'U8', shape: [l.units, Math.ceil(l.inputs / 2)], data: packNibbles(l.codes, l.units, l.inputs) }
      : { dtype: 'I8', shape: [l.units, l.inputs], data: l.codes };
    tensors[`${p}weight_scale`] = { dtype: 'F32', shape: scaleShape, data: l.scales };
    if (l.zeroPoints)
      tensors[`${p}weight_zero_point`] = int4
        ? { dtype: 'U8', shape: scaleShape, data: Uint8Array.from(l.zeroPoints) }
        : { dtype: 'I8', shape: scaleShape, data: Int8Array.from(l.zeroPoints) };
    tensors[`${p}bias`] = { dtype: 'F32', shape: [l.units], data: l.bias };
    if (l.input) {
      tensors[`${p}input_scale`] = { dtype: 'F32', shape: [1], data: Float32Array.of(l.input.scale) };
      tensors[`${p}input_zero_point`] = { dtype: 'I32', shape: [1], data: Int32Array.of(l.input.zeroPoint) };
    }
  });
  if (model.standardize) {
    tensors['standardize.scale'] = { dtype: 'F32', shape: [model.inputs], data: model.standardize.scale };
    tensors['standardize.shift'] = { dtype: 'F32', shape: [model.inputs], data: model.standardize.shift };
  }
  const layers: LayerMeta[] = model.layers.map((l) => ({
    inputs: l.inputs,
    units: l.units,
    activation: l.activation,
    alpha: l.alpha,
    ...(l.conv ? { conv: l.conv } : {}),
    ...(l.pools ? { pools: l.pools } : {}),
  }));
  return encodeSafetensors(
    tensors,
    withChecksum(tensors, {
      format: QUANTIZED_FORMAT,
      version: QUANTIZED_FORMAT_VERSION,
      scheme: model.scheme,
      symmetric: String(model.symmetric),
      ...(model.groupSize !== undefined ? { group_size: String(model.groupSize) } : {}),
      ...(model.dynamicRange !== undefined ? { dynamic_range: model.dynamicRange } : {}),
      ...(model.calibration !== undefined ? { calibration: model.calibration } : {}),
      task: model.task,
      layers: JSON.stringify(layers),
      ...(model.inputShape.length > 1 ? { input_shape: JSON.stringify(model.inputShape) } : {}),
      ...(model.classNames ? { class_names: JSON.stringify(model.classNames) } : {}),
      ...(options.featureNames && model.featureNames ? { feature_names: JSON.stringify(model.featureNames) } : {}),
    }),
  );
}

/** Rebuilds a quantised model from quantizedModelToBytes output; every field is checked and a
 *  problem is a ModelFileError naming it. */
export function quantizedModelFromBytes(bytes: Uint8Array): QuantizedModel {
  const decoded = decodeSafetensors(bytes);
  const { tensors, metadata } = decoded;
  checkFormat(WHERE, metadata, QUANTIZED_FORMAT, READ_VERSIONS);
  const scheme = metadata.scheme as QuantScheme;
  if (!QUANT_SCHEMES.includes(scheme))
    throw fail(`__metadata__.scheme must be one of ${QUANT_SCHEMES.join(', ')}, got ${JSON.stringify(metadata.scheme)}`);
  if (metadata.symmetric !== 'true' && metadata.symmetric !== 'false')
    throw fail(`__metadata__.symmetric must be 'true' or 'false', got ${JSON.stringify(metadata.symmetric)}`);
  const symmetric = metadata.symmetric === 'true';
  const int4 = scheme === 'int4';
  let groupSize: number | undefined;
  if (int4) {
    groupSize = Number(metadata.group_size);
    if (metadata.group_size === undefined || !Number.isInteger(groupSize) || String(groupSize) !== metadata.group_size)
      throw fail(`__metadata__.group_size must be an integer for int4, got ${JSON.stringify(metadata.group_size)}`);
    if (!(INT4_GROUP_SIZES as readonly number[]).includes(groupSize))
      throw fail(`__metadata__.group_size must be one of ${INT4_GROUP_SIZES.join(', ')}, got ${metadata.group_size}`);
  } else if (metadata.group_size !== undefined) {
    throw fail(`__metadata__.group_size applies to int4, not ${scheme}`);
  }
  const dynamicRange = metadata.dynamic_range as 'batch' | 'row' | undefined;
  const layersMeta = parseJson('layers', metadata.layers);
  if (!Array.isArray(layersMeta) || layersMeta.length === 0) throw fail('__metadata__.layers must be a non-empty JSON array');
  const classNames = metadata.class_names === undefined ? undefined : names('class_names', parseJson('class_names', metadata.class_names));
  const featureNames =
    metadata.feature_names === undefined ? undefined : names('feature_names', parseJson('feature_names', metadata.feature_names));

  const used = new Set<string>();
  const take = (name: string, dtype: string, shape: number[]): DecodedSafetensors['tensors'][string]['data'] => {
    const t = tensors[name];
    if (!t) throw fail(`tensor '${name}' is missing`);
    if (t.dtype !== dtype) throw fail(`tensor '${name}' has dtype ${t.dtype}, expected ${dtype}`);
    if (t.shape.join(',') !== shape.join(',')) throw fail(`tensor '${name}' has shape [${t.shape}], expected [${shape}]`);
    used.add(name);
    return t.data;
  };
  const staticInput = scheme === 'int8-per-tensor' || scheme === 'int8-per-channel';
  const layers: QuantizedLayer[] = layersMeta.map((raw: unknown, j: number) => {
    const m = layerMeta(j, raw);
    const p = `layers.${j}.`;
    const groups = int4 ? Math.ceil(m.inputs / groupSize!) : 0;
    const scaleShape = int4 ? [m.units, groups] : [scheme === 'int8-per-tensor' ? 1 : m.units];
    const codes = int4
      ? unpackNibbles(
          `${p}weight`,
          take(`${p}weight`, 'U8', [m.units, Math.ceil(m.inputs / 2)]) as Uint8Array,
          m.units,
          m.inputs,
          symmetric,
        )
      : (take(`${p}weight`, 'I8', [m.units, m.inputs]) as Int8Array);
    const scales = take(`${p}weight_scale`, 'F32', scaleShape) as Float32Array;
    const zeroPoints = symmetric
      ? undefined
      : Int32Array.from(take(`${p}weight_zero_point`, int4 ? 'U8' : 'I8', scaleShape) as ArrayLike<number>);
    const bias = take(`${p}bias`, 'F32', [m.units]) as Float32Array;
    const input = staticInput
      ? {
          scale: (take(`${p}input_scale`, 'F32', [1]) as Float32Array)[0]!,
          zeroPoint: (take(`${p}input_zero_point`, 'I32', [1]) as Int32Array)[0]!,
        }
      : undefined;
    return { ...m, codes, scales, ...(zeroPoints ? { zeroPoints } : {}), bias, ...(input ? { input } : {}) };
  });
  const inputShape = metadata.input_shape === undefined ? undefined : parseJson('input_shape', metadata.input_shape);
  if (inputShape !== undefined && (!Array.isArray(inputShape) || !inputShape.every((d) => Number.isInteger(d) && d >= 1 && d <= 1 << 16)))
    throw fail(`__metadata__.input_shape must be a JSON array of integers >= 1, got ${metadata.input_shape}`);
  const inputs = inputShape ? (inputShape as number[]).reduce((a, b) => a * b, 1) : layers[0]!.inputs;
  const standardize =
    tensors['standardize.scale'] || tensors['standardize.shift']
      ? {
          scale: take('standardize.scale', 'F32', [inputs]) as Float32Array,
          shift: take('standardize.shift', 'F32', [inputs]) as Float32Array,
        }
      : undefined;
  for (const name of Object.keys(tensors))
    if (!used.has(name)) throw fail(`unexpected tensor '${name}' for a ${scheme} model of ${layers.length} layers`);
  let model: QuantizedModel;
  try {
    model = new QuantizedModel({
      scheme,
      symmetric,
      ...(groupSize !== undefined ? { groupSize } : {}),
      ...(dynamicRange !== undefined ? { dynamicRange } : {}),
      task: metadata.task as Task,
      ...(inputShape ? { inputShape: inputShape as number[] } : {}),
      layers,
      ...(metadata.calibration !== undefined ? { calibration: metadata.calibration } : {}),
      ...(standardize ? { standardize } : {}),
      ...(classNames ? { classNames } : {}),
      ...(featureNames ? { featureNames } : {}),
    });
  } catch (error) {
    throw fail((error as Error).message);
  }
  // Last, so that a hand-edited file meets the precise checks above first.
  try {
    checkIntegrity(WHERE, decoded, metadata.version !== '1');
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/** Writes the quantised model file atomically (Node, Deno, Bun). */
export async function saveQuantizedModel(model: QuantizedModel, path: string | URL, options: QuantizedFileOptions = {}): Promise<void> {
  await writeFileAtomic(path, quantizedModelToBytes(model, options));
}

/** Reads a quantized model file written by `saveQuantizedModel` (Node, Deno, Bun). */
export async function loadQuantizedModel(path: string | URL): Promise<QuantizedModel> {
  return quantizedModelFromBytes(await readFileBytes(path));
}

const fail = (what: string) => new ModelFileError(`${WHERE}: ${what}`);

function parseJson(key: string, text: string | undefined): unknown {
  if (text === undefined) throw fail(`__metadata__.${key} is missing`);
  try {
    return JSON.parse(text);
  } catch {
    throw fail(`__metadata__.${key} is not valid JSON`);
  }
}

function names(key: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw fail(`__metadata__.${key} must be a JSON array of strings`);
  return value;
}

function layerMeta(j: number, raw: unknown): LayerMeta {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw fail(`__metadata__.layers[${j}] must be an object`);
  const { inputs, units, activation, alpha, conv, pools, ...rest } = raw as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw fail(`__metadata__.layers[${j}] has unknown field '${extra[0]}'`);
  for (const [name, v] of [
    ['inputs', inputs],
    ['units', units],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1 << 24)
      throw fail(`__metadata__.layers[${j}].${name} must be an integer >= 1, got ${JSON.stringify(v)}`);
  }
  if (typeof alpha !== 'number') throw fail(`__metadata__.layers[${j}].alpha must be a number, got ${JSON.stringify(alpha)}`);
  if (typeof activation !== 'string')
    throw fail(`__metadata__.layers[${j}].activation must be a string, got ${JSON.stringify(activation)}`);
  // The geometry is checked in full by the QuantizedModel the file becomes.
  if (conv !== undefined && (conv === null || typeof conv !== 'object' || Array.isArray(conv)))
    throw fail(`__metadata__.layers[${j}].conv must be an object`);
  if (pools !== undefined && !Array.isArray(pools)) throw fail(`__metadata__.layers[${j}].pools must be an array`);
  return {
    inputs: inputs as number,
    units: units as number,
    activation: activation as Activation,
    alpha,
    ...(conv ? { conv: conv as QuantConvSpec } : {}),
    ...(pools ? { pools: pools as QuantPoolSpec[] } : {}),
  };
}

// Codes [rows, cols] -> [rows, ceil(cols/2)] bytes, low nibble first, the padding nibble 0.
function packNibbles(codes: Int8Array, rows: number, cols: number): Uint8Array {
  const stride = Math.ceil(cols / 2);
  const out = new Uint8Array(rows * stride);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * stride + (c >> 1)]! |= (codes[r * cols + c]! & 15) << ((c & 1) * 4);
  }
  return out;
}

function unpackNibbles(name: string, bytes: Uint8Array, rows: number, cols: number, signed: boolean): Int8Array {
  const stride = Math.ceil(cols / 2);
  const out = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const nib = (bytes[r * stride + (c >> 1)]! >> ((c & 1) * 4)) & 15;
      out[r * cols + c] = signed ? (nib ^ 8) - 8 : nib;
    }
    if (cols % 2 === 1 && bytes[r * stride + stride - 1]! >> 4 !== 0) throw fail(`tensor '${name}' row ${r}: the padding nibble must be 0`);
  }
  return out;
}
