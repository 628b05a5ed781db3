// Distillation: the blended loss and its gradient against f64 values derived here from the
// definitions (Hinton et al. 2015), the T² scaling of the soft gradient, teachers given as kiln
// models or functions, unlabeled transfer sets, regression, Hinton's omitted-digit experiment,
// and the errors for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope, unscoped } from '../../src/core/tensor.ts';
import { SoftTargetSource, checkDistillation } from '../../src/train/distillation.ts';
import type { LossSpec } from '../../src/core/layer-engine.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';
import { fit } from '../../src/train/fit.ts';
import { adam } from '../../src/train/optimizers.ts';
import { iris, mnist } from '../../src/data/builtin.ts';
import { trainTestSplit } from '../../src/data/split.ts';
import { Dataset } from '../../src/data/dataset.ts';
import { accuracy } from '../../src/metrics/classification.ts';
import { distill } from '../../src/compress/distill.ts';
import { assertClose } from '../helpers/close.ts';
import { ints, mulberry32, uniform } from '../helpers/rand.ts';

const softmax64 = (z: ArrayLike<number>, T: number): number[] => {
  const m = Math.max(...Array.from(z, (v) => v / T));
  const e = Array.from(z, (v) => Math.exp(v / T - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

interface Case {
  B: number;
  C: number;
  d: number;
  x: Float32Array;
  w: Float32Array;
  b: Float32Array;
  teacher: Float32Array;
  labels: Int32Array;
}

function randomCase(seed: number, B: number, C: number, d: number): Case {
  const rand = mulberry32(seed);
  return {
    B,
    C,
    d,
    x: uniform(rand, B * d, -2, 2),
    w: uniform(rand, C * d),
    b: uniform(rand, C),
    teacher: uniform(rand, B * C, -4, 4),
    labels: ints(rand, B, C),
  };
}

// A single linear layer, so logits = x·wᵀ + b and the parameter gradients are dlogitsᵀ·x and Σ_b dlogits.
function linearModel(c: Case, task: 'classification' | 'regression'): Sequential {
  const model = new Sequential({ inputs: c.d, layers: [dense(c.C)], task });
  model.setParameters({ 'layers.0.weight': c.w, 'layers.0.bias': c.b });
  return model;
}

function logits64(c: Case): number[][] {
  return Array.from({ length: c.B }, (_, i) =>
    Array.from({ length: c.C }, (_, j) => {
      let s = c.b[j]!;
      for (let k = 0; k < c.d; k++) s += Math.fround(c.x[i * c.d + k]!) * c.w[j * c.d + k]!;
      return s;
    }),
  );
}

// Engine gradients (weights then bias) for dlogits given in f64.
function paramGrads64(c: Case, dlogits: number[][]): number[] {
  const dw = new Array<number>(c.C * c.d).fill(0);
  const db = new Array<number>(c.C).fill(0);
  dlogits.forEach((row, i) =>
    row.forEach((g, j) => {
      db[j]! += g;
      for (let k = 0; k < c.d; k++) dw[j * c.d + k]! += g * c.x[i * c.d + k]!;
    }),
  );
  return [...dw, ...db];
}

function engineStep(
  model: Sequential,
  c: Case,
  targets: Tensor<'i32'> | Tensor<'f32'>,
  T: number,
  alpha: number,
  kind: LossSpec['kind'],
): { loss: number; grads: Float32Array } {
  return scope(() => {
    const x = Tensor.from(c.x, [c.B, c.d]);
    const order = Tensor.from(
      Int32Array.from({ length: c.B }, (_, i) => i),
      [c.B],
      'i32',
    );
    const teacher = Tensor.from(c.teacher, [c.B, c.C]);
    const loss = model.engine.computeGradients(
      x,
      targets,
      order,
      0,
      c.B,
      { kind, smoothing: 0, classWeights: undefined },
      { teacher, rows: 'batch', temperature: T, alpha },
    );
    return { loss, grads: model.engine.grads.read() };
  });
}

test('classification: α·T²·KL + (1 − α)·CE and its gradient match an f64 derivation for several T and α', () => {
  for (const [seed, B, C] of [
    [1, 6, 4],
    [2, 1, 2],
    [3, 9, 7],
  ] as const) {
    const c = randomCase(seed, B, C, 5);
    const model = linearModel(c, 'classification');
    const z = logits64(c);
    for (const T of [1, 2.5, 7]) {
      for (const alpha of [0, 0.3, 1]) {
        let soft = 0,
          hard = 0;
        const dlogits = z.map((s, i) => {
          const ps = softmax64(s, T),
            pt = softmax64(c.teacher.subarray(i * C, (i + 1) * C), T),
            p1 = softmax64(s, 1);
          ps.forEach((_, j) => (soft += pt[j]! * (Math.log(pt[j]!) - Math.log(ps[j]!))));
          hard -= Math.log(p1[c.labels[i]!]!);
          return ps.map((_, j) => (alpha * T * (ps[j]! - pt[j]!) + (1 - alpha) * (p1[j]! - (j === c.labels[i] ? 1 : 0))) / B);
        });
        const expected = (alpha * T * T * soft + (1 - alpha) * hard) / B;
        const got = scope(() => engineStep(model, c, Tensor.from(c.labels, [B], 'i32'), T, alpha, 'softmax_xent'));
        const label = `B=${B} C=${C} T=${T} α=${alpha}`;
        assertClose([got.loss], [expected], { atol: 1e-6, rtol: 1e-5 }, `${label} loss`);
        assertClose(got.grads, paramGrads64(c, dlogits), { atol: 1e-6, rtol: 1e-4 }, `${label} grads`);
      }
    }
    model.dispose();
  }
});

test('the soft gradient is T·(p_s − p_t)/B: its size holds across T and tends to (s − t)/(C·B) for centred logits', () => {
  const c = randomCase(7, 5, 6, 3);
  const model = linearModel(c, 'classification');
  const z = logits64(c);
  const biasGrad = (T: number) =>
    scope(() => engineStep(model, c, Tensor.from(c.labels, [c.B], 'i32'), T, 1, 'softmax_xent')).grads.subarray(c.C * c.d);
  const norm = (g: ArrayLike<number>) => Math.sqrt(Array.from(g).reduce((a, v) => a + v * v, 0));
  for (const T of [1, 3, 8]) {
    const expected = new Array<number>(c.C).fill(0);
    z.forEach((s, i) => {
      const ps = softmax64(s, T),
        pt = softmax64(c.teacher.subarray(i * c.C, (i + 1) * c.C), T);
      ps.forEach((_, j) => (expected[j]! += (T * (ps[j]! - pt[j]!)) / c.B));
    });
    assertClose(biasGrad(T), expected, { atol: 1e-7, rtol: 1e-4 }, `T=${T}`);
  }
  const ratio = norm(biasGrad(16)) / norm(biasGrad(8));
  assert.ok(ratio > 0.8 && ratio < 1.25, `|g(T=16)| / |g(T=8)| = ${ratio}; without the T² factor it would be about 0.5`);
  const limit = new Array<number>(c.C).fill(0);
  z.forEach((s, i) => {
    const t = Array.from(c.teacher.subarray(i * c.C, (i + 1) * c.C));
    const ms = s.reduce((a, v) => a + v, 0) / c.C,
      mt = t.reduce((a, v) => a + v, 0) / c.C;
    s.forEach((v, j) => (limit[j]! += (v - ms - (t[j]! - mt)) / (c.C * c.B)));
  });
  assertClose(biasGrad(1000), limit, { atol: 1e-4, rtol: 1e-2 }, 'T → ∞');
  model.dispose();
});

test('regression: α·MSE(student, teacher) + (1 − α)·MSE(student, targets), gradient included', () => {
  const c = randomCase(4, 7, 3, 4);
  const targets = uniform(mulberry32(40), c.B * c.C, -1, 1);
  const model = linearModel(c, 'regression');
  const z = logits64(c);
  const n = c.B * c.C;
  for (const alpha of [0, 0.4, 1]) {
    let soft = 0,
      hard = 0;
    const dlogits = z.map((s, i) =>
      s.map((v, j) => {
        const t = c.teacher[i * c.C + j]!,
          y = targets[i * c.C + j]!;
        soft += (v - t) ** 2;
        hard += (v - y) ** 2;
        return (alpha * 2 * (v - t) + (1 - alpha) * 2 * (v - y)) / n;
      }),
    );
    const got = scope(() => engineStep(model, c, Tensor.from(targets, [c.B, c.C], 'f32'), 2, alpha, 'mse'));
    assertClose([got.loss], [(alpha * soft + (1 - alpha) * hard) / n], { atol: 1e-6, rtol: 1e-5 }, `α=${alpha} loss`);
    assertClose(got.grads, paramGrads64(c, dlogits), { atol: 1e-6, rtol: 1e-4 }, `α=${alpha} grads`);
  }
  model.dispose();
});

test('a cached kiln teacher and the same teacher as a function train the student to the same bits', async () => {
  const { train } = trainTestSplit(iris(), { testFraction: 0.2, seed: 3 });
  const teacher = new Sequential({ inputs: 4, layers: [dense(16, 'relu'), dense(3)], seed: 1 });
  await fit(teacher, train, { optimizer: adam({ lr: 0.01 }), epochs: 30, batchSize: 16 });
  const rawLogits = (x: Float32Array, rows: number) =>
    scope(() => teacher.engine.predict(Tensor.from(x, [rows, 4]), 'raw', teacher.inputAffine()).read());
  let calls = 0,
    asked = 0;
  const students = [];
  for (const t of [teacher, async (x: Float32Array, rows: number) => (calls++, (asked += rows), rawLogits(x, rows))]) {
    const student = new Sequential({ inputs: 4, layers: [dense(4, 'relu'), dense(3)], seed: 2 });
    await distill({
      teacher: t,
      student,
      data: train,
      temperature: 3,
      alpha: 0.7,
      epochs: 5,
      batchSize: 32,
      optimizer: adam({ lr: 0.01 }),
    });
    students.push(student);
  }
  // Without augmentation a function's outputs are cached by row: each row is asked about once,
  // in the first epoch's batches.
  assert.equal(calls, Math.ceil(train.numRows / 32), 'one call per batch of the first epoch');
  assert.equal(asked, train.numRows, 'each row once');
  assert.deepEqual(students[1]!.engine.params.read(), students[0]!.engine.params.read());
  for (const m of [teacher, ...students]) m.dispose();
});

test("an ensemble teacher: softmax of its soft targets is the mean of the models' probabilities", async () => {
  const { train } = trainTestSplit(iris(), { testFraction: 0.2, seed: 3 });
  const models = [1, 2, 3].map((seed) => new Sequential({ inputs: 4, layers: [dense(8, 'relu'), dense(3)], seed }));
  for (const [i, m] of models.entries()) await fit(m, train, { optimizer: adam({ lr: 0.01 }), epochs: 5 + 10 * i, batchSize: 16 });
  const student = new Sequential({ inputs: 4, layers: [dense(4, 'relu'), dense(3)], seed: 4 });
  const source = unscoped(
    () => new SoftTargetSource(checkDistillation('distill', { teacher: models }, student), train, student, 16, false),
  );
  const logits = source.soft.teacher.read();
  const probs = models.map((m) => m.predict(train.features));
  const expected = new Float64Array(train.numRows * 3).map((_, i) => probs.reduce((s, p) => s + p[i]!, 0) / 3);
  const got = new Float64Array(logits.length);
  for (let r = 0; r < train.numRows; r++) {
    const row = Array.from(logits.subarray(r * 3, r * 3 + 3));
    const z = row.reduce((s, v) => s + Math.exp(v), 0);
    row.forEach((v, j) => (got[r * 3 + j] = Math.exp(v) / z));
  }
  assertClose(got, expected, { atol: 1e-6, rtol: 1e-5 });
  source.dispose();
  // And it trains a student through fit and distill alike.
  await distill({ teacher: models, student, data: train, epochs: 3, batchSize: 16 });
  await assert.rejects(distill({ teacher: [], student, data: train }), /an ensemble teacher needs at least one model/);
  await assert.rejects(
    distill({ teacher: [models[0]!, {} as Sequential], student, data: train }),
    /teacher\[1\] must be a Sequential, got Object/,
  );
  for (const m of [...models, student]) m.dispose();
});

test('an unlabeled transfer set (features only, α = 1) teaches an iris student', async () => {
  const { train, test: held } = trainTestSplit(iris(), { testFraction: 0.3, seed: 5 });
  const teacher = new Sequential({ inputs: 4, layers: [dense(16, 'relu'), dense(3)], seed: 1 });
  await fit(teacher, train, { optimizer: adam({ lr: 0.01 }), epochs: 60, batchSize: 16 });
  const student = new Sequential({ inputs: 4, layers: [dense(6, 'relu'), dense(3)], seed: 3 });
  const history = await distill({
    teacher,
    student,
    data: train.features,
    temperature: 2,
    alpha: 1,
    epochs: 80,
    batchSize: 16,
    optimizer: adam({ lr: 0.02 }),
    validation: held,
  });
  const acc = accuracy(held.labels, student.predictClasses(held.features));
  const teacherAcc = accuracy(held.labels, teacher.predictClasses(held.features));
  assert.ok(acc >= teacherAcc - 0.05, `student ${acc} vs teacher ${teacherAcc}`);
  assert.equal(history.epochs.length, 80);
  assert.ok(history.epochs.at(-1)!.valAccuracy! >= teacherAcc - 0.05);
  teacher.dispose();
  student.dispose();
});

test('regression: a student matches a regression teacher from features alone', async () => {
  const rand = mulberry32(21);
  const features = uniform(rand, 200 * 3);
  const teacher = new Sequential({ inputs: 3, layers: [dense(8, 'tanh'), dense(2)], task: 'regression', seed: 4, preprocessing: {} });
  const student = new Sequential({ inputs: 3, layers: [dense(16, 'tanh'), dense(2)], task: 'regression', seed: 5 });
  await distill({ teacher, student, data: features, alpha: 1, epochs: 150, batchSize: 20, optimizer: adam({ lr: 0.01 }) });
  const [t, s] = [teacher.predict(features), student.predict(features)];
  const rmse = Math.sqrt(t.reduce((a, v, i) => a + (v - s[i]!) ** 2, 0) / t.length);
  const spread = Math.sqrt(t.reduce((a, v) => a + v * v, 0) / t.length);
  assert.ok(rmse < 0.05 * spread, `rmse ${rmse} against output scale ${spread}`);
  teacher.dispose();
  student.dispose();
});

test("Hinton's omitted digit: a student that never sees a 3 learns 3s from the teacher's soft targets", async () => {
  const { train, test: held } = trainTestSplit(await mnist({ perDigit: 200 }), { testFraction: 0.3, seed: 1 });
  const teacher = new Sequential({ inputs: 784, layers: [dense(128, 'relu'), dense(10)], seed: 1 });
  await fit(teacher, train, { optimizer: adam({ lr: 1e-3 }), epochs: 15, batchSize: 64, standardize: false });
  const no3 = train.subset([...train.labels.keys()].filter((i) => train.labels[i] !== 3));
  const threes = held.subset([...held.labels.keys()].filter((i) => held.labels[i] === 3));
  const acc = (m: Sequential, d: Dataset) => accuracy(d.labels, m.predictClasses(d.features));
  const student = () => new Sequential({ inputs: 784, layers: [dense(32, 'relu'), dense(10)], seed: 2 });
  const hardOnly = student();
  await fit(hardOnly, no3, { optimizer: adam({ lr: 3e-3 }), epochs: 20, batchSize: 64, standardize: false });
  const distilled = student();
  await distill({
    teacher,
    student: distilled,
    data: no3,
    temperature: 8,
    alpha: 1,
    optimizer: adam({ lr: 3e-3 }),
    epochs: 20,
    batchSize: 64,
    standardize: false,
  });
  const [t, h, s] = [teacher, hardOnly, distilled].map((m) => [acc(m, held), acc(m, threes)]);
  console.log(`accuracy (all, 3s): teacher ${t}, hard labels ${h}, distilled ${s}`);
  assert.equal(h![1], 0, 'a student trained on hard labels never predicts a class it has not seen');
  assert.ok(s![1]! >= 0.6, `distilled student gets ${s![1]} of the 3s`);
  assert.ok(s![0]! > h![0]! && s![0]! >= t![0]! - 0.05, `distilled ${s![0]} vs hard ${h![0]} vs teacher ${t![0]}`);
  for (const m of [teacher, hardOnly, distilled]) m.dispose();
});

test('onEpoch sees every epoch and an abort signal stops the run', async () => {
  const data = iris();
  const teacher = new Sequential({ inputs: 4, layers: [dense(3)], seed: 1 });
  const student = new Sequential({ inputs: 4, layers: [dense(3)], seed: 2 });
  const seen: number[] = [];
  const controller = new AbortController();
  const run = distill({
    teacher,
    student,
    data,
    epochs: 50,
    onEpoch: (log) => {
      seen.push(log.epoch);
      if (log.epoch === 3) controller.abort();
    },
    signal: controller.signal,
  });
  await assert.rejects(run, { name: 'AbortError' });
  assert.deepEqual(seen, [1, 2, 3]);
  teacher.dispose();
  student.dispose();
});

test('bad input gives clear errors', async () => {
  const data = iris();
  const teacher = new Sequential({ inputs: 4, layers: [dense(3)] });
  const student = () => new Sequential({ inputs: 4, layers: [dense(3)] });
  const base = () => ({ teacher, student: student(), data, epochs: 1 });
  const wide = new Sequential({ inputs: 4, layers: [dense(5)] });
  await assert.rejects(distill({ ...base(), teacher: wide }), {
    name: 'RangeError',
    message: 'distill: the teacher has 5 outputs, the student 3',
  });
  const narrow = new Sequential({ inputs: 3, layers: [dense(3)] });
  await assert.rejects(distill({ ...base(), teacher: narrow }), {
    name: 'RangeError',
    message: 'distill: the teacher takes 3 features, the student 4',
  });
  const regressor = new Sequential({ inputs: 4, layers: [dense(3)], task: 'regression' });
  await assert.rejects(distill({ ...base(), teacher: regressor }), {
    name: 'TypeError',
    message: 'distill: the teacher Sequential(4→3, regression) and the student Sequential(4→3, classification) must have the same task',
  });
  await assert.rejects(distill({ ...base(), teacher: () => new Float32Array(7) }), {
    name: 'RangeError',
    message: /^distill: the teacher returned 7 values for 32 rows, expected 32×3/,
  });
  await assert.rejects(distill({ ...base(), teacher: () => 3 as unknown as Float32Array }), {
    name: 'TypeError',
    message: /teacher function must return an array of outputs, got number/,
  });
  await assert.rejects(distill({ ...base(), teacher: () => new Float32Array(96).fill(NaN) }), {
    name: 'RangeError',
    message: /teacher output: data must be finite, got NaN at row 0, column 0/,
  });
  await assert.rejects(distill({ ...base(), data: data.features, alpha: 0.5 }), {
    name: 'RangeError',
    message: /features-only data has no labels for the hard term; set alpha to 1 \(got 0.5\)/,
  });
  await assert.rejects(distill({ ...base(), data: new Float32Array(10), alpha: 1 }), {
    name: 'RangeError',
    message: /data has 10 values, not a positive multiple of the student's 4 inputs/,
  });
  await assert.rejects(distill({ ...base(), temperature: 0 }), {
    name: 'RangeError',
    message: 'distill: temperature must be > 0 (and not round to 0 in f32), got 0',
  });
  await assert.rejects(distill({ ...base(), temperature: 1e-50 }), {
    name: 'RangeError',
    message: /temperature must be > 0 \(and not round to 0 in f32\), got 1e-50/,
  });
  await assert.rejects(distill({ ...base(), alpha: 1.5 }), {
    name: 'RangeError',
    message: /alpha must be a finite number in \[0, 1\], got 1.5/,
  });
  await assert.rejects(distill({ ...base(), teacher: {} as Sequential }), {
    name: 'TypeError',
    message: /teacher must be a Sequential, an array of them \(an ensemble\) or a function/,
  });
  await assert.rejects(distill({ ...base(), student: new Sequential({ inputs: 4, layers: [dense(1)], task: 'binary' }) }), {
    name: 'TypeError',
    message: /binary students are not supported/,
  });
  await assert.rejects(distill({ ...base(), student: new Sequential({ inputs: 5, layers: [dense(3)] }) }), {
    name: 'RangeError',
    message: /distill: Sequential\(5→3, classification\) takes 5 features, the data has 4/,
  });
  await assert.rejects(distill({ ...base(), temprature: 2 } as never), { name: 'TypeError', message: /unknown option 'temprature'/ });
});
