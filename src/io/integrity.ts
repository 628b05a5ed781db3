// Integrity of kiln model files: a CRC-32 of the tensor data in __metadata__ (so a flipped bit
// is caught on load, not seen as changed predictions) and a finiteness check of every float
// tensor (a NaN or ±Inf weight is never a model). Files written before the checksum existed
// (format version 1) are still read: they get the finiteness check only.
import { ModelFileError, type DecodedSafetensors } from './safetensors.ts';

/** The __metadata__ key holding the checksum: 8 lowercase hex digits. */
export const CHECKSUM_KEY = 'crc32';

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of zip and PNG.
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `bytes`, continuing from `crc` (0 to start). @example crc32(new TextEncoder().encode('123456789')) // 0xcbf43926 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const utf8 = new TextEncoder();
type TensorBytes = Record<string, { data: ArrayBufferView }>;

/** The checksum of a set of tensors: CRC-32 over each tensor's name and data bytes, names in
 *  code-unit order, so it does not depend on how the container lays the tensors out. */
export function tensorChecksum(tensors: TensorBytes): string {
  let crc = 0;
  for (const name of Object.keys(tensors).sort()) {
    const { data } = tensors[name]!;
    crc = crc32(utf8.encode(name), crc);
    crc = crc32(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), crc);
  }
  return crc.toString(16).padStart(8, '0');
}

/** `metadata` with the checksum of `tensors` added. */
export function withChecksum(tensors: TensorBytes, metadata: Record<string, string>): Record<string, string> {
  return { ...metadata, [CHECKSUM_KEY]: tensorChecksum(tensors) };
}

/**
 * Verifies a decoded kiln file: the checksum when the file has one (required when `required`,
 * i.e. from format version 2 on) and that every F32 tensor is finite. Each failure is a
 * ModelFileError naming the file kind, the tensor and the value.
 */
export function checkIntegrity(where: string, decoded: DecodedSafetensors, required: boolean): void {
  const stored = decoded.metadata[CHECKSUM_KEY];
  if (stored === undefined) {
    if (required) throw new ModelFileError(`${where}: __metadata__.${CHECKSUM_KEY} is missing (format version 2 files carry a checksum)`);
  } else {
    if (!/^[0-9a-f]{8}$/.test(stored))
      throw new ModelFileError(`${where}: __metadata__.${CHECKSUM_KEY} must be 8 hex digits, got ${JSON.stringify(stored.slice(0, 40))}`);
    const actual = tensorChecksum(decoded.tensors);
    if (actual !== stored)
      throw new ModelFileError(
        `${where}: checksum mismatch: __metadata__.${CHECKSUM_KEY} is ${stored}, the tensor data gives ${actual} (the file is corrupt)`,
        'data',
      );
  }
  for (const name of Object.keys(decoded.tensors).sort()) {
    const t = decoded.tensors[name]!;
    if (t.dtype !== 'F32') continue;
    const data = t.data as Float32Array;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v - v !== 0)
        throw new ModelFileError(`${where}: tensor '${name}' holds ${v} at index ${i}; weights must be finite`, `tensor '${name}'`);
    }
  }
}
