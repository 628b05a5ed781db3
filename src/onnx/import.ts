// ONNX → kiln: a graph that is a chain of dense layers becomes a Sequential. The walk starts at
// the one graph input and follows the single consumer of each value to the graph output:
//   Gemm (transA 0, any transB, alpha, beta), MatMul (+ Add of a bias)       → dense
//   Relu, LeakyRelu, Sigmoid, Tanh, Gelu (exact), the Erf form of GELU        → its activation
//   Softmax at the end → classification; Sigmoid on one output at the end   → binary
//   Mul / Add / Sub / Div by constant vectors before the first dense layer  → standardisation
//   Identity, Dropout, Flatten (axis 1), Reshape to [batch, features], Cast to float → nothing
// Anything else is refused naming the node, its op type and the opset. A graph whose outputs are
// raw scores (PyTorch's usual classifier, which leaves softmax to the loss) imports as
// regression unless `task` says otherwise.
import type { Activation } from '../core/activation.ts';
import { checkKnownKeys } from '../core/errors.ts';
import { StandardScaler } from '../data/scaler.ts';
import { TableEncoder } from '../data/table-encoder.ts';
import type { Preprocessing, Sequential, Task } from '../nn/sequential.ts';
import { buildSequential, type FloatDense, type FloatNet } from './adapter.ts';
import { OnnxError } from './errors.ts';
import { METADATA_KEYS } from './export.ts';
import {
  AttributeType,
  DataType,
  decodeModel,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto.ts';
import { floatValues, intValues, typeName } from './tensor-data.ts';

/** Options of `importOnnx`. */
export interface ImportOnnxOptions {
  /** The task of a graph that ends in raw scores: 'classification' adds softmax (logits in,
   *  probabilities out), 'binary' adds a sigmoid to a single output. Default: read from the graph
   *  (Softmax → classification, Sigmoid on one output → binary, otherwise regression). */
  task?: Task;
}

/** Default-domain opsets the importer reads. */
export const IMPORT_OPSETS = { min: 7, max: 21 } as const;

const SUPPORTED =
  'Gemm, MatMul (+ Add), Relu, LeakyRelu, Sigmoid, Tanh, Gelu, Erf-based GELU, Softmax, Identity, Dropout, Flatten, Reshape, Cast, and Mul/Add/Sub/Div by constants before the first layer';
const WHERE = 'importOnnx';

type Dense = { -readonly [K in keyof Omit<FloatDense, 'name'>]: FloatDense[K] };

/**
 * Reads an ONNX model of a feed-forward network (as PyTorch, TensorFlow and most converters
 * export an MLP) into a kiln `Sequential`: usable as a distillation teacher, for pruning,
 * quantization, further training or saving. Float32, float16 and float64 weights are read
 * (as f32). Malformed files and graphs kiln cannot express throw an `OnnxError` naming what and
 * where.
 *
 * @example
 * const teacher = importOnnx(new Uint8Array(await readFile('mlp.onnx')), { task: 'classification' });
 * teacher.predict(rows); // the ONNX model's outputs (here through softmax)
 */
export function importOnnx(bytes: Uint8Array, options: ImportOnnxOptions = {}): Sequential {
  if (options === null || typeof options !== 'object') throw new TypeError(`${WHERE}: options must be an object, got ${String(options)}`);
  checkKnownKeys(WHERE, options, ['task']);
  if (options.task !== undefined && !['classification', 'binary', 'regression'].includes(options.task))
    throw new TypeError(`${WHERE}: task must be classification, binary or regression, got ${String(options.task)}`);
  const model = decodeModel(bytes);
  if (!model.graph) throw new OnnxError('ONNX model: no graph');
  const opset = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
  if (opset === undefined) throw new OnnxError('ONNX model: no opset_import for the default domain');
  if (opset < IMPORT_OPSETS.min || opset > IMPORT_OPSETS.max)
    throw new OnnxError(`ONNX model: opset ${opset} is outside the opsets kiln reads (${IMPORT_OPSETS.min} to ${IMPORT_OPSETS.max})`);
  const metadata = new Map(model.metadata.map((e) => [e.key, e.value]));
  const net = new ChainReader(model.graph, opset).read(options.task, metadata);
  try {
    return buildSequential(net);
  } catch (error) {
    // Sizes or values a kiln model refuses (a layer wider than 2^20 units, ...): still the file's fault.
    throw new OnnxError(`ONNX graph: not a model kiln can hold: ${(error as Error).message}`);
  }
}

type Final = 'softmax' | 'sigmoid' | undefined;

class ChainReader {
  readonly #graph: GraphProto;
  readonly #opset: number;
  readonly #constants = new Map<string, TensorProto>();
  readonly #consumers = new Map<string, NodeProto[]>();
  readonly #outputName: string;
  readonly #input: ValueInfoProto;

  constructor(graph: GraphProto, opset: number) {
    this.#graph = graph;
    this.#opset = opset;
    if (graph.sparseInitializers > 0)
      throw new OnnxError('ONNX graph: sparse_initializer tensors are not supported (store the weights dense)');
    for (const t of graph.initializers) this.#constants.set(t.name, t);
    const inputs = graph.inputs.filter((v) => !this.#constants.has(v.name));
    if (inputs.length !== 1)
      throw new OnnxError(
        `ONNX graph: kiln reads graphs with one input, this one has ${inputs.length} (${inputs.map((v) => v.name).join(', ') || 'none'})`,
      );
    this.#input = inputs[0]!;
    if (this.#input.elemType !== DataType.FLOAT)
      throw new OnnxError(`ONNX graph: input '${this.#input.name}' is ${typeName(this.#input.elemType)}, kiln reads float32 inputs`);
    checkAcyclic(graph);
    for (const n of graph.nodes) {
      const standard = n.domain === '' || n.domain === 'ai.onnx';
      if (standard && n.opType === 'Constant') {
        this.#constants.set(n.outputs[0] ?? '', constantTensor(n, this.#where(n)));
        continue;
      }
      // A Cast or Identity of a constant is a constant (float16 weights cast to float32, as
      // mixed-precision exports write them); nodes come in topological order, as ONNX requires.
      const source = this.#constants.get(n.inputs[0] ?? '');
      if (
        standard &&
        source &&
        n.inputs.length === 1 &&
        (n.opType === 'Identity' || (n.opType === 'Cast' && n.attributes.some((a) => a.name === 'to' && a.i === DataType.FLOAT)))
      ) {
        this.#constants.set(n.outputs[0] ?? '', { ...source, name: n.outputs[0] ?? '' });
        continue;
      }
      for (const i of new Set(n.inputs)) if (i !== '') (this.#consumers.get(i) ?? this.#consumers.set(i, []).get(i)!).push(n);
    }
    if (graph.outputs.length === 0) throw new OnnxError('ONNX graph: no outputs');
    this.#outputName = graph.outputs[0]!.name;
  }

  #where(n: NodeProto): string {
    return `node '${n.name || n.outputs[0] || '?'}' (op ${n.domain ? `${n.domain}.` : ''}${n.opType}, opset ${this.#opset})`;
  }

  #constant(name: string | undefined): TensorProto | undefined {
    return name === undefined ? undefined : this.#constants.get(name);
  }

  read(task: Task | undefined, metadata: Map<string, string>): FloatNet {
    const input = this.#input;
    const layers: Dense[] = [];
    let affine: { scale: number[]; shift: number[] } | undefined;
    let final: Final;
    let sinceDense = 0; // ops since the last dense layer (an activation must follow it directly)
    let x = input.name;
    const visited = new Set<NodeProto>();
    while (x !== this.#outputName) {
      const users = this.#consumers.get(x) ?? [];
      if (users.length === 0)
        throw new OnnxError(`ONNX graph: value '${x}' leads nowhere: it is neither consumed nor the graph output '${this.#outputName}'`);
      const gelu = users.length === 2 ? this.#geluPattern(x, users) : undefined;
      if (gelu) {
        this.#activate(layers, sinceDense, 'gelu', 0, users[0]!);
        gelu.nodes.forEach((n) => visited.add(n));
        x = gelu.output;
        sinceDense++;
        continue;
      }
      if (users.length > 1)
        throw new OnnxError(
          `ONNX graph: value '${x}' feeds ${users.length} nodes (${users.map((n) => this.#where(n)).join(', ')}); kiln imports chains of layers`,
        );
      const n = users[0]!;
      if (visited.has(n)) throw new OnnxError(`ONNX graph: ${this.#where(n)} is reached twice`);
      visited.add(n);
      const where = this.#where(n);
      if (final) throw new OnnxError(`${where}: follows the output ${final}; kiln models end with it`);
      if (n.domain !== '' && n.domain !== 'ai.onnx' && !(n.domain === 'com.microsoft' && n.opType === 'Gelu'))
        throw new OnnxError(`${where}: operators of domain '${n.domain}' are not supported; kiln reads ${SUPPORTED}`);
      const commutes = n.opType === 'Mul' || n.opType === 'Add';
      if (n.inputs[0] !== x && !commutes)
        throw new OnnxError(`${where}: takes '${x}' as input ${n.inputs.indexOf(x)}, kiln expects it as the first input`);
      const attrs = attributes(n, where);
      let out = n.outputs[0]!;
      switch (n.opType) {
        case 'Gemm': {
          if (attrs.int('transA', 0) !== 0)
            throw new OnnxError(`${where}: transA = 1 is not supported (the input must be [batch, features])`);
          const w = this.#weight(n, 1, where);
          layers.push(
            denseFrom(
              where,
              w.values,
              w.dims,
              attrs.int('transB', 0) === 1,
              attrs.float('alpha', 1),
              this.#bias(n.inputs[2], where, attrs.float('beta', 1)),
              layers.at(-1)?.units,
            ),
          );
          sinceDense = 0;
          break;
        }
        case 'MatMul': {
          const w = this.#weight(n, 1, where);
          // A bias Add right after the MatMul (PyTorch's form of a Linear without Gemm).
          const next = this.#consumers.get(out);
          const add = next?.length === 1 && next[0]!.opType === 'Add' && next[0]!.domain === '' ? next[0]! : undefined;
          const biasName = add?.inputs.find((i) => i !== out);
          const bias = add && this.#constant(biasName) ? this.#bias(biasName, this.#where(add), 1) : undefined;
          if (bias) {
            visited.add(add!);
            out = add!.outputs[0]!;
          }
          layers.push(denseFrom(where, w.values, w.dims, false, 1, bias, layers.at(-1)?.units));
          sinceDense = 0;
          break;
        }
        case 'Relu':
          this.#activate(layers, sinceDense++, 'relu', 0, n);
          break;
        case 'LeakyRelu':
          this.#activate(layers, sinceDense++, 'leaky_relu', attrs.float('alpha', 0.01), n);
          break;
        case 'Tanh':
          this.#activate(layers, sinceDense++, 'tanh', 0, n);
          break;
        case 'Gelu': {
          const approximate = attrs.string('approximate', 'none');
          if (approximate !== 'none')
            throw new OnnxError(`${where}: approximate='${approximate}' GELU is not supported; kiln's GELU is the exact (erf) one`);
          this.#activate(layers, sinceDense++, 'gelu', 0, n);
          break;
        }
        case 'Sigmoid':
          // At the end of the graph a sigmoid is the binary output (on one unit) or an activation.
          if (out === this.#outputName && layers.at(-1)?.units === 1 && sinceDense === 0) final = 'sigmoid';
          else this.#activate(layers, sinceDense++, 'sigmoid', 0, n);
          break;
        case 'Softmax': {
          const axis = attrs.int('axis', this.#opset >= 13 ? -1 : 1);
          if (axis !== -1 && axis !== 1)
            throw new OnnxError(`${where}: softmax over axis ${axis}; kiln's is over the features (axis 1 or -1)`);
          if (layers.length === 0) throw new OnnxError(`${where}: softmax before any dense layer`);
          final = 'softmax';
          break;
        }
        case 'Identity':
        case 'Dropout':
        case 'Cast':
          if (n.opType === 'Cast' && attrs.int('to', DataType.FLOAT) !== DataType.FLOAT)
            throw new OnnxError(`${where}: casts to ${typeName(attrs.int('to', 0))}; kiln computes in float32`);
          if (n.opType === 'Dropout' && n.outputs.length > 1 && n.outputs[1] !== '' && this.#consumers.has(n.outputs[1]!))
            throw new OnnxError(`${where}: its mask output is used; kiln reads dropout in inference mode only`);
          break;
        case 'Flatten':
          if (attrs.int('axis', 1) !== 1)
            throw new OnnxError(`${where}: axis ${attrs.int('axis', 1)}; kiln reads Flatten(axis=1) (rows of features)`);
          break;
        case 'Reshape': {
          const shape = this.#constant(n.inputs[1]);
          const dims = shape ? intValues(shape, `${where} shape`) : undefined;
          if (!dims || dims.length !== 2 || !(dims[0] === -1 || dims[0] === 0))
            throw new OnnxError(
              `${where}: kiln reads Reshape to [-1, features] or [0, features] only, got ${dims ? `[${dims.join(', ')}]` : 'a computed shape'}`,
            );
          break;
        }
        case 'Mul':
        case 'Add':
        case 'Sub':
        case 'Div': {
          if (layers.length > 0)
            throw new OnnxError(`${where}: element-wise ${n.opType} after the first layer is not a kiln layer; kiln reads ${SUPPORTED}`);
          const other = n.inputs[0] === x ? n.inputs[1] : n.inputs[0];
          const c = this.#constant(other);
          if (!c) throw new OnnxError(`${where}: ${n.opType} by a computed value; kiln reads standardisation by constants only`);
          affine = compose(affine, n.opType, floatValues(c, `${where} input '${other}'`), where);
          break;
        }
        default:
          throw new OnnxError(`${where}: not supported; kiln imports ${SUPPORTED}`);
      }
      x = out;
    }
    if (layers.length === 0) throw new OnnxError('ONNX graph: no dense layer (Gemm or MatMul) between the input and the output');
    const width = layers[0]!.inputs;
    return this.#net(layers, final, task, affine, inputShapeOf(input.shape, width, input.name), metadata);
  }

  #net(
    layers: Dense[],
    final: Final,
    task: Task | undefined,
    affine: { scale: number[]; shift: number[] } | undefined,
    inputShape: number[],
    metadata: Map<string, string>,
  ): FloatNet {
    const inputs = layers[0]!.inputs;
    const outputs = layers.at(-1)!.units;
    const inferred: Task = final === 'softmax' ? 'classification' : final === 'sigmoid' ? 'binary' : 'regression';
    if (task !== undefined && final !== undefined && task !== inferred)
      throw new OnnxError(
        `ONNX graph: ends with ${final === 'softmax' ? 'Softmax' : 'Sigmoid'}, a ${inferred} model; task '${task}' does not fit it`,
      );
    const chosen = task ?? inferred;
    if (chosen === 'classification' && outputs < 2)
      throw new OnnxError(`ONNX graph: task classification needs at least 2 outputs, the graph has ${outputs}`);
    if (chosen === 'binary' && outputs !== 1) throw new OnnxError(`ONNX graph: task binary needs 1 output, the graph has ${outputs}`);
    const preprocessing = { ...namesFrom(metadata, inputs), ...standardization(affine, inputs, metadata) };
    return {
      kind: 'float',
      inputs,
      inputShape,
      outputs,
      task: chosen,
      preprocessing,
      layers: layers.map((l, i) => ({ ...l, kind: 'dense', name: `layers.${i}` })),
    };
  }

  #activate(layers: Dense[], sinceDense: number, activation: Activation, alpha: number, n: NodeProto): void {
    const last = layers.at(-1);
    if (!last || sinceDense !== 0 || last.activation !== 'linear') {
      throw new OnnxError(`${this.#where(n)}: an activation kiln can only place right after a dense layer (Gemm or MatMul)`);
    }
    last.activation = activation;
    last.alpha = alpha;
  }

  #weight(n: NodeProto, index: number, where: string): { values: Float32Array; dims: number[] } {
    const t = this.#constant(n.inputs[index]);
    if (!t)
      throw new OnnxError(
        `${where}: input ${index} '${n.inputs[index] ?? ''}' must be a constant weight (an initializer or Constant), not a computed value`,
      );
    if (t.dims.length !== 2) throw new OnnxError(`${where}: weight '${t.name}' has dims [${t.dims.join(', ')}], expected 2-D`);
    return { values: floatValues(t, `${where} weight '${t.name}'`), dims: t.dims };
  }

  #bias(name: string | undefined, where: string, beta: number): { values: Float32Array; dims: number[] } | undefined {
    if (name === undefined || name === '') return undefined;
    const t = this.#constant(name);
    if (!t) throw new OnnxError(`${where}: bias '${name}' must be a constant (an initializer or Constant)`);
    const values = floatValues(t, `${where} bias '${name}'`);
    return { values: beta === 1 ? values : values.map((v) => v * beta), dims: t.dims };
  }

  // GELU as exporters write it without a Gelu op: x·0.5·(1 + erf(x/√2)), in the orders
  // Div|Mul(1/√2) → Erf → Add(1) → Mul(x, ·) → Mul(0.5), or with x·0.5 formed first.
  #geluPattern(x: string, users: NodeProto[]): { output: string; nodes: NodeProto[] } | undefined {
    const one = (name: string) => (this.#consumers.get(name)?.length === 1 ? this.#consumers.get(name)![0]! : undefined);
    const other = (n: NodeProto, name: string) => n.inputs.find((i) => i !== name);
    const scalarIs = (name: string | undefined, v: number) => {
      const t = this.#constant(name);
      if (!t || (t.dataType !== DataType.FLOAT && t.dataType !== DataType.DOUBLE && t.dataType !== DataType.FLOAT16)) return false;
      const values = floatValues(t, 'GELU constant');
      return values.length === 1 && Math.abs(values[0]! - v) <= 1e-3 * Math.abs(v);
    };
    const scaler = users.find(
      (n) =>
        (n.opType === 'Div' && n.inputs[0] === x && scalarIs(n.inputs[1], Math.SQRT2)) ||
        (n.opType === 'Mul' && scalarIs(other(n, x), Math.SQRT1_2)),
    );
    const mul = users.find((n) => n !== scaler && n.opType === 'Mul');
    if (!scaler || !mul) return undefined;
    const erf = one(scaler.outputs[0]!);
    const add = erf?.opType === 'Erf' ? one(erf.outputs[0]!) : undefined;
    if (!add || add.opType !== 'Add' || !scalarIs(other(add, erf!.outputs[0]!), 1)) return undefined;
    const addOut = add.outputs[0]!;
    if (mul.inputs.includes(addOut)) {
      const half = one(mul.outputs[0]!);
      if (half?.opType !== 'Mul' || !scalarIs(other(half, mul.outputs[0]!), 0.5)) return undefined;
      return { output: half.outputs[0]!, nodes: [scaler, erf!, add, mul, half] };
    }
    if (!scalarIs(other(mul, x), 0.5)) return undefined;
    const last = one(addOut);
    if (last?.opType !== 'Mul' || !last.inputs.includes(mul.outputs[0]!) || one(mul.outputs[0]!) !== last) return undefined;
    return { output: last.outputs[0]!, nodes: [scaler, erf!, add, mul, last] };
  }
}

function denseFrom(
  where: string,
  w: Float32Array,
  dims: number[],
  transposed: boolean,
  alpha: number,
  bias: { values: Float32Array; dims: number[] } | undefined,
  previous: number | undefined,
): Dense {
  // Gemm with transB = 1 holds W as [units, inputs] (kiln's layout); MatMul and transB = 0 as
  // [inputs, units].
  const [units, inputs] = (transposed ? dims : [dims[1], dims[0]]) as [number, number];
  if (units < 1 || inputs < 1) throw new OnnxError(`${where}: weight dims [${dims.join(', ')}] are empty`);
  if (previous !== undefined && inputs !== previous)
    throw new OnnxError(`${where}: takes ${inputs} features, the previous layer gives ${previous}`);
  // floatValues made w a fresh copy: kiln's layout with alpha 1 takes it as it is.
  let weight = w;
  if (!transposed) {
    weight = new Float32Array(units * inputs);
    for (let k = 0; k < inputs; k++) for (let n = 0; n < units; n++) weight[n * inputs + k] = w[k * units + n]!;
  }
  if (alpha !== 1) for (let i = 0; i < weight.length; i++) weight[i]! *= alpha;
  let b = new Float32Array(units);
  if (bias) {
    const count = bias.values.length;
    if (count === units) b = bias.values.slice();
    else if (count === 1) b.fill(bias.values[0]!);
    else throw new OnnxError(`${where}: bias has ${count} values (dims [${bias.dims.join(', ')}]) for ${units} units`);
  }
  for (const [name, values] of [
    ['weight', weight],
    ['bias', b],
  ] as const) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v - v !== 0) throw new OnnxError(`${where}: ${name} value ${v} at index ${i} is not finite`);
    }
  }
  return { kind: 'dense', inputs, units, activation: 'linear', alpha: 0.01, weight, bias: b };
}

