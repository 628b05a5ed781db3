// Optimizer state files: what a model file leaves out so that training can resume exactly. The
// moments (momentum, or Adam's m and v), the update count that schedules and bias correction
// follow, hypergradient descent's state and the optimizer's settings, in safetensors like the
// model, beside it (`model.safetensors` → `model.optimizer.safetensors`). The model file stays a
// plain set of weights any safetensors reader loads. A state belongs to one model at one moment:
// it records the architecture and a CRC-32 of the weights it was saved with, and loading it onto
// any other weights is a ModelFileError, since moments of other weights would resume silently wrong.
import type { OptimizerSnapshot } from '../core/ops/optimizer-state.ts';
import type { Sequential } from '../nn/sequential.ts';
import { OPTIMIZERS, optimizerOptions, type Optimizer } from '../train/optimizers.ts';
import { readFileBytes, writeFileAtomic } from './atomic-write.ts';
import { checkIntegrity, tensorChecksum, withChecksum } from './integrity.ts';
import { checkFormat } from './model-header.ts';
import { decodeSafetensors, encodeSafetensors, ModelFileError, type SafetensorsTensor } from './safetensors.ts';

export const OPTIMIZER_FORMAT = 'kiln.optimizer';
export const OPTIMIZER_FORMAT_VERSION = '1';
const WHERE = 'optimizer state file';
const MOMENTS = { m: 'moment.first', v: 'moment.second', delta: 'hypergradient.step' } as const;

/** The file of the optimizer state that belongs to the model file `modelPath`: `.safetensors`
 *  (or any extension) becomes `.optimizer.safetensors`. */
export function optimizerStatePath(modelPath: string): string {
  const dot = modelPath.lastIndexOf('.');
  const slash = Math.max(modelPath.lastIndexOf('/'), modelPath.lastIndexOf('\\'));
  return `${dot > slash ? modelPath.slice(0, dot) : modelPath}.optimizer.safetensors`;
}

const keepsFirstMoment = ({ rule }: Optimizer): boolean => rule.kind === 'adam' || rule.momentum !== 0;

// The architecture a state fits (the seed is not part of it: the weights checksum covers the rest).
const architectureOf = (model: Sequential): string => {
  const { seed: _seed, ...architecture } = model.toConfig();
  return JSON.stringify(architecture);
};

// The weights a state was taken at, as a checksum: parameters and running statistics.
const weightsChecksum = (model: Sequential): string =>
  tensorChecksum(Object.fromEntries(model.parameters().map((p) => [p.name, { data: p.data }])));

/**
 * Serialises `model`'s optimizer state (after `fit` or `applyGradients`) with the settings of
 * `optimizer`, the one that made it. With `optimizerStateFromBytes` and `fit(..., { optimizer,
 * resumeOptimizer: true })`, training continues as if it had never stopped.
 *
 * @example
 * await fit(model, data, { optimizer: adam({ lr: 0.01 }), epochs: 20 });
 * const state = optimizerStateToBytes(model, adam({ lr: 0.01 }));
 */
export function optimizerStateToBytes(model: Sequential, optimizer: Optimizer): Uint8Array {
  const where = 'optimizerStateToBytes';
  if (optimizer === null || typeof optimizer !== 'object' || !(optimizer.name in OPTIMIZERS))
    throw new TypeError(`${where}: optimizer must come from gd(), sgd(), adam() or adamw()`);
  const snapshot = model.engine.optimizerSnapshot();
  if (snapshot.steps === 0) throw new RangeError(`${where}: the model has no optimizer state yet (no update since the last reset)`);
  const { rule } = optimizer;
  if ((snapshot.v !== undefined) !== (rule.kind === 'adam') || (snapshot.m !== undefined) !== keepsFirstMoment(optimizer))
    throw new TypeError(
      `${where}: the model's optimizer state (${snapshot.v ? "Adam's moments" : snapshot.m ? 'a momentum buffer' : 'no moments'}) was not made by the ${optimizer.name} optimizer given`,
    );
  const P = model.parameterCount;
  const tensors: Record<string, SafetensorsTensor> = {};
  const put = (name: string, data: Float32Array | undefined) => {
    if (data) tensors[name] = { dtype: 'F32', shape: [P], data };
  };
  put(MOMENTS.m, snapshot.m);
  put(MOMENTS.v, snapshot.v);
  put(MOMENTS.delta, snapshot.hypergradient?.delta);
  const metadata: Record<string, string> = {
    format: OPTIMIZER_FORMAT,
    version: OPTIMIZER_FORMAT_VERSION,
    optimizer: optimizer.name,
    settings: JSON.stringify(optimizerOptions(optimizer)),
    steps: String(snapshot.steps),
    model: architectureOf(model),
    parameters: String(P),
    weights: weightsChecksum(model),
    ...(snapshot.hypergradient ? { hypergradientLr: String(snapshot.hypergradient.lr) } : {}),
  };
  return encodeSafetensors(tensors, withChecksum(tensors, metadata));
}

