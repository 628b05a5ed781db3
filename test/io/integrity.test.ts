import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';
import { modelFromBytes, modelToBytes } from '../../src/io/model-file.ts';
import { sparseModelToBytes } from '../../src/io/sparse-file.ts';
import { decodeSafetensors, encodeSafetensors, ModelFileError } from '../../src/io/safetensors.ts';
import { crc32, tensorChecksum } from '../../src/io/integrity.ts';
import { iris } from '../../src/data/builtin.ts';
import { quantize } from '../../src/compress/quant/quantize.ts';
import { quantizedModelFromBytes, quantizedModelToBytes } from '../../src/compress/quant/file.ts';

const model = () => new Sequential({ inputs: 4, layers: [dense(6, 'relu'), dense(3)], seed: 7 });

test('crc32 matches the standard check value and an independent bitwise computation', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 255);
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  assert.equal(crc32(bytes), (c ^ 0xffffffff) >>> 0);
  assert.equal(crc32(bytes.subarray(100), crc32(bytes.subarray(0, 100))), crc32(bytes), 'continues across chunks');
});

// Re-encodes a file after `edit`, keeping its metadata (and so its stored checksum).
function edit(bytes: Uint8Array, change: (t: Record<string, { data: ArrayBufferView }>, m: Record<string, string>) => void) {
  const { tensors, metadata } = decodeSafetensors(bytes);
  change(tensors as never, metadata);
  return encodeSafetensors(tensors as never, metadata);
}

// Flips one low mantissa bit of the data section's first tensor (F32: the writer puts the
// widest dtype first), so the value stays finite and the structure stays valid.
function flipBit(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  const headerLength = Number(new DataView(out.buffer).getBigUint64(0, true));
  out[8 + headerLength + at * 4]! ^= 0x04;
  return out;
}

test('a flipped bit in any kind of model file is a ModelFileError naming the checksum', () => {
  const m = model();
  const sparse = new Sequential({ inputs: 4, layers: [dense(6, 'relu'), dense(3)], seed: 7 });
  sparse.setPruningMask(new Uint8Array(sparse.parameterCount).fill(1));
  const calibration = { data: iris() };
  const files: [string, Uint8Array, (b: Uint8Array) => { dispose(): void }][] = [
    ['model file', modelToBytes(m), modelFromBytes],
    ['sparse model file', sparseModelToBytes(sparse), modelFromBytes],
    ['quantized model file', quantizedModelToBytes(quantize(m, { scheme: 'int8-per-channel', calibration })), quantizedModelFromBytes],
    ['quantized model file', quantizedModelToBytes(quantize(m, { scheme: 'int4', groupSize: 32 })), quantizedModelFromBytes],
  ];
  for (const [kind, bytes, read] of files) {
    assert.equal(decodeSafetensors(bytes).metadata.version, '2');
    read(bytes).dispose();
    for (const at of [0, 1, 2]) {
      assert.throws(
        () => read(flipBit(bytes, at)),
        (e: unknown) =>
          e instanceof ModelFileError &&
          e.message.startsWith(`${kind}: `) &&
          /checksum mismatch: __metadata__.crc32 is [0-9a-f]{8}/.test(e.message),
        `${kind}, value ${at}`,
      );
    }
    assert.throws(
      () => read(edit(bytes, (_, meta) => delete meta.crc32)),
      /__metadata__.crc32 is missing \(format version 2 files carry a checksum\)/,
    );
    assert.throws(() => read(edit(bytes, (_, meta) => (meta.crc32 = 'xyz'))), /crc32 must be 8 hex digits, got "xyz"/);
  }
  m.dispose();
  sparse.dispose();
});

test('NaN and ±Inf weights are rejected naming the tensor, the index and the value', () => {
  const m = model();
  const bytes = modelToBytes(m);
  for (const [value, index] of [
    [NaN, 0],
    [Infinity, 5],
    [-Infinity, 17],
  ] as const) {
    const bad = edit(bytes, (t, meta) => {
      (t['layers.0.weight']!.data as Float32Array)[index] = value;
      meta.crc32 = tensorChecksum(t);
    });
    assert.throws(
      () => modelFromBytes(bad),
      (e: unknown) =>
        e instanceof ModelFileError &&
        e.message === `model file: tensor 'layers.0.weight' holds ${value} at index ${index}; weights must be finite`,
    );
  }
  m.dispose();
});

test('version 1 files (no checksum) still load, and still get the finiteness check', () => {
  const m = model();
  const v1 = edit(modelToBytes(m), (_, meta) => {
    meta.version = '1';
    delete meta.crc32;
  });
  const loaded = modelFromBytes(v1);
  assert.deepEqual(loaded.parameterVector(), m.parameterVector());
  loaded.dispose();
  const nan = edit(v1, (t) => ((t['layers.1.bias']!.data as Float32Array)[1] = NaN));
  assert.throws(() => modelFromBytes(nan), /tensor 'layers.1.bias' holds NaN at index 1/);
  m.dispose();
});
