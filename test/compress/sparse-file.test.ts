// Sparse model files: round trips to the same bits with the mask restored (and holding through
// training after load), unmasked models with -0 kept, the byte layout, and every validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense, dropout } from '../../src/nn/layers/index.ts';
import { fit } from '../../src/train/fit.ts';
import { iris } from '../../src/data/builtin.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';
import { loadSparseModel, saveSparseModel, sparseModelFromBytes, sparseModelToBytes } from '../../src/io/sparse-file.ts';
import { maskBytes, pruneWeights } from '../../src/compress/prune/unstructured.ts';

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

function prunedModel(): Sequential {
  const model = new Sequential({
    inputs: 4,
    layers: [dense(13, 'relu'), dropout(0.1), dense(3)],
    seed: 7,
    preprocessing: { mean: [1, 2, 3, 4], std: [1, 1, 2, 2], classNames: ['a', 'b', 'c'] },
  });
  pruneWeights(model, { sparsity: 0.9 });
  return model;
}

test('a pruned model saves and loads to the same bits, with its mask, which holds through training', async () => {
  const model = prunedModel();
  const dir = await mkdtemp(join(tmpdir(), 'kiln-sparse-'));
  try {
    await saveSparseModel(model, join(dir, 'm.safetensors'));
    const loaded = await loadSparseModel(join(dir, 'm.safetensors'));
    assert.deepEqual(bits(loaded.engine.params.read()), bits(model.engine.params.read()));
    assert.deepEqual(maskBytes(loaded), maskBytes(model));
    assert.deepEqual(loaded.toConfig(), model.toConfig());
    assert.deepEqual(loaded.preprocessing, model.preprocessing);
    await fit(loaded, iris(), { epochs: 3, standardize: false });
    const mask = maskBytes(loaded);
    loaded.engine.params.read().forEach((v, i) => mask[i] === 0 && assert.ok(Object.is(v, 0)));
    loaded.dispose();
  } finally {
    await rm(dir, { recursive: true });
    model.dispose();
  }
});

test('an unmasked model stores every weight that is not +0, -0 included, and loads without a mask', () => {
  const model = new Sequential({ inputs: 3, layers: [dense(3)] });
  model.setParameters({ 'layers.0.weight': [0, -0, 1.5, 0, 0, 0, 2, 0, -3], 'layers.0.bias': [0, -0, 1] });
  const bytes = sparseModelToBytes(model);
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.equal(metadata.format, 'kiln.sequential.sparse');
  assert.equal(metadata.masked, 'false');
  assert.deepEqual(Array.from(tensors['layers.0.weight.mask']!.data as Uint8Array), [0b01000110, 0b1]);
  assert.deepEqual(Array.from(tensors['layers.0.weight.values']!.data as Float32Array), [-0, 1.5, 2, -3]);
  const loaded = sparseModelFromBytes(bytes);
  assert.deepEqual(bits(loaded.engine.params.read()), bits(model.engine.params.read()));
  assert.equal(loaded.engine.mask, undefined);
  for (const m of [model, loaded]) m.dispose();
});

test('the bitmask is the pruning mask: a kept weight that is zero is stored, a pruned one is not', () => {
  const model = prunedModel();
  const kept = maskBytes(model)
    .subarray(0, 52)
    .reduce((n, m) => n + m, 0);
  const { tensors } = decodeSafetensors(sparseModelToBytes(model));
  assert.equal(tensors['layers.0.weight.values']!.data.length, kept);
  assert.equal(tensors['layers.0.weight.mask']!.data.length, Math.ceil(52 / 8));
  model.dispose();
});

test('corrupt sparse files are rejected with the part that is wrong', () => {
  const model = prunedModel();
  const good = decodeSafetensors(sparseModelToBytes(model));
  const rebuild = (
    change: (t: Record<string, { dtype: string; shape: number[]; data: ArrayLike<number> }>, m: Record<string, string>) => void,
  ) => {
    const tensors = Object.fromEntries(Object.entries(good.tensors).map(([k, v]) => [k, { ...v, data: v.data.slice() }]));
    const metadata = { ...good.metadata };
    change(tensors as never, metadata);
    return encodeSafetensors(tensors as never, metadata);
  };
  const expectError = (bytes: Uint8Array, message: RegExp) =>
    assert.throws(() => sparseModelFromBytes(bytes), { name: 'ModelFileError', message });
  expectError(
    rebuild((_, m) => (m.format = 'kiln.sequential')),
    /sparse model file: __metadata__.format is "kiln.sequential", expected 'kiln.sequential.sparse'/,
  );
  expectError(
    rebuild((_, m) => (m.version = '9')),
    /format version "9" is not supported/,
  );
  expectError(
    rebuild((_, m) => (m.masked = 'yes')),
    /__metadata__.masked must be 'true' or 'false', got "yes"/,
  );
  expectError(
    rebuild((_, m) => (m.model = '{')),
    /__metadata__.model is not valid JSON/,
  );
  expectError(
    rebuild((_, m) => (m.model = '{"inputs":0,"layers":[]}')),
    /invalid architecture: Sequential: inputs must be an integer/,
  );
  expectError(
    rebuild((t) => delete t['layers.2.bias']),
    /tensor 'layers.2.bias' is missing/,
  );
  expectError(
    rebuild((t) => ((t['layers.0.weight.mask']!.shape = [6]), (t['layers.0.weight.mask']!.data = new Uint8Array(6)))),
    /tensor 'layers.0.weight.mask' has shape \[6\], the architecture and mask need \[7\]/,
  );
  expectError(
    rebuild((t) => ((t['layers.0.weight.mask']!.data as Uint8Array)[6] = 0xff)),
    /has bits set past the layer's 52 weights/,
  );
  expectError(
    rebuild((t) => ((t['layers.0.weight.mask']!.data as Uint8Array)[0] = 0xff)),
    /tensor 'layers.0.weight.values' has shape \[\d+\], the architecture and mask need \[\d+\]/,
  );
  expectError(
    rebuild(
      (t) => (
        (t['layers.0.weight.values']!.dtype = 'I32'),
        (t['layers.0.weight.values']!.data = new Int32Array(t['layers.0.weight.values']!.data.length))
      ),
    ),
    /tensor 'layers.0.weight.values' has dtype I32, expected F32/,
  );
  expectError(
    rebuild((t) => (t.extra = { dtype: 'F32', shape: [1], data: new Float32Array(1) })),
    /unexpected tensor 'extra' for this architecture/,
  );
  model.dispose();
});
