// kiln's public API: explicit named exports only.
export { init, initSync, compiledModule } from './core/wasm.ts';
export type { WasmSource } from './core/wasm.ts';
export { Tensor, scope } from './core/tensor.ts';
export type { DType } from './core/tensor.ts';
export { CoreAbortError, UnsupportedRuntimeError } from './core/errors.ts';
