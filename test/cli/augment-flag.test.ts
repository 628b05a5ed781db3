// --augment: the flag's text becomes fit's augment option, and bad text names the part and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { augmentSpec } from '../../src/cli/options.ts';

test('--augment parses every augmentation and rejects what it does not know', () => {
  assert.deepEqual(augmentSpec('shift=2,flip,cutout=8,mixup=0.2,shape=1x28x28'), {
    shift: 2,
    flip: true,
    cutout: 8,
    mixup: 0.2,
    shape: [1, 28, 28],
  });
  assert.deepEqual(augmentSpec('mixup=0.4'), { mixup: 0.4 });
  assert.throws(() => augmentSpec('crop=2'), /crop=2: unknown augmentation; known: shift, flip, cutout, mixup, shape/);
  assert.throws(() => augmentSpec('shift=1.5'), /shift=1.5: shift is a whole number of pixels/);
  assert.throws(() => augmentSpec('shift'), /shift: shift needs a number >= 0/);
  assert.throws(() => augmentSpec('flip=1'), /flip takes no value/);
  assert.throws(() => augmentSpec('shape=28x28'), /shape is CxHxW/);
});
