// The one place that owns the WebAssembly instance, its memory and raw addresses. Everything
// outside src/core sees Tensors; inside src/core, ops call kernels through `kernels()` with the
// addresses that Tensors carry. Views over memory are made fresh at each use: memory.grow
// detaches every ArrayBuffer view made before it.
import { instantiate, instantiateSync } from '@assemblyscript/loader';
import { EMBEDDED_WASM_BASE64 } from './embedded-wasm.generated.ts';
import { decodeBase64 } from '../platform/base64.ts';
import { CoreAbortError, UnsupportedRuntimeError } from './errors.ts';
import type { CoreKernels } from './kernels.generated.ts';

/** Where the core comes from: nothing (the copy embedded in the bundle), bytes, a URL or a
 *  fetch Response, or a precompiled `WebAssembly.Module` (required by Cloudflare-style workers). */
export type WasmSource = undefined | ArrayBuffer | ArrayBufferView | WebAssembly.Module | URL | string | Response | Promise<Response>;

interface Core {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly kernels: CoreKernels;
}

let current: Core | undefined;

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)): validates only with SIMD128.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

function checkRuntime(): void {
  if (typeof WebAssembly !== 'object') throw new UnsupportedRuntimeError('kiln: this runtime has no WebAssembly');
  if (!WebAssembly.validate(SIMD_PROBE)) {
    throw new UnsupportedRuntimeError('kiln: this WebAssembly engine lacks SIMD128 (fixed-width SIMD), which the kiln core requires; use Node >= 16.4, Deno, Bun, Chrome >= 91, Firefox >= 89 or Safari >= 16.4');
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

function adopt(module: WebAssembly.Module, instance: WebAssembly.Instance): void {
  const raw = instance.exports as Record<string, unknown>;
  current = { module, memory: raw.memory as WebAssembly.Memory, kernels: raw as unknown as CoreKernels };
}

// Engines compile typed arrays and ArrayBuffers; a DataView or other view becomes bytes first.
function asBytes(view: ArrayBuffer | ArrayBufferView): BufferSource {
  if (view instanceof ArrayBuffer || view instanceof Uint8Array) return view as BufferSource;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength) as BufferSource;
}

function toBytesOrModule(source: WasmSource): BufferSource | WebAssembly.Module {
  if (source === undefined) return decodeBase64(EMBEDDED_WASM_BASE64) as BufferSource;
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return asBytes(source);
  throw new TypeError(`kiln initSync: source must be bytes or a WebAssembly.Module (use await init() for URLs and responses), got ${Object.prototype.toString.call(source)}`);
}

// A fetched core: the HTTP status is checked first (a 404 page would otherwise surface as a
// compile error), and streaming compilation is used only when the server says application/wasm,
// the one type it accepts; anything else compiles from the bytes.
async function fromResponse(response: Response): Promise<Response | ArrayBuffer> {
  if (!response.ok) throw new Error(`kiln init: fetching the core from ${response.url || 'the given Response'} failed with HTTP ${response.status} ${response.statusText}`.trim());
  const type = response.headers.get('content-type') ?? '';
  return type.split(';')[0]!.trim() === 'application/wasm' ? response : response.arrayBuffer();
}

/** Loads the core synchronously: works in Node, Deno, Bun and workers; browsers' main threads
 *  refuse synchronous compilation of modules this size, so use `await init()` there. */
export function initSync(source?: WasmSource): void {
  checkRuntime();
  const { module, instance } = instantiateSync(toBytesOrModule(source), imports());
  adopt(module, instance);
}

/** Loads the core asynchronously from any source; call once before using kiln in a browser. */
export async function init(source?: WasmSource): Promise<void> {
  checkRuntime();
  let input: unknown = source;
  if (typeof source === 'string' || source instanceof URL) input = fetch(source);
  input = await input;
  if (typeof Response !== 'undefined' && input instanceof Response) input = await fromResponse(input);
  else input = toBytesOrModule(input as WasmSource);
  const { module, instance } = await instantiate(input as BufferSource, imports());
  adopt(module, instance);
}

/** The compiled module, to hand to workers so each makes its own instance without recompiling. */
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

export function memoryBytes(): number {
  return core().memory.buffer.byteLength;
}

/** Largest single block we hand out: wasm32 memory tops out at 4 GiB, and an absurd request
 *  should be a clear RangeError, not a trap deep in the allocator. */
export const MAX_BLOCK_BYTES = 2 ** 31;

export function allocBytes(bytes: number): number {
  return kernels().mem_alloc(bytes);
}

export function freeBytes(ptr: number): void {
  kernels().mem_free(ptr);
}

// Fresh views, one per use.
export const f32View = (ptr: number, len: number) => new Float32Array(core().memory.buffer, ptr, len);
export const i32View = (ptr: number, len: number) => new Int32Array(core().memory.buffer, ptr, len);
export const u32View = (ptr: number, len: number) => new Uint32Array(core().memory.buffer, ptr, len);
export const i8View = (ptr: number, len: number) => new Int8Array(core().memory.buffer, ptr, len);
export const u8View = (ptr: number, len: number) => new Uint8Array(core().memory.buffer, ptr, len);
