// The threaded core's kernel table: the heavy kernels split their output across the pool's
// threads, every other kernel is the core's own export. Outputs are split by whole rows (or
// column panels) of C, never along the summation: each element is computed by one thread, by the
// same code in the same order as on one thread, so the bytes do not depend on the thread count.
// int8 products split by bands of rows, convolutions (f32, Winograd and int8) by samples (their
// dw, a sum over samples, stays whole on the calling thread while the others take dx); optimizer
// updates, element by element, by ranges of the parameters; batch assembly by rows; pooling by
// planes (int8 pooling on NHWC codes by samples); int4 products by rows and sparse (CSR) layers by
// batch rows. Below MIN_MACS multiply-adds (MIN_UPDATE parameters, MIN_ELEMENTWISE values) a call
// stays on the calling thread: waking workers costs more than it saves there (batch-1 inference
// never splits).
import { ACT_LINEAR } from '../../../assembly/codes.ts';
import type { CoreKernels } from '../kernels.generated.ts';
import type { KernelPool, PoolCall } from './pool.ts';
import type { PoolKernel } from './protocol.ts';
import { u8ConvScratch } from '../ops/u8-conv-scratch.ts';

/** Smallest product (M·N·K multiply-adds) worth splitting: about 80 µs on one thread. In a
 *  training step a split layer's operands (the batch just gathered, the weights just updated)
 *  sit in the calling core's cache and must travel to the others: 784-32-10 at batch 64 (1.6 M
 *  per layer product) trained 0.86x as fast with 2 threads at 2²⁰, although its product alone
 *  split at 1.57x; 784-64-10 (3.2 M) is level, 784-128-10 gains 1.15x. */
export const MIN_MACS = 1 << 21;

/** Smallest optimizer update worth splitting, in parameters: about 30 µs on one thread. A
 *  training step's update runs right after the backward pass, whose weight gradients the same
 *  threads wrote in pieces, so it would run at one core's memory bandwidth otherwise. */
export const MIN_UPDATE = 1 << 15;

/** Smallest activation gradient (elements) or row gather (floats) worth its own round: these
 *  stream memory at several bytes per cycle, so below this the round's hand-off costs more. */
export const MIN_ELEMENTWISE = 1 << 17;

const NN = 0;
const NT = 1;
const TN = 2;

// C tiles are 4 rows by 8 columns in the core; pieces are cut on those multiples.
const ROW_STEP = 4;
const COL_STEP = 8;

/** [i0, i1, j0, j1] pieces of an M x N output, one per thread (fewer when it is small): rows
 *  when there are enough for every thread, else column panels. */
export function pieces(M: number, N: number, threads: number): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  if (M >= ROW_STEP * threads || M >= N) {
    const step = Math.ceil(M / threads / ROW_STEP) * ROW_STEP;
    for (let i = 0; i < M; i += step) out.push([i, Math.min(M, i + step), 0, N]);
  } else {
    const step = Math.ceil(N / threads / COL_STEP) * COL_STEP;
    for (let j = 0; j < N; j += step) out.push([0, M, j, Math.min(N, j + step)]);
  }
  return out;
}

// Contiguous [start, end) element ranges of n, one per thread, multiples of 4 but the last.
function ranges(n: number, threads: number): [number, number][] {
  const step = Math.ceil(n / threads / 4) * 4;
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += step) out.push([s, Math.min(n, s + step)]);
  return out;
}

type Kernel = (...args: number[]) => number;

// [start, end) sample ranges of a batch of B, one per thread (fewer when B is small).
function samples(B: number, threads: number): [number, number][] {
  const step = Math.ceil(B / threads);
  const out: [number, number][] = [];
  for (let s = 0; s < B; s += step) out.push([s, Math.min(B, s + step)]);
  return out;
}

const gemmPart = (
  form: number,
  c: number,
  a: number,
  b: number,
  M: number,
  N: number,
  K: number,
  acc: number,
  [i0, i1, j0, j1]: readonly number[],
): PoolCall => ({ kernel: 'f32_gemm_part', args: [form, c, a, b, M, N, K, acc, i0!, i1!, j0!, j1!] });

