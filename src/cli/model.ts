// Reading model files for the commands: the format is named in the file's safetensors metadata,
// and each format the library can read has one reader here. Anything else gets a clear message.
import { readFile, stat } from 'node:fs/promises';
import { decodeSafetensors, modelFromBytes, modelToBytes, saveModel, type Sequential } from '../index.ts';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../io/model-file.ts';
import { saveSparseModel, sparseModelFromBytes, sparseModelToBytes, SPARSE_MODEL_FORMAT } from '../io/sparse-file.ts';
import { layerSparsity } from '../compress/prune/unstructured.ts';
import { CliError, usageError } from './errors.ts';

export interface LoadedModel {
  model: Sequential;
  path: string;
  /** Size of the file. */
  bytes: number;
  /** `__metadata__.format` of the file. */
  format: string;
  /** How the weights are stored: 'float32', or the quantization scheme. */
  storage: string;
}

interface Reader {
  read(bytes: Uint8Array): Sequential;
  storage(metadata: Record<string, string>): string;
}

const READERS: Readonly<Record<string, Reader>> = {
  [MODEL_FORMAT]: { read: modelFromBytes, storage: () => 'float32 (not quantized)' },
  [SPARSE_MODEL_FORMAT]: { read: sparseModelFromBytes, storage: () => 'float32 (not quantized), sparse: a bitmask and the kept weights' },
};

export const KNOWN_FORMATS = Object.keys(READERS);

/** Reads `--model`; errors name the file and what is wrong with it. */
export async function readModel(path: string | undefined): Promise<LoadedModel> {
  if (path === undefined) throw usageError('--model <file> is required');
  const bytes = new Uint8Array(await readFile(path));
  let metadata: Record<string, string>;
  try {
    metadata = decodeSafetensors(bytes).metadata;
  } catch (error) {
    throw new CliError(`${path}: not a kiln model file (${(error as Error).message})`);
  }
  const format = metadata.format ?? '';
  const reader = READERS[format];
  if (!reader) {
    const found = format === '' ? 'a safetensors file without a kiln format' : `format '${format}'`;
    throw new CliError(`${path}: unknown model format: ${found}; this kiln reads ${KNOWN_FORMATS.map((f) => `'${f}'`).join(', ')} (version ${MODEL_FORMAT_VERSION})`);
  }
  let model: Sequential;
  try {
    model = reader.read(bytes);
  } catch (error) {
    throw new CliError(`${path}: ${(error as Error).message}`);
  }
  return { model, path, bytes: bytes.length, format, storage: reader.storage(metadata) };
}

/** Whether pruning masks some of the model's weights (it then saves in the sparse format, which
 *  keeps the mask for later training). */
export const isPruned = (model: Sequential): boolean => layerSparsity(model).some((l) => l.pruned > 0);

/** Bytes of the file `writeModel` would write. */
export const modelBytes = (model: Sequential): number => (isPruned(model) ? sparseModelToBytes(model) : modelToBytes(model)).length;

/** Writes the model atomically (sparse when pruned) and returns the file's size. */
export async function writeModel(model: Sequential, path: string): Promise<number> {
  await (isPruned(model) ? saveSparseModel(model, path) : saveModel(model, path));
  return (await stat(path)).size;
}

/** "4 → dense(64, relu) → dropout(0.1) → dense(3) · classification" */
export function architecture(model: Sequential): string {
  const layers = model.layers.map((l) => (l.type === 'dropout' ? `dropout(${l.rate})` : l.activation === 'linear' ? `dense(${l.units})` : `dense(${l.units}, ${l.activation})`));
  return `${model.inputs} → ${layers.join(' → ')} · ${model.task}`;
}
