// kiln model → ONNX (opset 13). The graph mirrors what kiln runs, op for op:
//   standardisation   Mul(scale) then Add(shift): the f32 column affine kiln applies
//   dense             Gemm(x, W [units, inputs], b, transB=1), as PyTorch exports nn.Linear
//   activations       Relu, LeakyRelu(alpha), Sigmoid, Tanh; GELU exactly, as PyTorch exports
//                     it below opset 20: Div(√2) → Erf → Add(1) → Mul(x) → Mul(0.5)
//   output            Softmax(axis −1) for classification, Sigmoid for binary, raw for regression
//   static int8       QDQ: QuantizeLinear/DequantizeLinear (u8, the calibrated scale and zero
//                     point) on each dense layer's input; int8 weight codes through
//                     DequantizeLinear with one scale (and zero point) per output channel (axis 0)
//   dynamic int8      DynamicQuantizeLinear → MatMulInteger(u8 x, i8 Wᵀ) → Cast → Mul(x scale ·
//                     weight scales) → Add(bias): kiln's f32(acc)·(xs·ws[n]) + b in that order
//   int4              weights dequantised to f32 (ONNX 4-bit types need opset 21)
// The batch dimension is symbolic ('batch'); the preprocessing rides along as metadata_props.
import { version } from '../../package.json';
import { checkKnownKeys } from '../core/errors.ts';
import { describeModel, type ExportableModel, type FloatDense, type Int8Net, type NetDescription } from './adapter.ts';
import { attrFloat, attrInt, GraphBuilder } from './graph-builder.ts';
import { DataType, encodeModel, type ValueInfoProto } from './proto.ts';

/** Options of `exportOnnx`. */
export interface ExportOnnxOptions {
  /** Name of the graph input [batch, inputs] (raw rows, before standardisation). Default 'input'. */
  inputName?: string;
  /** Name of the graph output [batch, outputs]: what `predict` returns. Default 'output'. */
  outputName?: string;
}

/** The default-domain opset kiln writes. */
export const ONNX_OPSET = 13;
/** IR version 7 pairs with opset 13 (onnx 1.8). */
const IR_VERSION = 7;
/** metadata_props keys kiln writes (and reads back on import). */
export const METADATA_KEYS = { task: 'kiln.task', preprocessing: 'kiln.preprocessing', quantization: 'kiln.quantization' } as const;

const WHERE = 'exportOnnx';

/**
 * Writes a kiln model as an ONNX model (protobuf bytes) that ONNX Runtime runs with the same
 * predictions: float models (a pruned one dense) at opset 13, static int8 models in QDQ form,
 * dynamic int8 models as DynamicQuantizeLinear + MatMulInteger, int4 models with dequantised
 * f32 weights. The input takes raw rows (standardisation is inside the graph); the output is what
 * `predict` returns (probabilities, a sigmoid probability, or regression values).
 *
 * Dynamic int8: ONNX's DynamicQuantizeLinear takes one activation range per call, as kiln's
 * `dynamicRange: 'batch'` does per chunk of up to 1024 rows; a `'row'` model gives kiln's per-row
 * results when ONNX Runtime is called one row at a time.
 *
 * @example
 * const bytes = exportOnnx(model);             // Sequential, SparseModel or QuantizedModel
 * await writeFileAtomic('model.onnx', bytes);
 * // ONNX Runtime: session.run({ input: new ort.Tensor('float32', rows, [n, model.inputs]) })
 */
