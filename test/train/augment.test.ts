// The augment option of fit: seeded and deterministic, checked against the row shape, and the
// batch a teacher sees is exactly the batch the student trains on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense, flatten } from '../../src/nn/layers/index.ts';
import { fit } from '../../src/train/fit.ts';
import { adam } from '../../src/train/optimizers.ts';
import { Dataset } from '../../src/data/dataset.ts';
import type { LayerHooks } from '../../src/core/layer.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

function images(n: number, seed: number): Dataset {
  const rand = mulberry32(seed);
  const features = uniform(rand, n * 36, 0, 1);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  return new Dataset({ features, numFeatures: 36, labels });
}
const imageModel = (seed = 1) => new Sequential({ inputs: [1, 6, 6], layers: [flatten(), dense(8, 'relu'), dense(3)], seed });

test('augment: the same seed gives the same weights, another seed others; validation sees no augmentation', async () => {
  const data = images(40, 1);
  const train = async (seed: number) => {
    const m = imageModel();
    const h = await fit(m, data, {
      epochs: 2,
      batchSize: 8,
      seed,
      augment: { shift: 1, flip: true, cutout: 2, mixup: 0.4 },
      validation: data,
    });
    const p = m.parameters().flatMap((t) => Array.from(t.data));
    m.dispose();
    return { p, h };
  };
  const [a, b, c] = [await train(5), await train(5), await train(6)];
  assert.deepEqual(a.p, b.p);
  assert.notDeepEqual(a.p, c.p);
  assert.ok(Number.isFinite(a.h.epochs[1]!.valLoss!));
  const plain = imageModel();
  await fit(plain, data, { epochs: 2, batchSize: 8, seed: 5 });
  assert.notDeepEqual(
    plain.parameters().flatMap((t) => Array.from(t.data)),
    a.p,
  );
  plain.dispose();
});

test('augment: a function teacher is called with exactly the augmented rows the student trains on', async () => {
  const data = images(30, 2);
  const student = imageModel(3);
  const studentSaw: Float32Array[] = [];
  const teacherSaw: Float32Array[] = [];
  const hooks: LayerHooks = {
    weights: () => undefined,
    input: (layer, x, training) => {
      if (layer === 1 && training) studentSaw.push(x.read());
    },
    inputGrad: () => {},
  };
  student.engine.hooks = hooks;
  const teacher = (x: Float32Array, rows: number) => {
    teacherSaw.push(Float32Array.from(x));
    return new Float32Array(rows * 3).map((_, i) => (i % 3) * 0.5);
  };
  await fit(student, data, {
    epochs: 2,
    batchSize: 7,
    standardize: false,
    augment: { shift: 2, flip: true, mixup: 0.3 },
    distill: { teacher, alpha: 0.7 },
  });
  assert.equal(teacherSaw.length, 2 * Math.ceil(30 / 7));
  assert.equal(studentSaw.length, teacherSaw.length);
  teacherSaw.forEach((x, i) => assert.deepEqual(Array.from(studentSaw[i]!), Array.from(x), `batch ${i}`));
  // And the augmentation did change the rows: no batch is a set of rows of the data as they are.
  const rows = new Set(Array.from({ length: 30 }, (_, i) => data.features.subarray(i * 36, (i + 1) * 36).join(',')));
  const unchanged = teacherSaw
    .flatMap((x) => Array.from({ length: x.length / 36 }, (_, r) => x.subarray(r * 36, (r + 1) * 36).join(',')))
    .filter((r) => rows.has(r));
  assert.ok(unchanged.length < 5, `${unchanged.length} rows went through unaugmented`);
  student.dispose();
});

test('augment: standardisation is applied after augmenting, to the batch', async () => {
  // With a function teacher the raw view is visible; the student's first layer must see it standardised.
  const data = images(16, 3);
  const student = imageModel(4);
  const raw: Float32Array[] = [],
    seen: Float32Array[] = [];
  student.engine.hooks = {
    weights: () => undefined,
    input: (layer, x, training) => void (layer === 1 && training && seen.push(x.read())),
    inputGrad: () => {},
  };
  await fit(student, data, {
    epochs: 1,
    batchSize: 16,
    augment: { shift: 1 },
    distill: { teacher: (x, rows) => (raw.push(Float32Array.from(x)), new Float32Array(rows * 3)), alpha: 0.5 },
  });
  const { mean, std } = student.preprocessing;
  const expected = raw[0]!.map((v, i) => (v - mean![i % 36]!) / std![i % 36]!);
  const got = seen[0]!;
  for (let i = 0; i < got.length; i++)
    assert.ok(Math.abs(got[i]! - expected[i]!) <= 1e-5 * (1 + Math.abs(expected[i]!)), `value ${i}: ${got[i]} vs ${expected[i]}`);
  student.dispose();
});

test('augment: mixup trains regression and flat rows; image augmentations on flat rows need a shape', async () => {
  const rand = mulberry32(4);
  const features = uniform(rand, 64 * 4, -1, 1);
  const targets = Float32Array.from({ length: 64 }, (_, i) => features[i * 4]! - features[i * 4 + 1]!);
  const reg = new Sequential({ inputs: 4, layers: [dense(8, 'relu'), dense(1)], task: 'regression', seed: 1 });
  const h = await fit(reg, new Dataset({ features, numFeatures: 4, targets }), {
    epochs: 20,
    batchSize: 16,
    augment: { mixup: 0.2 },
    optimizer: adam({ lr: 0.01 }),
  });
  assert.ok(h.epochs.at(-1)!.loss < h.epochs[0]!.loss);
  reg.dispose();
  const flat = new Sequential({ inputs: 36, layers: [dense(4, 'relu'), dense(3)], seed: 1 });
  const data = images(8, 5);
  await assert.rejects(
    fit(flat, data, { augment: { shift: 2 } }),
    /fit augment: shift needs image rows, but the model takes rows of shape \[36\]/,
  );
  await assert.rejects(
    fit(flat, data, { augment: { shape: [1, 5, 6], flip: true } }),
    /fit augment: shape \[1,5,6\] holds 30 values, the model takes 36 per row/,
  );
  await assert.rejects(fit(flat, data, { augment: { mixup: -1 } }), /mixup/);
  await assert.rejects(fit(flat, data, { augment: { crop: 2 } as never }), /crop/);
  await assert.rejects(
    fit(flat, data, { augment: { mixup: 0.2 }, classWeights: 'balanced' }),
    /classWeights do not combine with augment.mixup/,
  );
  await fit(flat, data, { epochs: 1, augment: { shape: [1, 6, 6], flip: true, shift: 1 } });
  flat.dispose();
});
