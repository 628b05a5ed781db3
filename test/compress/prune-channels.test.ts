// Structured channel pruning of CNNs: removing filters whose output is zero leaves every other
// output as it was (within f32 rounding: the GEMMs sum fewer zero terms), the next layer's input
// channels, the dense columns after flatten and the batch-norm entries follow the kept filters,
// and the importances rank a dead filter last.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential } from '../../src/nn/sequential.ts';
import { tinyCnn } from '../helpers/cnn.ts';
import { channelScores, keepChannels, pruneChannels } from '../../src/compress/prune/channels.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

const x = uniform(mulberry32(4), 6 * 64, 0, 1);
const cnn = (withBn: boolean) => tinyCnn(withBn, 3);

// Zeroes filters `dead` of layer 0 (weights and bias): their channels are 0 after the ReLU.
function kill(model: Sequential, dead: number[]): void {
  const p = new Map(model.parameters().map((t) => [t.name, t.data.slice()]));
  const w = p.get('layers.0.weight')!,
    b = p.get('layers.0.bias')!;
  for (const o of dead) {
    w.fill(0, o * 9, (o + 1) * 9);
    b[o] = 0;
  }
  model.setParameters({ 'layers.0.weight': w, 'layers.0.bias': b });
}

test('removing zero channels leaves the outputs unchanged; the next conv and the dense after flatten follow', () => {
  const model = cnn(false);
  kill(model, [1, 4]);
  const small = keepChannels(
    model,
    new Map([
      [0, Int32Array.of(0, 2, 3, 5)],
      [2, Int32Array.of(0, 1, 3)],
    ]),
  );
  // Filter 2 and 4 of the second convolution go too: compare with a model where they are zero.
  const p = new Map(model.parameters().map((t) => [t.name, t.data.slice()]));
  const w2 = p.get('layers.2.weight')!,
    b2 = p.get('layers.2.bias')!;
  for (const o of [2, 4]) {
    w2.fill(0, o * 54, (o + 1) * 54);
    b2[o] = 0;
  }
  model.setParameters({ 'layers.2.weight': w2, 'layers.2.bias': b2 });
  assert.deepEqual(
    small.layers.map((l) => (l.type === 'conv2d' ? l.filters : l.type)),
    [4, 'maxPool2d', 3, 'flatten', 'dense', 'dense'],
  );
  assert.equal(
    small
      .parameters()
      .find((t) => t.name === 'layers.4.weight')!
      .shape.join(),
    '7,48',
  );
  const a = model.predict(x),
    b = small.predict(x);
  const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
  assert.ok(diff <= 1e-6, `max difference ${diff}`);
  assert.ok(small.parameterCount < model.parameterCount);
  small.dispose();
  model.dispose();
});

test('batch-norm entries follow the kept filters; l1, l2 and activation rank a dead filter lowest', () => {
  const model = cnn(true);
  kill(model, [3]);
  for (const criterion of ['l1', 'l2'] as const) {
    const s = channelScores(model, { criterion }).get(0)!;
    assert.equal(s[3], 0);
    assert.ok(Array.from(s).every((v, i) => i === 3 || v > 0));
  }
  const plain = cnn(false);
  kill(plain, [3]);
  const act = channelScores(plain, { criterion: 'activation', data: x }).get(0)!;
  assert.equal(act[3], 0, `activation scores ${Array.from(act)}`);
  assert.throws(() => channelScores(plain, { criterion: 'activation' }), /needs data/);
  plain.dispose();
  const small = pruneChannels(model, { sparsity: 0.5, criterion: 'l1' });
  assert.deepEqual(
    small.layers.filter((l) => l.type === 'conv2d').map((l) => (l.type === 'conv2d' ? l.filters : 0)),
    [3, 3],
  );
  const kept = small.parameters().find((t) => t.name === 'layers.1.running_var')!;
  assert.equal(kept.data.length, 3);
  assert.throws(() => keepChannels(model, new Map([[0, Int32Array.of(2, 1)]])), /ascending, distinct/);
  assert.throws(() => keepChannels(model, new Map([[5, Int32Array.of(0)]])), /layer 5 is not a conv2d layer/);
  small.dispose();
  model.dispose();
});
