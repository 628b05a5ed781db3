import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, unscoped } from '../../src/core/tensor.ts';
import { allocBytes, freeBytes, kernels, liveBytes, MAX_BLOCK_BYTES } from '../../src/core/wasm.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';

test('host and core share one block limit, and a request above it is a RangeError stating it', () => {
  assert.equal(kernels().mem_max_block() >>> 0, MAX_BLOCK_BYTES);
  assert.equal(MAX_BLOCK_BYTES, 2 ** 30 - 64);
  // The core refuses above the limit by returning 0 (no abort with its own source line).
  assert.equal(kernels().mem_alloc(MAX_BLOCK_BYTES + 1), 0);
  assert.throws(
    () => allocBytes(MAX_BLOCK_BYTES + 1),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message === `kiln: allocation needs ${MAX_BLOCK_BYTES + 1} bytes, more than the 1073741760-byte (1 GiB) limit of one block`,
  );
  for (const bad of [-1, NaN, 2 ** 40]) assert.throws(() => allocBytes(bad), RangeError, String(bad));
  assert.throws(
    () => Tensor.empty([2 ** 28 + 1]),
    (e: unknown) =>
      e instanceof RangeError &&
      /^kiln: Tensor: shape \[268435457\] of f32 needs 1073741828 bytes, more than the 1073741760-byte/.test(e.message),
  );
});

test('liveBytes counts what is allocated and not freed', () => {
  const before = liveBytes();
  const p = allocBytes(1000);
  assert.equal(liveBytes(), before + 1000);
  assert.ok(p > 0 && p % 16 === 0, 'an unsigned, aligned address');
  freeBytes(p);
  assert.equal(liveBytes(), before);
});

test('a construction that fails part-way frees what it had allocated', () => {
  const before = liveBytes();
  let first: Tensor | undefined;
  assert.throws(
    () =>
      unscoped(() => {
        first = Tensor.zeros([1 << 20]);
        return [first, Tensor.empty([2 ** 29])];
      }),
    /limit of one block/,
  );
  assert.equal(first!.disposed, true);
  assert.equal(liveBytes(), before);
  // A model whose first arena fits and whose next would not: nothing stays behind.
  assert.throws(() => new Sequential({ inputs: 2 ** 14, layers: [dense(2 ** 14), dense(2)] }), /limit of one block/);
  assert.equal(liveBytes(), before);
});
