// importOnnx: fixtures written by the onnx package (PyTorch's and Keras converters' conventions)
// against their float64 references and against ONNX Runtime on the same file; round trips
// kiln → ONNX → kiln give identical predictions; an imported model distils, prunes, quantizes
// and saves like any other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense, dropout, flatten } from '../../src/nn/layers/index.ts';
import { ACTIVATIONS } from '../../src/core/activation.ts';
import { distill } from '../../src/compress/distill.ts';
import { pruneWeights } from '../../src/compress/prune/unstructured.ts';
import { quantize } from '../../src/compress/quant/quantize.ts';
import { modelFromBytes, modelToBytes } from '../../src/io/model-file.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { OnnxError } from '../../src/onnx/errors.ts';
import { encodeModel, DataType, type NodeProto } from '../../src/onnx/proto.ts';
import { tensorProto } from '../../src/onnx/graph-builder.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';
import { runOrt } from './ort.ts';

interface Fixture {
  inputs: number;
  rows: number[][];
  outputs: number[][];
}
const fixture = (name: string) => ({
  bytes: new Uint8Array(readFileSync(new URL(`../fixtures/onnx/${name}.onnx`, import.meta.url))),
  ref: JSON.parse(readFileSync(new URL(`../fixtures/onnx/${name}.json`, import.meta.url), 'utf8')) as Fixture,
});
const TOL = { atol: 1e-5, rtol: 1e-5 };

