// The subset of ONNX's ModelProto that kiln writes and reads, as plain objects, with their
// protobuf encoding. The wire format (varints, int64, floats, packed fields, UTF-8, bounds
// checks) is protobufjs's minimal runtime; the message layouts below are written out as
// protobufjs's static code generator would write them, for these messages only. That keeps the
// bundle at the minimal runtime (no reflection, no code generation through `new Function`, which
// edge workers and strict content security policies forbid). Field numbers are onnx.proto's;
// unknown fields are skipped, as protobuf readers do.
// see: https://github.com/onnx/onnx/blob/main/onnx/onnx.proto
import protobuf from 'protobufjs/minimal.js';
import { OnnxError } from './errors.ts';

const { Reader, Writer } = protobuf;
type Reader = protobuf.Reader;
type Writer = protobuf.Writer;

/** TensorProto.DataType values kiln uses. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11 } as const;
/** AttributeProto.AttributeType values kiln uses. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7 } as const;

export interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  /** data_location EXTERNAL (1) or external_data entries: the bytes live in another file. */
  external?: boolean;
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
  /** A subgraph (or list of them) was present; kiln reads none. */
  hasGraph?: boolean;
}

export interface NodeProto {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: AttributeProto[];
}

/** A dimension: a size, a symbolic name, or unknown. */
export type Dim = number | string | undefined;

export interface ValueInfoProto {
  name: string;
  /** Tensor element type (0 when the value is not a tensor or has no type). */
  elemType: number;
  /** undefined when the shape is unknown. */
  shape?: Dim[];
}

export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  /** Count of sparse initializers (kiln reads none). */
  sparseInitializers: number;
}

export interface OpsetId {
  domain: string;
  version: number;
}

export interface ModelProto {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  opsetImports: OpsetId[];
  graph?: GraphProto;
  metadata: { key: string; value: string }[];
  /** Count of local functions (kiln reads none). */
  functions: number;
}

// ---- encoding ----

const LEN = 2,
  VARINT = 0,
  I32 = 5;
const tag = (w: Writer, field: number, wire: number): Writer => w.uint32((field << 3) | wire);

function message<T>(w: Writer, field: number, value: T, encode: (w: Writer, v: T) => void): void {
  tag(w, field, LEN).fork();
  encode(w, value);
  w.ldelim();
}
const str = (w: Writer, field: number, value: string): void => {
  if (value !== '') tag(w, field, LEN).string(value);
};
function packedInt64(w: Writer, field: number, values: readonly number[]): void {
  if (values.length === 0) return;
  tag(w, field, LEN).fork();
  for (const v of values) w.int64(v);
  w.ldelim();
}

function encodeTensor(w: Writer, t: TensorProto): void {
  // dims unpacked, as onnx's own writer (proto2 repeated int64) emits them.
  for (const d of t.dims) tag(w, 1, VARINT).int64(d);
  tag(w, 2, VARINT).int32(t.dataType);
  if (t.floatData?.length) {
    tag(w, 4, LEN).fork();
    for (const v of t.floatData) w.float(v);
    w.ldelim();
  }
  if (t.int64Data) packedInt64(w, 7, t.int64Data);
  str(w, 8, t.name);
  if (t.rawData) tag(w, 9, LEN).bytes(t.rawData);
}

function encodeAttribute(w: Writer, a: AttributeProto): void {
  str(w, 1, a.name);
  if (a.f !== undefined) tag(w, 2, I32).float(a.f);
  if (a.i !== undefined) tag(w, 3, VARINT).int64(a.i);
  if (a.s !== undefined) tag(w, 4, LEN).bytes(a.s);
  if (a.t !== undefined) message(w, 5, a.t, encodeTensor);
  if (a.floats?.length) {
    tag(w, 7, LEN).fork();
    for (const v of a.floats) w.float(v);
    w.ldelim();
  }
  if (a.ints) packedInt64(w, 8, a.ints);
  tag(w, 20, VARINT).int32(a.type);
}

function encodeNode(w: Writer, n: NodeProto): void {
  for (const i of n.inputs) tag(w, 1, LEN).string(i);
  for (const o of n.outputs) tag(w, 2, LEN).string(o);
  str(w, 3, n.name);
  str(w, 4, n.opType);
  for (const a of n.attributes) message(w, 5, a, encodeAttribute);
  str(w, 7, n.domain);
}

