import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSafetensors, encodeSafetensors, ModelFileError, type SafetensorsTensor } from '../../src/io/safetensors.ts';
import { mulberry32 } from '../helpers/rand.ts';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const u64le = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24, 0, 0, 0, 0];
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A container assembled by hand: length field, header text as given, raw data bytes. */
function container(header: string, data: number[] = [], lengthField = header.length): Uint8Array {
  return Uint8Array.from([...u64le(lengthField), ...ascii(header), ...data]);
}

test('byte-exact against a file written by hand from the spec', () => {
  // Tensors: "b" F32 [2] = [1, −2.5] and "a" U8 [3] = [1, 2, 3]; metadata { format: "pt" }.
  // The reference writer puts wider dtypes first (F32 before U8), metadata first in the header,
  // and pads the JSON with spaces to a multiple of 8.
  const json =
    '{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}';
  const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
  assert.equal(padded.length % 8, 0);
  // 1.0f = 0x3F800000, −2.5f = 0xC0200000, little-endian.
  const expected = container(padded, [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0, 1, 2, 3]);
  const actual = encodeSafetensors(
    { a: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) }, b: { dtype: 'F32', shape: [2], data: new Float32Array([1, -2.5]) } },
    { format: 'pt' },
  );
  assert.deepEqual(actual, expected);
  const back = decodeSafetensors(expected);
  assert.deepEqual(back.metadata, { format: 'pt' });
  assert.deepEqual([...(back.tensors.b!.data as Float32Array)], [1, -2.5]);
  assert.deepEqual([...(back.tensors.a!.data as Uint8Array)], [1, 2, 3]);
});

test('byte-exact against the reference implementation test vectors', () => {
  // safetensors' Rust tests: "attn.0" F32 [1,2,3] = 0..5; an empty file; an empty file with metadata.
  const attn = container('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}', [
    ...bytesOf(new Float32Array([0, 1, 2, 3, 4, 5])),
  ]);
  assert.equal(attn[0], 64);
  assert.deepEqual(encodeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } }), attn);
  assert.deepEqual(encodeSafetensors({}), Uint8Array.from([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]));
  assert.deepEqual(encodeSafetensors({}, { framework: 'pt' }), container('{"__metadata__":{"framework":"pt"}}     '));
  assert.deepEqual(decodeSafetensors(encodeSafetensors({})), { tensors: {}, metadata: {} });
});

test('order: dtype alignment descending, then name by UTF-8 bytes; every tensor aligned', () => {
  const bytes = encodeSafetensors({
    z8: { dtype: 'U8', shape: [3], data: new Uint8Array(3) },
    b16: { dtype: 'F16', shape: [1], data: new Uint16Array(1) },
    a64: { dtype: 'F64', shape: [1], data: new Float64Array(1) },
    é: { dtype: 'F32', shape: [1], data: new Float32Array(1) },
    z: { dtype: 'F32', shape: [1], data: new Float32Array(1) },
    i64: { dtype: 'I64', shape: [2], data: new BigInt64Array(2) },
    flag: { dtype: 'BOOL', shape: [1], data: new Uint8Array([1]) },
  });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
  assert.deepEqual(Object.keys(header), ['i64', 'a64', 'z', 'é', 'b16', 'z8', 'flag']);
  const sizes: Record<string, number> = { i64: 8, a64: 8, z: 4, é: 4, b16: 2, z8: 1, flag: 1 };
  for (const [name, info] of Object.entries(header)) assert.equal((8 + n + info.data_offsets[0]) % sizes[name]!, 0, `${name} aligned`);
});