export function exportOnnx(model: ExportableModel, options: ExportOnnxOptions = {}): Uint8Array {
  if (options === null || typeof options !== 'object') throw new TypeError(`${WHERE}: options must be an object, got ${String(options)}`);
  checkKnownKeys(WHERE, options, ['inputName', 'outputName']);
  const inputName = checkName('inputName', options.inputName ?? 'input');
  const outputName = checkName('outputName', options.outputName ?? 'output');
  if (inputName === outputName) throw new RangeError(`${WHERE}: inputName and outputName must differ, both are '${inputName}'`);
  const net = describeModel(model, WHERE);
  const g = new GraphBuilder();
  let x = inputName;
  // Shaped rows ([channels, height, width]) enter as they are and are flattened first, as kiln
  // stores them.
  if (net.inputShape.length > 1) x = g.node('input', 'Flatten', [x], [attrInt('axis', 1)])[0]!;
  if (net.standardize) {
    x = g.node('standardize', 'Mul', [x, g.constant('standardize.scale', [net.inputs], net.standardize.scale)])[0]!;
    x = g.node('standardize', 'Add', [x, g.constant('standardize.shift', [net.inputs], net.standardize.shift)])[0]!;
  }
  if (net.kind === 'float') net.layers.forEach((l) => (x = floatLayer(g, l.name, x, l)));
  else net.layers.forEach((l, i) => (x = int8Layer(g, `layers.${i}`, x, l, net)));
  if (net.task === 'classification') x = g.node('output', 'Softmax', [x], [attrInt('axis', -1)])[0]!;
  else if (net.task === 'binary') x = g.node('output', 'Sigmoid', [x])[0]!;
  if (x === inputName) x = g.node('output', 'Identity', [x])[0]!;
  g.rename(x, outputName);

  const tensor = (name: string, shape: readonly number[]): ValueInfoProto => ({
    name,
    elemType: DataType.FLOAT,
    shape: ['batch', ...shape],
  });
  return encodeModel({
    irVersion: IR_VERSION,
    producerName: 'kiln',
    producerVersion: version,
    docString: `kiln ${net.kind === 'int8' ? net.scheme : (net.from ?? 'float32')} ${net.task} model: ${net.inputs} → ${net.layers.map((l) => l.units).join(' → ')}`,
    opsetImports: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: 'kiln',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [tensor(inputName, net.inputShape)],
      outputs: [tensor(outputName, [net.outputs])],
      sparseInitializers: 0,
    },
    metadata: metadata(net),
    functions: 0,
  });
}

function checkName(option: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new TypeError(`${WHERE}: ${option} must be a non-empty string, got ${JSON.stringify(name)}`);
  return name;
}

function metadata(net: NetDescription): { key: string; value: string }[] {
  const { mean, std, featureNames, classNames, table } = net.preprocessing;
  // `table` is how raw table rows become the graph's inputs (kiln's tableInputs): the graph, like
  // predict, takes the encoded rows.
  const pre = {
    ...(mean ? { mean } : {}),
    ...(std ? { std } : {}),
    ...(featureNames ? { featureNames } : {}),
    ...(classNames ? { classNames } : {}),
    ...(table ? { table } : {}),
  };
  const entries: { key: string; value: string }[] = [
    { key: METADATA_KEYS.task, value: net.task },
    { key: METADATA_KEYS.preprocessing, value: JSON.stringify(pre) },
  ];
  if (net.kind === 'int8') {
    const q = {
      scheme: net.scheme,
      activations: net.activations,
      ...(net.dynamicRange ? { dynamicRange: net.dynamicRange } : {}),
      ...(net.calibration ? { calibration: net.calibration } : {}),
    };
    entries.push({ key: METADATA_KEYS.quantization, value: JSON.stringify(q) });
  } else if (net.from) {
    entries.push({
      key: METADATA_KEYS.quantization,
      value: JSON.stringify({ scheme: net.from, activations: 'float', weights: 'dequantized to float32' }),
    });
  }
  return entries;
}

function floatLayer(g: GraphBuilder, prefix: string, x: string, l: FloatDense): string {
  const w = g.constant(`${prefix}.weight`, [l.units, l.inputs], l.weight);
  const b = g.constant(`${prefix}.bias`, [l.units], l.bias);
  const y = g.node(prefix, 'Gemm', [x, w, b], [attrInt('transB', 1)])[0]!;
  return activation(g, prefix, y, l);
}

