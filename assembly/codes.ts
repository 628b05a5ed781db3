// The codes kernels take for activations and weight initialisers: the one table that both the
// core (AssemblyScript) and the host (TypeScript) import, so the two can never disagree.
// Plain integer constants: AssemblyScript reads them as i32, TypeScript as numbers.

export const ACT_LINEAR = 0;
export const ACT_RELU = 1;
export const ACT_LEAKY_RELU = 2;
export const ACT_SIGMOID = 3;
export const ACT_TANH = 4;
export const ACT_GELU = 5;

export const INIT_GLOROT_UNIFORM = 0;
export const INIT_GLOROT_NORMAL = 1;
export const INIT_HE_UNIFORM = 2;
export const INIT_HE_NORMAL = 3;
