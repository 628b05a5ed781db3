// Bad model files of every kind kiln writes: float, sparse, int8, int4. Byte damage, metadata
// edits, NaN/Inf weights, missing/extra/mistyped tensors and flipped bits, each a ModelFileError
// naming the file kind, the part and the value.
import { test } from 'node:test';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';
import { iris } from '../../src/data/builtin.ts';
import { modelFromBytes, modelToBytes } from '../../src/io/model-file.ts';
import { sparseModelToBytes } from '../../src/io/sparse-file.ts';
import { decodeSafetensors, encodeSafetensors, ModelFileError } from '../../src/io/safetensors.ts';
import { tensorChecksum } from '../../src/io/integrity.ts';
import { quantize } from '../../src/compress/quant/quantize.ts';
import { quantizedModelFromBytes, quantizedModelToBytes } from '../../src/compress/quant/file.ts';
import { runCorpus, type BadInput } from './corpus.ts';

type Tensors = Record<string, { dtype: string; shape: number[]; data: ArrayBufferView }>;
function edit(bytes: Uint8Array, change: (t: Tensors, m: Record<string, string>) => void, rechecksum = false): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes);
  change(tensors as unknown as Tensors, metadata);
  if (rechecksum) metadata.crc32 = tensorChecksum(tensors as never);
  return encodeSafetensors(tensors as never, metadata);
}

function kinds(): [string, string, Uint8Array, (b: Uint8Array) => { dispose(): void }][] {
  const model = new Sequential({ inputs: 4, layers: [dense(6, 'relu'), dense(3)], seed: 2 });
  const pruned = new Sequential({ inputs: 4, layers: [dense(6, 'relu'), dense(3)], seed: 2 });
  pruned.setPruningMask(Uint8Array.from({ length: pruned.parameterCount }, (_, i) => (i % 3 === 0 ? 0 : 1)));
  const out: ReturnType<typeof kinds> = [
    ['float', 'model file', modelToBytes(model), modelFromBytes],
    ['sparse', 'sparse model file', sparseModelToBytes(pruned), modelFromBytes],
    [
      'int8',
      'quantized model file',
      quantizedModelToBytes(quantize(model, { scheme: 'int8-per-channel', calibration: { data: iris() } })),
      quantizedModelFromBytes,
    ],
    ['int4', 'quantized model file', quantizedModelToBytes(quantize(model, { scheme: 'int4', groupSize: 32 })), quantizedModelFromBytes],
  ];
  model.dispose();
  pruned.dispose();
  return out;
}