/**
 * Puts a state from `optimizerStateToBytes` back into `model` (which must hold the very weights
 * it was saved with, e.g. loaded from the model file saved at the same time) and returns the
 * optimizer it belongs to; pass both to `fit` with `resumeOptimizer: true`. Every field is
 * checked; a state of another model or of other weights is a ModelFileError saying which.
 *
 * @example
 * const model = await loadModel('run.safetensors');
 * const optimizer = optimizerStateFromBytes(model, readFileSync('run.optimizer.safetensors'));
 * await fit(model, data, { optimizer, resumeOptimizer: true, epochs: 10 });
 */
export function optimizerStateFromBytes(model: Sequential, bytes: Uint8Array): Optimizer {
  const decoded = decodeSafetensors(bytes);
  const { tensors, metadata } = decoded;
  checkFormat(WHERE, metadata, OPTIMIZER_FORMAT, [OPTIMIZER_FORMAT_VERSION]);
  checkIntegrity(WHERE, decoded, true);
  const P = model.parameterCount;
  const architecture = architectureOf(model);
  if (metadata.model !== architecture)
    throw new ModelFileError(
      `${WHERE}: it belongs to a model of architecture ${metadata.model ?? '(none given)'}, not to this one, ${architecture}`,
      '__metadata__.model',
    );
  if (metadata.parameters !== String(P))
    throw new ModelFileError(`${WHERE}: it holds ${metadata.parameters} parameters, the model ${P}`, '__metadata__.parameters');
  if (metadata.weights !== weightsChecksum(model))
    throw new ModelFileError(
      `${WHERE}: it was saved with other weights (checksum ${metadata.weights}, the model's are ${weightsChecksum(model)}); load it with the model file saved at the same time`,
      '__metadata__.weights',
    );
  const name = metadata.optimizer as Optimizer['name'];
  if (!Object.hasOwn(OPTIMIZERS, name ?? ''))
    throw new ModelFileError(
      `${WHERE}: __metadata__.optimizer must be gd, sgd, adam or adamw, got ${JSON.stringify(name)}`,
      '__metadata__',
    );
  let optimizer: Optimizer;
  try {
    optimizer = OPTIMIZERS[name](JSON.parse(metadata.settings ?? 'null'));
  } catch (error) {
    throw new ModelFileError(
      `${WHERE}: __metadata__.settings do not make a ${name} optimizer: ${(error as Error).message}`,
      '__metadata__',
    );
  }
  const steps = Number(metadata.steps);
  if (!Number.isInteger(steps) || steps < 1)
    throw new ModelFileError(
      `${WHERE}: __metadata__.steps must be a positive integer, got ${JSON.stringify(metadata.steps)}`,
      '__metadata__',
    );
  const moment = (key: string, needed: boolean): Float32Array | undefined => {
    const t = tensors[key];
    if (!t) {
      if (needed) throw new ModelFileError(`${WHERE}: tensor '${key}' is missing (the ${name} optimizer keeps it)`, `tensor '${key}'`);
      return undefined;
    }
    if (t.dtype !== 'F32' || t.shape.length !== 1 || t.shape[0] !== P)
      throw new ModelFileError(`${WHERE}: tensor '${key}' is ${t.dtype} [${t.shape}], expected F32 [${P}]`, `tensor '${key}'`);
    return t.data as Float32Array;
  };
  const { rule } = optimizer;
  const keepsFirst = keepsFirstMoment(optimizer);
  for (const key of Object.keys(tensors)) {
    const expected = key === MOMENTS.m ? keepsFirst : key === MOMENTS.v ? rule.kind === 'adam' : key === MOMENTS.delta;
    if (!expected) throw new ModelFileError(`${WHERE}: unexpected tensor '${key}' for the ${name} optimizer`, `tensor '${key}'`);
  }
  const snapshot: OptimizerSnapshot = { steps };
  const m = moment(MOMENTS.m, keepsFirst);
  const v = moment(MOMENTS.v, rule.kind === 'adam');
  if (m) snapshot.m = m;
  if (v) snapshot.v = v;
  const delta = moment(MOMENTS.delta, false);
  if (delta) {
    const lr = Number(metadata.hypergradientLr);
    if (!rule.hypergradient || !Number.isFinite(lr))
      throw new ModelFileError(
        `${WHERE}: a hypergradient step without hypergradient settings and a finite hypergradientLr`,
        '__metadata__',
      );
    snapshot.hypergradient = { lr, delta };
  }
  model.engine.restoreOptimizer(snapshot);
  return optimizer;
}

/** Writes `model`'s optimizer state (see `optimizerStateToBytes`) atomically (Node, Deno, Bun). */
export async function saveOptimizerState(model: Sequential, optimizer: Optimizer, path: string | URL): Promise<void> {
  await writeFileAtomic(path, optimizerStateToBytes(model, optimizer));
}

/** Reads an optimizer state file into `model` and returns its optimizer (see `optimizerStateFromBytes`). */
export async function loadOptimizerState(model: Sequential, path: string | URL): Promise<Optimizer> {
  return optimizerStateFromBytes(model, await readFileBytes(path));
}
