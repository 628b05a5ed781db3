// QuantizedModel: a quantised MLP that runs on the int8 / int4 kernels. It is built from a plain
// description (codes, scales, zero points, biases, activation parameters) that quantize(), QAT
// and the model file all produce; the description is validated here, whatever its source.
import { ACTIVATIONS, activationCode, type Activation } from '../../core/activation.ts';
import { checkFiniteData, shapeText } from '../../core/errors.ts';
import { QuantEngine, type ActivationQuant, type QuantConvSpec, type QuantLayerSpec, type QuantPoolSpec } from '../../core/quant-engine.ts';
import { INT4_GROUP_SIZES } from '../../core/ops/quant.ts';
import { classesOf, flattenRows, InputAffine, OUTPUT_OF_TASK, type Predictor, type Rows, type Task } from '../../nn/predictor.ts';
import { QUINT8, weightRange } from './qparams.ts';

/** Every `QuantScheme`. */
export const QUANT_SCHEMES = ['int8-per-tensor', 'int8-per-channel', 'int8-dynamic', 'int4'] as const;
/** int8-per-tensor / int8-per-channel: int8 weights (one scale, or one per output channel) and
 *  static u8 activations; int8-dynamic: per-channel int8 weights, u8 activations quantised at run
 *  time from their range (per chunk of rows, or per row); int4: 4-bit weights per group of input
 *  columns, f32 activations. */
export type QuantScheme = (typeof QUANT_SCHEMES)[number];

/** One dense or convolution layer of a quantised model. Arrays are row-major. A convolution
 *  (`conv` given) has units = filters and inputs = (C/groups)·KH·KW, its codes in PyTorch's
 *  [O, C/groups, KH, KW] order; `pools` are the pooling layers after it. */
export interface QuantizedLayer {
  readonly conv?: QuantConvSpec;
  readonly pools?: readonly QuantPoolSpec[];
  readonly inputs: number;
  readonly units: number;
  readonly activation: Activation;
  /** Negative slope of leaky_relu. */
  readonly alpha: number;
  /** Codes [units, inputs]: int8 in [-128, 127]; int4 in [-8, 7] (symmetric) or [0, 15]. */
  readonly codes: Int8Array;
  /** f32 scales: [1] per tensor, [units] per channel, [units, ceil(inputs / groupSize)] per group. */
  readonly scales: Float32Array;
  /** Zero points shaped like scales (affine weights); undefined when symmetric. */
  readonly zeroPoints?: Int32Array;
  readonly bias: Float32Array;
  /** Static schemes: scale and zero point (quint8) of the layer's input. */
  readonly input?: { readonly scale: number; readonly zeroPoint: number };
}

/** Everything a `QuantizedModel` is built from: scheme, layers and input preprocessing. */
export interface QuantizedModelSpec {
  readonly scheme: QuantScheme;
  /** Weights symmetric (zero point 0) or affine. */
  readonly symmetric: boolean;
  /** int4 only. */
  readonly groupSize?: number;
  /** int8-dynamic only: one activation range per chunk of rows (default 'batch', as PyTorch) or
   *  per row ('row': a row's prediction does not depend on the rows it is batched with). */
  readonly dynamicRange?: 'batch' | 'row';
  readonly task: Task;
  /** The shape of one input row when it is not flat ([channels, height, width] for images). */
  readonly inputShape?: readonly number[];
  /** Raw inputs become x·scale + shift per column before the first layer: the source model's
   *  standardisation, as the f32 affine it runs (StandardScaler.affine()). */
  readonly standardize?: { readonly scale: Float32Array; readonly shift: Float32Array };
  readonly classNames?: readonly string[];
  readonly featureNames?: readonly string[];
  readonly layers: readonly QuantizedLayer[];
  /** How the static activation ranges were found ('minmax', 'entropy', 'qat', …); informative. */
  readonly calibration?: string;
}

export interface QuantizedLayerInfo {
  type: 'dense' | 'conv2d';
  inputs: number;
  units: number;
  activation: Activation;
  bits: 8 | 4;
  granularity: 'tensor' | 'channel' | 'group';
  scales: number;
  input?: { scale: number; zeroPoint: number };
}

