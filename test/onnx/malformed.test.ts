// Malformed and hostile ONNX files end in an OnnxError naming what and where: truncation at every
// length, corrupted bytes, huge dims, cycles, external data, deep nesting, duplicate values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs/minimal.js';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { OnnxError } from '../../src/onnx/errors.ts';
import { DataType, decodeModel, encodeModel, type NodeProto, type TensorProto } from '../../src/onnx/proto.ts';
import { tensorProto } from '../../src/onnx/graph-builder.ts';
import { mulberry32 } from '../helpers/rand.ts';

const isOnnxError = (pattern: RegExp) => (e: unknown) => e instanceof OnnxError && pattern.test(e.message);

function fileOf(nodes: NodeProto[], initializers: TensorProto[]): Uint8Array {
  return encodeModel({
    irVersion: 7,
    producerName: 'test',
    producerVersion: '',
    docString: '',
    metadata: [],
    functions: 0,
    opsetImports: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      nodes,
      initializers,
      sparseInitializers: 0,
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['N', 2] }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['N', 2] }],
    },
  });
}
const gemm = (inputs: string[], outputs: string[], name = 'fc'): NodeProto => ({
  name,
  opType: 'Gemm',
  domain: '',
  inputs,
  outputs,
  attributes: [{ name: 'transB', type: 2, i: 1 }],
});
const w = tensorProto('w', [2, 2], Float32Array.of(1, 2, 3, 4));

test('a truncated file gives an OnnxError at every cut, never another error', () => {
  const m = new Sequential({
    inputs: 3,
    layers: [dense(4, 'gelu'), dense(2)],
    seed: 1,
    preprocessing: { mean: [0, 0, 0], std: [1, 1, 1] },
  });
  const bytes = exportOnnx(m);
  m.dispose();
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(
      () => importOnnx(bytes.subarray(0, cut)),
      (e: unknown) => e instanceof OnnxError,
      `cut at ${cut} of ${bytes.length}`,
    );
  }
  assert.throws(() => importOnnx(bytes.subarray(0, 40)), isOnnxError(/truncated or corrupt|runs past the end|ONNX/));
});

test('corrupted bytes give an OnnxError or a model, never another error', () => {
  const m = new Sequential({ inputs: 3, layers: [dense(4, 'relu'), dense(2)], seed: 1 });
  const bytes = exportOnnx(m);
  m.dispose();
  const rand = mulberry32(5);
  for (let trial = 0; trial < 400; trial++) {
    const copy = bytes.slice();
    for (let k = 0; k < 3; k++) copy[Math.floor(rand() * copy.length)] = Math.floor(rand() * 256);
    try {
      importOnnx(copy).dispose();
    } catch (e) {
      assert.ok(e instanceof OnnxError, `trial ${trial}: ${(e as Error).name}: ${(e as Error).message}`);
    }
  }
  assert.throws(() => importOnnx(new Uint8Array(0)), isOnnxError(/the file is empty/));
  assert.throws(() => importOnnx(new TextEncoder().encode('not an onnx file at all')), OnnxError);
  assert.throws(() => importOnnx('model.onnx' as never), /importOnnx: bytes must be a Uint8Array, got string/);
});

test('huge dims are refused before anything is allocated', () => {
  const huge: TensorProto = { name: 'w', dims: [1 << 20, 1 << 20], dataType: DataType.FLOAT, rawData: new Uint8Array(16) };
  assert.throws(
    () => importOnnx(fileOf([gemm(['x', 'w'], ['y'])], [huge])),
    isOnnxError(/node 'fc' \(op Gemm, opset 13\) weight 'w': dims \[1048576, 1048576\] hold more than 268435456 elements/),
  );
  const short: TensorProto = { name: 'w', dims: [2, 2], dataType: DataType.FLOAT, rawData: new Uint8Array(12) };
  assert.throws(
    () => importOnnx(fileOf([gemm(['x', 'w'], ['y'])], [short])),
    isOnnxError(/raw_data has 12 bytes, dims \[2, 2\] of float32 need 16/),
  );
  const negative: TensorProto = { name: 'w', dims: [2, -2], dataType: DataType.FLOAT, rawData: new Uint8Array(16) };
  assert.throws(
    () => importOnnx(fileOf([gemm(['x', 'w'], ['y'])], [negative])),
    isOnnxError(/dimension -2 in dims \[2, -2\] is not a size/),
  );
  const ints: TensorProto = tensorProto('w', [2, 2], Int32Array.of(1, 2, 3, 4));
  assert.throws(
    () => importOnnx(fileOf([gemm(['x', 'w'], ['y'])], [ints])),
    isOnnxError(/int32 values where float32, float16 or float64 weights are expected/),
  );
});

