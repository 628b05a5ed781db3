// kiln model files: safetensors with the architecture and preprocessing in __metadata__.
// Tensors are named as PyTorch names a Sequential's state: "layers.<i>.weight" [units, inputs]
// and "layers.<i>.bias" [units], F32 little-endian, so any safetensors reader can open them.
import type { Sequential } from '../nn/sequential.ts';
import { checkFormat, modelFromMetadata, modelMetadata } from './model-header.ts';
import { SPARSE_MODEL_FORMAT, sparseModelFromBytes, sparseModelToBytes } from './sparse-file.ts';
import { decodeSafetensors, encodeSafetensors, ModelFileError } from './safetensors.ts';
import { readFileBytes, writeFileAtomic } from './atomic-write.ts';
import { checkIntegrity, withChecksum } from './integrity.ts';

export const MODEL_FORMAT = 'kiln.sequential';
/** Version 2 adds the checksum (`crc32`); version 1 files are still read. */
export const MODEL_FORMAT_VERSION = '2';
const READ_VERSIONS = ['1', MODEL_FORMAT_VERSION];

/** Serialises a model (architecture, weights, preprocessing) to safetensors bytes. By default
 *  ('auto') a pruned model (one with a mask) is written in the sparse format, so its mask
 *  survives the round trip; 'dense' always writes every weight (and drops the mask). */
export function modelToBytes(model: Sequential, layout: 'auto' | 'dense' = 'auto'): Uint8Array {
  if (model.pruningMask && layout === 'auto') return sparseModelToBytes(model);
  const tensors: Parameters<typeof encodeSafetensors>[0] = {};
  for (const p of model.parameters()) tensors[p.name] = { dtype: 'F32', shape: p.shape, data: p.data };
  return encodeSafetensors(tensors, withChecksum(tensors, modelMetadata(model, MODEL_FORMAT, MODEL_FORMAT_VERSION)));
}

/** Rebuilds a model from `modelToBytes` output (dense or sparse); every field and tensor is checked. */
export function modelFromBytes(bytes: Uint8Array): Sequential {
  const decoded = decodeSafetensors(bytes);
  const { tensors, metadata } = decoded;
  if (metadata.format === SPARSE_MODEL_FORMAT) return sparseModelFromBytes(bytes);
  const where = 'model file';
  checkFormat(where, metadata, MODEL_FORMAT, READ_VERSIONS);
  return modelFromMetadata(where, metadata, (model) => {
    const expected = model.parameters();
    const names = new Set(expected.map((p) => p.name));
    for (const name of Object.keys(tensors))
      if (!names.has(name)) throw new ModelFileError(`${where}: unexpected tensor '${name}' for this architecture`);
    const values: Record<string, Float32Array> = {};
    for (const p of expected) {
      const t = tensors[p.name];
      if (!t) throw new ModelFileError(`${where}: tensor '${p.name}' is missing`);
      if (t.dtype !== 'F32') throw new ModelFileError(`${where}: tensor '${p.name}' has dtype ${t.dtype}, expected F32`);
      if (t.shape.join(',') !== p.shape.join(','))
        throw new ModelFileError(`${where}: tensor '${p.name}' has shape [${t.shape}], the architecture needs [${p.shape}]`);
      values[p.name] = t.data as Float32Array;
    }
    model.setParameters(values);
    // Last, so that a hand-edited file meets the precise checks above first.
    checkIntegrity(where, decoded, metadata.version !== '1');
  });
}

/** Writes the model file atomically (Node, Deno, Bun): a crash never leaves half a file. */
export async function saveModel(model: Sequential, path: string | URL): Promise<void> {
  await writeFileAtomic(path, modelToBytes(model));
}

/** Reads a model file written by `saveModel` (Node, Deno, Bun). */
export async function loadModel(path: string | URL): Promise<Sequential> {
  return modelFromBytes(await readFileBytes(path));
}