test('round trip is bit-exact for every dtype, NaN payloads and −0 included', () => {
  const rand = mulberry32(2024);
  const randomBytes = (len: number) => Uint8Array.from({ length: len }, () => Math.floor(rand() * 256));
  const f32 = new Float32Array([0, -0, Infinity, -Infinity, 1.5, -3.25e-39]);
  const f32bits = new Uint32Array(f32.buffer);
  const nanF32 = new Float32Array(4);
  new Uint32Array(nanF32.buffer).set([0x7fc00001, 0xffc12345, 0x7f800001, 0x7fbfffff]); // quiet and signalling, payloads
  const f64 = new Float64Array(3);
  new BigUint64Array(f64.buffer).set([0x7ff8000000000123n, 0x8000000000000000n, 0xfff0000000000001n]);
  const tensors: Record<string, SafetensorsTensor> = {
    f32: { dtype: 'F32', shape: [2, 3], data: f32 },
    nan: { dtype: 'F32', shape: [4], data: nanF32 },
    f64: { dtype: 'F64', shape: [3], data: f64 },
    i32: { dtype: 'I32', shape: [3], data: new Int32Array([-2147483648, 0, 2147483647]) },
    u32: { dtype: 'U32', shape: [1, 1], data: new Uint32Array([4294967295]) },
    i16: { dtype: 'I16', shape: [2], data: new Int16Array([-32768, 32767]) },
    u16: { dtype: 'U16', shape: [2], data: new Uint16Array([0, 65535]) },
    f16: { dtype: 'F16', shape: [2], data: new Uint16Array([0x7e01, 0x8000]) },
    bf16: { dtype: 'BF16', shape: [2], data: randomBytes(4) },
    i8: { dtype: 'I8', shape: [2], data: new Int8Array([-128, 127]) },
    u8: { dtype: 'U8', shape: [5], data: randomBytes(5) },
    bool: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
    i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
    u64: { dtype: 'U64', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([7]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  };
  // A name taken from a file may be '__proto__': it must stay an ordinary entry.
  Object.defineProperty(tensors, '__proto__', { value: { dtype: 'U8', shape: [1], data: new Uint8Array([9]) }, enumerable: true });
  const metadata = { format: 'kiln', ünï: 'cødé ✓', quote: '"\\\n' };
  const bytes = encodeSafetensors(tensors, metadata);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, metadata);
  assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
  for (const [name, t] of Object.entries(tensors)) {
    const got = back.tensors[name]!;
    assert.equal(got.dtype, t.dtype, name);
    assert.deepEqual(got.shape, t.shape, name);
    assert.deepEqual(bytesOf(got.data), bytesOf(t.data), `${name} bytes`);
  }
  assert.ok(back.tensors.f32!.data instanceof Float32Array);
  assert.ok(back.tensors.i64!.data instanceof BigInt64Array);
  assert.ok(back.tensors.f16!.data instanceof Uint16Array);
  assert.ok(Object.is((back.tensors.f32!.data as Float32Array)[1], -0));
  assert.deepEqual(new Uint32Array(back.tensors.f32!.data.buffer), f32bits);
  // Re-encoding what was decoded reproduces the file byte for byte.
  assert.deepEqual(encodeSafetensors(back.tensors, back.metadata), bytes);
});

test('decoded arrays are aligned copies, even from an unaligned view of the file', () => {
  const bytes = encodeSafetensors({ w: { dtype: 'F64', shape: [2], data: new Float64Array([1.5, -2]) } });
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  const view = shifted.subarray(3);
  const { tensors } = decodeSafetensors(view);
  const w = tensors.w!.data as Float64Array;
  assert.deepEqual([...w], [1.5, -2]);
  assert.equal(w.byteOffset, 0);
  assert.notEqual(w.buffer, shifted.buffer);
  shifted.fill(0);
  assert.deepEqual([...w], [1.5, -2], 'a copy, not a view');
});

function fileError(where: string, message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ModelFileError, `expected ModelFileError, got ${String(e)}`);
    assert.equal(e.where, where);
    assert.match(e.message, message);
    return true;
  };
}

const f32Entry = (name: string, begin: number, end: number, shape = '[2]') =>
  `"${name}":{"dtype":"F32","shape":${shape},"data_offsets":[${begin},${end}]}`;

test('decode: file shorter than 8 bytes', () => {
  assert.throws(() => decodeSafetensors(new Uint8Array(5)), fileError('file', /5 bytes is too short for the 8-byte header length/));
});

test('decode: header length beyond the file', () => {
  assert.throws(() => decodeSafetensors(container('{}', [], 40)), fileError('header length', /40 bytes declared, but only 2 follow/));
});

test('decode: absurd header length', () => {
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setBigUint64(0, 1n << 40n, true);
  assert.throws(() => decodeSafetensors(bytes), fileError('header length', /1099511627776 bytes exceeds the 100000000-byte limit/));
});

test('decode: header not UTF-8', () => {
  const bytes = Uint8Array.from([...u64le(4), 0x7b, 0xff, 0xfe, 0x7d]);
  assert.throws(() => decodeSafetensors(bytes), fileError('header', /is not valid UTF-8/));
});

test('decode: header not a JSON object', () => {
  assert.throws(() => decodeSafetensors(container('[1,2]   ')), fileError('header', /must start with '\{', got "\[1,2\]   "/));
  assert.throws(() => decodeSafetensors(container('{"a":1,}')), fileError('header', /is not valid JSON/));
});

test('decode: entry not an object, bad shape, bad offsets', () => {
  assert.throws(
    () => decodeSafetensors(container('{"w":[1]}')),
    fileError("tensor 'w'", /entry must be an object with dtype, shape and data_offsets, got an array/),
  );
  assert.throws(
    () => decodeSafetensors(container('{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}')),
    fileError("tensor 'w'", /shape must be an array of non-negative integers, got \[-1\]/),
  );
  assert.throws(
    () => decodeSafetensors(container('{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,0]}}')),
    fileError("tensor 'w'", /shape must be an array/),
  );
  assert.throws(
    () => decodeSafetensors(container('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}')),
    fileError("tensor 'w'", /data_offsets must be \[begin, end\]/),
  );
  assert.throws(
    () => decodeSafetensors(container(`{${f32Entry('w', 8, 0)}}`, new Array(8).fill(0))),
    fileError("tensor 'w'", /data_offsets \[8, 0\) end before they begin/),
  );
});

