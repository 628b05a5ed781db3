// TensorProto contents as numbers, trusting nothing: the element type, dims, and the data's
// length must agree, sizes are bounded before anything is allocated, external data is refused.
import { OnnxError } from './errors.ts';
import { DataType, type TensorProto } from './proto.ts';

/** Largest tensor kiln reads (elements): 2^28 f32 values are 1 GiB. */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

const TYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  6: 'int32',
  7: 'int64',
  10: 'float16',
  11: 'float64',
  16: 'bfloat16',
};
export const typeName = (t: number): string => TYPE_NAMES[t] ?? `data type ${t}`;

/** The element count from dims, checked. */
export function elementCount(t: TensorProto, where: string): number {
  let n = 1;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new OnnxError(`${where}: dimension ${d} in dims [${t.dims.join(', ')}] is not a size`);
    n *= d;
    if (n > MAX_TENSOR_ELEMENTS)
      throw new OnnxError(`${where}: dims [${t.dims.join(', ')}] hold more than ${MAX_TENSOR_ELEMENTS} elements`);
  }
  return n;
}

// raw_data is little-endian, as every platform kiln runs on (WebAssembly is little-endian): a
// copy into a fresh, aligned buffer is the array itself.
function raw(t: TensorProto, n: number, bytesPer: number, where: string): ArrayBuffer | undefined {
  if (t.external)
    throw new OnnxError(
      `${where}: the data is stored in an external file (external_data); kiln reads self-contained .onnx files only (save with all tensors inside the model)`,
    );
  if (!t.rawData) return undefined;
  if (t.rawData.length !== n * bytesPer)
    throw new OnnxError(
      `${where}: raw_data has ${t.rawData.length} bytes, dims [${t.dims.join(', ')}] of ${typeName(t.dataType)} need ${n * bytesPer}`,
    );
  // Not rawData.slice(): in Node the reader hands out Buffers, whose slice() is a view.
  const copy = new Uint8Array(t.rawData.length);
  copy.set(t.rawData);
  return copy.buffer;
}

function typed(list: number[] | undefined, n: number, field: string, t: TensorProto, where: string): number[] {
  const values = list ?? [];
  if (values.length !== n) throw new OnnxError(`${where}: ${field} has ${values.length} values, dims [${t.dims.join(', ')}] need ${n}`);
  return values;
}

// IEEE half → f32 (exact: every half value is an f32 value).
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f,
    frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A float tensor (float32, float16 or float64) as f32 values. */
export function floatValues(t: TensorProto, where: string): Float32Array {
  const n = elementCount(t, where);
  switch (t.dataType) {
    case DataType.FLOAT: {
      const v = raw(t, n, 4, where);
      return v ? new Float32Array(v) : Float32Array.from(typed(t.floatData, n, 'float_data', t, where));
    }
    case DataType.FLOAT16: {
      const v = raw(t, n, 2, where);
      // Without raw_data, halves travel as bit patterns in int32_data.
      const bits = v ? new Uint16Array(v) : typed(t.int32Data, n, 'int32_data', t, where);
      return Float32Array.from(bits, halfToFloat);
    }
    case DataType.DOUBLE: {
      const v = raw(t, n, 8, where);
      return Float32Array.from(v ? new Float64Array(v) : typed(t.doubleData, n, 'double_data', t, where));
    }
    default:
      throw new OnnxError(`${where}: ${typeName(t.dataType)} values where float32, float16 or float64 weights are expected`);
  }
}

/** An integer tensor (int64 or int32), as for shapes and axes. */
export function intValues(t: TensorProto, where: string): number[] {
  const n = elementCount(t, where);
  if (t.dataType === DataType.INT64) {
    const v = raw(t, n, 8, where);
    return v ? Array.from(new BigInt64Array(v), Number) : typed(t.int64Data, n, 'int64_data', t, where);
  }
  if (t.dataType === DataType.INT32) {
    const v = raw(t, n, 4, where);
    return v ? Array.from(new Int32Array(v)) : typed(t.int32Data, n, 'int32_data', t, where);
  }
  throw new OnnxError(`${where}: ${typeName(t.dataType)} values where int64 or int32 are expected`);
}