/** A summary of a `QuantizedModel`: its scheme, layers and size. */
export interface QuantizedModelInfo {
  scheme: QuantScheme;
  symmetric: boolean;
  groupSize?: number;
  /** Activations between layers: calibrated u8, u8 from each call's range, or f32. */
  activations: 'static' | 'dynamic' | 'float';
  dynamicRange?: 'batch' | 'row';
  calibration?: string;
  parameterCount: number;
  /** Bytes of the quantised parameters (codes, scales, zero points, biases, activation parameters). */
  bytes: number;
  /** Bytes of the same parameters in f32. */
  float32Bytes: number;
  compression: number;
  layers: QuantizedLayerInfo[];
}

export const bitsOf = (scheme: QuantScheme): 8 | 4 => (scheme === 'int4' ? 4 : 8);
function activationsOf(spec: QuantizedModelSpec): ActivationQuant {
  if (spec.scheme === 'int4') return 'none';
  if (spec.scheme === 'int8-dynamic') return spec.dynamicRange === 'row' ? 'dynamic-rows' : 'dynamic';
  return 'static';
}

/**
 * A quantised MLP. Make one with `quantize(model, options)`, `qat.convert()` or
 * `loadQuantizedModel(path)`; free its WASM memory with `dispose()`.
 *
 * @example
 * const q = quantize(model, { scheme: 'int8-per-channel', calibration: { data: train } });
 * q.predictClasses(test.features); q.info().compression; // ≈ 3.9
 */
export class QuantizedModel implements Predictor {
  readonly scheme: QuantScheme;
  readonly symmetric: boolean;
  readonly groupSize: number | undefined;
  readonly dynamicRange: 'batch' | 'row' | undefined;
  readonly task: Task;
  readonly standardize: { readonly scale: Float32Array; readonly shift: Float32Array } | undefined;
  readonly classNames: readonly string[] | undefined;
  readonly featureNames: readonly string[] | undefined;
  readonly layers: readonly QuantizedLayer[];
  readonly calibration: string | undefined;
  readonly inputs: number;
  /** The shape of one input row ([inputs] for flat rows). */
  readonly inputShape: readonly number[];
  readonly outputs: number;
  #engine: QuantEngine;
  #affine: InputAffine | undefined;
  #where: string;

  /** Validates `spec` completely (RangeError / TypeError naming the field) and uploads it. */
  constructor(spec: QuantizedModelSpec) {
    checkSpec(spec);
    this.scheme = spec.scheme;
    this.symmetric = spec.symmetric;
    this.groupSize = spec.scheme === 'int4' ? spec.groupSize : undefined;
    this.dynamicRange = spec.scheme === 'int8-dynamic' ? (spec.dynamicRange ?? 'batch') : undefined;
    this.task = spec.task;
    this.standardize = spec.standardize
      ? Object.freeze({ scale: spec.standardize.scale.slice(), shift: spec.standardize.shift.slice() })
      : undefined;
    this.classNames = spec.classNames ? Object.freeze(spec.classNames.slice()) : undefined;
    this.featureNames = spec.featureNames ? Object.freeze(spec.featureNames.slice()) : undefined;
    this.calibration = spec.calibration;
    // Copies: the engine uploads these arrays once, and a caller's later edits must not make the
    // model describe (or save) weights other than those it runs.
    this.layers = Object.freeze(
      spec.layers.map((l) =>
        Object.freeze({
          ...l,
          codes: l.codes.slice(),
          scales: l.scales.slice(),
          bias: l.bias.slice(),
          ...(l.zeroPoints ? { zeroPoints: l.zeroPoints.slice() } : {}),
          ...(l.input ? { input: Object.freeze({ scale: l.input.scale, zeroPoint: l.input.zeroPoint }) } : {}),
        }),
      ),
    );
    this.inputShape = Object.freeze((spec.inputShape ?? [spec.layers[0]!.inputs]).slice());
    this.inputs = this.inputShape.reduce((a, b) => a * b, 1);
    this.outputs = spec.layers.at(-1)!.units;
    this.#where = `QuantizedModel(${this.inputs}→${this.outputs}).predict`;
    const bits = bitsOf(spec.scheme);
    const layers: QuantLayerSpec[] = this.layers.map((l) => ({
      inputs: l.inputs,
      units: l.units,
      act: activationCode('QuantizedModel', l.activation),
      alpha: l.alpha,
      bits,
      codes: l.codes,
      scales: l.scales,
      zeroPoints: l.zeroPoints,
      groupSize: this.groupSize,
      bias: l.bias,
      input: l.input,
      ...(l.conv ? { conv: l.conv } : {}),
      ...(l.pools ? { pools: l.pools } : {}),
    }));
    this.#engine = new QuantEngine(layers, activationsOf(spec));
    const st = this.standardize;
    if (st) this.#affine = new InputAffine(st.scale, st.shift);
  }

