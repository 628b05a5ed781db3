// distill.transfer: one more soft-target update per batch on synthetic rows made from the batch
// by the augmentation kernels and labelled by the teacher alone. The teacher sees exactly the
// synthetic rows the student trains on; without transfer the bits are those of plain
// distillation; a seed gives the same bits; bad settings give typed errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';
import { fit, type FitOptions } from '../../src/train/fit.ts';
import { adam } from '../../src/train/optimizers.ts';
import { Dataset } from '../../src/data/dataset.ts';
import { distill } from '../../src/compress/distill.ts';
import type { LayerHooks } from '../../src/core/layer.ts';
import { Tensor, scope } from '../../src/core/tensor.ts';
import type { Teacher } from '../../src/train/distillation.ts';
import { mulberry32 } from '../helpers/rand.ts';

// 6×6 one-channel images as flat rows, values rounded as the digits' are.
function images(n: number, seed: number): Dataset {
  const rand = mulberry32(seed);
  const features = Float32Array.from({ length: n * 36 }, () => Math.round(rand() * 1000) / 1000);
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % 3);
  return new Dataset({ features, numFeatures: 36, labels });
}
const student = (seed = 2) => new Sequential({ inputs: 36, layers: [dense(6, 'relu'), dense(3)], seed });
const fnv = (a: Float32Array) => {
  let h = 0x811c9dc5;
  for (const b of new Uint8Array(a.buffer, a.byteOffset, a.byteLength)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16);
};

async function trainedTeacher(data: Dataset): Promise<Sequential> {
  const teacher = new Sequential({ inputs: 36, layers: [dense(12, 'relu'), dense(3)], seed: 1 });
  await fit(teacher, data, { optimizer: adam({ lr: 0.01 }), epochs: 5, batchSize: 8 });
  return teacher;
}

async function distilled(teacher: Teacher, data: Dataset, options: FitOptions, transfer?: FitOptions['augment']): Promise<Float32Array> {
  const s = student();
  await fit(s, data, {
    optimizer: adam({ lr: 0.01, schedule: { type: 'cosine' } }),
    epochs: 3,
    batchSize: 10,
    seed: 4,
    ...options,
    distill: { teacher, temperature: 2, alpha: 0.8, ...(transfer ? { transfer } : {}) },
  });
  const p = s.engine.params.read();
  s.dispose();
  return p;
}

test('transfer: the teacher labels exactly the synthetic rows the student trains on, one extra update per batch', async () => {
  const data = images(30, 2);
  const s = student(3);
  const studentSaw: Float32Array[] = [];
  const teacherSaw: Float32Array[] = [];
  const hooks: LayerHooks = {
    weights: () => undefined,
    input: (layer, x, training) => {
      if (layer === 0 && training) studentSaw.push(x.read());
    },
    inputGrad: () => {},
  };
  s.engine.hooks = hooks;
  const teacher = (x: Float32Array, rows: number) => {
    teacherSaw.push(Float32Array.from(x));
    return new Float32Array(rows * 3).map((_, i) => (i % 3) * 0.5);
  };
  const history = await fit(s, data, {
    epochs: 2,
    batchSize: 7,
    standardize: false,
    augment: { shift: 1, shape: [1, 6, 6] },
    distill: { teacher, alpha: 0.7, transfer: { mixup: 1, shift: 2, cutout: 2 } },
  });
  const batches = 2 * Math.ceil(30 / 7);
  assert.equal(history.epochs.at(-1)!.steps, 2 * batches, 'two updates per batch');
  assert.equal(teacherSaw.length, 2 * batches, 'the teacher runs on each batch and each synthetic batch');
  assert.equal(studentSaw.length, teacherSaw.length);
  teacherSaw.forEach((x, i) => assert.deepEqual(Array.from(studentSaw[i]!), Array.from(x), `batch ${i}`));
  // The synthetic batches (odd calls) are other rows than the batches they come from.
  for (let i = 0; i < teacherSaw.length; i += 2) assert.notDeepEqual(Array.from(teacherSaw[i + 1]!), Array.from(teacherSaw[i]!));
  s.dispose();
});

test('transfer: a seed gives the same bits, another seed others; a kiln teacher and the same teacher as a function agree', async () => {
  const data = images(40, 3);
  const teacher = await trainedTeacher(data);
  const rawLogits = (x: Float32Array, rows: number) =>
    scope(() => teacher.engine.predict(Tensor.from(x, [rows, 36]), 'raw', teacher.inputAffine()).read());
  const transfer = { mixup: 1, shift: 2, shape: [1, 6, 6] } as const;
  for (const augment of [undefined, { shift: 1, shape: [1, 6, 6] as const }]) {
    const options = augment ? { augment } : {};
    const a = await distilled(teacher, data, options, transfer);
    assert.deepEqual(await distilled(teacher, data, options, transfer), a, 'same seed, same bits');
    assert.deepEqual(await distilled(rawLogits, data, options, transfer), a, 'a function teacher, the same bits');
    assert.notDeepEqual(await distilled(teacher, data, { ...options, seed: 5 }, transfer), a, 'another seed, other bits');
    assert.notDeepEqual(await distilled(teacher, data, options), a, 'the transfer updates change the student');
  }
  teacher.dispose();
});

test('transfer off: the bits of distillation before the option existed', async () => {
  const data = images(48, 7);
  const teacher = await trainedTeacher(data);
  // Hashes of the student's parameters measured on the code before distill.transfer was added.
  const expected = ['18fdce82', '440f8f18'];
  for (const [i, augment] of [undefined, { shift: 1, mixup: 0.4, shape: [1, 6, 6] as const }].entries()) {
    const options = augment ? { augment } : {};
    assert.equal(fnv(await distilled(teacher, data, options)), expected[i], augment ? 'augmented' : 'plain');
    assert.equal(fnv(await distilled(teacher, data, options, undefined)), expected[i]);
  }
  teacher.dispose();
});

test('transfer: bad settings give typed errors', async () => {
  const data = images(20, 4);
  const teacher = new Sequential({ inputs: 36, layers: [dense(3)], seed: 1 });
  const run = (transfer: unknown, extra: object = {}) =>
    distill({ teacher, student: student(), data, epochs: 1, transfer, ...extra } as never);
  await assert.rejects(run({}), {
    name: 'RangeError',
    message: 'distill transfer: the synthetic rows need at least one of mixup, shift, flip or cutout (e.g. { mixup: 1, shift: 2 }), got {}',
  });
  await assert.rejects(run(2), { name: 'TypeError', message: /^distill: distill.transfer must be an object/ });
  await assert.rejects(run({ shift: 2 }), { name: 'RangeError', message: /^distill transfer augment: shift needs image rows/ });
  await assert.rejects(run({ mixup: -1 }), { name: 'RangeError', message: /^distill transfer augment: mixup/ });
  await assert.rejects(run({ shfit: 2 }), { name: 'TypeError', message: /unknown option 'shfit'/ });
  // The image shape comes from augment when transfer has none.
  await distill({ teacher, student: student(), data, epochs: 1, augment: { shift: 1, shape: [1, 6, 6] }, transfer: { shift: 2 } });
  teacher.dispose();
});
