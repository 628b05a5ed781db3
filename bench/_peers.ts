// The libraries kiln is measured against, loaded the same way for every benchmark: TensorFlow.js
// on its WebAssembly backend and ONNX Runtime Web on its WebAssembly backend, both with SIMD and
// one thread, in Node, from the installed packages (no network). ONNX models are built in memory
// with kiln's own ONNX encoder (src/onnx), so no onnx package is needed.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { AttributeType, DataType, encodeModel, type AttributeProto } from '../src/onnx/proto.ts';
import { tensorProto } from '../src/onnx/graph-builder.ts';

const require = createRequire(import.meta.url);

type Tf = typeof import('@tensorflow/tfjs');
type Ort = typeof import('onnxruntime-web');

let tfReady: Promise<Tf> | undefined;
let ortReady: Promise<Ort> | undefined;

/** TensorFlow.js with the wasm backend (SIMD, one thread). */
export function tfjsWasm(): Promise<Tf> {
  tfReady ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    const backend = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the backend reads its .wasm files through fs, so a directory path works as the prefix.
    backend.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
    backend.setThreadsCount(1); // must precede setBackend
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialise');
    if (!tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) throw new Error('tfjs: the wasm backend runs without SIMD');
    return tf;
  })();
  return tfReady;
}

/** ONNX Runtime Web on its wasm backend with one thread. */
export function ortWasm(): Promise<Ort> {
  ortReady ??= (async () => {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    return ort;
  })();
  return ortReady;
}

export function tfjsVersion(): string {
  return (require('@tensorflow/tfjs-backend-wasm/package.json') as { version: string }).version;
}

export async function ortVersion(): Promise<string> {
  return (await ortWasm()).env.versions.web ?? '?';
}

/** An ONNX inference session on the wasm execution provider for an in-memory model. */
export async function ortSession(model: Uint8Array) {
  const ort = await ortWasm();
  return ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}

// ---- small ONNX graphs for the kernel benchmarks, written with kiln's own ONNX encoder ----

export interface OnnxValue { name: string; shape: readonly number[]; elemType?: number }
export interface OnnxInitializer { name: string; dims: readonly number[]; data: Float32Array | Int8Array | Uint8Array }
export type OnnxAttribute = number | readonly number[];
export interface OnnxNode { opType: string; inputs: readonly string[]; outputs: readonly string[]; attributes?: Record<string, OnnxAttribute> }
export interface OnnxGraph {
  nodes: readonly OnnxNode[];
  inputs: readonly OnnxValue[];
  outputs: readonly OnnxValue[];
  initializers?: readonly OnnxInitializer[];
  /** Default-domain opset (default 13). */
  opset?: number;
}

// Integers are INT attributes, other numbers FLOAT, arrays INTS.
function attribute(name: string, value: OnnxAttribute): AttributeProto {
  if (typeof value !== 'number') return { name, type: AttributeType.INTS, ints: [...value] };
  return Number.isInteger(value) ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
}

/** A ModelProto (IR version 8) holding one graph; values are float tensors unless they say. */
export function onnxModel(graph: OnnxGraph): Uint8Array {
  const value = (v: OnnxValue) => ({ name: v.name, elemType: v.elemType ?? DataType.FLOAT, shape: [...v.shape] });
  return encodeModel({
    irVersion: 8, producerName: 'kiln-bench', producerVersion: '', docString: '', metadata: [], functions: 0,
    opsetImports: [{ domain: '', version: graph.opset ?? 13 }],
    graph: {
      name: 'g', sparseInitializers: 0,
      nodes: graph.nodes.map((n, i) => ({ name: `${n.opType}_${i}`, opType: n.opType, domain: '', inputs: [...n.inputs], outputs: [...n.outputs], attributes: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)) })),
      initializers: (graph.initializers ?? []).map((t) => tensorProto(t.name, t.dims, t.data)),
      inputs: graph.inputs.map(value),
      outputs: graph.outputs.map(value),
    },
  });
}

/** C [M,N] i32 = MatMulInteger(A [M,K] u8, B [K,N] i8 constant, a_zero_point). */
export function matMulIntegerModel(M: number, K: number, N: number, b: Int8Array, aZeroPoint: number): Uint8Array {
  return onnxModel({
    nodes: [{ opType: 'MatMulInteger', inputs: ['A', 'B', 'a_zero_point'], outputs: ['C'] }],
    inputs: [{ name: 'A', shape: [M, K], elemType: DataType.UINT8 }],
    outputs: [{ name: 'C', shape: [M, N], elemType: DataType.INT32 }],
    initializers: [{ name: 'B', dims: [K, N], data: b }, { name: 'a_zero_point', dims: [], data: Uint8Array.of(aZeroPoint) }],
  });
}

// ---- timing shared by the benchmarks ----

export interface Contestant {
  name: string;
  /** One timed run (awaited when it returns a promise). */
  run: () => unknown;
}

// Runs c n times, awaiting only real promises: a synchronous contestant pays no microtask per run.
async function runTimes(c: Contestant, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const result = c.run();
    if (result instanceof Promise) await result;
  }
}

export interface Timing {
  /** Milliseconds per run of wall-clock time: the median over repetitions. */
  median: number;
  /** The fastest repetition, wall-clock. */
  best: number;
  /** The median in process CPU time (user + system): on a busy machine it leaves out the time
   *  the process waited for a core, which wall-clock time cannot. Single-threaded contestants only. */
  cpu: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

/** Per contestant, the median time per run over `reps` repetitions. Contestants alternate
 *  within every repetition so drift in machine load falls on all of them alike; each repetition
 *  times enough back-to-back runs to last about `minMs`. */
export async function race(contestants: readonly Contestant[], { reps = 7, minMs = 20, warmup = 5 } = {}): Promise<Map<string, Timing>> {
  const runsPer = new Map<string, number>();
  for (const c of contestants) {
    await runTimes(c, warmup);
    const t = performance.now();
    let n = 0;
    do {
      await runTimes(c, 1);
      n++;
    } while (performance.now() - t < minMs / 4);
    runsPer.set(c.name, Math.max(1, Math.ceil((n * minMs) / Math.max(performance.now() - t, 1e-3))));
  }
  const wall = new Map<string, number[]>(contestants.map((c) => [c.name, []]));
  const cpu = new Map<string, number[]>(contestants.map((c) => [c.name, []]));
  for (let r = 0; r < reps; r++) {
    for (const c of contestants) {
      const n = runsPer.get(c.name)!;
      const t = performance.now();
      const u = cpuMs();
      await runTimes(c, n);
      cpu.get(c.name)!.push((cpuMs() - u) / n);
      wall.get(c.name)!.push((performance.now() - t) / n);
    }
  }
  return new Map(contestants.map((c) => [c.name, { median: median(wall.get(c.name)!), best: Math.min(...wall.get(c.name)!), cpu: median(cpu.get(c.name)!) }]));
}