/** `base` with the f32 GEMMs, dense and conv forward and backward, and the int8 GEMMs run across `pool`. */
export function threadedKernels(kernels: CoreKernels, pool: KernelPool): CoreKernels {
  const base = kernels as unknown as Readonly<Record<string, Kernel>>;
  const big = (M: number, N: number, K: number) => pool.active > 1 && M * N * K >= MIN_MACS;
  const each = <X>(xs: X[], f: (x: X, t: number) => PoolCall[]) => pool.run(xs.map(f));

  const gemm =
    (name: string, form: number): Kernel =>
    (c, a, b, M, N, K, acc) => {
      if (!big(M!, N!, K!)) return base[name]!(c!, a!, b!, M!, N!, K!, acc!);
      each(pieces(M!, N!, pool.active), (p) => [gemmPart(form, c!, a!, b!, M!, N!, K!, acc!, p)]);
      return 0;
    };

  // y = act(x·wᵀ + bias) [B,N]: batch rows per thread through the dense kernel itself; with too
  // few rows, column panels of the product, then the bias and activation on this thread.
  const denseFwd: Kernel = (y, pre, x, w, bias, B, N, K, act, alpha) => {
    if (!big(B!, N!, K!)) return base.f32_dense_fwd!(y!, pre!, x!, w!, bias!, B!, N!, K!, act!, alpha!);
    const parts = pieces(B!, N!, pool.active);
    if (parts[0]![3] === N) {
      each(parts, ([i0, i1]) => [
        {
          kernel: 'f32_dense_fwd',
          args: [y! + i0 * N! * 4, pre ? pre + i0 * N! * 4 : 0, x! + i0 * K! * 4, w!, bias!, i1 - i0, N!, K!, act!, alpha!],
        },
      ]);
    } else {
      const z = pre || y!;
      each(parts, (p) => [gemmPart(NT, z, x!, w!, B!, N!, K!, 0, p)]);
      if (bias) base.f32_add_rowvec!(z, bias, B!, N!);
      base.f32_act_fwd!(y!, z, B! * N!, act!, alpha!);
    }
    return 0;
  };

  // dy ⊙ act′(pre) by element ranges (on this thread when small); then dw = dyᵀ·x (rows of dw, the units), dx = dy·w (rows
  // of dx, the batch) and db = Σ_b dy (this thread) in one round: all read dy, none writes it.
  const denseBwd: Kernel = (dx, dw, db, dy, x, w, pre, y, B, N, K, act, alpha, acc) => {
    if (!big(B!, N!, K!)) return base.f32_dense_bwd!(dx!, dw!, db!, dy!, x!, w!, pre!, y!, B!, N!, K!, act!, alpha!, acc!);
    const T = pool.active;
    if (act !== ACT_LINEAR && B! * N! < MIN_ELEMENTWISE) base.f32_act_bwd!(dy!, dy!, pre!, y ?? 0, B! * N!, act!, alpha!);
    else if (act !== ACT_LINEAR) {
      each(ranges(B! * N!, T), ([s, e]) => [
        { kernel: 'f32_act_bwd', args: [dy! + s * 4, dy! + s * 4, pre! + s * 4, y ? y + s * 4 : 0, e - s, act!, alpha!] },
      ]);
    }
    const rounds: PoolCall[][] = Array.from({ length: T }, () => []);
    if (dw) pieces(N!, K!, T).forEach((p, t) => rounds[t]!.push(gemmPart(TN, dw, dy!, x!, N!, K!, B!, acc!, p)));
    if (dx) pieces(B!, K!, T).forEach((p, t) => rounds[t]!.push(gemmPart(NN, dx, dy!, w!, B!, K!, N!, 0, p)));
    if (db) rounds[0]!.push({ kernel: 'f32_sum_cols', args: [db, dy!, B!, N!, acc!] });
    pool.run(rounds);
    return 0;
  };

  // int8 products y = x·wᵀ: bands of rows of x (integer sums are exact, the epilogue is per
  // element, so any split gives the same bytes). Each band packs x into its own slice of the
  // caller's scratch: bands start on 4-row blocks, and the scratch holds a block per 4 rows.
  // Positions: the scratch, M (N and K follow), and the bytes one output element takes; the
  // output is argument 0, x (one byte per element) argument 1, and per-row x parameters (8
  // bytes a row), when `rowParams`, argument 3. x = 0 means the scratch holds x packed already
  // (u8_im2row_packed), in the same blocks of 4 rows: a band then only moves into the scratch.
  const int8 =
    (name: PoolKernel, ap: number, M: number, outBytes: number, rowParams = false): Kernel =>
    (...args) => {
      const m = args[M]!,
        n = args[M + 1]!,
        kk = args[M + 2]!;
      const parts = pool.active > 1 && m * n * kk >= MIN_MACS ? pieces(m, n, pool.active) : [];
      if (parts.length < 2 || parts[0]![3] !== n) return base[name]!(...args);
      each(parts, ([i0, i1]) => {
        const a = args.slice();
        a[0] = args[0]! + i0 * n * outBytes;
        a[1] = args[1] ? args[1] + i0 * kk : 0;
        if (rowParams) a[3] = args[3]! + i0 * 8;
        a[ap] = args[ap]! + base.i8_gemm_scratch_bytes!(i0, kk);
        a[M] = i1 - i0;
        return [{ kernel: name, args: a }];
      });
      return 0;
    };

  // Convolutions: samples per thread, each thread with a column buffer of its own (a pool
  // buffer, held for the pool's life, beside the caller's). A sample's output is computed by the
  // same kernel in the same order whatever the split. Backward: dy ⊙ act′ by element ranges,
  // then one round in which the calling thread takes dw and db over the whole batch (dw sums
  // over samples, so it stays in one thread's order) while the others take dx by samples.
  const scratch: { ptr: number; bytes: number }[] = [];
  const scratchFor = (t: number, bytes: number): number => {
    const have = scratch[t];
    if (have && have.bytes >= bytes) return have.ptr;
    if (have) base.mem_free!(have.ptr);
    return (scratch[t] = { ptr: base.mem_alloc!(bytes), bytes }).ptr;
  };
  const colFor = (t: number, floats: number, own: number): number => (t === 0 || floats === 0 ? own : scratchFor(t, floats * 4));
  const convMacs = (B: number, C: number, O: number, OH: number, OW: number, KH: number, KW: number, groups: number) =>
    B * O * OH * OW * (C / groups) * KH * KW;
  // The workspace of one call (see convColumnSize): the columns of a chunk of samples and, for
  // chunks of more than one, their GEMM output.
  const colFloats = (col: number, C: number, O: number, OH: number, OW: number, KH: number, KW: number, groups: number, chunk: number) =>
    col === 0 ? 0 : chunk * OH * OW * ((C / groups) * KH * KW + (chunk > 1 ? O / groups : 0));

  const convFwd: Kernel = (...args) => {
    const [y, pre, x, , , col, B, C, H, W, O, OH, OW, KH, KW, , , , , , , groups, chunk] = args as number[];
    const T = Math.min(pool.active, B!);
    if (T < 2 || convMacs(B!, C!, O!, OH!, OW!, KH!, KW!, groups!) < MIN_MACS) return base.f32_conv2d_fwd!(...args);
    const xs = C! * H! * W! * 4,
      ys = O! * OH! * OW! * 4;
    const floats = colFloats(col!, C!, O!, OH!, OW!, KH!, KW!, groups!, chunk!);
    each(samples(B!, T), ([s, e], t) => {
      const a = args.slice();
      a[0] = y! + s * ys;
      a[1] = pre ? pre + s * ys : 0;
      a[2] = x! + s * xs;
      a[5] = colFor(t, floats, col!);
      a[6] = e - s;
      return [{ kernel: 'f32_conv2d_fwd', args: a }];
    });
    return 0;
  };

  // The Winograd forward by samples too: the calling thread in the layer's workspace, which may
  // keep the transformed filters; each other thread transforms them into its shared scratch.
  const winograd: Kernel = (...args) => {
    const [y, pre, x, , , , B, C, H, W, O, OH, OW, K, , , chunk] = args as number[];
    const T = Math.min(pool.active, B!);
    if (T < 2 || convMacs(B!, C!, O!, OH!, OW!, K!, K!, 1) < MIN_MACS) return base.f32_conv2d_winograd!(...args);
    const bytes = base.f32_conv2d_winograd_floats!(C!, O!, OH!, OW!, K!, chunk!) * 4;
    const xs = C! * H! * W! * 4,
      ys = O! * OH! * OW! * 4;
    each(samples(B!, T), ([s, e], t) => {
      const a = args.slice();
      a[0] = y! + s * ys;
      a[1] = pre ? pre + s * ys : 0;
      a[2] = x! + s * xs;
      if (t > 0) ((a[5] = scratchFor(t, bytes)), (a[17] = 0));
      a[6] = e - s;
      return [{ kernel: 'f32_conv2d_winograd', args: a }];
    });
    return 0;
  };

  const convBwd: Kernel = (...args) => {
    const [dx, dw, db, dy, x, , pre, y, col, B, C, H, W, O, OH, OW, KH, KW, , , , , , , groups, chunk, act, alpha] = args as number[];
    const T = Math.min(pool.active, B! + 1);
    if (T < 2 || !dx || convMacs(B!, C!, O!, OH!, OW!, KH!, KW!, groups!) < MIN_MACS) return base.f32_conv2d_bwd!(...args);
    const n = B! * O! * OH! * OW!;
    if (act !== ACT_LINEAR && n < MIN_ELEMENTWISE) base.f32_act_bwd!(dy!, dy!, pre!, y ?? 0, n, act!, alpha!);
    else if (act !== ACT_LINEAR) {
      each(ranges(n, pool.active), ([s, e]) => [
        { kernel: 'f32_act_bwd', args: [dy! + s * 4, dy! + s * 4, pre! + s * 4, y ? y + s * 4 : 0, e - s, act!, alpha!] },
      ]);
    }
    const xs = C! * H! * W! * 4,
      ys = O! * OH! * OW! * 4;
    const floats = colFloats(col!, C!, O!, OH!, OW!, KH!, KW!, groups!, chunk!);
    const linear = (a: number[]) => ((a[6] = 0), (a[7] = 0), (a[26] = ACT_LINEAR), a);
    const rounds: PoolCall[][] = [[{ kernel: 'f32_conv2d_bwd', args: linear([0, dw!, db!, ...args.slice(3)]) }]];
    samples(B!, T - 1).forEach(([s, e], i) => {
      const a = linear(args.slice());
      a[0] = dx + s * xs;
      a[1] = 0;
      a[2] = 0;
      a[3] = dy! + s * ys;
      a[4] = x! + s * xs;
      a[8] = colFor(i + 1, floats, col!);
      a[9] = e - s;
      rounds.push([{ kernel: 'f32_conv2d_bwd', args: a }]);
    });
    pool.run(rounds);
    return 0;
  };

  // Weight-only int4 products y = x·wᵀ (f32 x): bands of rows of x, each worker unpacking the
  // weight panels into a scratch of its own. Every row's sums are the same whatever rows share
  // the call (the one-row path included: both equal i4_gemm_f32_ref).
  const int4: Kernel = (...args) => {
    const [y, x, , , dq, M, N, K] = args as number[];
    const parts = pool.active > 1 && M! * N! * K! >= MIN_MACS ? pieces(M!, N!, pool.active) : [];
    if (parts.length < 2 || parts[0]![3] !== N) return base.i4_gemm_f32!(...args);
    each(parts, ([i0, i1], t) => {
      const a = args.slice();
      a[0] = y! + i0 * N! * 4;
      a[1] = x! + i0 * K! * 4;
      a[4] = t === 0 ? dq! : scratchFor(t, base.i4_gemm_scratch_bytes!(i1 - i0, K!));
      a[5] = i1 - i0;
      return [{ kernel: 'i4_gemm_f32', args: a }];
    });
    return 0;
  };

  // Pruned dense layers in row-group CSR: bands of batch rows, each worker transposing its rows
  // into a buffer of its own (every row's sums keep f32_dense_fwd's order, one row or many).
  // The multiply-adds counted are a tenth of the dense layer's: kiln takes this path from 60 %
  // (batches) to 85 % (one row) sparsity and beyond.
  const csrDense: Kernel = (...args) => {
    const [y, x, , , , , B, N, K, , , xt] = args as number[];
    const T = Math.min(pool.active, Math.ceil(B! / 4));
    if (T < 2 || (B! * N! * K!) / 10 < MIN_MACS) return base.f32_csr_dense_fwd!(...args);
    each(ranges(B!, T), ([s, e], t) => {
      const a = args.slice();
      a[0] = y! + s * N! * 4;
      a[1] = x! + s * K! * 4;
      a[6] = e - s;
      a[11] = t === 0 || e - s === 1 ? xt! : scratchFor(t, base.f32_csr_scratch_bytes!(e - s, K!));
      return [{ kernel: 'f32_csr_dense_fwd', args: a }];
    });
    return 0;
  };

  // int8 convolutions (quantized image models): samples per thread, like the f32 forward. Each
  // worker takes one scratch block of its own for the call's three buffers (sizes as the kernel
  // states them): the sample's padded copy, the windows packed for the int8 GEMM and, for
  // grouped convolutions, a group's output.
  const align = (bytes: number) => Math.ceil(bytes / 16) * 16;
  const u8Conv: Kernel = (...args) => {
    const [y, x, xq, , ap, col, tmp, B, C, H, W, O, OH, OW, KH, KW, sh, sw, , , dilh, dilw, groups] = args as number[];
    const ys = args[29]!;
    const T = Math.min(pool.active, B!);
    if (T < 2 || convMacs(B!, C!, O!, OH!, OW!, KH!, KW!, groups!) < MIN_MACS) return base.u8_conv2d!(...args);
    const P = OH! * OW!;
    const sizes = u8ConvScratch(kernels, C!, O!, OH!, OW!, KH!, KW!, sh!, sw!, dilh!, dilw!, groups!);
    const colBytes = align(sizes.col),
      apBytes = align(sizes.ap),
      tmpBytes = sizes.tmp;
    const outBytes = ys > 0 ? 1 : 4;
    each(samples(B!, T), ([s, e], t) => {
      const a = args.slice();
      a[0] = y! + s * O! * P * outBytes;
      a[1] = x! + s * C! * H! * W!;
      a[2] = xq ? xq + s * 8 : 0;
      if (t > 0) {
        const block = scratchFor(t, colBytes + apBytes + tmpBytes);
        a[5] = block;
        a[4] = block + colBytes;
        a[6] = tmpBytes > 0 ? block + colBytes + apBytes : 0;
      } else [a[4], a[5], a[6]] = [ap!, col!, tmp!];
      a[7] = e - s;
      return [{ kernel: 'u8_conv2d', args: a }];
    });
    return 0;
  };

  // Optimizer updates are element by element: contiguous ranges per thread (multiples of 4, so
  // each element takes the same SIMD or scalar path as in one call). Arguments 0-3 are the
  // per-element arrays (0 where absent), 4 the count.
  const update =
    (name: PoolKernel, arrays: number): Kernel =>
    (...args) => {
      const n = args[arrays]!;
      if (pool.active < 2 || n < MIN_UPDATE) return base[name]!(...args);
      each(ranges(n, pool.active), ([s, e]) => {
        const a = args.slice();
        for (let i = 0; i < arrays; i++) if (a[i]) a[i]! += s * 4;
        a[arrays] = e - s;
        return [{ kernel: name, args: a }];
      });
      return 0;
    };

  // Batch assembly, dst[r] = src[idx[r]]: bands of rows (a copy; any split gives the same bytes).
  const gatherRows: Kernel = (dst, src, idx, rows, cols) => {
    if (pool.active < 2 || rows! * cols! < MIN_ELEMENTWISE) return base.f32_gather_rows!(dst!, src!, idx!, rows!, cols!);
    each(samples(rows!, pool.active), ([s, e]) => [
      { kernel: 'f32_gather_rows', args: [dst! + s * cols! * 4, src!, idx! + s * 4, e - s, cols!] },
    ]);
    return 0;
  };

  // Pooling: bands of blocks that windows never cross: f32 kernels take N planes (a sample's
  // channel; H, W, OH, OW follow N), the int8 ones on NHWC codes B samples (C, H, W, OH, OW
  // follow B). `inputs` and `outputs` are the positions of the pointers to per-block input and
  // output data, `at` that of the block count; `bytes` the size of one value.
  const pooling =
    (name: PoolKernel, inputs: readonly number[], outputs: readonly number[], at: number, bytes: 1 | 4): Kernel =>
    (...args) => {
      // f32 planes: one channel per block; NHWC samples: C of them, interleaved.
      const [N, C, H, W, OH, OW] = (bytes === 4 ? [args[at], 1, ...args.slice(at + 1, at + 5)] : args.slice(at, at + 6)) as number[];
      const inValues = C! * H! * W!,
        outValues = C! * OH! * OW!;
      if (pool.active < 2 || N! * inValues < MIN_ELEMENTWISE) return base[name]!(...args);
      each(samples(N!, pool.active), ([s, e]) => {
        const a = args.slice();
        for (const i of inputs) a[i]! += s * inValues * bytes;
        for (const i of outputs) a[i]! += s * outValues * bytes;
        a[at] = e - s;
        return [{ kernel: name, args: a }];
      });
      return 0;
    };

  return Object.freeze({
    ...kernels,
    f32_maxpool2d_fwd: pooling('f32_maxpool2d_fwd', [1], [0], 2, 4),
    f32_maxpool2d_bwd: pooling('f32_maxpool2d_bwd', [0, 2], [1], 3, 4),
    f32_avgpool2d_fwd: pooling('f32_avgpool2d_fwd', [1], [0], 2, 4),
    f32_avgpool2d_bwd: pooling('f32_avgpool2d_bwd', [0], [1], 2, 4),
    f32_gather_rows: gatherRows,
    f32_adam_step: update('f32_adam_step', 4),
    f32_sgd_step: update('f32_sgd_step', 3),
    i8_gemm_i32: int8('i8_gemm_i32', 5, 6, 4),
    i8_gemm_f32: int8('i8_gemm_f32', 6, 7, 4),
    i8_gemm_f32_rows: int8('i8_gemm_f32_rows', 5, 6, 4, true),
    i8_gemm_u8: int8('i8_gemm_u8', 6, 7, 1),
    i4_gemm_f32: int4,
    f32_csr_dense_fwd: csrDense,
    u8_conv2d: u8Conv,
    u8_maxpool2d_nhwc: pooling('u8_maxpool2d_nhwc', [1], [0], 2, 1),
    u8_avgpool2d_nhwc: pooling('u8_avgpool2d_nhwc', [1], [0], 2, 1),
    f32_conv2d_fwd: convFwd,
    f32_conv2d_bwd: convBwd,
    f32_conv2d_winograd: winograd,
    f32_gemm_nn: gemm('f32_gemm_nn', NN),
    f32_gemm_nt: gemm('f32_gemm_nt', NT),
    f32_gemm_tn: gemm('f32_gemm_tn', TN),
    f32_dense_fwd: denseFwd,
    f32_dense_bwd: denseBwd,
  }) as CoreKernels;
}