// x·scale + shift in f64, built up from the element-wise ops before the first layer.
function compose(
  a: { scale: number[]; shift: number[] } | undefined,
  op: string,
  c: Float32Array,
  where: string,
): { scale: number[]; shift: number[] } {
  const width = Math.max(a?.scale.length ?? 1, c.length);
  const at = (v: ArrayLike<number>, j: number) => v[v.length === 1 ? 0 : j]!;
  if ((a && a.scale.length !== 1 && a.scale.length !== width) || (c.length !== 1 && c.length !== width))
    throw new OnnxError(`${where}: constant of ${c.length} values does not match ${a?.scale.length} columns`);
  const scale: number[] = [],
    shift: number[] = [];
  for (let j = 0; j < width; j++) {
    let s = a ? at(a.scale, j) : 1,
      t = a ? at(a.shift, j) : 0;
    const v = at(c, j);
    if (op === 'Mul') ((s *= v), (t *= v));
    else if (op === 'Div') ((s /= v), (t /= v));
    else if (op === 'Add') t += v;
    else t -= v;
    scale.push(s);
    shift.push(t);
  }
  return { scale, shift };
}

// mean and std whose kiln affine is the graph's: std = 1/scale, mean = −shift/scale; a kiln
// export's exact mean and std when its metadata has them and they give the same affine.
function standardization(
  a: { scale: number[]; shift: number[] } | undefined,
  inputs: number,
  metadata: Map<string, string>,
): Pick<Preprocessing, 'mean' | 'std'> {
  if (!a) return {};
  const scale = a.scale.length === 1 ? new Array<number>(inputs).fill(a.scale[0]!) : a.scale;
  const shift = a.shift.length === 1 ? new Array<number>(inputs).fill(a.shift[0]!) : a.shift;
  if (scale.length !== inputs)
    throw new OnnxError(`ONNX graph: standardisation has ${scale.length} columns, the first layer takes ${inputs}`);
  scale.forEach((s, j) => {
    if (!(s > 0) || !Number.isFinite(s))
      throw new OnnxError(
        `ONNX graph: standardisation scale ${s} of column ${j} is not positive; kiln standardises as (x − mean) / std with std > 0`,
      );
  });
  const saved = parseJson(metadata.get(METADATA_KEYS.preprocessing)) as Preprocessing | undefined;
  if (saved?.mean && saved.std) {
    try {
      const f = StandardScaler.fromJSON({ kind: 'StandardScaler', mean: saved.mean, std: saved.std }).affine();
      if (f.scale.every((v, j) => v === Math.fround(scale[j]!)) && f.shift.every((v, j) => v === Math.fround(shift[j]!)))
        return { mean: saved.mean, std: saved.std };
    } catch {
      // Metadata that does not describe this graph is ignored: the graph is what runs.
    }
  }
  return { std: scale.map((s) => 1 / s), mean: shift.map((t, j) => -t / scale[j]!) };
}

