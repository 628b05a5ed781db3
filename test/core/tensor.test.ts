import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { memoryBytes } from '../../src/core/wasm.ts';

test('Tensor.from round-trips values and shape', () => {
  const t = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.deepEqual([...t.read()], [1, 2, 3, 4, 5, 6]);
  t.dispose();
  assert.equal(t.disposed, true);
  assert.throws(() => t.read(), /used after dispose/);
});

test('scope frees what it made, keeps what it returns, and frees on throw', () => {
  let inner: Tensor | undefined;
  const kept = scope(() => {
    inner = Tensor.zeros([4]);
    return Tensor.zeros([2]);
  });
  assert.equal(inner!.disposed, true);
  assert.equal(kept.disposed, false);
  kept.dispose();
  assert.throws(
    () =>
      scope(() => {
        inner = Tensor.zeros([3]);
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.equal(inner!.disposed, true);
});

test('thousands of alloc/free cycles do not grow memory', () => {
  const cycle = (i: number) => {
    const a = Tensor.empty([1 + (i % 977), 64]);
    const b = Tensor.empty([i % 13]);
    a.dispose();
    b.dispose();
  };
  for (let i = 0; i < 1000; i++) cycle(i); // reach the high-water mark once
  const before = memoryBytes();
  for (let i = 0; i < 5000; i++) cycle(i);
  assert.equal(memoryBytes(), before);
});

test('bad shapes and sizes are clear errors', () => {
  assert.throws(() => Tensor.from([1, 2, 3], [2, 2]), /shape \[2,2\] holds 4 elements, data has 3/);
  assert.throws(() => Tensor.empty([2, -1]), RangeError);
  assert.throws(() => Tensor.empty([2 ** 20, 2 ** 20]), /more than the/);
  assert.throws(() => Tensor.empty([2], 'f64' as never), TypeError);
});
