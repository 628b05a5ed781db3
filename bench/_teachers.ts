// The digits' teacher shared by `bench -- distill` and `bench -- compress`: a wide MLP
// (784-512-10) trained on random shifts of up to 1 pixel for 40 epochs with Adam and a
// cosine-decaying rate; about 98 % on held-out digits, 1 to 4 points above the students it
// teaches. It is of the students' own kind (dense layers over the flat pixels), so they can match
// its function; a LeNet-like CNN of about the same accuracy taught no better (README).
// KILN_BENCH_TEACHER_CACHE=<folder> keeps each trained teacher there, keyed by its training rows,
// seed and epochs, so the processes of one measurement (one per student width) train it once.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Sequential, dense, fit, adam, loadModel, saveModel, type Dataset } from '../src/index.ts';

export const TEACHER_NAME = '784-512-10';
export const TEACHER_EPOCHS = Number(process.env.KILN_BENCH_TEACHER_EPOCHS ?? 40);

/** A teacher trained on `train` (flat 784-value rows) with weights and shuffling from `seed`. */
export async function digitTeacher(train: Dataset, seed: number): Promise<Sequential> {
  const cache = process.env.KILN_BENCH_TEACHER_CACHE;
  const key = createHash('sha256')
    .update(new Uint8Array(train.features.buffer, train.features.byteOffset, train.features.byteLength))
    .update(new Uint8Array(train.labels.buffer, train.labels.byteOffset, train.labels.byteLength))
    .digest('hex')
    .slice(0, 16);
  const file = cache ? join(cache, `${TEACHER_NAME}-${key}-seed${seed}-${TEACHER_EPOCHS}ep.safetensors`) : undefined;
  if (file && existsSync(file)) return loadModel(file);
  const teacher = new Sequential({ inputs: 784, layers: [dense(512, 'relu'), dense(10)], seed });
  await fit(teacher, train, {
    optimizer: adam({ lr: 2e-3, schedule: { type: 'cosine' } }),
    epochs: TEACHER_EPOCHS,
    batchSize: 64,
    standardize: false,
    seed,
    augment: { shift: 1, shape: [1, 28, 28] },
  });
  if (cache && file) {
    mkdirSync(cache, { recursive: true });
    await saveModel(teacher, file);
  }
  return teacher;
}