function namesFrom(metadata: Map<string, string>, inputs: number): Pick<Preprocessing, 'featureNames' | 'classNames'> {
  const saved = parseJson(metadata.get(METADATA_KEYS.preprocessing)) as Record<string, unknown> | undefined;
  const strings = (v: unknown) => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined);
  const featureNames = strings(saved?.featureNames);
  const classNames = strings(saved?.classNames);
  let table: Preprocessing['table'];
  try {
    // A kiln export's table encoder, kept only when it is valid and gives this graph's inputs.
    if (saved?.table !== undefined && TableEncoder.fromJSON(saved.table).numOutputs === inputs)
      table = saved.table as Preprocessing['table'];
  } catch {
    table = undefined;
  }
  return {
    ...(featureNames?.length === inputs ? { featureNames } : {}),
    ...(classNames ? { classNames } : {}),
    ...(table ? { table } : {}),
  };
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// The row shape: the input's dims after the batch when they are all known (images, say, before a
// Flatten), else flat rows of the first layer's width.
function inputShapeOf(shape: (number | string | undefined)[] | undefined, width: number, name: string): number[] {
  if (!shape) return [width];
  if (shape.length < 2 || shape.length > 4)
    throw new OnnxError(
      `ONNX graph: input '${name}' has rank ${shape.length}; kiln reads [batch, features] or [batch, ...row shape] of up to 3 dimensions`,
    );
  const known = shape.slice(1);
  if (!known.every((d) => typeof d === 'number')) return [width];
  const size = (known as number[]).reduce((p, d) => p * d, 1);
  if (size !== width)
    throw new OnnxError(
      `ONNX graph: input '${name}' has ${size} values per row (shape [${shape.join(', ')}]), the first layer takes ${width}`,
    );
  return known as number[];
}

