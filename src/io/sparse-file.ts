// Sparse model files ('kiln.sequential.sparse'): safetensors that store, per dense and conv2d
// layer, only the weights pruning left. "layers.<i>.weight.mask" (U8, ⌈n/8⌉ bytes for the layer's
// n weights) has bit j of byte b set when weight 8b + j (row-major, as the weight's shape) is
// stored; "layers.<i>.weight.values" (F32) holds those weights in order. Every other tensor
// (biases, batch-norm scales and running statistics) is stored whole under its usual name, as in
// the dense format. The bitmask is the model's pruning mask when it has one (restored on load, so
// pruned weights stay pruned through later training), else every weight whose bits are not +0.
// Loading gives back the same bits: an unstored weight is +0, exactly what the mask kernel writes.
import type { Sequential } from '../nn/sequential.ts';
import { checkFormat, modelFromMetadata, modelMetadata } from './model-header.ts';
import { Tensor, unscoped } from '../core/tensor.ts';
import { decodeSafetensors, encodeSafetensors, ModelFileError } from './safetensors.ts';
import { readFileBytes, writeFileAtomic } from './atomic-write.ts';
import { checkIntegrity, withChecksum } from './integrity.ts';

/** The `format` metadata value of a sparse model file. */
export const SPARSE_MODEL_FORMAT = 'kiln.sequential.sparse';
// Version 2 adds the checksum (`crc32`); version 1 files are still read.
const SPARSE_MODEL_FORMAT_VERSION = '2';
const READ_VERSIONS = ['1', SPARSE_MODEL_FORMAT_VERSION];
const WHERE = 'sparse model file';

/** Serialises a model with its weights as bitmask + kept values.
 *  @example const bytes = sparseModelToBytes(pruned); // far fewer bytes than modelToBytes at 90% sparsity */
export function sparseModelToBytes(model: Sequential): Uint8Array {
  const params = model.parameterVector();
  const bits = new Uint32Array(params.buffer);
  const mask = model.pruningMask;
  const masked = new Set(model.weightSlots().map((w) => w.layer));
  const tensors: Parameters<typeof encodeSafetensors>[0] = {};
  for (const [l, p] of model.parameters().entries()) {
    const { offset, size, layer, trainable } = model.engine.locations[l]!;
    if (!trainable || p.name !== `layers.${layer}.weight` || !masked.has(layer)) {
      tensors[p.name] = { dtype: 'F32', shape: p.shape, data: p.data };
      continue;
    }
    const packed = new Uint8Array(Math.ceil(size / 8));
    const kept: number[] = [];
    for (let i = 0; i < size; i++) {
      if (mask ? mask[offset + i] !== 0 : bits[offset + i] !== 0) {
        packed[i >> 3]! |= 1 << (i & 7);
        kept.push(params[offset + i]!);
      }
    }
    tensors[`${p.name}.mask`] = { dtype: 'U8', shape: [packed.length], data: packed };
    tensors[`${p.name}.values`] = { dtype: 'F32', shape: [kept.length], data: Float32Array.from(kept) };
  }
  return encodeSafetensors(
    tensors,
    withChecksum(tensors, { ...modelMetadata(model, SPARSE_MODEL_FORMAT, SPARSE_MODEL_FORMAT_VERSION), masked: mask ? 'true' : 'false' }),
  );
}

/** Rebuilds a model from `sparseModelToBytes` output, with its pruning mask; every field and
 *  tensor is checked. */
export function sparseModelFromBytes(bytes: Uint8Array): Sequential {
  const decoded = decodeSafetensors(bytes);
  const { tensors, metadata } = decoded;
  checkFormat(WHERE, metadata, SPARSE_MODEL_FORMAT, READ_VERSIONS);
  if (metadata.masked !== 'true' && metadata.masked !== 'false')
    throw new ModelFileError(`${WHERE}: __metadata__.masked must be 'true' or 'false', got ${JSON.stringify(metadata.masked)}`);
  return modelFromMetadata(WHERE, metadata, (model) => {
    const mask = new Uint8Array(model.parameterCount).fill(1);
    const masked = new Set(model.weightSlots().map((w) => w.layer));
    const values: Record<string, Float32Array> = {};
    const expected = new Set<string>();
    for (const { layer, name: slot, shape, offset, size, trainable } of model.engine.locations) {
      const name = `layers.${layer}.${slot}`;
      if (!trainable || slot !== 'weight' || !masked.has(layer)) {
        expected.add(name);
        values[name] = tensorOf(tensors, name, 'F32', [...shape]) as Float32Array;
        continue;
      }
      [`${name}.mask`, `${name}.values`].forEach((t) => expected.add(t));
      const packed = tensorOf(tensors, `${name}.mask`, 'U8', [Math.ceil(size / 8)]) as Uint8Array;
      const stored = tensors[`${name}.values`];
      const weight = new Float32Array(size);
      let at = 0;
      for (let i = 0; i < size; i++) {
        if ((packed[i >> 3]! >> (i & 7)) & 1) {
          if (stored && at < stored.data.length) weight[i] = Number(stored.data[at]);
          at++;
        } else {
          mask[offset + i] = 0;
        }
      }
      if (size % 8 !== 0 && packed[packed.length - 1]! >> (size % 8) !== 0)
        throw new ModelFileError(`${WHERE}: tensor '${name}.mask' has bits set past the layer's ${size} weights`);
      tensorOf(tensors, `${name}.values`, 'F32', [at]);
      values[name] = weight;
    }
    for (const name of Object.keys(tensors))
      if (!expected.has(name)) throw new ModelFileError(`${WHERE}: unexpected tensor '${name}' for this architecture`);
    model.setParameters(values);
    if (metadata.masked === 'true') model.setPruningMask(mask);
    checkIntegrity(WHERE, decoded, metadata.version !== '1');
  });
}

/** Writes the sparse model file atomically (Node, Deno, Bun). */
export async function saveSparseModel(model: Sequential, path: string | URL): Promise<void> {
  await writeFileAtomic(path, sparseModelToBytes(model));
}

/** Reads a sparse model file written by `saveSparseModel` (Node, Deno, Bun). */
export async function loadSparseModel(path: string | URL): Promise<Sequential> {
  return sparseModelFromBytes(await readFileBytes(path));
}

function tensorOf(tensors: ReturnType<typeof decodeSafetensors>['tensors'], name: string, dtype: 'U8' | 'F32', shape: number[]) {
  const t = tensors[name];
  if (!t) throw new ModelFileError(`${WHERE}: tensor '${name}' is missing`);
  if (t.dtype !== dtype) throw new ModelFileError(`${WHERE}: tensor '${name}' has dtype ${t.dtype}, expected ${dtype}`);
  if (t.shape.join(',') !== shape.join(','))
    throw new ModelFileError(`${WHERE}: tensor '${name}' has shape [${t.shape}], the architecture and mask need [${shape}]`);
  return t.data;
}
