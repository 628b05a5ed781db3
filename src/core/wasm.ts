// The one place that owns the WebAssembly instance, its memory and raw addresses. Everything
// outside src/core sees Tensors; inside src/core, ops call kernels through `kernels()` with the
// addresses that Tensors carry. Views over memory are made fresh at each use: memory.grow
// detaches every ArrayBuffer view made before it.
//
// Two builds of the same kernels: the single-thread core, with a memory of its own, and the
// threaded core, which imports a shared memory so that a pool of workers (src/core/threads) runs
// instances of it over the same tensors. Which one loads is decided by src/core/threads/plan.ts
// and reported by coreInfo(); both give the same bytes.
import { instantiate, instantiateSync } from '@assemblyscript/loader';
import { EMBEDDED_THREADS_WASM_BASE64, EMBEDDED_WASM_BASE64 } from './embedded-wasm.generated.ts';
import { decodeBase64 } from '../platform/base64.ts';
import { CoreAbortError, UnsupportedRuntimeError, checkInteger, checkKnownKeys } from './errors.ts';
import type { CoreKernels } from './kernels.generated.ts';
import { KernelPool } from './threads/pool.ts';
import { MAX_THREADS, nodeModules, planThreads, type CoreInfo, type Plan } from './threads/plan.ts';
import { threadedKernels } from './threads/split.ts';

export type { CoreInfo } from './threads/plan.ts';

/** How to load the core. */
export interface CoreOptions {
  /** Threads that run the heavy kernels (GEMM, dense layers): 1 loads the single-thread core.
   *  Default: every core of the machine (at most 16) on a main thread where the runtime allows
   *  threads, else 1; the KILN_THREADS environment variable sets the default in Node, Deno and
   *  Bun. The bytes of every result are the same for any count. */
  threads?: number;
}

/** Where the core comes from: nothing (the copy embedded in the bundle), bytes, a URL or a
 *  fetch Response, or a precompiled `WebAssembly.Module` (required by Cloudflare-style workers). */
export type WasmSource = undefined | ArrayBuffer | ArrayBufferView | WebAssembly.Module | URL | string | Response | Promise<Response>;

interface Core {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly kernels: CoreKernels;
  readonly info: CoreInfo;
  readonly pool?: KernelPool;
}

let current: Core | undefined;

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)): validates only with SIMD128.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

function checkRuntime(): void {
  if (typeof WebAssembly !== 'object') throw new UnsupportedRuntimeError('kiln: this runtime has no WebAssembly');
  if (!WebAssembly.validate(SIMD_PROBE)) {
    throw new UnsupportedRuntimeError(
      'kiln: this WebAssembly engine lacks SIMD128 (fixed-width SIMD), which the kiln core requires; use Node >= 16.4, Deno, Bun, Chrome >= 91, Firefox >= 89 or Safari >= 16.4',
    );
  }
}

function imports(): WebAssembly.Imports {
  return {
    env: {
      abort(msgPtr: number, filePtr: number, line: number, column: number): never {
        const text = (ptr: number) => (current && ptr ? readString(current.memory, ptr) : '?');
        throw new CoreAbortError(text(msgPtr), text(filePtr), line, column);
      },
    },
  };
}

// AssemblyScript strings: UTF-16 code units, byte length stored in the 4 bytes before the data.
function readString(memory: WebAssembly.Memory, ptr: number): string {
  const bytes = new Uint32Array(memory.buffer, ptr - 4, 1)[0]!;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, bytes >>> 1));
}

function exportedKernels(instance: WebAssembly.Instance): CoreKernels {
  return instance.exports as unknown as CoreKernels;
}

function adopt(core: Core): void {
  current?.pool?.terminate();
  // A new core has a new memory: blocks of the old one are gone with it.
  live.clear();
  liveTotal = 0;
  current = core;
}

function singleCore(module: WebAssembly.Module, instance: WebAssembly.Instance, summary: string, memory?: WebAssembly.Memory): Core {
  return {
    module,
    memory: memory ?? (instance.exports.memory as WebAssembly.Memory),
    kernels: exportedKernels(instance),
    info: { threads: 1, summary },
  };
}

