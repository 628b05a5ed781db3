// The digits' teachers shared by `bench -- distill` and `bench -- compress`: a small LeNet-like
// CNN (5×5 convolutions of 8 and 16 filters, max pooling, 64 ReLU units) trained on random
// shifts of up to 2 pixels with Adam and a cosine-decaying rate; about 98.5 % on the seeded 20 %
// test split, 2.5 to 4 points above the MLP students it teaches.
import { Sequential, conv2d, maxPool2d, flatten, dense, fit, adam, type Dataset } from '../src/index.ts';

export const TEACHER_NAME = 'CNN conv8-conv16-64';
export const TEACHER_EPOCHS = Number(process.env.KILN_BENCH_TEACHER_EPOCHS ?? 10);

/** A teacher trained on `train` (flat 784-value rows) with weights and shuffling from `seed`. */
export async function digitTeacher(train: Dataset, seed: number): Promise<Sequential> {
  const teacher = new Sequential({
    inputs: [1, 28, 28],
    layers: [
      conv2d(8, 5, { padding: 'same', activation: 'relu' }),
      maxPool2d(2),
      conv2d(16, 5, { padding: 'same', activation: 'relu' }),
      maxPool2d(2),
      flatten(),
      dense(64, 'relu'),
      dense(10),
    ],
    seed,
  });
  await fit(teacher, train, {
    optimizer: adam({ lr: 2e-3, schedule: { type: 'cosine' } }),
    epochs: TEACHER_EPOCHS,
    batchSize: 64,
    standardize: false,
    seed,
    augment: { shift: 2 },
  });
  return teacher;
}
