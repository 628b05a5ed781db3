// What every kiln model file shares: the format and version check, the architecture and
// preprocessing in __metadata__, and the rule that any failure while filling a model frees it
// and surfaces as a ModelFileError.
import { Sequential, type Preprocessing, type SequentialOptions } from '../nn/sequential.ts';
import { ModelFileError } from './safetensors.ts';

/** The __metadata__ entries that describe a Sequential, for a file of `format`. */
export function modelMetadata(model: Sequential, format: string, version: string): Record<string, string> {
  return { format, version, model: JSON.stringify(model.toConfig()), preprocessing: JSON.stringify(model.preprocessing) };
}

export function checkFormat(where: string, metadata: Record<string, string>, format: string, version: string): void {
  if (metadata.format !== format) throw new ModelFileError(`${where}: __metadata__.format is ${JSON.stringify(metadata.format)}, expected '${format}'`);
  if (metadata.version !== version) throw new ModelFileError(`${where}: format version ${JSON.stringify(metadata.version)} is not supported (this kiln reads version ${version})`);
}

export function parseMetadataJson(where: string, metadata: Record<string, string>, key: string, fallback?: string): unknown {
  const text = metadata[key] ?? fallback;
  if (text === undefined) throw new ModelFileError(`${where}: __metadata__.${key} is missing`);
  try {
    return JSON.parse(text);
  } catch {
    throw new ModelFileError(`${where}: __metadata__.${key} is not valid JSON`);
  }
}

/** Builds the model the metadata describes, then lets `fill` load its tensors; a failure in
 *  either step frees the model and is reported as a ModelFileError naming the file kind. */
export function modelFromMetadata(where: string, metadata: Record<string, string>, fill: (model: Sequential) => void): Sequential {
  const config = parseMetadataJson(where, metadata, 'model') as SequentialOptions;
  const preprocessing = parseMetadataJson(where, metadata, 'preprocessing', '{}') as Preprocessing;
  let model: Sequential;
  try {
    model = new Sequential({ ...config, preprocessing });
  } catch (error) {
    throw new ModelFileError(`${where}: invalid architecture: ${(error as Error).message}`);
  }
  try {
    fill(model);
    if (preprocessing.mean || preprocessing.std) model.inputAffine();
  } catch (error) {
    model.dispose();
    if (error instanceof ModelFileError) throw error;
    throw new ModelFileError(`${where}: ${(error as Error).message}`);
  }
  return model;
}
