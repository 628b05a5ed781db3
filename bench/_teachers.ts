// The digits' teacher shared by `bench -- distill` and `bench -- compress`: a wide MLP
// (784-512-10) trained on random shifts of up to 1 pixel for 40 epochs with Adam and a
// cosine-decaying rate; about 98 % on held-out digits, 1 to 4 points above the students it
// teaches. It is of the students' own kind (dense layers over the flat pixels), so they can match
// its function; a LeNet-like CNN of about the same accuracy taught no better (README).
import { Sequential, dense, fit, adam, type Dataset } from '../src/index.ts';

export const TEACHER_NAME = '784-512-10';
export const TEACHER_EPOCHS = Number(process.env.KILN_BENCH_TEACHER_EPOCHS ?? 40);

/** A teacher trained on `train` (flat 784-value rows) with weights and shuffling from `seed`. */
export async function digitTeacher(train: Dataset, seed: number): Promise<Sequential> {
  const teacher = new Sequential({ inputs: 784, layers: [dense(512, 'relu'), dense(10)], seed });
  await fit(teacher, train, {
    optimizer: adam({ lr: 2e-3, schedule: { type: 'cosine' } }),
    epochs: TEACHER_EPOCHS,
    batchSize: 64,
    standardize: false,
    seed,
    augment: { shift: 1, shape: [1, 28, 28] },
  });
  return teacher;
}
