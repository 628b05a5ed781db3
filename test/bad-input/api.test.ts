// Misused API arguments: each a TypeError (wrong kind) or RangeError (wrong value) naming the
// entry point, the argument and the value given.
import { test } from 'node:test';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';
import { Tensor } from '../../src/core/tensor.ts';
import { fit } from '../../src/train/fit.ts';
import { adam } from '../../src/train/optimizers.ts';
import { iris } from '../../src/data/builtin.ts';
import { trainTestSplit } from '../../src/data/split.ts';
import { quantize } from '../../src/compress/quant/quantize.ts';
import { createStudy } from '../../src/search/study.ts';
import { runCorpus, type BadInput } from './corpus.ts';

const data = iris();
const model = () => new Sequential({ inputs: 4, layers: [dense(8, 'relu'), dense(3)], seed: 1 });
const cases: BadInput[] = [];

// Sequential inputs and seeds.
for (const [value, type, named] of [
  [0, RangeError, 'inputs must be an integer in [1, 16777216], got 0'],
  [-3, RangeError, 'got -3'],
  [2.5, RangeError, 'got 2.5'],
  [NaN, RangeError, 'got NaN'],
  [2 ** 25, RangeError, `got ${2 ** 25}`],
  ['4', TypeError, 'inputs'],
  [null, TypeError, 'inputs'],
] as const)
  cases.push({
    name: `Sequential inputs ${String(value)}`,
    run: () => new Sequential({ inputs: value as never, layers: [dense(3)] }),
    type,
    names: ['Sequential', named],
  });
for (const seed of [-1, 1.5, Number.MAX_SAFE_INTEGER + 2])
  cases.push({
    name: `Sequential seed ${seed}`,
    run: () => new Sequential({ inputs: 4, layers: [dense(3)], seed }),
    type: RangeError,
    names: ['Sequential', 'seed', String(seed)],
  });
cases.push(
  {
    name: 'Sequential no layers',
    run: () => new Sequential({ inputs: 4, layers: [] }),
    type: RangeError,
    names: ['Sequential: layers must be a non-empty array'],
  },
  {
    name: 'Sequential task',
    run: () => new Sequential({ inputs: 4, layers: [dense(3)], task: 'cluster' as never }),
    type: TypeError,
    names: ['task must be', 'got cluster'],
  },
  {
    name: 'Sequential unknown option',
    run: () => new Sequential({ inputs: 4, layers: [dense(3)], seeds: 1 } as never),
    type: TypeError,
    names: ["unknown option 'seeds'"],
  },
  {
    name: 'Sequential one-output classifier',
    run: () => new Sequential({ inputs: 4, layers: [dense(1)] }),
    type: RangeError,
    names: ['a classifier needs at least 2 output units, got 1'],
  },
  {
    name: 'Sequential binary with 2 outputs',
    run: () => new Sequential({ inputs: 4, layers: [dense(2)], task: 'binary' }),
    type: RangeError,
    names: ['a binary model has one output unit, got 2'],
  },
);
for (const units of [0, -1, 1.5])
  cases.push({
    name: `dense(${units})`,
    run: () => new Sequential({ inputs: 4, layers: [dense(units), dense(3)] }),
    type: RangeError,
    names: [String(units)],
  });

// Tensors.
for (const [shape, named] of [
  [[2, -1], 'shape[1]'],
  [[1.5], 'shape[0]'],
  [[2 ** 31], 'shape[0]'],
] as const)
  cases.push({
    name: `Tensor.empty ${JSON.stringify(shape)}`,
    run: () => Tensor.empty(shape as never),
    type: RangeError,
    names: ['Tensor', named, String(shape.find((d) => !Number.isInteger(d) || d < 0 || d >= 2 ** 31))],
  });
cases.push({
  name: 'Tensor.from size mismatch',
  run: () => Tensor.from([1, 2, 3], [2, 2]),
  type: RangeError,
  names: ['Tensor.from: shape [2,2] holds 4 elements, data has 3'],
});
cases.push({
  name: 'Tensor above the block limit',
  run: () => Tensor.empty([2 ** 29]),
  type: RangeError,
  names: ['shape [536870912] of f32 needs 2147483648 bytes', 'limit of one block'],
});

