// The threaded core's kernel table: the heavy kernels split their output across the pool's
// threads, every other kernel is the core's own export. Outputs are split by whole rows (or
// column panels) of C, never along the summation: each element is computed by one thread, by the
// same code in the same order as on one thread, so the bytes do not depend on the thread count.
// Below MIN_MACS multiply-adds a call stays on the calling thread: waking workers costs more
// than it saves there (batch-1 inference never splits).
import { ACT_LINEAR } from '../../../assembly/codes.ts';
import type { CoreKernels } from '../kernels.generated.ts';
import type { KernelPool, PoolCall } from './pool.ts';

/** Smallest product (M·N·K multiply-adds) worth splitting: about 40 µs on one thread. */
export const MIN_MACS = 1 << 20;

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

/** `base` with f32_gemm_nn/nt/tn, f32_dense_fwd and f32_dense_bwd run across `pool`. */
export function threadedKernels(kernels: CoreKernels, pool: KernelPool): CoreKernels {
  const base = kernels as unknown as Readonly<Record<string, Kernel>>;
  const big = (M: number, N: number, K: number) => pool.active > 1 && M * N * K >= MIN_MACS;
  const each = <X>(xs: X[], f: (x: X) => PoolCall[]) => pool.run(xs.map(f));

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

  // dy ⊙ act′(pre) by element ranges; then dw = dyᵀ·x (rows of dw, the units), dx = dy·w (rows
  // of dx, the batch) and db = Σ_b dy (this thread) in one round: all read dy, none writes it.
  const denseBwd: Kernel = (dx, dw, db, dy, x, w, pre, y, B, N, K, act, alpha, acc) => {
    if (!big(B!, N!, K!)) return base.f32_dense_bwd!(dx!, dw!, db!, dy!, x!, w!, pre!, y!, B!, N!, K!, act!, alpha!, acc!);
    const T = pool.active;
    if (act !== ACT_LINEAR) {
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

  return Object.freeze({
    ...kernels,
    f32_gemm_nn: gemm('f32_gemm_nn', NN),
    f32_gemm_nt: gemm('f32_gemm_nt', NT),
    f32_gemm_tn: gemm('f32_gemm_tn', TN),
    f32_dense_fwd: denseFwd,
    f32_dense_bwd: denseBwd,
  }) as CoreKernels;
}
