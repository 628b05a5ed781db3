// The one list of WASM exports. Kernels live in ./kernels; nothing here but re-exports.
export { mem_alloc, mem_free, mem_size } from "./kernels/memory";
export * from "./kernels/math";
export * from "./kernels/rng";
export * from "./kernels/f32-gemm";
export * from "./kernels/f32-dense";
export * from "./kernels/f32-eltwise";
export * from "./kernels/f32-act";
export * from "./kernels/f32-reduce";
export * from "./kernels/f32-loss";
export * from "./kernels/f32-optim";
export * from "./kernels/gather";
export * from "./kernels/scalar-math";
export * from "./kernels/f32-cols";
export * from "./kernels/f64-search";
export * from "./kernels/f32-sparse";
export * from "./kernels/i8-gemm";
export * from "./kernels/quant";
export * from "./kernels/i4-gemm";
