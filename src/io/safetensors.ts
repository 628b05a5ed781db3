// The safetensors container: an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
// (tensor name → { dtype, shape, data_offsets: [begin, end) } relative to the data buffer, plus an
// optional "__metadata__" string → string map), then the raw little-endian tensor bytes.
// Writing follows the reference implementation byte for byte: tensors ordered by dtype
// (widest alignment first) then name, compact JSON, header padded with spaces to a multiple of 8
// so every tensor starts aligned to its element size. Reading trusts nothing.
// see: https://github.com/huggingface/safetensors (format description and the Rust reference)

/** Element kinds of the format, in the reference writer's dtype order (its sort key). */
const DTYPES = ['BOOL', 'U8', 'I8', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'] as const;
/** An element type the safetensors format names. */
export type SafetensorsDType = (typeof DTYPES)[number];

const BYTES: Readonly<Record<SafetensorsDType, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** What each dtype decodes to. F16 and BF16 have no typed array in every runtime: their raw bit
 *  patterns come back as Uint16Array. BOOL comes back as Uint8Array of 0/1. */
export interface SafetensorsArrays {
  F32: Float32Array;
  F64: Float64Array;
  I32: Int32Array;
  U32: Uint32Array;
  I16: Int16Array;
  U16: Uint16Array;
  I8: Int8Array;
  U8: Uint8Array;
  BOOL: Uint8Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I64: BigInt64Array;
  U64: BigUint64Array;
}

type ArrayCtor = { new (buffer: ArrayBuffer): ArrayBufferView; readonly BYTES_PER_ELEMENT: number };
const ARRAY: Readonly<Record<SafetensorsDType, ArrayCtor>> = {
  BOOL: Uint8Array,
  U8: Uint8Array,
  I8: Int8Array,
  I16: Int16Array,
  U16: Uint16Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I32: Int32Array,
  U32: Uint32Array,
  F32: Float32Array,
  F64: Float64Array,
  I64: BigInt64Array,
  U64: BigUint64Array,
};

export type SafetensorsData = SafetensorsArrays[SafetensorsDType];

/** A tensor to encode: dtype, shape and data. */
export interface SafetensorsTensor {
  dtype: SafetensorsDType;
  shape: number[];
  /** The matching typed array (see SafetensorsArrays), or the raw little-endian bytes as a Uint8Array. */
  data: SafetensorsData | Uint8Array;
}

/** What `decodeSafetensors` returns: tensors by name and the metadata. */
export interface DecodedSafetensors {
  tensors: Record<string, { dtype: SafetensorsDType; shape: number[]; data: SafetensorsData }>;
  metadata: Record<string, string>;
}

/** A model file that cannot be read. `where` names the part that is wrong (`header`,
 *  `tensor 'w'`, `__metadata__`, …) when the reader knows it; the message says where and what. */
export class ModelFileError extends Error {
  constructor(
    message: string,
    readonly where = '',
  ) {
    super(message);
    this.name = 'ModelFileError';
  }
}

const fileError = (where: string, what: string) => new ModelFileError(`model file: ${where}: ${what}`, where);

// The reference reader's limit: a header beyond it is corrupt or hostile, not a model.
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Serialises tensors and optional string metadata into safetensors bytes.
 *
 * @example
 * const bytes = encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } },
 *   { format: 'kiln' });
 */
