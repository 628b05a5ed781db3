// The libraries kiln is measured against, loaded the same way for every benchmark: TensorFlow.js
// on its WebAssembly backend and ONNX Runtime Web on its WebAssembly backend, both with SIMD, in
// Node, from the installed packages (no network). Thread count: KILN_BENCH_THREADS (default 1)
// for kiln and both peers alike; tfjs-wasm's threaded build does not start in Node, so it stays
// on one thread whatever is asked. ONNX models are built in memory
// by a small protobuf encoder below, so no onnx package is needed.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { coreInfo, useThreads } from '../src/core/wasm.ts';

const require = createRequire(import.meta.url);

/** Threads every contestant runs with: KILN_BENCH_THREADS, default 1 (set once per process, as
 *  ONNX Runtime fixes its count when its wasm loads). kiln's threaded core is limited to it. */
export function benchThreads(): number {
  const n = Number(process.env.KILN_BENCH_THREADS ?? 1);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`KILN_BENCH_THREADS must be a positive integer, got ${process.env.KILN_BENCH_THREADS}`);
  const used = useThreads(n);
  if (used !== n) throw new RangeError(`KILN_BENCH_THREADS=${n}, but ${coreInfo().summary}`);
  return n;
}

type Tf = typeof import('@tensorflow/tfjs');
type Ort = typeof import('onnxruntime-web');

let tfReady: Promise<Tf> | undefined;
let ortReady: Promise<Ort> | undefined;

/** TensorFlow.js with the wasm backend (SIMD; one thread in Node). */
export function tfjsWasm(): Promise<Tf> {
  tfReady ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    const backend = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the backend reads its .wasm files through fs, so a directory path works as the prefix.
    backend.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
    backend.setThreadsCount(benchThreads()); // must precede setBackend
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialise');
    if (!tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) throw new Error('tfjs: the wasm backend runs without SIMD');
    return tf;
  })();
  return tfReady;
}

/** ONNX Runtime Web on its wasm backend with benchThreads() threads. */
export function ortWasm(): Promise<Ort> {
  ortReady ??= (async () => {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = benchThreads();
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

// ---- a minimal ONNX (protobuf) encoder: just the fields a small inference graph needs ----

export interface OnnxValue {
  name: string;
  shape: readonly number[];
}
export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array;
}
export type OnnxAttribute = number | readonly number[];
export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Record<string, OnnxAttribute>;
}
export interface OnnxGraph {
  nodes: readonly OnnxNode[];
  inputs: readonly OnnxValue[];
  outputs: readonly OnnxValue[];
  initializers?: readonly OnnxInitializer[];
  /** Default-domain opset (default 13). */
  opset?: number;
}

const FLOAT = 1; // TensorProto.DataType.FLOAT

class Writer {
  private bytes: number[] = [];
  varint(value: number): this {
    let v = BigInt(value);
    if (v < 0n) v += 1n << 64n; // int64 fields: two's complement, ten bytes
    do {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      this.bytes.push(v ? byte | 0x80 : byte);
    } while (v);
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, value: number): this {
    return this.tag(field, 0).varint(value);
  }
  bytesField(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytesField(field, new TextEncoder().encode(s));
  }
  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytesField(field, inner.finish());
  }
  float(field: number, value: number): this {
    this.tag(field, 5);
    for (const b of new Uint8Array(new Float32Array([value]).buffer)) this.bytes.push(b);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

// ValueInfoProto { name = 1; type = 2 { tensor_type = 1 { elem_type = 1; shape = 2 { dim = 1 { dim_value = 1 } } } } }
function valueInfo(w: Writer, v: OnnxValue): void {
  w.string(1, v.name).message(2, (t) =>
    t.message(1, (tt) => {
      tt.int(1, FLOAT).message(2, (s) => v.shape.forEach((d) => s.message(1, (dim) => dim.int(1, d))));
    }),
  );
}

// AttributeProto { name = 1; f = 2; i = 3; ints = 8; type = 20 (FLOAT 1, INT 2, INTS 7) }
function attribute(w: Writer, name: string, value: OnnxAttribute): void {
  w.string(1, name);
  if (typeof value !== 'number') {
    value.forEach((v) => w.int(8, v));
    w.int(20, 7);
  } else if (Number.isInteger(value)) {
    w.int(3, value).int(20, 2);
  } else {
    w.float(2, value).int(20, 1);
  }
}

/** Encodes a ModelProto (IR version 8) holding one graph of float tensors. */
export function onnxModel(graph: OnnxGraph): Uint8Array {
  const w = new Writer();
  w.int(1, 8); // ir_version
  w.string(2, 'kiln-bench'); // producer_name
  w.message(7, (g) => {
    graph.nodes.forEach((n, i) =>
      g.message(1, (nw) => {
        n.inputs.forEach((s) => nw.string(1, s));
        n.outputs.forEach((s) => nw.string(2, s));
        nw.string(3, `${n.opType}_${i}`).string(4, n.opType);
        for (const [name, value] of Object.entries(n.attributes ?? {})) nw.message(5, (a) => attribute(a, name, value));
      }),
    );
    g.string(2, 'g');
    for (const t of graph.initializers ?? []) {
      g.message(5, (tw) => {
        t.dims.forEach((d) => tw.int(1, d));
        tw.int(2, FLOAT)
          .string(8, t.name)
          .bytesField(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      });
    }
    graph.inputs.forEach((v) => g.message(11, (vw) => valueInfo(vw, v)));
    graph.outputs.forEach((v) => g.message(12, (vw) => valueInfo(vw, v)));
  });
  w.message(8, (o) => o.string(1, '').int(2, graph.opset ?? 13)); // opset_import
  return w.finish();
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
  /** The fastest repetition in process CPU time: the run least disturbed by the machine's other
   *  processes (their cache evictions and the host's scheduling), for a ceiling to compare with. */
  cpuBest: number;
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
  return new Map(
    contestants.map((c) => [
      c.name,
      {
        median: median(wall.get(c.name)!),
        best: Math.min(...wall.get(c.name)!),
        cpu: median(cpu.get(c.name)!),
        cpuBest: Math.min(...cpu.get(c.name)!),
      },
    ]),
  );
}
