// Scalar math computed in the core, for numbers that must come out bit-identical in every
// runtime (JS engines ship different libms). Use these instead of Math.exp/log/pow/cos on any
// numeric path: learning-rate schedules, samplers, metrics that feed decisions.
import { kernels } from './wasm.ts';

export const exp64 = (x: number): number => kernels().f64_exp(x);
export const log64 = (x: number): number => kernels().f64_log(x);
export const pow64 = (x: number, y: number): number => kernels().f64_pow(x, y);
export const cos64 = (x: number): number => kernels().f64_cos(x);
export const sin64 = (x: number): number => kernels().f64_sin(x);
export const tanh64 = (x: number): number => kernels().f64_tanh(x);
