// The scratch one u8_conv2d call needs for a sample, as the kernel states it: the padded copy of
// the sample (col), the windows packed for the int8 GEMM in whole blocks of 4 rows, also for one
// output position (ap), and with groups a group's outputs before they are interleaved (tmp).
// Shared by the quantized engine, which sizes the caller's buffers, and by the threaded core,
// which gives each worker its own.
import type { CoreKernels } from '../kernels.generated.ts';

export interface U8ConvScratch {
  col: number;
  ap: number;
  tmp: number;
}

type SizeKernels = Pick<CoreKernels, 'u8_conv2d_col_bytes' | 'i8_gemm_scratch_bytes'>;

/** Byte sizes for a convolution of C input channels into O in `groups`, OH×OW outputs. */
export function u8ConvScratch(
  k: SizeKernels,
  C: number,
  O: number,
  OH: number,
  OW: number,
  KH: number,
  KW: number,
  sh: number,
  sw: number,
  dilh: number,
  dilw: number,
  groups: number,
): U8ConvScratch {
  const P = OH * OW,
    Cg = C / groups;
  return {
    col: k.u8_conv2d_col_bytes(OH, OW, KH, KW, Cg, sh, sw, dilh, dilw),
    ap: k.i8_gemm_scratch_bytes(Math.max(P, 4), Cg * KH * KW),
    tmp: groups > 1 ? P * (O / groups) * 4 : 0,
  };
}