function encodeValueInfo(w: Writer, v: ValueInfoProto): void {
  str(w, 1, v.name);
  message(w, 2, v, (w2, vi) =>
    message(w2, 1, vi, (w3, t) => {
      tag(w3, 1, VARINT).int32(t.elemType);
      if (t.shape) {
        message(w3, 2, t.shape, (w4, dims) => {
          for (const d of dims) {
            message(w4, 1, d, (w5, dim) => {
              if (typeof dim === 'number') tag(w5, 1, VARINT).int64(dim);
              else if (typeof dim === 'string') tag(w5, 2, LEN).string(dim);
            });
          }
        });
      }
    }),
  );
}

function encodeGraph(w: Writer, g: GraphProto): void {
  for (const n of g.nodes) message(w, 1, n, encodeNode);
  str(w, 2, g.name);
  for (const t of g.initializers) message(w, 5, t, encodeTensor);
  for (const v of g.inputs) message(w, 11, v, encodeValueInfo);
  for (const v of g.outputs) message(w, 12, v, encodeValueInfo);
}

/** The protobuf bytes of a model. */
export function encodeModel(m: ModelProto): Uint8Array {
  const w = Writer.create();
  tag(w, 1, VARINT).int64(m.irVersion);
  str(w, 2, m.producerName);
  str(w, 3, m.producerVersion);
  str(w, 6, m.docString);
  for (const o of m.opsetImports) {
    message(w, 8, o, (w2, op) => {
      str(w2, 1, op.domain);
      tag(w2, 2, VARINT).int64(op.version);
    });
  }
  for (const e of m.metadata) {
    message(w, 14, e, (w2, kv) => {
      str(w2, 1, kv.key);
      str(w2, 2, kv.value);
    });
  }
  // The graph last: a file cut anywhere then lacks its graph or ends inside it, so truncation is
  // always detected (protobuf itself has no end marker).
  if (m.graph) message(w, 7, m.graph, encodeGraph);
  return w.finish();
}

// ---- decoding ----

function int64(r: Reader, path: string): number {
  const v = r.int64() as unknown as number | { toNumber(): number };
  const n = typeof v === 'number' ? v : v.toNumber();
  if (!Number.isSafeInteger(n)) throw new OnnxError(`${path}: int64 value outside the safe integer range`);
  return n;
}

// A repeated scalar field may arrive packed (one length-delimited run) or one value per tag.
function repeated(r: Reader, wire: number, out: number[], read: () => number): void {
  if (wire !== LEN) {
    out.push(read());
    return;
  }
  const end = r.uint32() + r.pos;
  if (end > r.len) throw new RangeError(`index out of range: ${end} > ${r.len}`);
  while (r.pos < end) out.push(read());
}

// Runs a nested message's decoder over its length-delimited bytes.
// Nesting is bounded by the schema (model → graph → node → attribute → tensor); subgraphs are
// skipped unread.
function nested<T>(r: Reader, path: string, decode: (r: Reader, end: number, path: string) => T): T {
  const length = r.uint32();
  const end = r.pos + length;
  if (end > r.len)
    throw new OnnxError(
      `${path}: a field of ${length} bytes runs past the end of the file (byte ${r.pos} of ${r.len}): truncated or corrupt`,
    );
  const value = decode(r, end, path);
  if (r.pos !== end) throw new OnnxError(`${path}: message ends at byte ${r.pos}, its length says ${end}`);
  return value;
}

function fields(r: Reader, end: number, path: string, on: (field: number, wire: number) => boolean): void {
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3,
      wire = t & 7;
    if (field === 0) throw new OnnxError(`${path}: invalid field number 0 at byte ${r.pos}`);
    // Groups (deprecated, unused by ONNX) would make skipping recursive: refuse them.
    if (wire === 3 || wire === 4) throw new OnnxError(`${path}: group wire type ${wire} at byte ${r.pos}; ONNX files have none`);
    if (!on(field, wire)) r.skipType(wire);
  }
}

function expectWire(path: string, field: string, wire: number, expected: number): void {
  if (wire !== expected) throw new OnnxError(`${path}.${field}: wire type ${wire}, expected ${expected}`);
}