  /** Weights and biases (as many as the f32 model has). */
  get parameterCount(): number {
    return this.layers.reduce((n, l) => n + l.units * l.inputs + l.units, 0);
  }

  /** Bytes of the quantised parameters: int8 codes 1 byte, int4 codes half a byte (rows padded to
   *  whole bytes), scales 4, zero points 1, biases 4, activation scale and zero point 4 + 4. */
  get bytes(): number {
    const bits = bitsOf(this.scheme);
    return this.layers.reduce((n, l) => {
      const codes = bits === 8 ? l.units * l.inputs : l.units * Math.ceil(l.inputs / 2);
      return n + codes + l.scales.length * 4 + (l.zeroPoints?.length ?? 0) + l.units * 4 + (l.input ? 8 : 0);
    }, 0);
  }

  info(): QuantizedModelInfo {
    const bits = bitsOf(this.scheme);
    const float32Bytes = this.parameterCount * 4;
    return {
      scheme: this.scheme,
      symmetric: this.symmetric,
      ...(this.groupSize !== undefined ? { groupSize: this.groupSize } : {}),
      activations: this.scheme === 'int4' ? 'float' : this.scheme === 'int8-dynamic' ? 'dynamic' : 'static',
      ...(this.dynamicRange !== undefined ? { dynamicRange: this.dynamicRange } : {}),
      ...(this.calibration !== undefined ? { calibration: this.calibration } : {}),
      parameterCount: this.parameterCount,
      bytes: this.bytes,
      float32Bytes,
      compression: float32Bytes / this.bytes,
      layers: this.layers.map((l) => ({
        type: l.conv ? ('conv2d' as const) : ('dense' as const),
        inputs: l.inputs,
        units: l.units,
        activation: l.activation,
        bits,
        granularity: bits === 4 ? 'group' : l.scales.length === 1 ? 'tensor' : 'channel',
        scales: l.scales.length,
        ...(l.input ? { input: { ...l.input } } : {}),
      })),
    };
  }

  /** Predictions for one sample or many (rows, or a flat array of n × inputs): class
   *  probabilities, a sigmoid probability or regression outputs, row-major. */
  predict(x: Rows): Float32Array {
    // Finiteness is checked in the core, on the rows the engine copies in anyway.
    return this.#engine.predictArray(
      flattenRows(this.#where, x, this.inputs),
      OUTPUT_OF_TASK[this.task],
      this.#affine?.tensors,
      this.#where,
    );
  }

  /** The most probable class of each sample (classification and binary models). */
  predictClasses(x: Rows): Int32Array {
    // The rule every model kind shares (Sequential's too); on finite outputs it is argmax.
    return classesOf(this.predict(x), this.outputs);
  }

  dispose(): void {
    this.#engine.dispose();
    this.#affine?.dispose();
    this.#affine = undefined;
  }
}

const isPositiveF32 = (v: number) => Number.isFinite(v) && v > 0 && Math.fround(v) === v;

