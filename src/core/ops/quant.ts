// Quantisation over tensors (assembly/kernels/quant.ts, i8-gemm.ts, i4-gemm.ts): quantise,
// dequantise and fake-quantise per tensor, per row or per group; ranges; dynamic quantisation;
// packing weights once for the int8 and int4 GEMMs and running them. Every shape, dtype, code
// range and parameter is checked here before an address is used.
import { kernels, i32View, allocBytes, freeBytes, u8View } from '../wasm.ts';
import { Tensor } from '../tensor.ts';
import { checkInteger, checkKnownKeys, shapeText } from '../errors.ts';
import { checkF32, checkF32Number, outTensor } from './check.ts';

/** Scale, zero point and the integer range of the codes. */
export interface Quantization {
  /** Positive, finite f32. */
  scale: number;
  zeroPoint: number;
  qmin: number;
  qmax: number;
}

/** Largest K the int8 GEMM accepts: 32768 products of magnitude <= 255·255 stay inside i32. */
export const INT8_GEMM_MAX_K = 32768;
export const INT4_GROUP_SIZES = [32, 64, 128] as const;

type ByteTensor = Tensor<'i8'> | Tensor<'u8'>;

function checkRange(where: string, qmin: unknown, qmax: unknown): void {
  checkInteger(where, 'qmin', qmin, -128, 255);
  checkInteger(where, 'qmax', qmax, -128, 255);
  if ((qmin as number) > (qmax as number)) throw new RangeError(`${where}: qmin must be <= qmax, got [${qmin}, ${qmax}]`);
  if ((qmin as number) < 0 && (qmax as number) > 127)
    throw new RangeError(`${where}: a signed code range must lie in [-128, 127], got [${qmin}, ${qmax}]`);
}

function checkScale(where: string, name: string, scale: unknown): number {
  const s = checkF32Number(where, name, scale);
  if (!(s > 0)) throw new RangeError(`${where}: ${name} must be > 0, got ${s}`);
  return s;
}

function checkZeroPoint(where: string, name: string, zp: unknown, qmin: number, qmax: number): number {
  return checkInteger(where, name, zp, qmin, qmax);
}

function checkQuantization(where: string, p: Quantization): void {
  if (p === null || typeof p !== 'object')
    throw new TypeError(`${where}: quantization must be { scale, zeroPoint, qmin, qmax }, got ${String(p)}`);
  checkRange(where, p.qmin, p.qmax);
  checkScale(where, 'scale', p.scale);
  checkZeroPoint(where, 'zeroPoint', p.zeroPoint, p.qmin, p.qmax);
}