// fit options.
for (const [options, type, named] of [
  [{ epochs: 0 }, RangeError, 'epochs must be an integer in [1, 10000000], got 0'],
  [{ epochs: 2.5 }, RangeError, 'epochs must be an integer'],
  [{ epochs: '3' }, TypeError, 'epochs must be a number, got string'],
  [{ batchSize: 0 }, RangeError, 'batchSize must be an integer in [1, 16777216], got 0'],
  [{ labelSmoothing: 1 }, RangeError, 'labelSmoothing must be a finite number in [0, 0.999999], got 1'],
  [{ labelSmoothing: NaN }, RangeError, 'labelSmoothing must be a finite number'],
  [{ epoch: 3 }, TypeError, "unknown option 'epoch'"],
  [{ earlyStopping: { patience: -1 } }, RangeError, 'patience must be an integer'],
  [{ earlyStopping: { wait: 3 } }, TypeError, "unknown option 'wait'"],
] as const)
  cases.push({ name: `fit ${JSON.stringify(options)}`, run: () => fit(model(), data, options as never), type, names: ['fit', named] });
for (const lr of [-0.1, NaN, Infinity])
  cases.push({ name: `adam lr ${lr}`, run: () => adam({ lr }), type: RangeError, names: ['lr', String(lr)] });

// Predict rows.
for (const [rows, named] of [
  [[[1, 2, 3]], /row 0 has 3 values|3/],
  [[[1, 2, NaN, 4]], /NaN/],
  [[[1, 2, Infinity, 4]], /Infinity/],
  [new Float32Array(7), /7/],
] as const)
  cases.push({
    name: `predict ${String(named)}`,
    run: () => model().predict(rows as never),
    type: RangeError,
    names: ['Sequential(4→3).predict', named],
  });

// Splits.
for (const [options, named] of [
  [{ testFraction: 1.5 }, 'testFraction'],
  [{ testFraction: -0.1 }, 'testFraction'],
  [{ validationFraction: 1 }, 'validationFraction'],
  [{ seed: -2 }, 'seed'],
] as const)
  cases.push({
    name: `trainTestSplit ${JSON.stringify(options)}`,
    run: () => trainTestSplit(data, options as never),
    type: RangeError,
    names: ['trainTestSplit', named, String(Object.values(options)[0])],
  });

// Quantization.
cases.push(
  {
    name: 'quantize unknown scheme',
    run: () => quantize(model(), { scheme: 'int3' as never }),
    type: TypeError,
    names: ['quantize', 'int3'],
  },
  {
    name: 'quantize int4 group size',
    run: () => quantize(model(), { scheme: 'int4', groupSize: 48 }),
    type: RangeError,
    names: ['groupSize', '48'],
  },
  {
    name: 'quantize static without calibration',
    run: () => quantize(model(), { scheme: 'int8-per-channel' }),
    type: TypeError,
    names: ['needs calibration'],
  },
  {
    name: 'quantize dynamic with calibration',
    run: () => quantize(model(), { scheme: 'int8-dynamic', calibration: { data } }),
    type: TypeError,
    names: ['drop the calibration option'],
  },
  {
    name: 'quantize calibration width',
    run: () => quantize(model(), { scheme: 'int8-per-channel', calibration: { data: [[1, 2]] } }),
    type: RangeError,
    names: ['row 0 has 2 features, expected 4'],
  },
);

// Studies.
cases.push(
  { name: 'createStudy unknown option', run: () => createStudy({ sampler2: 1 } as never), type: TypeError, names: ['sampler2'] },
  {
    name: 'optimize without an end',
    run: async () => (await createStudy()).optimize(() => 0),
    type: TypeError,
    names: ['give trials, timeBudgetMs or signal'],
  },
  {
    name: 'suggestFloat low > high',
    run: async () => (await createStudy()).ask().suggestFloat('x', 2, 1),
    type: RangeError,
    names: ['x', '2', '1'],
  },
  {
    name: 'suggestInt non-integer',
    run: async () => (await createStudy()).ask().suggestInt('n', 0.5, 3),
    type: RangeError,
    names: ['n', '0.5'],
  },
  {
    name: 'suggestCategorical empty',
    run: async () => (await createStudy()).ask().suggestCategorical('c', []),
    type: RangeError,
    names: ['c'],
  },
);

test('misused API arguments: each a TypeError or RangeError naming entry point, argument and value', () => runCorpus(cases, 50));