// The threaded core's memory: shared, so the workers' instances see the caller's tensors. Its
// initial size is the build's (asconfig initialMemory); it may grow to 4 GiB like the other's.
const INITIAL_PAGES = 8;
const MAX_PAGES = 65536;
const sharedMemory = () => new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true });

// A module that imports its memory is the threaded build (the single-thread one makes its own).
const importsMemory = (module: WebAssembly.Module) => WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');

function threadsSummary(threads: number, route: string, why: string): string {
  return `threaded core, ${threads} threads on ${route === 'node' ? 'worker_threads' : 'Web Workers'} (${why})`;
}

function checkOptions(where: string, options: CoreOptions): number | undefined {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${where}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  checkKnownKeys(where, options, ['threads']);
  return options.threads === undefined ? undefined : checkInteger(where, 'threads', options.threads, 1, MAX_THREADS);
}

function threadedSync(module: WebAssembly.Module, plan: Extract<Plan, { route: string }>): Core {
  const memory = sharedMemory();
  const { instance } = instantiateSync(module, importsWith(memory));
  const base = exportedKernels(instance);
  const node = nodeModules()!;
  const pool = KernelPool.startNodeSync(node.Worker as never, plan.threads, module, memory, base);
  return {
    module,
    memory,
    kernels: threadedKernels(base, pool),
    pool,
    info: { threads: plan.threads, summary: threadsSummary(plan.threads, plan.route, plan.why) },
  };
}

async function threadedAsync(module: WebAssembly.Module, plan: Extract<Plan, { route: string }>): Promise<Core> {
  const memory = sharedMemory();
  const { instance } = await instantiate(module, importsWith(memory));
  const base = exportedKernels(instance);
  const pool =
    plan.route === 'node'
      ? KernelPool.startNodeSync(nodeModules()!.Worker as never, plan.threads, module, memory, base)
      : await KernelPool.startWeb((globalThis as unknown as { Worker: never }).Worker, plan.threads, module, memory, base);
  return {
    module,
    memory,
    kernels: threadedKernels(base, pool),
    pool,
    info: { threads: plan.threads, summary: threadsSummary(plan.threads, plan.route, plan.why) },
  };
}

function importsWith(memory: WebAssembly.Memory): WebAssembly.Imports {
  const i = imports();
  (i.env as Record<string, unknown>).memory = memory;
  return i;
}

// Engines compile typed arrays and ArrayBuffers; a DataView or other view becomes bytes first.
function asBytes(view: ArrayBuffer | ArrayBufferView): BufferSource {
  if (view instanceof ArrayBuffer || view instanceof Uint8Array) return view as BufferSource;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength) as BufferSource;
}

// The `kiln-ml/url` build embeds no core (its bundler ships dist/kiln.wasm as a file instead):
// there the core must be given to init() before first use.
function embedded(base64: string): BufferSource {
  if (base64 === '')
    throw new UnsupportedRuntimeError(
      "kiln: this build (kiln-ml/url) embeds no core: call await init(url) with the URL of kiln-ml's kiln.wasm before using kiln, or import 'kiln-ml' for the embedded core",
    );
  return decodeBase64(base64) as BufferSource;
}

function toBytesOrModule(source: WasmSource): BufferSource | WebAssembly.Module {
  if (source === undefined) return embedded(EMBEDDED_WASM_BASE64);
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return asBytes(source);
  throw new TypeError(
    `kiln initSync: source must be bytes or a WebAssembly.Module (use await init() for URLs and responses), got ${Object.prototype.toString.call(source)}`,
  );
}

// A fetched core: the HTTP status is checked first (a 404 page would otherwise surface as a
// compile error), and streaming compilation is used only when the server says application/wasm,
// the one type it accepts; anything else compiles from the bytes.
async function fromResponse(response: Response): Promise<Response | ArrayBuffer> {
  if (!response.ok)
    throw new Error(
      `kiln init: fetching the core from ${response.url || 'the given Response'} failed with HTTP ${response.status} ${response.statusText}`.trim(),
    );
  const type = response.headers.get('content-type') ?? '';
  return type.split(';')[0]!.trim() === 'application/wasm' ? response : response.arrayBuffer();
}

