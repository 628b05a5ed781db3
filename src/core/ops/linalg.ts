// Matrix products and the dense layer over f32 tensors (assembly/kernels/f32-gemm.ts and
// f32-dense.ts). Shapes, dtypes and memory overlap are checked here, before any address is used:
// the kernels read their inputs while writing their outputs, so the two must not share memory.
import { kernels } from '../wasm.ts';
import { Tensor } from '../tensor.ts';
import { checkKnownKeys, shapeText } from '../errors.ts';
import { activationCode, type Activation } from '../activation.ts';
import { DEFAULT_LEAKY_SLOPE } from './act.ts';
import { checkF32, checkF32Number, outTensor } from './check.ts';

export interface MatmulOptions {
  /** Treat `a` as stored transposed: a is [K,M] and the product uses aᵀ (default false). */
  transA?: boolean;
  /** Treat `b` as stored transposed: b is [N,K] and the product uses bᵀ (default false). */
  transB?: boolean;
  /** Where to write the [M,N] result; a new tensor when absent. Must not overlap a or b. */
  out?: Tensor<'f32'>;
  /** Add the product into `out` instead of overwriting it (default false; needs `out`). */
  accumulate?: boolean;
}

const MATMUL_KEYS = ['transA', 'transB', 'out', 'accumulate'] as const;

/**
 * The matrix product of two 2-D f32 tensors, C = op(a)·op(b), where op transposes when asked.
 * The summation order is fixed (see the kernel), so the same inputs give the same bits on every
 * run and engine, whatever the batch size.
 *
 * @example
 * const logits = matmul(features, weights, { transB: true }); // [B,K]·[N,K]ᵀ -> [B,N]
 */
export function matmul(a: Tensor<'f32'>, b: Tensor<'f32'>, options: MatmulOptions = {}): Tensor<'f32'> {
  const where = 'matmul';
  checkKnownKeys(where, options, MATMUL_KEYS);
  const transA = checkFlag(where, 'transA', options.transA);
  const transB = checkFlag(where, 'transB', options.transB);
  const accumulate = checkFlag(where, 'accumulate', options.accumulate);
  if (transA && transB)
    throw new RangeError(`${where}: transA and transB together are not supported; use (b·a)ᵀ = aᵀ·bᵀ with a transposed result instead`);
  const [ra, ca] = matrix(where, 'a', a);
  const [rb, cb] = matrix(where, 'b', b);
  const [M, Ka] = transA ? [ca, ra] : [ra, ca];
  const [Kb, N] = transB ? [cb, rb] : [rb, cb];
  if (Ka !== Kb) {
    const opA = transA ? `aᵀ of a ${shapeText(a.shape)}` : `a ${shapeText(a.shape)}`;
    const opB = transB ? `bᵀ of b ${shapeText(b.shape)}` : `b ${shapeText(b.shape)}`;
    throw new RangeError(`${where}: inner dimensions differ: ${opA} has ${Ka} columns, ${opB} has ${Kb} rows`);
  }
  if (accumulate && options.out === undefined) throw new RangeError(`${where}: accumulate needs an out tensor to add into`);
  if (options.out !== undefined) checkNoOverlap(where, { out: outTensor(where, options.out, [M, N], 'f32') }, { a, b });
  const out = options.out ?? Tensor.empty([M, N], 'f32');
  const kernel = transA ? 'f32_gemm_tn' : transB ? 'f32_gemm_nt' : 'f32_gemm_nn';
  kernels()[kernel]!(out.ptr, a.ptr, b.ptr, M, N, Ka, accumulate ? 1 : 0);
  return out;
}

export interface DenseForwardOptions {
  /** Bias [N] added to every row; none when absent. */
  bias?: Tensor<'f32'>;
  /** Activation applied after the bias (default 'linear'). */
  activation?: Activation;
  /** Negative slope of leaky_relu (default 0.01). */
  alpha?: number;
  /** Where to write y [B,N]; a new tensor when absent. */
  out?: Tensor<'f32'>;
  /** Where to keep the pre-activations x·wᵀ + bias [B,N], which training needs; not kept when absent. */
  pre?: Tensor<'f32'>;
}

