// The control block the calling thread and the kernel workers share: a SharedArrayBuffer apart
// from the core's memory, read through Atomics. Each worker owns one slot: a sequence number it
// waits on, then up to MAX_CALLS kernel calls (an index into POOL_KERNELS and up to MAX_ARGS
// numbers each). PENDING counts the workers still busy with the current round.

/** The kernels a worker may be asked to run: what the split kernels hand out. */
export const POOL_KERNELS = [
  'f32_gemm_part',
  'f32_dense_fwd',
  'f32_act_bwd',
  'f32_sum_cols',
  'f32_adam_step',
  'f32_sgd_step',
  'f32_gather_rows',
  'f32_maxpool2d_fwd',
  'f32_maxpool2d_bwd',
  'f32_avgpool2d_fwd',
  'f32_avgpool2d_bwd',
  'f32_conv2d_fwd',
  'f32_conv2d_bwd',
  'f32_conv2d_winograd',
  'i8_gemm_i32',
  'i8_gemm_f32',
  'i8_gemm_f32_rows',
  'i8_gemm_u8',
  'i4_gemm_f32',
  'f32_csr_dense_fwd',
  'u8_conv2d',
  'u8_maxpool2d_nhwc',
  'u8_avgpool2d_nhwc',
] as const;
export type PoolKernel = (typeof POOL_KERNELS)[number];

export const PENDING = 0;
export const READY = 1;
/** Thread index + 1 of a worker whose call threw; 0 when none did. */
export const FAILED = 2;
export const HEADER_INTS = 4;

export const MAX_CALLS = 4;
// u8_conv2d takes the most: 31.
export const MAX_ARGS = 31;
/** Per slot: the sequence number, the call count, who took the round, then one kernel index per
 *  call. */
export const SLOT_INTS = 3 + MAX_CALLS;
export const SEQ = 0;
export const CALLS = 1;
/** Who runs a slot's round: whoever moves it from OPEN first, with Atomics.compareExchange. The
 *  calling thread takes the rounds no worker has started by the time its own share is done (a
 *  worker the system has not scheduled: more threads than free cores), so an oversubscribed
 *  machine costs a split kernel its parallelism, not a scheduler's time slice per round. */
export const CLAIM = 2;
export const OPEN = 0;
export const BY_WORKER = 1;
export const BY_CALLER = 2;
/** Where a slot's kernel indices start. */
export const KERNELS_AT = 3;
/** Written to a slot's sequence number to make its worker leave its loop. */
export const STOP = -1;

/** How long a thread polls for the next round (a worker) or for the round's end (the caller)
 *  before it blocks in Atomics.wait. A training step hands out a round per layer with a few
 *  hundred microseconds of the caller's own work between them; a thread that blocked in that gap
 *  takes 100-400 µs to wake on a virtual machine's idle core, more than a small layer's whole
 *  share. Polling is bounded so that an idle pool sleeps within a millisecond. */
export const SPIN_MS = 1;

export interface Layout {
  ctlInts: number;
  argsOffset: number;
  argsLength: number;
}

/** Sizes for `workers` worker slots; arguments (f64) start 8-byte aligned after the ints. */
export function layout(workers: number): Layout {
  const ctlInts = HEADER_INTS + workers * SLOT_INTS;
  const argsOffset = Math.ceil((ctlInts * 4) / 8) * 8;
  return { ctlInts, argsOffset, argsLength: workers * MAX_CALLS * MAX_ARGS };
}

export const slotBase = (worker: number) => HEADER_INTS + worker * SLOT_INTS;
export const argsBase = (worker: number, call: number) => (worker * MAX_CALLS + call) * MAX_ARGS;
