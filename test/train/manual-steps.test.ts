// The pieces of training users call on their own: an optimizer update on given gradients, a
// callback per update, optimizer state carried across fits, and the distillation loss as a
// function; each checked against an independent f64 reference or against fit itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adam, applyGradients, dense, distillationLoss, fit, iris, Sequential, sgd, type StepLog } from '../../src/index.ts';
import { assertClose } from '../helpers/close.ts';

const model = (seed = 3) => new Sequential({ inputs: 4, layers: [dense(5, 'relu'), dense(3)], seed });
const gradientsFor = (n: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 0.3);

test('applyGradients: an SGD update is θ − lr·g', () => {
  const m = model();
  const before = m.parameterVector();
  const g = gradientsFor(m.parameterCount);
  const lr = applyGradients(m, g, sgd({ lr: 0.1 }));
  assert.equal(lr, 0.1);
  assertClose(
    m.parameterVector(),
    Array.from(before, (p, i) => p - 0.1 * g[i]!),
    { atol: 1e-7, rtol: 1e-6 },
  );
  m.dispose();
});

test('applyGradients: two Adam updates follow the f64 update rule (bias-corrected moments)', () => {
  const m = model();
  const theta = Array.from(m.parameterVector());
  const [b1, b2, eps, lr] = [0.9, 0.999, 1e-8, 0.01];
  const mom = theta.map(() => 0),
    vel = theta.map(() => 0);
  const opt = adam({ lr });
  for (let t = 1; t <= 2; t++) {
    const g = gradientsFor(theta.length).map((x) => x * t);
    applyGradients(m, g, opt);
    theta.forEach((p, i) => {
      mom[i] = b1 * mom[i]! + (1 - b1) * g[i]!;
      vel[i] = b2 * vel[i]! + (1 - b2) * g[i]! ** 2;
      const mh = mom[i]! / (1 - b1 ** t),
        vh = vel[i]! / (1 - b2 ** t);
      theta[i] = p - (lr * mh) / (Math.sqrt(vh) + eps);
    });
  }
  assertClose(m.parameterVector(), theta, { atol: 1e-6, rtol: 1e-5 });
  m.dispose();
});

test('applyGradients rejects gradients of the wrong length or non-finite values', () => {
  const m = model();
  assert.throws(() => applyGradients(m, new Float32Array(3), sgd()), /has 43 trainable parameters, got 3 gradients/);
  const g = new Float32Array(m.parameterCount);
  g[7] = NaN;
  assert.throws(() => applyGradients(m, g, sgd()), RangeError);
  m.dispose();
});

test('fit onStep sees every update; its batch losses average to the epoch loss', async () => {
  const m = model();
  const data = iris();
  const steps: StepLog[] = [];
  const history = await fit(m, data, { epochs: 2, batchSize: 32, onStep: (s) => void steps.push(s) });
  assert.equal(steps.length, 2 * Math.ceil(150 / 32));
  assert.deepEqual(
    steps.map((s) => s.steps),
    steps.map((_, i) => i + 1),
  );
  for (const e of history.epochs) {
    const mine = steps.filter((s) => s.epoch === e.epoch);
    assert.equal(mine.at(-1)!.steps, e.steps);
    const mean = mine.reduce((a, s) => a + s.loss * s.batchSize, 0) / 150;
    assertClose([mean], [e.loss], { rtol: 1e-12 });
  }
  m.dispose();
});

test('fit resumeOptimizer: two resumed fits of one epoch equal one fit of two epochs, bit for bit', async () => {
  const data = iris();
  const options = { batchSize: 16, shuffle: false, optimizer: adam({ lr: 0.01 }) };
  const once = model();
  await fit(once, data, { ...options, epochs: 2 });
  const twice = model();
  await fit(twice, data, { ...options, epochs: 1 });
  const counts: number[] = [];
  await fit(twice, data, { ...options, epochs: 1, resumeOptimizer: true, onStep: (s) => void counts.push(s.steps) });
  assert.equal(counts[0], Math.ceil(150 / 16) + 1, 'the update count continues');
  assert.deepEqual(twice.parameterVector(), once.parameterVector());
  const fresh = model();
  await fit(fresh, data, { ...options, epochs: 1 });
  await fit(fresh, data, { ...options, epochs: 1 });
  assert.notDeepEqual(fresh.parameterVector(), once.parameterVector(), 'without resumeOptimizer each fit starts Adam afresh');
  for (const m of [once, twice, fresh]) m.dispose();
});

function softmax(z: readonly number[], t = 1): number[] {
  const max = Math.max(...z.map((v) => v / t));
  const e = z.map((v) => Math.exp(v / t - max));
  const s = e.reduce((a, b) => a + b);
  return e.map((v) => v / s);
}

test('distillationLoss equals α·T²·KL + (1 − α)·CE and its gradient, in f64', () => {
  const student = [
    [1.2, -0.3, 0.5],
    [0.1, 2.0, -1.0],
    [-0.7, 0.4, 0.9],
  ];
  const teacher = [
    [2.5, -1.0, 0.0],
    [0.3, 3.0, -2.0],
    [-1.0, 0.2, 1.5],
  ];
  const labels = [0, 1, 2];
  const [T, alpha, B] = [3, 0.7, 3];
  let kl = 0,
    ce = 0;
  const grad: number[] = [];
  student.forEach((s, b) => {
    const ps = softmax(s, T),
      pt = softmax(teacher[b]!, T),
      p = softmax(s);
    pt.forEach((q, c) => (kl += q * (Math.log(q) - Math.log(ps[c]!))));
    ce -= Math.log(p[labels[b]!]!);
    s.forEach((_, c) => grad.push((alpha * T * (ps[c]! - pt[c]!)) / B + ((1 - alpha) * (p[c]! - (c === labels[b] ? 1 : 0))) / B));
  });
  const expected = (alpha * T * T * kl) / B + ((1 - alpha) * ce) / B;
  const got = distillationLoss(student, teacher, labels, { temperature: T, alpha });
  assertClose([got.loss], [expected], { rtol: 1e-6 });
  assertClose(got.gradient, grad, { atol: 1e-7, rtol: 1e-5 });
  // Flat rows are the same call.
  assert.deepEqual(distillationLoss(student.flat(), teacher.flat(), labels, { temperature: T, alpha }).gradient, got.gradient);
  assert.throws(() => distillationLoss(student, teacher.slice(1), labels), /teacher has 6 values, the student 9/);
});
