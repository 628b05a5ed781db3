// kiln model files: safetensors with the architecture and preprocessing in __metadata__.
// Tensors are named as PyTorch names a Sequential's state: "layers.<i>.weight" [units, inputs]
// and "layers.<i>.bias" [units], F32 little-endian, so any safetensors reader can open them.
import { Sequential, type Preprocessing } from '../nn/sequential.ts';
import { decodeSafetensors, encodeSafetensors, ModelFileError } from './safetensors.ts';
import { writeFileAtomic } from './atomic-write.ts';

export const MODEL_FORMAT = 'kiln.sequential';
export const MODEL_FORMAT_VERSION = '1';

/** Serialises a model (architecture, weights, preprocessing) to safetensors bytes. */
export function modelToBytes(model: Sequential): Uint8Array {
  const tensors: Parameters<typeof encodeSafetensors>[0] = {};
  for (const p of model.parameters()) tensors[p.name] = { dtype: 'F32', shape: p.shape, data: p.data };
  return encodeSafetensors(tensors, {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    model: JSON.stringify(model.toConfig()),
    preprocessing: JSON.stringify(model.preprocessing),
  });
}

/** Rebuilds a model from `modelToBytes` output; every field and tensor is checked. */
export function modelFromBytes(bytes: Uint8Array): Sequential {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const where = 'model file';
  if (metadata.format !== MODEL_FORMAT) throw new ModelFileError(`${where}: __metadata__.format is ${JSON.stringify(metadata.format)}, expected '${MODEL_FORMAT}'`);
  if (metadata.version !== MODEL_FORMAT_VERSION) throw new ModelFileError(`${where}: format version ${JSON.stringify(metadata.version)} is not supported (this kiln reads version ${MODEL_FORMAT_VERSION})`);
  const config = parseJson(where, 'model', metadata.model);
  const preprocessing = parseJson(where, 'preprocessing', metadata.preprocessing ?? '{}') as Preprocessing;
  let model: Sequential;
  try {
    model = new Sequential({ ...(config as object), preprocessing } as ConstructorParameters<typeof Sequential>[0]);
  } catch (error) {
    throw new ModelFileError(`${where}: invalid architecture: ${(error as Error).message}`);
  }
  try {
    const expected = model.parameters();
    const names = new Set(expected.map((p) => p.name));
    for (const name of Object.keys(tensors)) if (!names.has(name)) throw new ModelFileError(`${where}: unexpected tensor '${name}' for this architecture`);
    const values: Record<string, Float32Array> = {};
    for (const p of expected) {
      const t = tensors[p.name];
      if (!t) throw new ModelFileError(`${where}: tensor '${p.name}' is missing`);
      if (t.dtype !== 'F32') throw new ModelFileError(`${where}: tensor '${p.name}' has dtype ${t.dtype}, expected F32`);
      if (t.shape.join(',') !== p.shape.join(',')) throw new ModelFileError(`${where}: tensor '${p.name}' has shape [${t.shape}], the architecture needs [${p.shape}]`);
      values[p.name] = t.data as Float32Array;
    }
    model.setParameters(values);
    if (preprocessing.mean || preprocessing.std) model.inputAffine();
  } catch (error) {
    model.dispose();
    if (error instanceof ModelFileError) throw error;
    throw new ModelFileError(`${where}: ${(error as Error).message}`);
  }
  return model;
}

/** Writes the model file atomically (Node, Deno, Bun): a crash never leaves half a file. */
export async function saveModel(model: Sequential, path: string | URL): Promise<void> {
  await writeFileAtomic(path, modelToBytes(model));
}

export async function loadModel(path: string | URL): Promise<Sequential> {
  const { readFile } = await import('node:fs/promises');
  return modelFromBytes(new Uint8Array(await readFile(path)));
}

function parseJson(where: string, key: string, text: string | undefined): unknown {
  if (text === undefined) throw new ModelFileError(`${where}: __metadata__.${key} is missing`);
  try {
    return JSON.parse(text);
  } catch {
    throw new ModelFileError(`${where}: __metadata__.${key} is not valid JSON`);
  }
}