function decodeTensor(r: Reader, end: number, path: string): TensorProto {
  const t: TensorProto = { name: '', dims: [], dataType: 0 };
  fields(r, end, path, (f, wire) => {
    switch (f) {
      case 1:
        repeated(r, wire, t.dims, () => int64(r, `${path}.dims`));
        return true;
      case 2:
        expectWire(path, 'data_type', wire, VARINT);
        t.dataType = r.int32();
        return true;
      case 4:
        repeated(r, wire, (t.floatData ??= []), () => r.float());
        return true;
      case 5:
        repeated(r, wire, (t.int32Data ??= []), () => r.int32());
        return true;
      case 7:
        repeated(r, wire, (t.int64Data ??= []), () => int64(r, `${path}.int64_data`));
        return true;
      case 8:
        expectWire(path, 'name', wire, LEN);
        t.name = r.string();
        return true;
      case 9:
        expectWire(path, 'raw_data', wire, LEN);
        t.rawData = r.bytes();
        return true;
      case 10:
        repeated(r, wire, (t.doubleData ??= []), () => r.double());
        return true;
      case 13:
        t.external = true;
        return false;
      case 14:
        expectWire(path, 'data_location', wire, VARINT);
        if (r.int32() === 1) t.external = true;
        return true;
      default:
        return false;
    }
  });
  return t;
}

function decodeAttribute(r: Reader, end: number, path: string): AttributeProto {
  const a: AttributeProto = { name: '', type: 0 };
  fields(r, end, path, (f, wire) => {
    switch (f) {
      case 1:
        expectWire(path, 'name', wire, LEN);
        a.name = r.string();
        return true;
      case 2:
        expectWire(path, 'f', wire, I32);
        a.f = r.float();
        return true;
      case 3:
        expectWire(path, 'i', wire, VARINT);
        a.i = int64(r, `${path}.i`);
        return true;
      case 4:
        expectWire(path, 's', wire, LEN);
        a.s = r.bytes();
        return true;
      case 5:
        expectWire(path, 't', wire, LEN);
        a.t = nested(r, `${path}.t`, decodeTensor);
        return true;
      case 6:
      case 11:
        a.hasGraph = true;
        return false;
      case 7:
        repeated(r, wire, (a.floats ??= []), () => r.float());
        return true;
      case 8:
        repeated(r, wire, (a.ints ??= []), () => int64(r, `${path}.ints`));
        return true;
      case 20:
        expectWire(path, 'type', wire, VARINT);
        a.type = r.int32();
        return true;
      default:
        return false;
    }
  });
  return a;
}

function decodeNode(r: Reader, end: number, path: string): NodeProto {
  const n: NodeProto = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [] };
  fields(r, end, path, (f, wire) => {
    switch (f) {
      case 1:
        expectWire(path, 'input', wire, LEN);
        n.inputs.push(r.string());
        return true;
      case 2:
        expectWire(path, 'output', wire, LEN);
        n.outputs.push(r.string());
        return true;
      case 3:
        expectWire(path, 'name', wire, LEN);
        n.name = r.string();
        return true;
      case 4:
        expectWire(path, 'op_type', wire, LEN);
        n.opType = r.string();
        return true;
      case 5:
        expectWire(path, 'attribute', wire, LEN);
        n.attributes.push(nested(r, `${path}.attribute[${n.attributes.length}]`, decodeAttribute));
        return true;
      case 7:
        expectWire(path, 'domain', wire, LEN);
        n.domain = r.string();
        return true;
      default:
        return false;
    }
  });
  return n;
}

function decodeDims(r: Reader, end: number, path: string): Dim[] {
  const dims: Dim[] = [];
  fields(r, end, path, (f, wire) => {
    if (f !== 1) return false;
    expectWire(path, 'dim', wire, LEN);
    dims.push(
      nested(r, `${path}.dim[${dims.length}]`, (r2, end2, p2) => {
        let d: Dim;
        fields(r2, end2, p2, (f2, w2) => {
          if (f2 === 1) {
            expectWire(p2, 'dim_value', w2, VARINT);
            d = int64(r2, p2);
            return true;
          }
          if (f2 === 2) {
            expectWire(p2, 'dim_param', w2, LEN);
            d = r2.string();
            return true;
          }
          return false;
        });
        return d;
      }),
    );
    return true;
  });
  return dims;
}

function decodeValueInfo(r: Reader, end: number, path: string): ValueInfoProto {
  const v: ValueInfoProto = { name: '', elemType: 0 };
  fields(r, end, path, (f, wire) => {
    if (f === 1) {
      expectWire(path, 'name', wire, LEN);
      v.name = r.string();
      return true;
    }
    if (f !== 2) return false;
    expectWire(path, 'type', wire, LEN);
    nested(r, `${path}.type`, (r2, end2, p2) =>
      fields(r2, end2, p2, (f2, w2) => {
        if (f2 !== 1) return false; // sequence, map, optional: not tensors
        expectWire(p2, 'tensor_type', w2, LEN);
        nested(r2, `${p2}.tensor_type`, (r3, end3, p3) =>
          fields(r3, end3, p3, (f3, w3) => {
            if (f3 === 1) {
              expectWire(p3, 'elem_type', w3, VARINT);
              v.elemType = r3.int32();
              return true;
            }
            if (f3 === 2) {
              expectWire(p3, 'shape', w3, LEN);
              v.shape = nested(r3, `${p3}.shape`, decodeDims);
              return true;
            }
            return false;
          }),
        );
        return true;
      }),
    );
    return true;
  });
  return v;
}