function checkSpec(spec: QuantizedModelSpec): void {
  const where = 'QuantizedModel';
  if (spec === null || typeof spec !== 'object') throw new TypeError(`${where}: spec must be an object, got ${String(spec)}`);
  if (!QUANT_SCHEMES.includes(spec.scheme))
    throw new TypeError(`${where}: scheme must be one of ${QUANT_SCHEMES.join(', ')}, got ${String(spec.scheme)}`);
  if (typeof spec.symmetric !== 'boolean') throw new TypeError(`${where}: symmetric must be a boolean, got ${typeof spec.symmetric}`);
  if (!['classification', 'binary', 'regression'].includes(spec.task))
    throw new TypeError(`${where}: task must be classification, binary or regression, got ${String(spec.task)}`);
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) throw new RangeError(`${where}: layers must be a non-empty array`);
  const bits = bitsOf(spec.scheme);
  const G = spec.groupSize;
  if (bits === 4 && !(INT4_GROUP_SIZES as readonly number[]).includes(G as number))
    throw new RangeError(`${where}: int4 groupSize must be one of ${INT4_GROUP_SIZES.join(', ')}, got ${String(G)}`);
  if (bits === 8 && G !== undefined) throw new RangeError(`${where}: groupSize applies to int4, not ${spec.scheme}`);
  const dr = spec.dynamicRange;
  if (dr !== undefined && (spec.scheme !== 'int8-dynamic' || (dr !== 'batch' && dr !== 'row')))
    throw new RangeError(`${where}: dynamicRange is 'batch' or 'row' and applies to int8-dynamic, got ${String(dr)} with ${spec.scheme}`);
  const wr = weightRange(bits, spec.symmetric);
  spec.layers.forEach((l, i) => checkLayer(`${where} layer ${i}`, l, spec, wr, i > 0 ? spec.layers[i - 1]!.units : undefined));
  checkImage(where, spec);
  const last = spec.layers.at(-1)!;
  if (spec.task === 'binary' && last.units !== 1) throw new RangeError(`${where}: a binary model has one output, got ${last.units}`);
  const inputs = spec.inputShape ? spec.inputShape.reduce((a, b) => a * b, 1) : spec.layers[0]!.inputs;
  const st = spec.standardize;
  if (st !== undefined) {
    if (
      !(st.scale instanceof Float32Array) ||
      !(st.shift instanceof Float32Array) ||
      st.scale.length !== inputs ||
      st.shift.length !== inputs
    ) {
      throw new RangeError(
        `${where}: standardize needs scale and shift as Float32Array of ${inputs}, got ${describe(st.scale)} and ${describe(st.shift)}`,
      );
    }
    checkFiniteData(`${where} standardize.scale`, st.scale);
    checkFiniteData(`${where} standardize.shift`, st.shift);
  }
  checkNames(`${where}: featureNames`, spec.featureNames, inputs, inputs);
  checkNames(`${where}: classNames`, spec.classNames, 1, spec.task === 'regression' ? 0 : spec.task === 'binary' ? 2 : last.units);
}