const cases: BadInput[] = [];
for (const [kind, label, bytes, read] of kinds()) {
  const load = (b: Uint8Array) => () => read(b).dispose();
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const { tensors, metadata } = decodeSafetensors(bytes);
  const names = Object.keys(tensors).sort();
  const floats = names.filter((n) => tensors[n]!.dtype === 'F32' && tensors[n]!.data.length > 0);

  // Byte damage: truncation anywhere, a lying header length.
  for (const [what, cut, named] of [
    ['empty', 0, /0 bytes is too short/],
    ['4 bytes', 4, /4 bytes is too short/],
    ['length field only', 8, /header length: \d+ bytes declared, but only 0 follow/],
    ['inside the header', 8 + (headerLength >> 1), /header length: \d+ bytes declared, but only \d+ follow/],
    ['header without data', 8 + headerLength, /run past the 0 data bytes/],
    ['last byte missing', bytes.length - 1, /run past the \d+ data bytes|hold \d+/],
  ] as const)
    cases.push({
      name: `${kind}: truncated (${what})`,
      run: load(bytes.slice(0, cut)),
      type: ModelFileError,
      names: ['model file:', named],
    });
  const lying = bytes.slice();
  new DataView(lying.buffer).setBigUint64(0, 1n << 40n, true);
  cases.push({
    name: `${kind}: header length 2^40`,
    run: load(lying),
    type: ModelFileError,
    names: ['header length', '1099511627776 bytes exceeds the 100000000-byte limit'],
  });
  const garbage = bytes.slice();
  garbage.fill(0x7b, 8, 12);
  cases.push({ name: `${kind}: header JSON damaged`, run: load(garbage), type: ModelFileError, names: ['header', 'is not valid JSON'] });
  const trailing = new Uint8Array(bytes.length + 3);
  trailing.set(bytes);
  cases.push({ name: `${kind}: 3 bytes appended`, run: load(trailing), type: ModelFileError, names: ['data', '3 unused at the end'] });

  // Metadata edits (the checksum covers tensors, so these reach the field checks).
  // A renamed format is read as whatever it claims: a sparse file then fails as a float one.
  const format = kind === 'sparse' ? 'kiln.sequential' : metadata.format!;
  for (const [what, change, named] of [
    [
      'format renamed',
      (m: Record<string, string>) => (m.format = 'kiln.other'),
      ['__metadata__.format is "kiln.other"', `expected '${format}'`],
    ],
    ['version 9', (m: Record<string, string>) => (m.version = '9'), ['format version "9" is not supported', 'reads versions 1, 2']],
    [
      'version missing',
      (m: Record<string, string>) => delete m.version,
      ['format version (__metadata__.version is missing) is not supported'],
    ],
    ['crc32 not hex', (m: Record<string, string>) => (m.crc32 = 'zzzzzzzz'), ['__metadata__.crc32 must be 8 hex digits, got "zzzzzzzz"']],
    ['crc32 short', (m: Record<string, string>) => (m.crc32 = 'abc'), ['__metadata__.crc32 must be 8 hex digits, got "abc"']],
    [
      'crc32 wrong',
      (m: Record<string, string>) => (m.crc32 = '00000000'),
      ['checksum mismatch: __metadata__.crc32 is 00000000', 'the tensor data gives'],
    ],
    ['crc32 missing', (m: Record<string, string>) => delete m.crc32, ['__metadata__.crc32 is missing']],
  ] as const)
    cases.push({
      name: `${kind}: ${what}`,
      run: load(edit(bytes, (_, m) => change(m))),
      type: ModelFileError,
      names: [what === 'format renamed' ? 'model file:' : `${label}:`, ...named],
    });
  const archKey = kind.startsWith('int') ? 'layers' : 'model';
  cases.push({
    name: `${kind}: ${archKey} not JSON`,
    run: load(edit(bytes, (_, m) => (m[archKey] = '{"inputs":'))),
    type: ModelFileError,
    names: [`${label}:`, `__metadata__.${archKey} is not valid JSON`],
  });
  cases.push({
    name: `${kind}: ${archKey} missing`,
    run: load(edit(bytes, (_, m) => delete m[archKey])),
    type: ModelFileError,
    names: [`${label}:`, `__metadata__.${archKey}`, 'missing'],
  });

  // NaN and ±Inf in each float tensor (checksum recomputed, so the value check is what fires).
  for (const name of floats)
    for (const [value, index] of [
      [NaN, 0],
      [Infinity, tensors[name]!.data.length - 1],
      [-Infinity, tensors[name]!.data.length >> 1],
    ] as const)
      cases.push({
        name: `${kind}: ${value} in ${name}[${index}]`,
        run: load(edit(bytes, (t) => ((t[name]!.data as Float32Array)[index] = value), true)),
        type: ModelFileError,
        names: [`${label}:`, name.replace(/^layers\.(\d+)\.(weight_scale|bias|input_scale|weight\.values|weight)$/, '$1'), String(value)],
      });

  // Missing, extra, mistyped tensors; one flipped bit in each float tensor.
  for (const name of names)
    cases.push({
      name: `${kind}: ${name} missing`,
      run: load(edit(bytes, (t) => delete t[name])),
      type: ModelFileError,
      names: [`${label}:`, `tensor '${name}' is missing`],
    });
  cases.push({
    name: `${kind}: extra tensor`,
    run: load(edit(bytes, (t) => (t['layers.7.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) }))),
    type: ModelFileError,
    names: [`${label}:`, "unexpected tensor 'layers.7.weight'"],
  });
  const first = floats[0]!;
  cases.push({
    name: `${kind}: ${first} as F64`,
    run: load(
      edit(
        bytes,
        (t) => (t[first] = { dtype: 'F64', shape: tensors[first]!.shape, data: Float64Array.from(tensors[first]!.data as Float32Array) }),
      ),
    ),
    type: ModelFileError,
    names: [`${label}:`, `tensor '${first}' has dtype F64, expected F32`],
  });
  for (const name of floats)
    cases.push({
      name: `${kind}: bit flipped in ${name}`,
      run: load(
        edit(bytes, (t) => {
          const v = new Uint8Array(t[name]!.data.buffer, t[name]!.data.byteOffset, 4);
          v[0]! ^= 1;
        }),
      ),
      type: ModelFileError,
      names: [`${label}: checksum mismatch`, /crc32 is [0-9a-f]{8}, the tensor data gives [0-9a-f]{8}/],
    });
}

test('bad model files (float, sparse, int8, int4): each a ModelFileError naming kind, part and value', () => runCorpus(cases, 120));
