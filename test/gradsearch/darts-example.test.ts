// The DARTS example runs end to end on a small slice of the digits and returns a working model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dartsMnistExample } from '../../examples/darts-mnist.ts';

test('examples/darts-mnist: search, hypergradient retraining and test accuracy on 800 digits', async () => {
  const lines: string[] = [];
  const r = await dartsMnistExample({ perDigit: 80, epochs: 2, retrainEpochs: 6, log: (l) => lines.push(l) });
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^search epoch 1: supernet val accuracy 0\.\d{3}, E\[parameters\] \d+, layer 1 widths \[/);
  assert.ok(r.architecture.hidden.length <= 2);
  assert.ok(r.accuracy > 0.75, `test accuracy ${r.accuracy}`);
  assert.ok(Number.isFinite(r.learningRate) && r.learningRate !== 1e-3, `hypergradient moved the rate: ${r.learningRate}`);
});
