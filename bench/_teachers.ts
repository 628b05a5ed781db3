// The digits' teachers shared by `bench -- distill` and `bench -- compress`.
// 'mlp' (the default): a wide MLP (784-512-10) trained on random shifts of up to 1 pixel for 40
// epochs with Adam and a cosine-decaying rate; about 98 % on held-out digits, 1 to 4 points above
// the students it teaches. 'cnn': a LeNet-like CNN (conv 5x5x32 same → max-pool 2 → conv 5x5x64
// same → max-pool 2 → dense 128 → 10, ReLU) trained on the same shifts for 20 epochs; about 99 %.
// KILN_BENCH_TEACHER_CACHE=<folder> keeps each trained teacher there, keyed by its kind, training
// rows, seed and epochs, so the processes of one measurement (one per student width) train it once.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, scope } from '../src/core/tensor.ts';
import { combineOutputs } from '../src/core/ops/ensemble.ts';
import { Sequential, dense, fit, adam, loadModel, saveModel, type Dataset } from '../src/index.ts';
import type { TeacherFunction } from '../src/index.ts';
import { lenet } from './_lenet.ts';

export type TeacherKind = 'mlp' | 'cnn';
const KINDS = {
  mlp: {
    name: '784-512-10',
    epochs: Number(process.env.KILN_BENCH_TEACHER_EPOCHS ?? 40),
    lr: 2e-3,
    build: (seed: number) => new Sequential({ inputs: 784, layers: [dense(512, 'relu'), dense(10)], seed }),
  },
  cnn: {
    name: 'cnn-c32-c64-128',
    epochs: Number(process.env.KILN_BENCH_CNN_TEACHER_EPOCHS ?? 20),
    lr: 1e-3,
    build: lenet,
  },
} as const;

export const teacherName = (kind: TeacherKind) => KINDS[kind].name;
export const teacherEpochs = (kind: TeacherKind) => KINDS[kind].epochs;
// The names the benches printed before there was a choice of teacher.
export const TEACHER_NAME = KINDS.mlp.name;
export const TEACHER_EPOCHS = KINDS.mlp.epochs;

/** A teacher of `kind` trained on `train` (flat 784-value rows) with weights and shuffling from `seed`. */
export async function digitTeacher(train: Dataset, seed: number, kind: TeacherKind = 'mlp'): Promise<Sequential> {
  const { name, epochs, lr, build } = KINDS[kind];
  const cache = process.env.KILN_BENCH_TEACHER_CACHE;
  const key = createHash('sha256')
    .update(new Uint8Array(train.features.buffer, train.features.byteOffset, train.features.byteLength))
    .update(new Uint8Array(train.labels.buffer, train.labels.byteOffset, train.labels.byteLength))
    .digest('hex')
    .slice(0, 16);
  const file = cache ? join(cache, `${name}-${key}-seed${seed}-${epochs}ep.safetensors`) : undefined;
  if (file && existsSync(file)) return loadModel(file);
  const teacher = build(seed);
  await fit(teacher, train, {
    optimizer: adam({ lr, schedule: { type: 'cosine' } }),
    epochs,
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

/** The teacher (one model, or an ensemble: the mean of their probabilities as logits, in the
 *  core) as a function that remembers its outputs for every row it has seen, keyed by a 64-bit
 *  hash of the row's bytes. Shifts of whole pixels give each training row only (2·shift + 1)²
 *  views, so over a long schedule the teacher labels each view once instead of on every batch:
 *  the same outputs as running it on each augmented batch, for a fraction of the forward passes
 *  (a CNN's cost hundreds of times the student's). Views no shift makes (mixup) miss every time:
 *  give those the models themselves. */
export function rememberingTeacher(models: readonly Sequential[]): TeacherFunction & { views: () => number } {
  const seen = new Map<string, Float32Array>();
  const fn = (x: Float32Array, rows: number) => {
    const d = x.length / rows,
      bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
    const keys: string[] = [],
      missing: number[] = [];
    for (let r = 0; r < rows; r++) {
      // Two FNV-1a-style hashes with different primes and seeds: 64 bits against collisions
      // among the few hundred thousand views of a fit.
      let a = 0x811c9dc5,
        b = 0x9e3779b9;
      for (let i = r * d, end = i + d; i < end; i++) {
        const v = bits[i]!;
        a = Math.imul(a ^ v, 0x01000193);
        b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 15);
      }
      const key = `${(a >>> 0).toString(36)}.${(b >>> 0).toString(36)}`;
      keys.push(key);
      if (!seen.has(key)) missing.push(r);
    }
    if (missing.length > 0) {
      const C = models[0]!.outputs;
      const xs = new Float32Array(missing.length * d);
      missing.forEach((r, i) => xs.set(x.subarray(r * d, (r + 1) * d), i * d));
      const y = scope(() => {
        const input = Tensor.from(xs, [missing.length, d]);
        const out = Tensor.empty([missing.length, C]);
        combineOutputs(
          out,
          models.map((m) => m.engine.predict(input, 'raw', m.inputAffine())),
          false,
        );
        return out.read();
      });
      missing.forEach((r, i) => seen.set(keys[r]!, y.slice(i * C, (i + 1) * C)));
    }
    const C = models[0]!.outputs;
    const out = new Float32Array(rows * C);
    keys.forEach((k, r) => out.set(seen.get(k)!, r * C));
    return out;
  };
  return Object.assign(fn, { views: () => seen.size });
}
