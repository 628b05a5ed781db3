// The one error kind of the ONNX room: a file that cannot be read, or a graph kiln cannot map.

/**
 * An ONNX file that is malformed (truncated, corrupt, hostile sizes, cycles, external data) or a
 * graph that kiln cannot express. The message names what is wrong and where (a byte offset, a
 * field path such as `graph.node[3]`, or a node's name, op type and opset).
 *
 * @example
 * try { importOnnx(bytes); } catch (e) { if (e instanceof OnnxError) console.error(e.message); }
 */
export class OnnxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxError';
  }
}