test('decode: unknown dtype', () => {
  assert.throws(
    () => decodeSafetensors(container('{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}', new Array(16).fill(0))),
    fileError("tensor 'w'", /unknown dtype "F128" \(known: BOOL, U8/),
  );
});

test('decode: shape and offsets disagree on the size', () => {
  assert.throws(
    () => decodeSafetensors(container(`{${f32Entry('w', 0, 12, '[2]')}}`, new Array(12).fill(0))),
    fileError("tensor 'w'", /shape \[2\] of F32 needs 8 bytes, but data_offsets \[0, 12\) hold 12/),
  );
  // A shape whose product overflows is reported, not wrapped around.
  assert.throws(
    () => decodeSafetensors(container(`{${f32Entry('w', 0, 8, '[4294967296,4294967296,4294967296]')}}`, new Array(8).fill(0))),
    fileError("tensor 'w'", /needs more than 8 bytes/),
  );
});

test('decode: offsets out of range', () => {
  assert.throws(
    () => decodeSafetensors(container(`{${f32Entry('w', 0, 8)}}`, [0, 0, 0, 0])),
    fileError("tensor 'w'", /data_offsets \[0, 8\) run past the 4 data bytes/),
  );
});

test('decode: overlapping offsets', () => {
  const header = `{${f32Entry('a', 0, 8)},${f32Entry('b', 4, 12)}}`;
  assert.throws(
    () => decodeSafetensors(container(header, new Array(12).fill(0))),
    fileError("tensor 'b'", /data_offsets \[4, 12\) overlap the previous tensor, which ends at 8/),
  );
});

test('decode: gap between tensors', () => {
  const header = `{${f32Entry('a', 0, 8)},${f32Entry('b', 12, 20)}}`;
  assert.throws(
    () => decodeSafetensors(container(header, new Array(20).fill(0))),
    fileError("tensor 'b'", /leave a gap of 4 unused bytes from 8/),
  );
  assert.throws(
    () => decodeSafetensors(container(`{${f32Entry('a', 4, 12)}}`, new Array(12).fill(0))),
    fileError("tensor 'a'", /gap of 4 unused bytes from 0/),
  );
});

test('decode: unused bytes after the last tensor', () => {
  assert.throws(
    () => decodeSafetensors(container(`{${f32Entry('a', 0, 8)}}`, new Array(10).fill(0))),
    fileError('data', /the tensors cover 8 bytes, but 10 follow the header \(2 unused at the end\)/),
  );
});

test('decode: metadata must map strings to strings', () => {
  assert.throws(
    () => decodeSafetensors(container('{"__metadata__":{"epochs":3}}')),
    fileError('__metadata__', /value of 'epochs' must be a string, got number 3/),
  );
  assert.throws(
    () => decodeSafetensors(container('{"__metadata__":["a"]}')),
    fileError('__metadata__', /must be an object of strings, got an array/),
  );
});

test('decode: not bytes', () => {
  assert.throws(() => decodeSafetensors([1, 2] as never), /decodeSafetensors: bytes must be a Uint8Array, got an array/);
});

test('encode: invalid input is refused with where and what', () => {
  const ok = new Float32Array(2);
  assert.throws(
    () => encodeSafetensors({ w: { dtype: 'F8' as never, shape: [2], data: ok } }),
    /tensor 'w': dtype must be one of BOOL, U8/,
  );
  assert.throws(
    () => encodeSafetensors({ w: { dtype: 'F64', shape: [2], data: ok } }),
    /tensor 'w': data for F64 must be a Float64Array or raw bytes \(Uint8Array\), got Float32Array/,
  );
  assert.throws(
    () => encodeSafetensors({ w: { dtype: 'F32', shape: [3], data: ok } }),
    /tensor 'w': shape \[3\] of F32 needs 12 bytes, data has 8/,
  );
  assert.throws(
    () => encodeSafetensors({ w: { dtype: 'F32', shape: [2.5], data: ok } }),
    /shape must be an array of non-negative integers/,
  );
  assert.throws(
    () => encodeSafetensors({ b: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 2]) } }),
    /BOOL values must be 0 or 1, got 2 at index 1/,
  );
  assert.throws(() => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [2], data: ok } }), /'__metadata__' is reserved/);
  assert.throws(() => encodeSafetensors({}, { epochs: 3 as never }), /metadata\['epochs'\] must be a string, got number 3/);
  assert.throws(() => encodeSafetensors(null as never), /tensors must be an object of name → tensor, got null/);
  // Raw bytes stand in for any dtype, e.g. F16 from another library.
  const raw = encodeSafetensors({ h: { dtype: 'F16', shape: [2], data: new Uint8Array([0, 0x3c, 0, 0xc0]) } });
  assert.deepEqual([...(decodeSafetensors(raw).tensors.h!.data as Uint16Array)], [0x3c00, 0xc000]);
});
