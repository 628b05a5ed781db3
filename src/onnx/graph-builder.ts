// Building an ONNX graph: constants (initializers), nodes with unique names, attributes.
import { AttributeType, DataType, type AttributeProto, type NodeProto, type TensorProto } from './proto.ts';

export const attrInt = (name: string, i: number): AttributeProto => ({ name, type: AttributeType.INT, i });
export const attrFloat = (name: string, f: number): AttributeProto => ({ name, type: AttributeType.FLOAT, f });

type TypedData = Float32Array | Int8Array | Uint8Array | Int32Array;
const TYPE_OF = (data: TypedData): number =>
  data instanceof Float32Array
    ? DataType.FLOAT
    : data instanceof Int8Array
      ? DataType.INT8
      : data instanceof Uint8Array
        ? DataType.UINT8
        : DataType.INT32;

/** A tensor's bytes as ONNX raw_data: little-endian, which every typed array is on the
 *  platforms kiln runs on (WebAssembly itself is little-endian). */
export function tensorProto(name: string, dims: readonly number[], data: TypedData): TensorProto {
  return {
    name,
    dims: [...dims],
    dataType: TYPE_OF(data),
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  };
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  #count = new Map<string, number>();

  /** Adds an initializer and returns its name. */
  constant(name: string, dims: readonly number[], data: TypedData): string {
    this.initializers.push(tensorProto(name, dims, data));
    return name;
  }

  /** Adds a node named `<prefix>/<op>` and returns its outputs, named after the node. */
  node(prefix: string, opType: string, inputs: readonly string[], attributes: AttributeProto[] = [], outputs = 1): string[] {
    const base = `${prefix}/${opType}`;
    const k = this.#count.get(base) ?? 0;
    this.#count.set(base, k + 1);
    const name = k === 0 ? base : `${base}_${k}`;
    const outs = Array.from({ length: outputs }, (_, i) => (outputs === 1 ? `${name}_output` : `${name}_output_${i}`));
    this.nodes.push({ name, opType, domain: '', inputs: [...inputs], outputs: outs, attributes });
    return outs;
  }

  /** Renames the value `from` (the output of the last node that makes it) to `to`. */
  rename(from: string, to: string): void {
    for (const n of this.nodes) n.outputs = n.outputs.map((o) => (o === from ? to : o));
    for (const n of this.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
  }
}