function softmaxRows(z: number[][]): number[] {
  return z.flatMap((row) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

test('a Gemm MLP in PyTorch exporter conventions (GELU as Erf, raw logits) imports as the reference computes it', async () => {
  const { bytes, ref } = fixture('mlp-gemm');
  const x = Float32Array.from(ref.rows.flat());
  const logits = importOnnx(bytes);
  assert.equal(logits.task, 'regression', 'raw scores import as regression by default');
  assert.deepEqual(
    logits.layers.map((l) => (l.type === 'dense' ? `${l.units}:${l.activation}` : l.type)),
    ['16:relu', '12:gelu', '3:linear'],
  );
  assertClose(logits.predict(x), ref.outputs.flat(), TOL, 'float64 reference');
  assertClose(logits.predict(x), (await runOrt(bytes, x, ref.inputs)).data, TOL, 'ONNX Runtime');
  const classifier = importOnnx(bytes, { task: 'classification' });
  assertClose(classifier.predict(x), softmaxRows(ref.outputs), TOL, 'softmax of the reference logits');
  logits.dispose();
  classifier.dispose();
});

test('a MatMul+Add MLP in Keras converter conventions (Sub/Div scaler, float16 weights, Softmax) imports', async () => {
  const { bytes, ref } = fixture('mlp-matmul');
  const x = Float32Array.from(ref.rows.flat());
  const m = importOnnx(bytes);
  assert.equal(m.task, 'classification');
  assert.deepEqual(
    m.layers.map((l) =>
      l.type === 'dense' ? `${l.units}:${l.activation}${l.alpha === undefined ? '' : `(${l.alpha.toFixed(3)})`}` : l.type,
    ),
    ['10:tanh', '8:leaky_relu(0.100)', '4:linear'],
  );
  assert.equal(m.preprocessing.mean?.length, 5);
  assertClose(m.predict(x), ref.outputs.flat(), TOL, 'float64 reference');
  assertClose(m.predict(x), (await runOrt(bytes, x, ref.inputs)).data, TOL, 'ONNX Runtime');
  assert.throws(
    () => importOnnx(bytes, { task: 'regression' }),
    /ends with Softmax, a classification model; task 'regression' does not fit it/,
  );
  m.dispose();
});

test('kiln → ONNX → kiln gives identical predictions for every activation and task', () => {
  const x = uniform(mulberry32(4), 5 * 50, -6, 6);
  for (const task of ['classification', 'binary', 'regression'] as const) {
    for (const act of ACTIVATIONS) {
      const m = new Sequential({
        inputs: 5,
        task,
        seed: 9,
        layers: [dense(7, act, act === 'leaky_relu' ? { alpha: 0.05 } : {}), dropout(0.3), dense(6, act), dense(task === 'binary' ? 1 : 3)],
        preprocessing: { mean: [0.1, 0.2, 0.3, 0.4, 0.5], std: [1, 2, 3, 4, 5], featureNames: ['a', 'b', 'c', 'd', 'e'] },
      });
      const back = importOnnx(exportOnnx(m));
      assert.equal(back.task, task);
      assert.deepEqual(back.preprocessing, m.preprocessing);
      assert.deepEqual(Array.from(back.predict(x)), Array.from(m.predict(x)), `${task} ${act}`);
      m.dispose();
      back.dispose();
    }
  }
});

test('shaped rows ([channels, height, width] then flatten) export as a shaped input and come back shaped', async () => {
  const m = new Sequential({
    inputs: [2, 3, 4],
    layers: [flatten(), dense(6, 'relu'), dense(3)],
    seed: 5,
    preprocessing: { mean: new Array(24).fill(0.5), std: new Array(24).fill(2) },
  });
  const bytes = exportOnnx(m);
  const x = uniform(mulberry32(12), 24 * 10, -3, 3);
  assertClose((await runOrt(bytes, x, [2, 3, 4])).data, m.predict(x), TOL, 'ONNX Runtime on [n, 2, 3, 4]');
  const back = importOnnx(bytes);
  assert.deepEqual(back.inputShape, [2, 3, 4]);
  assert.deepEqual(
    back.layers.map((l) => l.type),
    ['flatten', 'dense', 'dense'],
  );
  assert.deepEqual(Array.from(back.predict(x)), Array.from(m.predict(x)));
  m.dispose();
  back.dispose();
});

test('an imported model is a kiln model: a distillation teacher, pruned, quantized, saved', async () => {
  const { bytes, ref } = fixture('mlp-gemm');
  const teacher = importOnnx(bytes); // raw logits: the student matches them by mean squared error
  const x = uniform(mulberry32(8), 6 * 600, -4, 4);
  const student = new Sequential({ inputs: 6, layers: [dense(24, 'relu'), dense(3)], task: 'regression', seed: 2 });
  const history = await distill({ teacher, student, data: x, alpha: 1, epochs: 80, batchSize: 32 });
  assert.ok(history.epochs.at(-1)!.loss < history.epochs[0]!.loss, 'the student learns from the imported teacher');
  const t = teacher.predict(x),
    s = student.predict(x);
  let err = 0,
    spread = 0;
  const mean = [0, 1, 2].map((j) => t.filter((_, i) => i % 3 === j).reduce((p, v) => p + v, 0) / 600);
  t.forEach((v, i) => ((err += (v - s[i]!) ** 2), (spread += (v - mean[i % 3]!) ** 2)));
  assert.ok(1 - err / spread > 0.8, `student explains ${1 - err / spread} of the teacher's output variance`);
  const loaded = modelFromBytes(modelToBytes(teacher));
  const rows = Float32Array.from(ref.rows.flat());
  assert.deepEqual(Array.from(loaded.predict(rows)), Array.from(teacher.predict(rows)));
  pruneWeights(teacher, { sparsity: 0.5 });
  const q = quantize(teacher, { scheme: 'int8-per-channel', calibration: { data: x } });
  assert.equal(q.predict(rows).length, 40 * 3);
  for (const m of [teacher, student, loaded, q]) m.dispose();
});

// Graphs built here with kiln's encoder for forms the fixtures do not cover.
function graph(
  nodes: NodeProto[],
  initializers: ReturnType<typeof tensorProto>[],
  opset = 13,
  inputShape: (number | string)[] = ['N', 3],
): Uint8Array {
  return encodeModel({
    irVersion: 8,
    producerName: 'test',
    producerVersion: '',
    docString: '',
    metadata: [],
    functions: 0,
    opsetImports: [{ domain: '', version: opset }],
    graph: {
      name: 'g',
      nodes,
      initializers,
      sparseInitializers: 0,
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: inputShape }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['N', 2] }],
    },
  });
}
const node = (opType: string, inputs: string[], outputs: string[], attributes: NodeProto['attributes'] = [], name = opType): NodeProto => ({
  name,
  opType,
  domain: '',
  inputs,
  outputs,
  attributes,
});
const W = Float32Array.of(0.5, -1, 2, 1.5, 0.25, -0.75); // [2, 3] as Gemm transB=1, or [3, 2] as MatMul