function activation(g: GraphBuilder, prefix: string, x: string, l: { activation: string; alpha: number }): string {
  switch (l.activation) {
    case 'linear':
      return x;
    case 'relu':
      return g.node(prefix, 'Relu', [x])[0]!;
    case 'leaky_relu':
      return g.node(prefix, 'LeakyRelu', [x], [attrFloat('alpha', l.alpha)])[0]!;
    case 'sigmoid':
      return g.node(prefix, 'Sigmoid', [x])[0]!;
    case 'tanh':
      return g.node(prefix, 'Tanh', [x])[0]!;
    case 'gelu': {
      const scalar = (name: string, v: number) =>
        g.initializers.some((t) => t.name === name) ? name : g.constant(name, [], Float32Array.of(v));
      const d = g.node(prefix, 'Div', [x, scalar('gelu.sqrt2', Math.SQRT2)])[0]!;
      const e = g.node(prefix, 'Erf', [d])[0]!;
      const a = g.node(prefix, 'Add', [e, scalar('gelu.one', 1)])[0]!;
      const m = g.node(prefix, 'Mul', [x, a])[0]!;
      return g.node(prefix, 'Mul', [m, scalar('gelu.half', 0.5)])[0]!;
    }
    default:
      throw new TypeError(`${WHERE}: ${prefix} has activation '${l.activation}', which has no ONNX form here`);
  }
}

// Weight zero points as int8, shaped like the scales (scalar per tensor, [units] per channel).
function weightParams(
  g: GraphBuilder,
  prefix: string,
  l: Int8Net['layers'][number],
): { scale: string; zeroPoint: string; perChannel: boolean } {
  const perChannel = l.scales.length > 1;
  const dims = perChannel ? [l.units] : [];
  const zp = Int8Array.from(l.zeroPoints ?? new Int32Array(l.scales.length));
  return {
    scale: g.constant(`${prefix}.weight_scale`, dims, l.scales),
    zeroPoint: g.constant(`${prefix}.weight_zero_point`, dims, zp),
    perChannel,
  };
}

function int8Layer(g: GraphBuilder, prefix: string, x: string, l: Int8Net['layers'][number], net: Int8Net): string {
  const b = g.constant(`${prefix}.bias`, [l.units], l.bias);
  const w = weightParams(g, prefix, l);
  let y: string;
  if (net.activations === 'static') {
    const input = l.input!;
    const s = g.constant(`${prefix}.input_scale`, [], Float32Array.of(input.scale));
    const z = g.constant(`${prefix}.input_zero_point`, [], Uint8Array.of(input.zeroPoint));
    const q = g.node(prefix, 'QuantizeLinear', [x, s, z])[0]!;
    const xd = g.node(prefix, 'DequantizeLinear', [q, s, z])[0]!;
    const codes = g.constant(`${prefix}.weight_quantized`, [l.units, l.inputs], l.codes);
    const wd = g.node(prefix, 'DequantizeLinear', [codes, w.scale, w.zeroPoint], w.perChannel ? [attrInt('axis', 0)] : [])[0]!;
    y = g.node(prefix, 'Gemm', [xd, wd, b], [attrInt('transB', 1)])[0]!;
  } else {
    // MatMulInteger takes B as [inputs, units]: the codes transposed.
    const codesT = new Int8Array(l.codes.length);
    for (let n = 0; n < l.units; n++) for (let k = 0; k < l.inputs; k++) codesT[k * l.units + n] = l.codes[n * l.inputs + k]!;
    const codes = g.constant(`${prefix}.weight_quantized_t`, [l.inputs, l.units], codesT);
    const [q, xs, xz] = g.node(prefix, 'DynamicQuantizeLinear', [x], [], 3) as [string, string, string];
    const acc = g.node(prefix, 'MatMulInteger', [q, codes, xz, w.zeroPoint])[0]!;
    const accF = g.node(prefix, 'Cast', [acc], [attrInt('to', DataType.FLOAT)])[0]!;
    const scale = g.node(prefix, 'Mul', [xs, w.scale])[0]!;
    y = g.node(prefix, 'Add', [g.node(prefix, 'Mul', [accF, scale])[0]!, b])[0]!;
  }
  return activation(g, prefix, y, l);
}