/** Loads the core synchronously: works in Node, Deno, Bun and workers; browsers' main threads
 *  refuse synchronous compilation of modules this size, so use `await init()` there. With no
 *  source, the threaded core loads where the runtime allows it (see `coreInfo()`).
 *
 *  @example
 *  initSync({ threads: 1 }); // the single-thread core
 */
export function initSync(source?: WasmSource | CoreOptions, options: CoreOptions = {}): void {
  checkRuntime();
  if (isOptions(source)) [source, options] = [undefined, source];
  const asked = checkOptions('kiln initSync', options);
  const given = source === undefined ? undefined : toBytesOrModule(source);
  const module = given instanceof WebAssembly.Module ? given : undefined;
  const plan = planThreads(asked, true);
  if (source === undefined && plan.threads > 1 && 'route' in plan && EMBEDDED_THREADS_WASM_BASE64 !== '') {
    let reason: string;
    try {
      adopt(threadedSync(new WebAssembly.Module(embedded(EMBEDDED_THREADS_WASM_BASE64)), plan));
      return;
    } catch (error) {
      reason = `the threaded core failed to start (${error instanceof Error ? error.message : String(error)})`;
    }
    adoptSingleSync(undefined, `single-thread core: ${reason}`);
    return;
  }
  if (module && importsMemory(module)) {
    const memory = sharedMemory();
    const { instance } = instantiateSync(module, importsWith(memory));
    adopt(singleCore(module, instance, 'threaded build on 1 thread (a core made from a given module)', memory));
    return;
  }
  adoptSingleSync(given, given === undefined && 'summary' in plan ? plan.summary : 'single-thread core: a core source was given');
}

function adoptSingleSync(bytes: BufferSource | WebAssembly.Module | undefined, summary: string): void {
  const { module, instance } = instantiateSync(bytes ?? toBytesOrModule(undefined), imports());
  adopt(singleCore(module, instance, summary));
}

/** Loads the core asynchronously from any source; call once before using kiln in a browser. With
 *  no source, the threaded core loads where the runtime allows it (see `coreInfo()`): in a
 *  browser, that needs a cross-origin-isolated page.
 *
 *  @example
 *  await init();
 *  console.log(coreInfo().summary); // e.g. "threaded core, 8 threads on Web Workers (8 cores available)"
 */
export async function init(source?: WasmSource | CoreOptions, options: CoreOptions = {}): Promise<void> {
  checkRuntime();
  if (isOptions(source)) [source, options] = [undefined, source];
  const asked = checkOptions('kiln init', options);
  const plan = planThreads(asked, false);
  if (source === undefined && plan.threads > 1 && 'route' in plan && EMBEDDED_THREADS_WASM_BASE64 !== '') {
    let reason: string;
    try {
      adopt(await threadedAsync(await WebAssembly.compile(embedded(EMBEDDED_THREADS_WASM_BASE64)), plan));
      return;
    } catch (error) {
      reason = `the threaded core failed to start (${error instanceof Error ? error.message : String(error)})`;
    }
    const { module, instance } = await instantiate(toBytesOrModule(undefined), imports());
    adopt(singleCore(module, instance, `single-thread core: ${reason}`));
    return;
  }
  let input: unknown = source;
  if (typeof source === 'string' || source instanceof URL) input = fetch(source);
  input = await input;
  if (typeof Response !== 'undefined' && input instanceof Response) input = await fromResponse(input);
  else input = toBytesOrModule(input as WasmSource);
  if (input instanceof WebAssembly.Module && importsMemory(input)) {
    const memory = sharedMemory();
    const { instance } = await instantiate(input, importsWith(memory));
    adopt(singleCore(input, instance, 'threaded build on 1 thread (a core made from a given module)', memory));
    return;
  }
  const { module, instance } = await instantiate(input as BufferSource, imports());
  adopt(
    singleCore(module, instance, source === undefined && 'summary' in plan ? plan.summary : 'single-thread core: a core source was given'),
  );
}

// A plain options object, not a source (sources are bytes, modules, URLs, strings or responses).
function isOptions(x: unknown): x is CoreOptions {
  return x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype;
}

/** Which core runs and why: its thread count and one line to show (`kiln info` prints it).
 *
 *  @example
 *  coreInfo(); // { threads: 2, summary: 'threaded core, 2 threads on worker_threads (2 cores available)' }
 */
export function coreInfo(): CoreInfo {
  return { ...core().info };
}

