// Whole-network gradients from the core against central finite differences of an independent f64
// model, for every activation and every loss.
import { test } from 'node:test';
import { Sequential, type Task } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';
import { Tensor, scope } from '../../src/core/tensor.ts';
import type { Activation } from '../../src/core/activation.ts';
import { LOSS_OF_TASK } from '../../src/nn/sequential.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32, uniform, ints } from '../helpers/rand.ts';
import { bceLogits, forward, mse, numericGradient, softmaxXent, type RefLayer } from '../reference/mlp-ref.ts';

const B = 5,
  D = 4,
  H = 6;

function check(activation: Activation, task: Task, seed: number): void {
  const C = task === 'classification' ? 3 : task === 'binary' ? 1 : 2;
  const model = new Sequential({ inputs: D, layers: [dense(H, activation), dense(H, activation, { alpha: 0.1 }), dense(C)], task, seed });
  const rand = mulberry32(seed);
  const x = uniform(rand, B * D, -2, 2);
  const labels = ints(rand, B, 3);
  const targets = task === 'binary' ? Float32Array.from({ length: B }, () => (rand() > 0.5 ? 1 : 0)) : uniform(rand, B * C);
  const engineGrads = scope(() => {
    const xt = Tensor.from(x, [B, D]);
    const yt = task === 'classification' ? Tensor.from(labels, [B], 'i32') : Tensor.from(targets, [B, C], 'f32');
    const order = Tensor.from(
      Int32Array.from({ length: B }, (_, i) => i),
      [B],
      'i32',
    );
    model.engine.computeGradients(xt, yt, order, 0, B, { kind: LOSS_OF_TASK[task], smoothing: 0, classWeights: undefined });
    return model.engine.grads.read();
  });
  const layers: RefLayer[] = [
    { units: H, inputs: D, act: activation, alpha: 0.01 },
    { units: H, inputs: H, act: activation, alpha: 0.1 },
    { units: C, inputs: H, act: 'linear', alpha: 0 },
  ];
  const params = Float64Array.from(model.engine.params.read());
  const loss = (p: Float64Array) => {
    const out = forward(layers, p, x, B);
    return task === 'classification' ? softmaxXent(out, labels, B, C) : task === 'binary' ? bceLogits(out, targets) : mse(out, targets);
  };
  const expected = numericGradient(params, loss);
  assertClose(engineGrads, expected, { atol: 2e-4, rtol: 2e-3 }, `${activation}/${task}`);
  model.dispose();
}

for (const activation of ['linear', 'relu', 'leaky_relu', 'sigmoid', 'tanh', 'gelu'] as const) {
  test(`network gradient matches finite differences: ${activation}, softmax cross-entropy`, () => check(activation, 'classification', 11));
}
for (const task of ['regression', 'binary'] as const) {
  test(`network gradient matches finite differences: tanh, ${task}`, () => check('tanh', task, 12));
}