test('Gemm with transB 0, alpha and beta; the Gelu op; commuted standardisation; MatMul without bias; Reshape — all as ONNX Runtime computes them', async () => {
  const x = uniform(mulberry32(6), 3 * 20, -3, 3);
  const cases: [string, Uint8Array][] = [
    [
      'Gemm transB=0 alpha beta',
      graph(
        [
          node(
            'Gemm',
            ['x', 'w', 'b'],
            ['y'],
            [
              { name: 'alpha', type: 1, f: 0.5 },
              { name: 'beta', type: 1, f: 2 },
            ],
          ),
        ],
        [tensorProto('w', [3, 2], W), tensorProto('b', [2], Float32Array.of(0.1, -0.2))],
      ),
    ],
    [
      'Gelu op (opset 20)',
      graph(
        [node('Gemm', ['x', 'w', 'b'], ['h'], [{ name: 'transB', type: 2, i: 1 }]), node('Gelu', ['h'], ['y'])],
        [tensorProto('w', [2, 3], W), tensorProto('b', [1], Float32Array.of(0.3))],
        20,
      ),
    ],
    [
      'standardisation with the constant first (Mul(s, x), Add(c, ·))',
      graph(
        [
          node('Mul', ['s', 'x'], ['m']),
          node('Add', ['c', 'm'], ['a']),
          node('Gemm', ['a', 'w', 'b'], ['y'], [{ name: 'transB', type: 2, i: 1 }]),
        ],
        [
          tensorProto('s', [3], Float32Array.of(0.5, 2, 0.25)),
          tensorProto('c', [3], Float32Array.of(1, -1, 0.5)),
          tensorProto('w', [2, 3], W),
          tensorProto('b', [2], Float32Array.of(0.1, -0.2)),
        ],
      ),
    ],
    [
      'Reshape, MatMul without bias',
      graph(
        [node('Reshape', ['x', 's'], ['r']), node('MatMul', ['r', 'w'], ['y'])],
        [tensorProto('s', [2], Int32Array.of(-1, 3)), tensorProto('w', [3, 2], W)].map((t) =>
          t.name === 's' ? { ...t, dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.of(-1n, 3n).buffer) } : t,
        ),
      ),
    ],
  ];
  for (const [label, bytes] of cases) {
    const m = importOnnx(bytes);
    assertClose(m.predict(x), (await runOrt(bytes, x, 3)).data, TOL, label);
    m.dispose();
  }
});

test('unsupported graphs are refused naming the node, its op type and the opset', () => {
  const w = [tensorProto('w', [2, 3], W)];
  const cases: [Uint8Array, RegExp][] = [
    [
      graph([node('Conv', ['x', 'w'], ['y'], [], 'conv1')], w),
      /node 'conv1' \(op Conv, opset 13\): not supported; kiln imports Gemm, MatMul/,
    ],
    [
      graph([node('Relu', ['x'], ['y'], [], 'act')], w),
      /node 'act' \(op Relu, opset 13\): an activation kiln can only place right after a dense layer/,
    ],
    [
      graph(
        [
          node('Gemm', ['x', 'w'], ['h'], [{ name: 'transB', type: 2, i: 1 }], 'fc'),
          node('Relu', ['h'], ['a']),
          node('Sigmoid', ['h'], ['y']),
        ],
        w,
      ),
      /value 'h' feeds 2 nodes/,
    ],
    [graph([node('Gemm', ['x', 'x'], ['y'], [], 'fc')], w), /node 'fc' \(op Gemm, opset 13\): input 1 'x' must be a constant weight/],
    [graph([node('Gemm', ['x', 'w'], ['y'], [{ name: 'transA', type: 2, i: 1 }], 'fc')], w), /transA = 1 is not supported/],
    [
      graph(
        [
          node('Gemm', ['x', 'w'], ['h'], [{ name: 'transB', type: 2, i: 1 }], 'fc'),
          node('Gelu', ['h'], ['y'], [{ name: 'approximate', type: 3, s: new TextEncoder().encode('tanh') }], 'g'),
        ],
        w,
        20,
      ),
      /approximate='tanh' GELU is not supported/,
    ],
    [
      graph([node('Gemm', ['x', 'w'], ['y'], [{ name: 'transB', type: 2, i: 1 }])], w, 5),
      /opset 5 is outside the opsets kiln reads \(7 to 21\)/,
    ],
    [
      graph([node('Gemm', ['x', 'w'], ['y'], [{ name: 'transB', type: 2, i: 1 }])], w, 13, ['N', 4]),
      /input 'x' has 4 values per row \(shape \[N, 4\]\), the first layer takes 3/,
    ],
    [graph([node('Gemm', ['x', 'w'], ['h'], [{ name: 'transB', type: 2, i: 1 }])], w), /value 'h' leads nowhere/],
  ];
  for (const [bytes, message] of cases)
    assert.throws(
      () => importOnnx(bytes),
      (e: Error) => e instanceof OnnxError && message.test(e.message),
      String(message),
    );
  assert.throws(
    () => importOnnx(graph([node('Gemm', ['x', 'w'], ['y'], [{ name: 'transB', type: 2, i: 1 }])], w), { task: 'binary' }),
    /task binary needs 1 output, the graph has 2/,
  );
  assert.throws(
    () => importOnnx(new Uint8Array(1), { task: 'ranking' } as never),
    /importOnnx: task must be classification, binary or regression, got ranking/,
  );
});