function constantTensor(n: NodeProto, where: string): TensorProto {
  const a = n.attributes[0];
  if (!a || n.attributes.length !== 1) throw new OnnxError(`${where}: a Constant needs exactly one value attribute`);
  const name = n.outputs[0] ?? '';
  if (a.name === 'value' && a.t) return { ...a.t, name };
  if (a.name === 'value_float' && a.f !== undefined) return { name, dims: [], dataType: DataType.FLOAT, floatData: [a.f] };
  if (a.name === 'value_floats' && a.floats) return { name, dims: [a.floats.length], dataType: DataType.FLOAT, floatData: a.floats };
  if (a.name === 'value_int' && a.i !== undefined) return { name, dims: [], dataType: DataType.INT64, int64Data: [a.i] };
  if (a.name === 'value_ints' && a.ints) return { name, dims: [a.ints.length], dataType: DataType.INT64, int64Data: a.ints };
  throw new OnnxError(`${where}: Constant attribute '${a.name}' is not supported (value, value_float(s), value_int(s))`);
}

interface Attributes {
  int(name: string, fallback: number): number;
  float(name: string, fallback: number): number;
  string(name: string, fallback: string): string;
}

function attributes(n: NodeProto, where: string): Attributes {
  const byName = new Map<string, AttributeProto>(n.attributes.map((a) => [a.name, a]));
  const get = (name: string, type: number, field: 'i' | 'f' | 's') => {
    const a = byName.get(name);
    if (!a) return undefined;
    if ((a.type !== 0 && a.type !== type) || a[field] === undefined)
      throw new OnnxError(
        `${where}: attribute '${name}' must be of type ${Object.keys(AttributeType).find((k) => AttributeType[k as keyof typeof AttributeType] === type)}`,
      );
    return a[field];
  };
  return {
    int: (name, fallback) => (get(name, AttributeType.INT, 'i') as number | undefined) ?? fallback,
    float: (name, fallback) => (get(name, AttributeType.FLOAT, 'f') as number | undefined) ?? fallback,
    string: (name, fallback) => {
      const s = get(name, AttributeType.STRING, 's') as Uint8Array | undefined;
      return s ? new TextDecoder().decode(s) : fallback;
    },
  };
}