const DENSE_FWD_KEYS = ['bias', 'activation', 'alpha', 'out', 'pre'] as const;

/**
 * A dense layer: y = act(x·wᵀ + bias) for inputs x [B,K] and weights w [N,K] (one row per unit).
 *
 * @example
 * const h = denseForward(x, w, { bias: b, activation: 'relu' });
 */
export function denseForward(x: Tensor<'f32'>, w: Tensor<'f32'>, options: DenseForwardOptions = {}): Tensor<'f32'> {
  const where = 'denseForward';
  checkKnownKeys(where, options, DENSE_FWD_KEYS);
  const { B, N, K } = denseShapes(where, x, w);
  const code = activationCode(where, options.activation ?? 'linear');
  const alpha = checkF32Number(where, 'alpha', options.alpha ?? DEFAULT_LEAKY_SLOPE);
  const bias = optionalShaped(where, 'bias', options.bias, [N]);
  const pre = optionalShaped(where, 'pre', options.pre, [B, N]);
  const given = options.out === undefined ? undefined : outTensor(where, options.out, [B, N], 'f32');
  checkNoOverlap(where, { out: given, pre }, { x, w, bias });
  if (pre) checkNoOverlap(where, { out: given }, { pre });
  const y = given ?? Tensor.empty([B, N], 'f32');
  kernels().f32_dense_fwd(y.ptr, pre?.ptr ?? 0, x.ptr, w.ptr, bias?.ptr ?? 0, B, N, K, code, alpha);
  return y;
}

export interface DenseBackwardOptions {
  /** The forward's activation (default 'linear'). */
  activation?: Activation;
  /** Negative slope of leaky_relu (default 0.01). */
  alpha?: number;
  /** The forward's pre-activations [B,N]; required unless the activation is linear. */
  pre?: Tensor<'f32'>;
  /** The forward's output [B,N], which sigmoid and tanh reuse; recomputed from `pre` when absent. */
  y?: Tensor<'f32'>;
  /** Where to write (or add) dw [N,K]; a new tensor when absent. */
  dw?: Tensor<'f32'>;
  /** Where to write (or add) db [N]; a new tensor when absent, not computed when null. */
  db?: Tensor<'f32'> | null;
  /** Where to write dx [B,K]; a new tensor when absent, not computed when null (a first layer). */
  dx?: Tensor<'f32'> | null;
  /** Add into dw and db instead of overwriting them (default false; needs both given). dx is always overwritten. */
  accumulate?: boolean;
}

export interface DenseGradients {
  dw: Tensor<'f32'>;
  db: Tensor<'f32'> | undefined;
  dx: Tensor<'f32'> | undefined;
}

const DENSE_BWD_KEYS = ['activation', 'alpha', 'pre', 'y', 'dw', 'db', 'dx', 'accumulate'] as const;

/**
 * Gradients of a dense layer from dy [B,N], the gradient at its output. dy is overwritten in place
 * with dpre = dy ⊙ act′(pre); then dw = dpreᵀ·x, db = Σ_b dpre, dx = dpre·w.
 *
 * @example
 * const { dw, db, dx } = denseBackward(dy, x, w, { pre, y: h, activation: 'relu' });
 */