function checkLayer(
  where: string,
  l: QuantizedLayer,
  spec: QuantizedModelSpec,
  wr: { qmin: number; qmax: number },
  prevUnits: number | undefined,
): void {
  if (l === null || typeof l !== 'object') throw new TypeError(`${where}: must be an object`);
  const { inputs, units } = l;
  if (!Number.isInteger(inputs) || inputs < 1 || !Number.isInteger(units) || units < 1)
    throw new RangeError(`${where}: inputs and units must be integers >= 1, got ${inputs} and ${units}`);
  // Layers around images chain by shape (checkImage).
  const image = l.conv !== undefined || (l.pools?.length ?? 0) > 0 || spec.inputShape !== undefined;
  if (!image && prevUnits !== undefined && inputs !== prevUnits)
    throw new RangeError(`${where}: takes ${inputs} inputs, the previous layer gives ${prevUnits}`);
  if (inputs > 32768) throw new RangeError(`${where}: at most 32768 inputs (int32 accumulators), got ${inputs}`);
  if (!ACTIVATIONS.includes(l.activation))
    throw new TypeError(`${where}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(l.activation)}`);
  if (!Number.isFinite(l.alpha)) throw new RangeError(`${where}: alpha must be finite, got ${l.alpha}`);
  if (!(l.codes instanceof Int8Array) || l.codes.length !== units * inputs)
    throw new RangeError(`${where}: codes must be an Int8Array of ${units}×${inputs}, got ${describe(l.codes)}`);
  for (let i = 0; i < l.codes.length; i++) {
    const c = l.codes[i]!;
    if (c < wr.qmin || c > wr.qmax)
      throw new RangeError(`${where}: code ${c} at [${Math.floor(i / inputs)}, ${i % inputs}] lies outside [${wr.qmin}, ${wr.qmax}]`);
  }
  const scaleCount = spec.scheme === 'int4' ? units * Math.ceil(inputs / spec.groupSize!) : spec.scheme === 'int8-per-tensor' ? 1 : units;
  const scaleShape = spec.scheme === 'int4' ? shapeText([units, Math.ceil(inputs / spec.groupSize!)]) : shapeText([scaleCount]);
  if (!(l.scales instanceof Float32Array) || l.scales.length !== scaleCount)
    throw new RangeError(`${where}: scales must be a Float32Array ${scaleShape}, got ${describe(l.scales)}`);
  l.scales.forEach((s, i) => {
    if (!isPositiveF32(s)) throw new RangeError(`${where}: scales[${i}] must be a positive finite f32, got ${s}`);
  });
  if (spec.symmetric) {
    if (l.zeroPoints !== undefined) throw new RangeError(`${where}: symmetric weights have no zero points`);
  } else {
    if (!(l.zeroPoints instanceof Int32Array) || l.zeroPoints.length !== scaleCount)
      throw new RangeError(`${where}: zeroPoints must be an Int32Array ${scaleShape} for affine weights, got ${describe(l.zeroPoints)}`);
    l.zeroPoints.forEach((z, i) => {
      if (!Number.isInteger(z) || z < wr.qmin || z > wr.qmax)
        throw new RangeError(`${where}: zeroPoints[${i}] must be an integer in [${wr.qmin}, ${wr.qmax}], got ${z}`);
    });
  }
  if (!(l.bias instanceof Float32Array) || l.bias.length !== units)
    throw new RangeError(`${where}: bias must be a Float32Array of ${units}, got ${describe(l.bias)}`);
  checkFiniteData(`${where} bias`, l.bias);
  const staticInput = spec.scheme === 'int8-per-tensor' || spec.scheme === 'int8-per-channel';
  if (!staticInput) {
    if (l.input !== undefined) throw new RangeError(`${where}: ${spec.scheme} has no static input quantisation`);
    return;
  }
  const p = l.input;
  if (!p || typeof p !== 'object') throw new RangeError(`${where}: static activations need the input's { scale, zeroPoint }`);
  if (!isPositiveF32(p.scale)) throw new RangeError(`${where}: input scale must be a positive finite f32, got ${p.scale}`);
  if (!Number.isInteger(p.zeroPoint) || p.zeroPoint < QUINT8.qmin || p.zeroPoint > QUINT8.qmax)
    throw new RangeError(`${where}: input zero point must be an integer in [0, 255], got ${p.zeroPoint}`);
}

const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 1 << 16;
const isPair = (v: unknown, min: number) =>
  Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && x >= min && x <= 1 << 16);