// Kahn's algorithm: a node whose inputs never all become available sits on a cycle (or reads a
// value nothing makes). Linear in nodes and edges, whatever the file holds.
function checkAcyclic(graph: GraphProto): void {
  const available = new Set<string>(['', ...graph.inputs.map((v) => v.name), ...graph.initializers.map((t) => t.name)]);
  const producer = new Map<string, NodeProto>();
  for (const n of graph.nodes) {
    for (const o of n.outputs) {
      if (o === '') continue;
      if (producer.has(o) || available.has(o))
        throw new OnnxError(
          `ONNX graph: value '${o}' is produced twice (node '${n.name}' and ${producer.has(o) ? `node '${producer.get(o)!.name}'` : 'a graph input or initializer'})`,
        );
      producer.set(o, n);
    }
  }
  const waiting = new Map<NodeProto, number>();
  const readers = new Map<string, NodeProto[]>();
  const ready: NodeProto[] = [];
  for (const n of graph.nodes) {
    const missing = new Set(n.inputs.filter((i) => !available.has(i)));
    waiting.set(n, missing.size);
    for (const i of missing) (readers.get(i) ?? readers.set(i, []).get(i)!).push(n);
    if (missing.size === 0) ready.push(n);
  }
  let done = 0;
  while (ready.length > 0) {
    const n = ready.pop()!;
    done++;
    for (const o of n.outputs) {
      for (const r of readers.get(o) ?? []) {
        const left = waiting.get(r)! - 1;
        waiting.set(r, left);
        if (left === 0) ready.push(r);
      }
    }
  }
  if (done === graph.nodes.length) return;
  const n = graph.nodes.find((m) => waiting.get(m)! > 0)!;
  const missing = n.inputs.filter((i) => !available.has(i) && !(producer.has(i) && waiting.get(producer.get(i)!) === 0));
  const onCycle = missing.some((i) => producer.has(i));
  throw new OnnxError(
    `ONNX graph: node '${n.name}' (op ${n.opType}) ${onCycle ? 'lies on a cycle' : 'reads values nothing produces'}: ${missing.map((m) => `'${m}'`).join(', ')}`,
  );
}