test('cycles, duplicate values and dangling inputs are refused', () => {
  const cycle = fileOf(
    [
      gemm(['x', 'w'], ['a'], 'fc1'),
      { name: 'add', opType: 'Add', domain: '', inputs: ['a', 'b'], outputs: ['c'], attributes: [] },
      gemm(['c', 'w'], ['b'], 'fc2'),
      gemm(['c', 'w'], ['y'], 'fc3'),
    ],
    [w],
  );
  assert.throws(() => importOnnx(cycle), isOnnxError(/node '(add|fc2|fc3)' \(op (Add|Gemm)\) lies on a cycle/));
  const twice = fileOf([gemm(['x', 'w'], ['y'], 'fc1'), gemm(['x', 'w'], ['y'], 'fc2')], [w]);
  assert.throws(() => importOnnx(twice), isOnnxError(/value 'y' is produced twice \(node 'fc2' and node 'fc1'\)/));
  const dangling = fileOf([gemm(['x', 'missing'], ['y'])], [w]);
  assert.throws(() => importOnnx(dangling), isOnnxError(/node 'fc' \(op Gemm\) reads values nothing produces: 'missing'/));
});

test('external data is refused with what to do', () => {
  const external: TensorProto = { name: 'w', dims: [2, 2], dataType: DataType.FLOAT, external: true };
  const bytes = fileOf([gemm(['x', 'w'], ['y'])], [external]);
  // encodeModel writes no external_data field, so add data_location = EXTERNAL (field 14) by hand.
  const decoded = decodeModel(bytes);
  assert.equal(decoded.graph!.initializers[0]!.external, undefined);
  const t = protobuf.Writer.create();
  t.uint32((1 << 3) | 0)
    .int64(2)
    .uint32((1 << 3) | 0)
    .int64(2)
    .uint32((2 << 3) | 0)
    .int32(1)
    .uint32((8 << 3) | 2)
    .string('w')
    .uint32((14 << 3) | 0)
    .int32(1);
  const tensor = t.finish();
  const g = protobuf.Writer.create();
  const node = encodeNodeBytes(gemm(['x', 'w'], ['y']));
  g.uint32((1 << 3) | 2)
    .bytes(node)
    .uint32((5 << 3) | 2)
    .bytes(tensor);
  for (const [field, name] of [
    [11, 'x'],
    [12, 'y'],
  ] as const)
    g.uint32((field << 3) | 2).bytes(valueInfoBytes(name));
  const model = protobuf.Writer.create();
  model
    .uint32((1 << 3) | 0)
    .int64(7)
    .uint32((7 << 3) | 2)
    .bytes(g.finish())
    .uint32((8 << 3) | 2)
    .bytes(
      protobuf.Writer.create()
        .uint32((2 << 3) | 0)
        .int64(13)
        .finish(),
    );
  assert.throws(
    () => importOnnx(model.finish()),
    isOnnxError(/weight 'w': the data is stored in an external file \(external_data\); kiln reads self-contained \.onnx files only/),
  );
});

// The bytes of one NodeProto / ValueInfoProto, cut out of a model encodeModel wrote.
function encodeNodeBytes(n: NodeProto): Uint8Array {
  const model = fileOf([n], []);
  return fieldBytes(fieldBytes(model, 7), 1);
}
function valueInfoBytes(name: string): Uint8Array {
  const g = fieldBytes(fileOf([], []), 7);
  const r = protobuf.Reader.create(g);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 11 || tag >>> 3 === 12) {
      const b = r.bytes();
      if (decodeName(b) === name) return b;
    } else r.skipType(tag & 7);
  }
  throw new Error(`no value ${name}`);
}
function decodeName(b: Uint8Array): string {
  const r = protobuf.Reader.create(b);
  r.uint32();
  return r.string();
}
function fieldBytes(bytes: Uint8Array, field: number): Uint8Array {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === field && (tag & 7) === 2) return r.bytes();
    r.skipType(tag & 7);
  }
  throw new Error(`no field ${field}`);
}

test('protobuf groups, which ONNX never uses, are refused rather than skipped recursively', () => {
  // 100 000 nested start-group tags: skipping them would recurse once per tag.
  const bytes = new Uint8Array(200_000);
  for (let i = 0; i < bytes.length; i += 2) bytes.set([0xa3, 0x01], i); // field 20, wire type 3
  assert.throws(() => importOnnx(bytes), isOnnxError(/model: group wire type 3 at byte 2; ONNX files have none/));
});

test('a model without graph, opset or input is refused plainly', () => {
  assert.throws(
    () =>
      importOnnx(
        encodeModel({
          irVersion: 7,
          producerName: '',
          producerVersion: '',
          docString: '',
          metadata: [],
          functions: 0,
          opsetImports: [{ domain: '', version: 13 }],
        }),
      ),
    isOnnxError(/ONNX model: no graph/),
  );
  const noOpset = decodeModel(fileOf([gemm(['x', 'w'], ['y'])], [w]));
  assert.throws(() => importOnnx(encodeModel({ ...noOpset, opsetImports: [] })), isOnnxError(/no opset_import for the default domain/));
  assert.throws(
    () => importOnnx(encodeModel({ ...noOpset, graph: { ...noOpset.graph!, inputs: [] } })),
    isOnnxError(/kiln reads graphs with one input, this one has 0/),
  );
  assert.throws(
    () => importOnnx(encodeModel({ ...noOpset, graph: { ...noOpset.graph!, inputs: [{ name: 'x', elemType: DataType.INT64 }] } })),
    isOnnxError(/input 'x' is int64, kiln reads float32 inputs/),
  );
});