export function denseBackward(dy: Tensor<'f32'>, x: Tensor<'f32'>, w: Tensor<'f32'>, options: DenseBackwardOptions = {}): DenseGradients {
  const where = 'denseBackward';
  checkKnownKeys(where, options, DENSE_BWD_KEYS);
  const { B, N, K } = denseShapes(where, x, w);
  const activation = options.activation ?? 'linear';
  const code = activationCode(where, activation);
  const alpha = checkF32Number(where, 'alpha', options.alpha ?? DEFAULT_LEAKY_SLOPE);
  const accumulate = checkFlag(where, 'accumulate', options.accumulate);
  shaped(where, 'dy', dy, [B, N]);
  if (code !== 0 && options.pre === undefined)
    throw new RangeError(`${where}: activation '${activation}' needs the forward's pre-activations (options.pre)`);
  const pre = optionalShaped(where, 'pre', options.pre, [B, N]);
  const y = optionalShaped(where, 'y', options.y, [B, N]);
  if (accumulate && (options.dw === undefined || options.db === undefined)) {
    throw new RangeError(`${where}: accumulate needs the dw and db tensors to add into (db may be null)`);
  }
  const givenDw = optionalShaped(where, 'dw', options.dw, [N, K]);
  const givenDb = options.db === null ? undefined : optionalShaped(where, 'db', options.db, [N]);
  const givenDx = options.dx === null ? undefined : optionalShaped(where, 'dx', options.dx, [B, K]);
  checkNoOverlap(where, { dy }, { x, w });
  checkNoOverlap(where, { dw: givenDw, db: givenDb, dx: givenDx }, { dy, x, w, pre, y });
  checkNoOverlap(where, { dw: givenDw }, { db: givenDb, dx: givenDx });
  checkNoOverlap(where, { db: givenDb }, { dx: givenDx });
  const dw = givenDw ?? Tensor.empty([N, K], 'f32');
  const db = options.db === null ? undefined : (givenDb ?? Tensor.empty([N], 'f32'));
  const dx = options.dx === null ? undefined : (givenDx ?? Tensor.empty([B, K], 'f32'));
  kernels().f32_dense_bwd(
    dx?.ptr ?? 0,
    dw.ptr,
    db?.ptr ?? 0,
    dy.ptr,
    x.ptr,
    w.ptr,
    pre?.ptr ?? 0,
    y?.ptr ?? 0,
    B,
    N,
    K,
    code,
    alpha,
    accumulate ? 1 : 0,
  );
  return { dw, db, dx };
}

function checkFlag(where: string, name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`${where}: ${name} must be a boolean, got ${typeof value}`);
  return value;
}

function matrix(where: string, name: string, t: unknown): [number, number] {
  const m = checkF32(where, name, t);
  if (m.shape.length !== 2) throw new RangeError(`${where}: ${name} must be a 2-D matrix, got shape ${shapeText(m.shape)}`);
  return [m.shape[0]!, m.shape[1]!];
}

function denseShapes(where: string, x: Tensor<'f32'>, w: Tensor<'f32'>): { B: number; N: number; K: number } {
  const [B, K] = matrix(where, 'x', x);
  const [N, Kw] = matrix(where, 'w', w);
  if (K !== Kw)
    throw new RangeError(
      `${where}: x ${shapeText(x.shape)} has ${K} features, w ${shapeText(w.shape)} expects ${Kw} (w is [units, inputs])`,
    );
  return { B, N, K };
}

function shaped(where: string, name: string, t: unknown, shape: readonly number[]): Tensor<'f32'> {
  const m = checkF32(where, name, t);
  if (m.shape.length !== shape.length || m.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(`${where}: ${name} has shape ${shapeText(m.shape)}, expected ${shapeText(shape)}`);
  }
  return m;
}

function optionalShaped(where: string, name: string, t: unknown, shape: readonly number[]): Tensor<'f32'> | undefined {
  return t === undefined ? undefined : shaped(where, name, t, shape);
}

// Each written tensor against each read one (absent ones skipped): byte ranges must be disjoint.
// Runs before any output is allocated, so a rejected call leaves nothing behind.
function checkNoOverlap(where: string, written: Record<string, Tensor | undefined>, read: Record<string, Tensor | undefined>): void {
  for (const [wn, wt] of Object.entries(written)) {
    if (!wt || wt.size === 0) continue;
    for (const [rn, rt] of Object.entries(read)) {
      if (!rt || rt.size === 0) continue;
      if (wt.ptr < rt.ptr + rt.size * 4 && rt.ptr < wt.ptr + wt.size * 4) {
        throw new RangeError(
          `${where}: ${wn} ${shapeText(wt.shape)} shares memory with ${rn} ${shapeText(rt.shape)}; the kernel reads ${rn} while writing ${wn}`,
        );
      }
    }
  }
}