function checkBytes(where: string, name: string, t: unknown): ByteTensor {
  if (!(t instanceof Tensor)) throw new TypeError(`${where}: ${name} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  if (t.dtype !== 'i8' && t.dtype !== 'u8') throw new TypeError(`${where}: ${name} must be an i8 or u8 tensor, got ${t.dtype}`);
  return t as ByteTensor;
}

function matrix(where: string, name: string, t: Tensor): [number, number] {
  if (t.shape.length !== 2) throw new RangeError(`${where}: ${name} must be 2-D, got shape ${shapeText(t.shape)}`);
  return [t.shape[0]!, t.shape[1]!];
}

const codeDtype = (qmin: number): 'i8' | 'u8' => (qmin < 0 ? 'i8' : 'u8');

/**
 * q = clamp(round_half_even(x·f32(1/scale)) + zeroPoint, qmin, qmax) for every element; an u8
 * tensor when qmin >= 0, else i8.
 *
 * @example
 * const q = quantizeTensor(x, { scale: 0.02, zeroPoint: 128, qmin: 0, qmax: 255 });
 */
export function quantizeTensor(x: Tensor<'f32'>, p: Quantization): ByteTensor {
  const where = 'quantizeTensor';
  checkF32(where, 'x', x);
  checkQuantization(where, p);
  const q = Tensor.empty(x.shape, codeDtype(p.qmin)) as ByteTensor;
  kernels().f32_quantize(q.ptr, x.ptr, x.size, p.scale, p.zeroPoint, p.qmin, p.qmax);
  return q;
}

/** (q − zeroPoint)·scale in f32; q read as signed (i8) or unsigned (u8) by its dtype. */
export function dequantizeTensor(q: ByteTensor, scale: number, zeroPoint: number): Tensor<'f32'> {
  const where = 'dequantizeTensor';
  checkBytes(where, 'q', q);
  checkScale(where, 'scale', scale);
  checkInteger(where, 'zeroPoint', zeroPoint, -128, 255);
  const y = Tensor.empty(q.shape);
  kernels().q8_dequantize(y.ptr, q.ptr, q.size, q.dtype === 'i8' ? 1 : 0, scale, zeroPoint);
  return y;
}

/** Parameters of groups along the last axis of a 2-D tensor [rows, cols]: `groupSize`
 *  consecutive columns share one scale (the last group may be shorter), `groupSize` = cols
 *  for one per row. scales and zeroPoints are [rows, ceil(cols / groupSize)] row-major. */
export interface GroupQuantization {
  scales: Float32Array;
  /** Undefined: all zero. */
  zeroPoints?: Int32Array;
  qmin: number;
  qmax: number;
  /** Default: cols (one group per row). */
  groupSize?: number;
}

function groupLayout(where: string, rows: number, cols: number, groupSize: unknown): { G: number; groups: number } {
  const G = groupSize === undefined ? Math.max(1, cols) : checkInteger(where, 'groupSize', groupSize, 1, 1 << 24);
  return { G, groups: Math.ceil(cols / G) };
}

function checkGroupParams(where: string, p: GroupQuantization, rows: number, cols: number): { G: number; groups: number } {
  if (p === null || typeof p !== 'object')
    throw new TypeError(`${where}: quantization must be { scales, zeroPoints, qmin, qmax, groupSize }, got ${String(p)}`);
  checkRange(where, p.qmin, p.qmax);
  const layout = groupLayout(where, rows, cols, p.groupSize);
  const count = rows * layout.groups;
  if (!(p.scales instanceof Float32Array) || p.scales.length !== count)
    throw new RangeError(
      `${where}: scales must be a Float32Array of ${count} (${rows} rows × ${layout.groups} groups), got ${p.scales instanceof Float32Array ? p.scales.length : typeof p.scales}`,
    );
  p.scales.forEach((s, i) => checkScale(where, `scales[${i}]`, s));
  if (p.zeroPoints !== undefined) {
    if (!(p.zeroPoints instanceof Int32Array) || p.zeroPoints.length !== count)
      throw new RangeError(
        `${where}: zeroPoints must be an Int32Array of ${count}, got ${p.zeroPoints instanceof Int32Array ? p.zeroPoints.length : typeof p.zeroPoints}`,
      );
    p.zeroPoints.forEach((z, i) => checkZeroPoint(where, `zeroPoints[${i}]`, z, p.qmin, p.qmax));
  }
  return layout;
}

// Calls fn(element offset, length, group index) for every group of every row.
function forEachGroup(rows: number, cols: number, G: number, fn: (offset: number, len: number, group: number) => void): void {
  const groups = Math.ceil(cols / G);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) fn(r * cols + g * G, Math.min(G, cols - g * G), r * groups + g);
  }
}

/**
 * Per-row or per-group quantisation of a 2-D f32 tensor (weights [out, in]: per output channel,
 * or per group of input columns). Codes come back as i8 (the range must lie in [-128, 127]).
 *
 * @example
 * const q = quantizeGroups(w, { scales, qmin: -8, qmax: 7, groupSize: 32 });
 */
export function quantizeGroups(x: Tensor<'f32'>, p: GroupQuantization): Tensor<'i8'> {
  const where = 'quantizeGroups';
  checkF32(where, 'x', x);
  const [rows, cols] = matrix(where, 'x', x);
  const { G } = checkGroupParams(where, p, rows, cols);
  if (p.qmin < -128 || p.qmax > 127) throw new RangeError(`${where}: codes must fit in i8, got [${p.qmin}, ${p.qmax}]`);
  const q = Tensor.empty([rows, cols], 'i8');
  const k = kernels();
  withParams(p, (sp, zp) => {
    if (cols % G === 0) {
      k.f32_quantize_rows(q.ptr, x.ptr, rows * (cols / G), G, sp, zp, p.qmin, p.qmax);
      return;
    }
    forEachGroup(rows, cols, G, (o, len, g) =>
      k.f32_quantize(q.ptr + o, x.ptr + o * 4, len, p.scales[g]!, p.zeroPoints ? p.zeroPoints[g]! : 0, p.qmin, p.qmax),
    );
  });
  return q;
}

/** The inverse of quantizeGroups: (q − zp)·scale per group, f32. */
export function dequantizeGroups(q: ByteTensor, p: GroupQuantization): Tensor<'f32'> {
  const where = 'dequantizeGroups';
  checkBytes(where, 'q', q);
  const [rows, cols] = matrix(where, 'q', q);
  const { G } = checkGroupParams(where, p, rows, cols);
  const y = Tensor.empty([rows, cols]);
  const signed = q.dtype === 'i8' ? 1 : 0;
  const k = kernels();
  withParams(p, (sp, zp) => {
    if (cols % G === 0) {
      k.q8_dequantize_rows(y.ptr, q.ptr, rows * (cols / G), G, signed, sp, zp);
      return;
    }
    forEachGroup(rows, cols, G, (o, len, g) =>
      k.q8_dequantize(y.ptr + o * 4, q.ptr + o, len, signed, p.scales[g]!, p.zeroPoints ? p.zeroPoints[g]! : 0),
    );
  });
  return y;
}

function withParams<T>(p: { scales: Float32Array; zeroPoints?: Int32Array }, fn: (scalesPtr: number, zerosPtr: number) => T): T {
  const s = Tensor.from(p.scales);
  const z = p.zeroPoints ? Tensor.from(p.zeroPoints, [p.zeroPoints.length], 'i32') : undefined;
  try {
    return fn(s.ptr, z ? z.ptr : 0);
  } finally {
    s.dispose();
    z?.dispose();
  }
}

/**
 * Minimum and maximum of each group of `groupSize` consecutive values of each row of x
 * [rows, cols] (default one group per row; pass `rows: 1` semantics by reshaping), as
 * [min0, max0, min1, max1, …]. A group holding NaN gives NaN for both.
 *
 * @example
 * const [lo, hi] = minMaxGroups(x.reshape([1, x.size]));
 */
export function minMaxGroups(x: Tensor<'f32'>, groupSize?: number): Float32Array {
  const where = 'minMaxGroups';
  checkF32(where, 'x', x);
  const [rows, cols] = matrix(where, 'x', x);
  const { G, groups } = groupLayout(where, rows, cols, groupSize);
  const out = Tensor.empty([rows * groups * 2]);
  try {
    const k = kernels();
    if (cols % G === 0 || cols === 0) k.f32_minmax_rows(out.ptr, x.ptr, rows * groups, cols === 0 ? 0 : G);
    else forEachGroup(rows, cols, G, (o, len, g) => k.f32_minmax_rows(out.ptr + g * 8, x.ptr + o * 4, 1, len));
    return out.read();
  } finally {
    out.dispose();
  }
}

export interface FakeQuantizeOptions {
  /** Where to write y (shape of x; may be x itself). A new tensor when absent. */
  out?: Tensor<'f32'>;
  /** u8, shape of x: 1 where the code was inside [qmin, qmax] (the straight-through
   *  estimator's gradient mask), 0 where it was clipped. Not written when absent. */
  mask?: Tensor<'u8'>;
}

function fakeTargets(where: string, x: Tensor<'f32'>, options: FakeQuantizeOptions): { y: Tensor<'f32'>; mask: number } {
  checkKnownKeys(where, options, ['out', 'mask']);
  const y = outTensor(where, options.out, x.shape, 'f32');
  const m = options.mask;
  if (m !== undefined && (!(m instanceof Tensor) || m.dtype !== 'u8' || m.size !== x.size))
    throw new TypeError(`${where}: mask must be a u8 tensor of ${x.size} elements`);
  return { y, mask: m ? m.ptr : 0 };
}

/**
 * Quantise then dequantise in one step, (clamp(round(x/scale) + zp) − zp)·scale, as
 * torch.fake_quantize_per_tensor_affine; optionally the straight-through mask.
 *
 * @example
 * const y = fakeQuantize(x, { scale: 0.1, zeroPoint: 0, qmin: -128, qmax: 127 });
 */
export function fakeQuantize(x: Tensor<'f32'>, p: Quantization, options: FakeQuantizeOptions = {}): Tensor<'f32'> {
  const where = 'fakeQuantize';
  checkF32(where, 'x', x);
  checkQuantization(where, p);
  const { y, mask } = fakeTargets(where, x, options);
  kernels().f32_fake_quant(y.ptr, mask, x.ptr, x.size, p.scale, p.zeroPoint, p.qmin, p.qmax);
  return y;
}

/** Fake quantisation with one scale and zero point per row of x [rows, cols]. */
export function fakeQuantizeRows(x: Tensor<'f32'>, p: GroupQuantization, options: FakeQuantizeOptions = {}): Tensor<'f32'> {
  const where = 'fakeQuantizeRows';
  checkF32(where, 'x', x);
  const [rows, cols] = matrix(where, 'x', x);
  if (p?.groupSize !== undefined && p.groupSize !== cols)
    throw new RangeError(`${where}: one group per row only (groupSize ${cols}), got ${p.groupSize}`);
  checkGroupParams(where, p, rows, cols);
  const { y, mask } = fakeTargets(where, x, options);
  withParams(p, (sp, zp) => kernels().f32_fake_quant_rows(y.ptr, mask, x.ptr, rows, cols, sp, zp, p.qmin, p.qmax));
  return y;
}

/**
 * Dynamic quantisation to quint8: the range of x gives PyTorch's affine observer parameters
 * (computed inside the core), then x is quantised with them.
 *
 * @example
 * const { q, scale, zeroPoint } = quantizeDynamic(activations);
 */
export function quantizeDynamic(x: Tensor<'f32'>): { q: Tensor<'u8'>; scale: number; zeroPoint: number } {
  const where = 'quantizeDynamic';
  checkF32(where, 'x', x);
  const q = Tensor.empty(x.shape, 'u8');
  const params = Tensor.empty([2]);
  try {
    kernels().f32_quantize_dynamic(q.ptr, params.ptr, x.ptr, x.size);
    const scale = params.view()[0]!;
    const zeroPoint = i32View(params.ptr + 4, 1)[0]!;
    return { q, scale, zeroPoint };
  } finally {
    params.dispose();
  }
}

/** int8 weights [N,K] packed once for int8Gemm (the kernel's pair-interleaved i16 panels, with
 *  the weight zero points already subtracted). */
export interface PackedInt8Weights {
  readonly packed: Tensor<'u8'>;
  readonly N: number;
  readonly K: number;
}

/** Packs w [N,K] i8 (and its per-row zero points, if affine) for int8Gemm.
 *  @example const wp = packInt8Weights(codes); */
export function packInt8Weights(w: Tensor<'i8'>, zeroPoints?: Int32Array): PackedInt8Weights {
  const where = 'packInt8Weights';
  if (!(w instanceof Tensor) || w.dtype !== 'i8') throw new TypeError(`${where}: w must be an i8 tensor`);
  const [N, K] = matrix(where, 'w', w);
  if (K > INT8_GEMM_MAX_K) throw new RangeError(`${where}: K must be <= ${INT8_GEMM_MAX_K} (i32 accumulators), got ${K}`);
  if (zeroPoints !== undefined && (!(zeroPoints instanceof Int32Array) || zeroPoints.length !== N))
    throw new RangeError(`${where}: zeroPoints must be an Int32Array of ${N}`);
  zeroPoints?.forEach((z, i) => checkZeroPoint(where, `zeroPoints[${i}]`, z, -128, 127));
  const k = kernels();
  const packed = Tensor.empty([k.i8_gemm_packed_bytes(N, K)], 'u8');
  const z = zeroPoints ? Tensor.from(zeroPoints, [N], 'i32') : undefined;
  try {
    k.i8_gemm_pack_w(packed.ptr, w.ptr, z ? z.ptr : 0, N, K);
  } finally {
    z?.dispose();
  }
  return { packed, N, K };
}

export type Int8GemmOutput =
  | { output: 'i32' }
  | { output: 'f32'; xScale: number; weightScales: Tensor<'f32'>; bias?: Tensor<'f32'>; relu?: boolean }
  | {
      output: 'u8';
      xScale: number;
      weightScales: Tensor<'f32'>;
      bias?: Tensor<'f32'>;
      relu?: boolean;
      outScale: number;
      outZeroPoint: number;
    };

/**
 * y = x·wᵀ over codes: acc[m,n] = Σ_k (x[m,k] − xZeroPoint)·(w[n,k] − zw[n]) in i32, returned as
 * i32, or dequantised to f32 (f32(acc)·(xScale·weightScales[n]) + bias[n], ReLU optional), or
 * requantised to u8 with outScale and outZeroPoint.
 *
 * @example
 * const acc = int8Gemm(xq, 128, packInt8Weights(wq), { output: 'i32' });
 */
export function int8Gemm(
  x: ByteTensor,
  xZeroPoint: number,
  w: PackedInt8Weights,
  epilogue: Int8GemmOutput,
): Tensor<'i32'> | Tensor<'f32'> | Tensor<'u8'> {
  const where = 'int8Gemm';
  checkBytes(where, 'x', x);
  const [M, K] = matrix(where, 'x', x);
  if (K !== w.K) throw new RangeError(`${where}: x ${shapeText(x.shape)} has ${K} columns, the weights have K = ${w.K}`);
  const signed = x.dtype === 'i8' ? 1 : 0;
  checkZeroPoint(where, 'xZeroPoint', xZeroPoint, signed ? -128 : 0, signed ? 127 : 255);
  const N = w.N;
  const k = kernels();
  const scratch = Tensor.empty([k.i8_gemm_scratch_bytes(M, K)], 'u8');
  try {
    if (epilogue.output === 'i32') {
      const c = Tensor.empty([M, N], 'i32');
      k.i8_gemm_i32(c.ptr, x.ptr, signed, xZeroPoint, w.packed.ptr, scratch.ptr, M, N, K);
      return c;
    }
    const xs = checkScale(where, 'xScale', epilogue.xScale);
    const ws = checkF32(where, 'weightScales', epilogue.weightScales);
    if (ws.size !== N) throw new RangeError(`${where}: weightScales must hold ${N} scales, got ${ws.size}`);
    const bias = epilogue.bias === undefined ? undefined : checkF32(where, 'bias', epilogue.bias);
    if (bias && bias.size !== N) throw new RangeError(`${where}: bias must hold ${N} values, got ${bias.size}`);
    const relu = epilogue.relu ? 1 : 0;
    if (epilogue.output === 'f32') {
      const y = Tensor.empty([M, N]);
      k.i8_gemm_f32(y.ptr, x.ptr, signed, xZeroPoint, xs, w.packed.ptr, scratch.ptr, M, N, K, ws.ptr, bias ? bias.ptr : 0, relu);
      return y;
    }
    if (epilogue.output !== 'u8')
      throw new TypeError(`${where}: output must be 'i32', 'f32' or 'u8', got ${String((epilogue as { output: unknown }).output)}`);
    const ys = checkScale(where, 'outScale', epilogue.outScale);
    const zy = checkZeroPoint(where, 'outZeroPoint', epilogue.outZeroPoint, 0, 255);
    const q = Tensor.empty([M, N], 'u8');
    k.i8_gemm_u8(q.ptr, x.ptr, signed, xZeroPoint, xs, w.packed.ptr, scratch.ptr, M, N, K, ws.ptr, bias ? bias.ptr : 0, relu, ys, zy);
    return q;
  } finally {
    scratch.dispose();
  }
}

/** int4 codes packed for int4Gemm: nibble panels plus per-group scales and zero points. */
export interface PackedInt4Weights {
  readonly codes: Tensor<'u8'>;
  readonly params: Tensor<'u8'>;
  readonly N: number;
  readonly K: number;
  readonly groupSize: number;
}

/**
 * Packs int4 codes q [N,K] (i8 holding [-8, 7] when symmetric, [0, 15] with zero points) and
 * their per-group scales (and zero points) [N, ceil(K/groupSize)] for int4Gemm.
 *
 * @example
 * const w4 = packInt4Weights(codes, { scales, qmin: -8, qmax: 7, groupSize: 32 });
 */
export function packInt4Weights(q: Tensor<'i8'>, p: GroupQuantization): PackedInt4Weights {
  const where = 'packInt4Weights';
  if (!(q instanceof Tensor) || q.dtype !== 'i8') throw new TypeError(`${where}: q must be an i8 tensor of int4 codes`);
  const [N, K] = matrix(where, 'q', q);
  const symmetric = p?.qmin === -8 && p.qmax === 7;
  if (!symmetric && !(p?.qmin === 0 && p.qmax === 15))
    throw new RangeError(`${where}: int4 codes range over [-8, 7] or [0, 15], got [${p?.qmin}, ${p?.qmax}]`);
  const G = p.groupSize ?? K;
  if (!(INT4_GROUP_SIZES as readonly number[]).includes(G))
    throw new RangeError(`${where}: groupSize must be one of ${INT4_GROUP_SIZES.join(', ')}, got ${G}`);
  checkGroupParams(where, p, N, K);
  const codes = q.view();
  for (let i = 0; i < codes.length; i++) {
    if (codes[i]! < p.qmin || codes[i]! > p.qmax)
      throw new RangeError(`${where}: code ${codes[i]} at index ${i} lies outside [${p.qmin}, ${p.qmax}]`);
  }
  const k = kernels();
  const offset = symmetric ? 8 : 0;
  const packed = Tensor.empty([k.i4_gemm_packed_bytes(N, K)], 'u8');
  const params = Tensor.empty([k.i4_gemm_params_bytes(N, K, G)], 'u8');
  k.i4_gemm_pack_w(packed.ptr, q.ptr, offset, N, K);
  withParams(p, (sp, zp) => k.i4_gemm_pack_params(params.ptr, sp, zp, offset, N, K, G));
  return { codes: packed, params, N, K, groupSize: G };
}

/**
 * y [M,N] = x·wᵀ + bias with x f32 [M,K] and w dequantised from the int4 codes on the fly
 * ((q − zp)·scale per group, f32 sum in ascending k); ReLU optional.
 *
 * @example
 * const y = int4Gemm(x, w4, { bias });
 */
export function int4Gemm(x: Tensor<'f32'>, w: PackedInt4Weights, options: { bias?: Tensor<'f32'>; relu?: boolean } = {}): Tensor<'f32'> {
  const where = 'int4Gemm';
  checkKnownKeys(where, options, ['bias', 'relu']);
  checkF32(where, 'x', x);
  const [M, K] = matrix(where, 'x', x);
  if (K !== w.K) throw new RangeError(`${where}: x ${shapeText(x.shape)} has ${K} columns, the weights have K = ${w.K}`);
  const bias = options.bias === undefined ? undefined : checkF32(where, 'bias', options.bias);
  if (bias && bias.size !== w.N) throw new RangeError(`${where}: bias must hold ${w.N} values, got ${bias.size}`);
  const k = kernels();
  const y = Tensor.empty([M, w.N]);
  const scratch = Tensor.empty([k.i4_gemm_scratch_bytes(M, K)], 'u8');
  try {
    k.i4_gemm_f32(y.ptr, x.ptr, w.codes.ptr, w.params.ptr, scratch.ptr, M, w.N, K, w.groupSize, bias ? bias.ptr : 0, options.relu ? 1 : 0);
  } finally {
    scratch.dispose();
  }
  return y;
}

/**
 * TensorRT's entropy calibration over a histogram of |x| (counts in `hist`, bins of equal width
 * from 0): the number of bins i in [levels, bins] whose clipped distribution loses the least
 * information (KL divergence) when quantised to `levels` levels; the threshold is i bin widths.
 *
 * @example
 * const i = entropyThreshold(hist); // threshold = i · max|x| / hist.length
 */
export function entropyThreshold(hist: Float64Array, levels = 128): number {
  const where = 'entropyThreshold';
  if (!(hist instanceof Float64Array)) throw new TypeError(`${where}: hist must be a Float64Array`);
  checkInteger(where, 'levels', levels, 1, 1 << 16);
  if (hist.length < levels) throw new RangeError(`${where}: hist needs at least ${levels} bins, got ${hist.length}`);
  hist.forEach((c, i) => {
    if (!(c >= 0) || !Number.isFinite(c)) throw new RangeError(`${where}: counts must be finite and >= 0, got ${c} at bin ${i}`);
  });
  const bytes = hist.length * 8;
  const block = allocBytes(3 * bytes);
  try {
    new Float64Array(u8View(block, bytes).buffer, block, hist.length).set(hist);
    return kernels().f64_entropy_threshold(block, block + bytes, block + 2 * bytes, hist.length, levels);
  } finally {
    freeBytes(block);
  }
}
