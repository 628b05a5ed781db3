// Reading and writing model files for the commands: the format is named in the file's
// safetensors metadata, and each format the library can read has one reader here (float, sparse,
// quantized). Anything else gets a clear message.
import { readFile, stat } from 'node:fs/promises';
import {
  decodeSafetensors,
  evaluate,
  importOnnx,
  modelFile,
  modelFromBytes,
  modelToBytes,
  quantizedModelFromBytes,
  quantizedModelToBytes,
  QUANTIZED_FORMAT,
  saveModel,
  saveQuantizedModel,
  SPARSE_MODEL_FORMAT,
  type Dataset,
  type Evaluation,
  type QuantizedModel,
  type Sequential,
} from '../index.ts';
import { CliError, usageError } from './errors.ts';

/** What a model file holds: a float network (dense or pruned) or a quantized one. */
export type Model = Sequential | QuantizedModel;

export interface LoadedModel<M extends Model = Model> {
  model: M;
  path: string;
  /** Size of the file. */
  bytes: number;
  /** `__metadata__.format` of the file. */
  format: string;
  /** How the weights are stored: float32 (dense or sparse), or the quantization scheme. */
  storage: string;
  quantized: boolean;
}

interface Reader {
  read(bytes: Uint8Array): Model;
  storage(metadata: Record<string, string>): string;
}

// Float models, dense or sparse, are modelFromBytes's: it names the formats it reads when a
// file has another one.
const FLOAT: Reader = {
  read: modelFromBytes,
  storage: (m) =>
    m.format === SPARSE_MODEL_FORMAT ? 'float32 (not quantized), sparse: a bitmask and the kept weights' : 'float32 (not quantized)',
};
const QUANTIZED: Reader = { read: quantizedModelFromBytes, storage: quantizationText };

/** "int8-per-channel, symmetric weights, static activations (entropy calibration)" */
function quantizationText(m: Record<string, string>): string {
  const weights = m.symmetric === 'true' ? 'symmetric' : 'affine';
  const groups = m.group_size === undefined ? '' : `, groups of ${m.group_size} inputs`;
  const activations =
    m.scheme === 'int4'
      ? 'float32 activations'
      : m.scheme === 'int8-dynamic'
        ? `dynamic uint8 activations (per ${m.dynamic_range ?? 'batch'})`
        : `static uint8 activations${m.calibration === undefined ? '' : ` (${m.calibration} calibration)`}`;
  return `${m.scheme}, ${weights} weights${groups}, ${activations}`;
}

/** Reads `--model`; errors name the file and what is wrong with it. */
export async function readModel(path: string | undefined): Promise<LoadedModel> {
  if (path === undefined) throw usageError('--model <file> is required');
  const bytes = new Uint8Array(await readFile(path));
  if (path.toLowerCase().endsWith('.onnx')) {
    // An ONNX file imports as a float model (see `kiln import` for its --task).
    let model: Sequential;
    try {
      model = importOnnx(bytes);
    } catch (error) {
      throw new CliError(`${path}: ${(error as Error).message}`);
    }
    return { model, path, bytes: bytes.length, format: 'onnx', storage: 'float32 (imported from ONNX)', quantized: false };
  }
  let metadata: Record<string, string>;
  try {
    metadata = decodeSafetensors(bytes).metadata;
  } catch (error) {
    throw new CliError(`${path}: not a kiln model file (${(error as Error).message})`);
  }
  const format = metadata.format ?? '';
  const reader = format === QUANTIZED_FORMAT ? QUANTIZED : FLOAT;
  let model: Model;
  try {
    model = reader.read(bytes);
  } catch (error) {
    const alsoQuantized = reader === FLOAT && !format.startsWith('kiln.sequential') ? ` (or '${QUANTIZED_FORMAT}')` : '';
    throw new CliError(`${path}: ${(error as Error).message}${alsoQuantized}`);
  }
  return { model, path, bytes: bytes.length, format, storage: reader.storage(metadata), quantized: reader === QUANTIZED };
}

/** Reads `--model` for work that trains or rebuilds it, which needs float weights. */
export async function readFloatModel(path: string | undefined, purpose: string): Promise<LoadedModel<Sequential>> {
  const loaded = await readModel(path);
  if (isQuantized(loaded.model))
    throw new CliError(`${loaded.path} holds a quantized model (${loaded.storage}); ${purpose} needs the float model it was made from`);
  return loaded as LoadedModel<Sequential>;
}

export const isQuantized = (model: Model): model is QuantizedModel => 'scheme' in model;

/** Names the model was trained with (either kind of model keeps them). */
export const classNamesOf = (model: Model): readonly string[] | undefined =>
  isQuantized(model) ? model.classNames : model.preprocessing.classNames;
export const featureNamesOf = (model: Model): readonly string[] | undefined =>
  isQuantized(model) ? model.featureNames : model.preprocessing.featureNames;

/** Metrics of either kind of model: evaluate() reads only inputs, outputs, task and predict(),
 *  which a QuantizedModel has with the same meaning. */
export function evaluateModel(model: Model, data: Dataset): Evaluation {
  return evaluate(model as Sequential, data);
}

/** 'sparse' when the library saves the model in its sparse format (a pruned model, whose mask
 *  the file keeps for later training), else 'dense'. */
export const floatLayout = (model: Sequential): 'sparse' | 'dense' =>
  modelFile(model).format === SPARSE_MODEL_FORMAT ? 'sparse' : 'dense';

/** Bytes of the file `writeModel` would write. */
export function modelBytes(model: Model): number {
  if (isQuantized(model)) return quantizedModelToBytes(model, { featureNames: true }).length;
  return modelToBytes(model).length;
}

/** Writes the model atomically (a pruned one in the sparse format, which keeps its mask for later
 *  training; a quantized one as such) and returns the file's size. */
export async function writeModel(model: Model, path: string): Promise<number> {
  // Feature names make the quantized file describe its inputs as the float one does.
  if (isQuantized(model)) await saveQuantizedModel(model, path, { featureNames: true });
  else await saveModel(model, path);
  return (await stat(path)).size;
}

/** "4 → dense(64, relu) → dropout(0.1) → dense(3) · classification" (quantized: "· int8-per-channel";
 *  image inputs: "[1, 28, 28] → conv2d(32, 5x5 same, relu) → …"). */
export function architecture(model: Model): string {
  const dense = (units: number, activation: string) => (activation === 'linear' ? `dense(${units})` : `dense(${units}, ${activation})`);
  if (isQuantized(model))
    return `${model.inputShape.join('x')} → ${model.layers
      .map((l) =>
        l.conv
          ? [
              `conv2d(${l.units}, ${l.conv.kernel.join('x')}${l.activation === 'linear' ? '' : `, ${l.activation}`})`,
              ...(l.pools ?? []).map((p) => `${p.kind}Pool2d(${p.kernel.join('x')})`),
            ].join(' → ')
          : dense(l.units, l.activation),
      )
      .join(' → ')} · ${model.task} · ${model.scheme}`;
  const inputs = model.inputShape.length > 1 ? `[${model.inputShape.join(', ')}]` : String(model.inputs);
  const built = model.summary();
  const layers = model.layers.map((l, i) =>
    l.type === 'dense' ? dense(l.units, l.activation) : l.type === 'dropout' ? `dropout(${l.rate})` : built[i]!.name,
  );
  return `${inputs} → ${layers.join(' → ')} · ${model.task}`;
}
