// In-memory ONNX models with integer tensors for the quantisation benchmark: one MatMulInteger
// node (A u8 input, B i8 initializer, A's zero point), which _peers.ts's float-only encoder cannot
// express. A few protobuf fields, written by hand: ModelProto, GraphProto, NodeProto,
// TensorProto, ValueInfoProto.
// see: https://github.com/onnx/onnx/blob/main/onnx/onnx.proto
export const UINT8 = 2;
export const INT8 = 3;
export const INT32 = 6;

type Field = [number, number | Uint8Array | Field[]];

function varint(out: number[], value: number): void {
  let v = value;
  do {
    const byte = v & 0x7f;
    v = Math.floor(v / 128);
    out.push(v ? byte | 0x80 : byte);
  } while (v);
}

// A message as a list of [field, varint | bytes | nested message] pairs.
function encode(fields: Field[]): Uint8Array {
  const out: number[] = [];
  for (const [field, value] of fields) {
    if (typeof value === 'number') {
      varint(out, field << 3);
      varint(out, value);
      continue;
    }
    const bytes = value instanceof Uint8Array ? value : encode(value);
    varint(out, (field << 3) | 2);
    varint(out, bytes.length);
    for (const b of bytes) out.push(b);
  }
  return Uint8Array.from(out);
}

const text = (s: string) => new TextEncoder().encode(s);

function valueInfo(name: string, elemType: number, shape: readonly number[]): Field[] {
  return [
    [1, text(name)],
    [
      2,
      [
        [
          1,
          [
            [1, elemType],
            [2, shape.map((d): Field => [1, [[1, d]]])],
          ],
        ],
      ],
    ],
  ];
}

function tensor(name: string, elemType: number, dims: readonly number[], raw: ArrayBufferView): Field[] {
  return [
    ...dims.map((d): Field => [1, d]),
    [2, elemType],
    [8, text(name)],
    [9, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)],
  ];
}

/** C [M,N] i32 = MatMulInteger(A [M,K] u8, B [K,N] i8 constant, a_zero_point). */
export function matMulIntegerModel(M: number, K: number, N: number, b: Int8Array, aZeroPoint: number): Uint8Array {
  const node: Field[] = [
    [1, text('A')],
    [1, text('B')],
    [1, text('a_zero_point')],
    [2, text('C')],
    [3, text('mmi')],
    [4, text('MatMulInteger')],
  ];
  const graph: Field[] = [
    [1, node],
    [2, text('g')],
    [5, tensor('B', INT8, [K, N], b)],
    [5, tensor('a_zero_point', UINT8, [], Uint8Array.of(aZeroPoint))],
    [11, valueInfo('A', UINT8, [M, K])],
    [12, valueInfo('C', INT32, [M, N])],
  ];
  return encode([
    [1, 8],
    [2, text('kiln-bench')],
    [7, graph],
    [
      8,
      [
        [1, text('')],
        [2, 13],
      ],
    ],
  ]);
}