/** Limits the threaded core's kernels to `threads` of its threads (1: the calling thread
 *  alone) and returns the count now in use; the single-thread core always uses 1. For
 *  benchmarks comparing thread counts on one core; only src/core and bench call it. */
export function useThreads(threads: number): number {
  const pool = core().pool;
  if (!pool) return 1;
  pool.active = checkInteger('useThreads', 'threads', threads, 1, pool.threads);
  return pool.active;
}

/** The compiled module, to hand to workers so each makes its own instance without recompiling
 *  (`initSync(module)` there). With the threaded core it is the threaded build: a worker's
 *  instance of it gets a memory of its own and runs on one thread. */
export function compiledModule(): WebAssembly.Module {
  return core().module;
}

function core(): Core {
  if (!current) initSync();
  return current!;
}

/** The kernel exports, typed from the core's own declarations. Only src/core may call this. */
export function kernels(): CoreKernels {
  return core().kernels;
}

/** A kernel by a name computed at run time (tests sweeping kernel pairs); the name must exist. */
export type KernelName = keyof CoreKernels;
export function kernelByName(name: string): (...args: number[]) => number {
  const k = (core().kernels as unknown as Record<string, unknown>)[name];
  if (typeof k !== 'function') throw new TypeError(`kiln core: no kernel named '${name}'`);
  return k as (...args: number[]) => number;
}

/** Size of the core's linear memory in bytes (it grows, never shrinks). */
export function memoryBytes(): number {
  return core().memory.buffer.byteLength;
}

/** The largest single block the core's allocator serves: 1 GiB minus 64 bytes. The core
 *  defines it (mem_max_block) and refuses larger requests; the host checks first, so a request
 *  above it is a RangeError stating the limit, never a trap in the allocator. */
export const MAX_BLOCK_BYTES = 2 ** 30 - 64;

// Bytes of each live block, by address: what leak tests and soaks measure (memory.buffer never
// shrinks, so its size alone cannot show a leak that later allocations reuse).
const live = new Map<number, number>();
let liveTotal = 0;

/** Bytes held by blocks allocated and not yet freed. */
export function liveBytes(): number {
  return liveTotal;
}

/** A block of `bytes`; `what` names the request in errors. Addresses are unsigned: above 2 GiB a
 *  wasm32 address comes back from the core as a negative i32 and is read with `>>> 0`. */
export function allocBytes(bytes: number, what = 'allocation'): number {
  if (!(bytes >= 0 && bytes <= MAX_BLOCK_BYTES))
    throw new RangeError(`kiln: ${what} needs ${bytes} bytes, more than the ${MAX_BLOCK_BYTES}-byte (1 GiB) limit of one block`);
  let ptr: number;
  try {
    ptr = kernels().mem_alloc(bytes) >>> 0;
  } catch (error) {
    // The allocator traps (unreachable) when memory cannot grow any further.
    if (error instanceof WebAssembly.RuntimeError)
      throw new RangeError(
        `kiln: out of WebAssembly memory: ${what} needs ${bytes} bytes, ${memoryBytes()} bytes are in use of the 4 GiB a wasm32 memory can hold (free models and tensors with dispose())`,
      );
    throw error;
  }
  if (ptr === 0) throw new RangeError(`kiln: ${what} needs ${bytes} bytes, more than the ${MAX_BLOCK_BYTES}-byte limit of one block`);
  live.set(ptr, bytes);
  liveTotal += bytes;
  return ptr;
}

export function freeBytes(ptr: number): void {
  const bytes = live.get(ptr);
  if (bytes !== undefined) {
    live.delete(ptr);
    liveTotal -= bytes;
  }
  kernels().mem_free(ptr);
}

// Fresh views, one per use.
export const f32View = (ptr: number, len: number) => new Float32Array(core().memory.buffer, ptr, len);
export const i32View = (ptr: number, len: number) => new Int32Array(core().memory.buffer, ptr, len);
export const u32View = (ptr: number, len: number) => new Uint32Array(core().memory.buffer, ptr, len);
export const i8View = (ptr: number, len: number) => new Int8Array(core().memory.buffer, ptr, len);
export const u8View = (ptr: number, len: number) => new Uint8Array(core().memory.buffer, ptr, len);
