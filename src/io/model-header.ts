// What every kiln model file shares: the format and version check, the architecture and
// preprocessing in __metadata__, and the rule that any failure while filling a model frees it
// and surfaces as a ModelFileError.
import { StandardScaler } from '../data/scaler.ts';
import { TableEncoder } from '../data/table-encoder.ts';
import { Sequential, type Preprocessing, type SequentialOptions } from '../nn/sequential.ts';
import { ModelFileError } from './safetensors.ts';

/** The __metadata__ entries that describe a Sequential, for a file of `format`. */
export function modelMetadata(model: Sequential, format: string, version: string): Record<string, string> {
  return { format, version, model: JSON.stringify(model.toConfig()), preprocessing: JSON.stringify(model.preprocessing) };
}

/** Checks format and version: `versions` lists the versions this kiln reads, the last being the one it writes. */
export function checkFormat(where: string, metadata: Record<string, string>, format: string, versions: readonly string[]): void {
  if (metadata.format !== format)
    throw new ModelFileError(`${where}: __metadata__.format is ${JSON.stringify(metadata.format)}, expected '${format}'`);
  if (!versions.includes(metadata.version ?? ''))
    throw new ModelFileError(
      `${where}: format version ${metadata.version === undefined ? '(__metadata__.version is missing)' : JSON.stringify(metadata.version)} is not supported (this kiln reads version${versions.length > 1 ? 's' : ''} ${versions.join(', ')})`,
    );
}

function parseMetadataJson(where: string, metadata: Record<string, string>, key: string, fallback?: string): unknown {
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
  const preprocessing = parseMetadataJson(where, metadata, 'preprocessing', '{}');
  let model: Sequential;
  try {
    model = new Sequential(config);
  } catch (error) {
    throw new ModelFileError(`${where}: invalid architecture: ${(error as Error).message}`);
  }
  try {
    model.setPreprocessing(checkPreprocessing(`${where}: __metadata__.preprocessing`, preprocessing, model));
    fill(model);
    model.inputAffine();
  } catch (error) {
    model.dispose();
    if (error instanceof ModelFileError) throw error;
    throw new ModelFileError(`${where}: ${(error as Error).message}`);
  }
  return model;
}

const PREPROCESSING_KEYS = ['mean', 'std', 'featureNames', 'classNames', 'table'] as const;

/**
 * Checks preprocessing read from a file as strictly as its weights: an object with known keys;
 * mean and std together, one finite value per input, each std one whose reciprocal is a finite
 * f32 (so standardisation can neither vanish nor make every prediction NaN); one feature name
 * per input; one class name per output (two for a binary model, none for regression); a table
 * encoder that makes exactly the model's inputs, under the same names.
 */
export function checkPreprocessing(where: string, value: unknown, model: { inputs: number; outputs: number; task: string }): Preprocessing {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ModelFileError(
      `${where} must be an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  const p = value as Record<string, unknown>;
  const unknown = Object.keys(p).filter((k) => !(PREPROCESSING_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw new ModelFileError(
      `${where} has unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${PREPROCESSING_KEYS.join(', ')})`,
    );
  const out: { -readonly [K in keyof Preprocessing]: Preprocessing[K] } = {};
  if ((p.mean === undefined) !== (p.std === undefined))
    throw new ModelFileError(`${where} has ${p.mean === undefined ? 'std without mean' : 'mean without std'}; standardisation needs both`);
  if (p.mean !== undefined) {
    for (const key of ['mean', 'std'] as const) {
      const list = p[key];
      if (!Array.isArray(list) || list.length !== model.inputs)
        throw new ModelFileError(
          `${where}.${key} must have one value per input (${model.inputs}), got ${Array.isArray(list) ? `${list.length} values` : typeof list}`,
        );
    }
    try {
      StandardScaler.fromJSON({ kind: 'StandardScaler', mean: p.mean, std: p.std });
    } catch (error) {
      throw new ModelFileError(`${where}: ${(error as Error).message}`);
    }
    out.mean = (p.mean as number[]).slice();
    out.std = (p.std as number[]).slice();
  }
  const names = (key: 'featureNames' | 'classNames', count: number, what: string): string[] | undefined => {
    const list = p[key];
    if (list === undefined) return undefined;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string'))
      throw new ModelFileError(`${where}.${key} must be an array of strings`);
    if (list.length !== count) throw new ModelFileError(`${where}.${key} has ${list.length} names, the model has ${count} ${what}`);
    return list.slice();
  };
  const featureNames = names('featureNames', model.inputs, 'inputs');
  if (featureNames) out.featureNames = featureNames;
  if (p.classNames !== undefined && model.task === 'regression')
    throw new ModelFileError(`${where}.classNames is given, but a regression model has no classes`);
  const classNames = names(
    'classNames',
    model.task === 'binary' ? 2 : model.outputs,
    model.task === 'binary' ? 'classes (binary)' : 'outputs',
  );
  if (classNames) out.classNames = classNames;
  if (p.table !== undefined) {
    let encoder: TableEncoder;
    try {
      encoder = TableEncoder.fromJSON(p.table);
    } catch (error) {
      throw new ModelFileError(`${where}.table: ${(error as Error).message}`);
    }
    if (encoder.numOutputs !== model.inputs)
      throw new ModelFileError(`${where}.table makes ${encoder.numOutputs} inputs, the model has ${model.inputs}`);
    const at = featureNames?.findIndex((n, j) => n !== encoder.outputNames[j]) ?? -1;
    if (at >= 0)
      throw new ModelFileError(
        `${where}.featureNames[${at}] is '${featureNames![at]}', the table encoder names that input '${encoder.outputNames[at]}'`,
      );
    out.table = encoder.toJSON();
  }
  return out;
}