// Convolutions and pooling: geometry fields, windows that stay within reach of the image, and
// shapes that chain from the input to the first dense layer, which the last one must be.
function checkImage(where: string, spec: QuantizedModelSpec): void {
  const layers = spec.layers;
  const anyConv = layers.some((l) => l.conv !== undefined);
  if (!anyConv) {
    if (layers.some((l) => l.pools !== undefined)) throw new RangeError(`${where}: pooling follows convolutions only`);
    if (spec.inputShape !== undefined && spec.inputShape.reduce((a, b) => a * b, 1) !== layers[0]!.inputs)
      throw new RangeError(`${where}: inputShape [${spec.inputShape}] does not hold the first layer's ${layers[0]!.inputs} inputs`);
    if (spec.inputShape !== undefined)
      layers.forEach(
        (l, i) =>
          i > 0 &&
          l.inputs !== layers[i - 1]!.units &&
          fail(i, `takes ${l.inputs} inputs, the previous layer gives ${layers[i - 1]!.units}`),
      );
    return;
  }
  function fail(i: number, what: string): never {
    throw new RangeError(`${where} layer ${i}: ${what}`);
  }
  if (bitsOf(spec.scheme) !== 8) throw new RangeError(`${where}: convolutions are int8 (${spec.scheme} given)`);
  if (layers.at(-1)!.conv) fail(layers.length - 1, 'an int8 image model ends in a dense layer');
  const first = layers[0]!.conv;
  if (!first) fail(0, 'an image model starts with a convolution');
  let shape: readonly number[] = spec.inputShape ?? first.inputShape;
  const window = (
    i: number,
    name: string,
    s: readonly number[],
    o: readonly number[],
    g: QuantPoolSpec | QuantConvSpec,
    dil: readonly number[],
  ) => {
    if (!Array.isArray(s) || s.length !== 3 || !s.every(isCount))
      fail(i, `${name} inputShape must be [C, H, W] of integers >= 1, got ${JSON.stringify(s)}`);
    if (!Array.isArray(o) || o.length !== 3 || !o.every(isCount))
      fail(i, `${name} outputShape must be [C, H, W] of integers >= 1, got ${JSON.stringify(o)}`);
    if (!isPair(g.kernel, 1) || !isPair(g.stride, 1) || !isPair(g.padding, 0) || !isPair(dil, 1))
      fail(i, `${name} kernel, stride, dilation (integers >= 1) and padding (>= 0) must be [height, width] pairs`);
    if (s.join() !== shape.join()) fail(i, `${name} takes [${s}], the layer before gives [${shape}]`);
    // Every window starts inside the padded image and covers at least one position of it.
    for (const a of [0, 1]) {
      const span = (g.kernel[a]! - 1) * dil[a]! + 1,
        n = s[a + 1]!,
        last = (o[a + 1]! - 1) * g.stride[a]! - g.padding[a]!;
      if (g.padding[a]! >= span || last + span - 1 < 0 || last > n - 1 + g.padding[a]! || last >= n)
        fail(i, `${name} output [${o}] does not fit input [${s}] with its window`);
    }
    shape = o;
  };
  layers.forEach((l, i) => {
    const c = l.conv;
    if (c) {
      if (i > 0 && !layers[i - 1]!.conv) fail(i, 'a convolution follows convolutions only');
      if (c === null || typeof c !== 'object') fail(i, 'conv must be an object');
      if (!isCount(c.groups) || c.inputShape[0]! % c.groups !== 0 || c.outputShape[0]! % c.groups !== 0)
        fail(i, `groups must divide the input channels and the filters, got ${String(c.groups)}`);
      window(i, 'conv', c.inputShape, c.outputShape, c, c.dilation);
      if (c.outputShape[0] !== l.units) fail(i, `conv gives ${c.outputShape[0]} channels, the layer has ${l.units} units`);
      if (l.inputs !== (c.inputShape[0]! / c.groups) * c.kernel[0]! * c.kernel[1]!)
        fail(
          i,
          `a convolution's inputs are (C/groups)·KH·KW = ${(c.inputShape[0]! / c.groups) * c.kernel[0]! * c.kernel[1]!}, got ${l.inputs}`,
        );
    } else {
      if (l.pools !== undefined) fail(i, 'pooling follows convolutions only');
      const n = shape.reduce((a, b) => a * b, 1);
      if (l.inputs !== n) fail(i, `takes ${l.inputs} inputs, the layer before gives [${shape}] = ${n}`);
      shape = [l.units];
    }
    for (const p of l.pools ?? []) {
      if (p === null || typeof p !== 'object' || (p.kind !== 'max' && p.kind !== 'avg')) fail(i, `pools: kind must be 'max' or 'avg'`);
      if (p.inputShape[0] !== p.outputShape[0]) fail(i, 'pooling keeps the channels');
      window(i, `${p.kind} pool`, p.inputShape, p.outputShape, p, [1, 1]);
      if (2 * p.padding[0]! > p.kernel[0]! || 2 * p.padding[1]! > p.kernel[1]!) fail(i, 'pooling padding is at most half the window');
    }
  });
}

function checkNames(where: string, names: readonly string[] | undefined, least: number, most: number): void {
  if (names === undefined) return;
  if (!Array.isArray(names) || names.length < least || names.length > most || !names.every((n) => typeof n === 'string')) {
    const count = least === most ? `${most}` : `${least} to ${most}`;
    throw new RangeError(`${where} must be ${count} strings, got ${Array.isArray(names) ? `${names.length} entries` : typeof names}`);
  }
}

function describe(x: unknown): string {
  if (x === undefined) return 'undefined';
  if (ArrayBuffer.isView(x)) return `${x.constructor.name}(${(x as unknown as ArrayLike<number>).length})`;
  return typeof x;
}