export function encodeSafetensors(tensors: Record<string, SafetensorsTensor>, metadata?: Record<string, string>): Uint8Array {
  const where = 'encodeSafetensors';
  if (tensors === null || typeof tensors !== 'object' || Array.isArray(tensors))
    throw new TypeError(`${where}: tensors must be an object of name → tensor, got ${describe(tensors)}`);
  checkEndianness();
  const entries = Object.keys(tensors).map((name) => {
    if (name === METADATA_KEY) throw new RangeError(`${where}: '${METADATA_KEY}' is reserved for metadata and cannot name a tensor`);
    return { name, key: utf8.encode(name), ...checkTensor(`${where}: tensor '${name}'`, tensors[name]) };
  });
  entries.sort((a, b) => DTYPES.indexOf(b.dtype) - DTYPES.indexOf(a.dtype) || compareBytes(a.key, b.key));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) put(header, METADATA_KEY, checkMetadata(where, metadata));
  let offset = 0;
  for (const e of entries) {
    put(header, e.name, { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] });
    offset += e.bytes.length;
  }
  const json = utf8.encode(JSON.stringify(header));
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const e of entries) {
    out.set(e.bytes, at);
    at += e.bytes.length;
  }
  return out;
}

/**
 * Reads safetensors bytes, validating the whole container (sizes, header, dtypes, shapes,
 * offsets covering the data exactly once). Arrays are fresh aligned copies.
 *
 * @example
 * const { tensors, metadata } = decodeSafetensors(bytes);
 * const w = tensors.w.data as Float32Array;
 */