function decodeGraph(r: Reader, end: number, path: string): GraphProto {
  const g: GraphProto = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], sparseInitializers: 0 };
  fields(r, end, path, (f, wire) => {
    const list = (name: string) => {
      expectWire(path, name, wire, LEN);
    };
    switch (f) {
      case 1:
        list('node');
        g.nodes.push(nested(r, `${path}.node[${g.nodes.length}]`, decodeNode));
        return true;
      case 2:
        list('name');
        g.name = r.string();
        return true;
      case 5:
        list('initializer');
        g.initializers.push(nested(r, `${path}.initializer[${g.initializers.length}]`, decodeTensor));
        return true;
      case 11:
        list('input');
        g.inputs.push(nested(r, `${path}.input[${g.inputs.length}]`, decodeValueInfo));
        return true;
      case 12:
        list('output');
        g.outputs.push(nested(r, `${path}.output[${g.outputs.length}]`, decodeValueInfo));
        return true;
      case 15:
        g.sparseInitializers++;
        return false;
      default:
        return false;
    }
  });
  return g;
}

/** Decodes ModelProto bytes; any malformation is an OnnxError naming the field path and byte. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`importOnnx: bytes must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  if (bytes.length === 0) throw new OnnxError('ONNX model: the file is empty');
  const r = Reader.create(bytes);
  const m: ModelProto = {
    irVersion: 0,
    producerName: '',
    producerVersion: '',
    docString: '',
    opsetImports: [],
    metadata: [],
    functions: 0,
  };
  try {
    fields(r, bytes.length, 'model', (f, wire) => {
      switch (f) {
        case 1:
          expectWire('model', 'ir_version', wire, VARINT);
          m.irVersion = int64(r, 'model.ir_version');
          return true;
        case 2:
          expectWire('model', 'producer_name', wire, LEN);
          m.producerName = r.string();
          return true;
        case 3:
          expectWire('model', 'producer_version', wire, LEN);
          m.producerVersion = r.string();
          return true;
        case 6:
          expectWire('model', 'doc_string', wire, LEN);
          m.docString = r.string();
          return true;
        case 7:
          expectWire('model', 'graph', wire, LEN);
          m.graph = nested(r, 'model.graph', decodeGraph);
          return true;
        case 8:
          expectWire('model', 'opset_import', wire, LEN);
          m.opsetImports.push(
            nested(r, `model.opset_import[${m.opsetImports.length}]`, (r2, end, p) => {
              const o: OpsetId = { domain: '', version: 0 };
              fields(r2, end, p, (f2, w2) => {
                if (f2 === 1) {
                  expectWire(p, 'domain', w2, LEN);
                  o.domain = r2.string();
                  return true;
                }
                if (f2 === 2) {
                  expectWire(p, 'version', w2, VARINT);
                  o.version = int64(r2, `${p}.version`);
                  return true;
                }
                return false;
              });
              return o;
            }),
          );
          return true;
        case 14:
          expectWire('model', 'metadata_props', wire, LEN);
          m.metadata.push(
            nested(r, `model.metadata_props[${m.metadata.length}]`, (r2, end, p) => {
              const e = { key: '', value: '' };
              fields(r2, end, p, (f2, w2) => {
                if (f2 === 1) {
                  expectWire(p, 'key', w2, LEN);
                  e.key = r2.string();
                  return true;
                }
                if (f2 === 2) {
                  expectWire(p, 'value', w2, LEN);
                  e.value = r2.string();
                  return true;
                }
                return false;
              });
              return e;
            }),
          );
          return true;
        case 25:
          m.functions++;
          return false;
        default:
          return false;
      }
    });
  } catch (error) {
    if (error instanceof OnnxError) throw error;
    // protobufjs's reader throws RangeError("index out of range: …") or Error("invalid wire type …").
    throw new OnnxError(
      `ONNX model: not a valid protobuf ModelProto at byte ${r.pos} of ${bytes.length} (${(error as Error).message}): truncated or corrupt`,
    );
  }
  return m;
}