export function decodeSafetensors(input: Uint8Array): DecodedSafetensors {
  if (!(input instanceof Uint8Array)) throw new TypeError(`decodeSafetensors: bytes must be a Uint8Array, got ${describe(input)}`);
  // A plain view of the same bytes: a Node Buffer is a Uint8Array whose slice() shares its (pooled,
  // larger) memory instead of copying, which would hand out views of the whole pool below.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  checkEndianness();
  if (bytes.length < 8) throw fileError('file', `${bytes.length} bytes is too short for the 8-byte header length`);
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) throw fileError('header length', `${declared} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(declared);
  if (8 + n > bytes.length) throw fileError('header length', `${n} bytes declared, but only ${bytes.length - 8} follow the length field`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw fileError('header', 'is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw fileError('header', `must start with '{', got ${JSON.stringify(text.slice(0, 16))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw fileError('header', `is not valid JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw fileError('header', `must be a JSON object, got ${describe(header)}`);

  const fields = header as Record<string, unknown>;
  const metadata = readMetadata(fields[METADATA_KEY]);
  const dataLength = bytes.length - 8 - n;
  const infos = Object.keys(fields)
    .filter((k) => k !== METADATA_KEY)
    .map((name) => readInfo(name, fields[name], dataLength));
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const info of infos) {
    if (info.begin < expected)
      throw fileError(
        `tensor '${info.name}'`,
        `data_offsets [${info.begin}, ${info.end}) overlap the previous tensor, which ends at ${expected}`,
      );
    if (info.begin > expected)
      throw fileError(
        `tensor '${info.name}'`,
        `data_offsets [${info.begin}, ${info.end}) leave a gap of ${info.begin - expected} unused bytes from ${expected}`,
      );
    expected = info.end;
  }
  if (expected !== dataLength)
    throw fileError(
      'data',
      `the tensors cover ${expected} bytes, but ${dataLength} follow the header (${dataLength - expected} unused at the end)`,
    );

  const tensors: DecodedSafetensors['tensors'] = {};
  const base = 8 + n;
  for (const info of infos) {
    // slice() gives a fresh buffer starting at 0, so the typed array is aligned whatever the offset.
    const copy = bytes.slice(base + info.begin, base + info.end).buffer;
    put(tensors, info.name, { dtype: info.dtype, shape: info.shape, data: new ARRAY[info.dtype](copy) as SafetensorsData });
  }
  return { tensors, metadata };
}

interface Info {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

function readInfo(name: string, value: unknown, dataLength: number): Info {
  const where = `tensor '${name}'`;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw fileError(where, `entry must be an object with dtype, shape and data_offsets, got ${describe(value)}`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(DTYPES as readonly string[]).includes(dtype))
    throw fileError(where, `unknown dtype ${JSON.stringify(dtype)} (known: ${DTYPES.join(', ')})`);
  if (!Array.isArray(shape) || !shape.every(isCount))
    throw fileError(where, `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
    throw fileError(where, `data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`);
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw fileError(where, `data_offsets [${begin}, ${end}) end before they begin`);
  if (end > dataLength) throw fileError(where, `data_offsets [${begin}, ${end}) run past the ${dataLength} data bytes`);
  // Every product below stays under dataLength·elementBytes < 2^53 or stops early: no overflow.
  // A zero anywhere makes the product 0, even after the running product passed dataLength.
  let elements = (shape as number[]).includes(0) ? 0 : 1;
  for (const d of shape as number[]) {
    if (elements > dataLength) break;
    elements *= d;
  }
  const size = elements * BYTES[dtype as SafetensorsDType];
  if (size !== end - begin)
    throw fileError(
      where,
      `shape [${shape.join(',')}] of ${dtype} needs ${size > dataLength ? `more than ${dataLength}` : size} bytes, but data_offsets [${begin}, ${end}) hold ${end - begin}`,
    );
  return { name, dtype: dtype as SafetensorsDType, shape: shape.slice() as number[], begin, end };
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw fileError(METADATA_KEY, `must be an object of strings, got ${describe(value)}`);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw fileError(METADATA_KEY, `value of '${key}' must be a string, got ${describe(v)}`);
    put(out, key, v);
  }
  return out;
}

function checkTensor(where: string, t: SafetensorsTensor | undefined): { dtype: SafetensorsDType; shape: number[]; bytes: Uint8Array } {
  if (t === null || typeof t !== 'object') throw new TypeError(`${where}: must be { dtype, shape, data }, got ${describe(t)}`);
  const { dtype, shape, data } = t;
  if (!(DTYPES as readonly string[]).includes(dtype))
    throw new TypeError(`${where}: dtype must be one of ${DTYPES.join(', ')}, got ${String(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isCount))
    throw new RangeError(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  const size = shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
  const ctor = ARRAY[dtype];
  let bytes: Uint8Array;
  if (data instanceof ctor) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  else if (data instanceof Uint8Array) bytes = data;
  else throw new TypeError(`${where}: data for ${dtype} must be a ${ctor.name} or raw bytes (Uint8Array), got ${describe(data)}`);
  if (bytes.length !== size)
    throw new RangeError(`${where}: shape [${shape.join(',')}] of ${dtype} needs ${size} bytes, data has ${bytes.length}`);
  if (dtype === 'BOOL') {
    const bad = bytes.findIndex((b) => b > 1);
    if (bad >= 0) throw new RangeError(`${where}: BOOL values must be 0 or 1, got ${bytes[bad]} at index ${bad}`);
  }
  return { dtype, shape: shape.slice(), bytes };
}

function checkMetadata(where: string, metadata: unknown): Record<string, string> {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
    throw new TypeError(`${where}: metadata must be an object of strings, got ${describe(metadata)}`);
  const keys = Object.keys(metadata).sort((a, b) => compareBytes(utf8.encode(a), utf8.encode(b)));
  const out: Record<string, string> = {};
  for (const key of keys) {
    const v = (metadata as Record<string, unknown>)[key];
    if (typeof v !== 'string') throw new TypeError(`${where}: metadata['${key}'] must be a string, got ${describe(v)}`);
    put(out, key, v);
  }
  return out;
}

function checkEndianness(): void {
  if (!LITTLE_ENDIAN) throw new Error('safetensors: this engine is big-endian; the format stores little-endian data');
}

const utf8 = new TextEncoder();

// Names come from files: plain assignment of '__proto__' would replace the prototype instead of
// adding an entry.
function put<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

// The reference writer orders names by their UTF-8 bytes (Rust String order).
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const len = Math.min(a.length, b.length);
  for (let i = 0; i < len; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return Object.prototype.toString.call(x).slice(8, -1);
  return typeof x === 'string' ? `string ${JSON.stringify(x.slice(0, 40))}` : `${typeof x} ${String(x)}`;
}
