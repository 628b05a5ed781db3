// Sparse layers over f32 tensors (assembly/kernels/f32-sparse.ts): CSR matrices, the sparse dense
// layer, the statistics pruning ranks by, and SparseMlp, an inference engine that runs each layer
// of a pruned model through CSR or the dense GEMM, whichever is faster at its sparsity and batch.
// Both paths give the same bits (the kernel keeps the GEMM's summation order), so the switch is
// invisible in the predictions.
import { predictInChunks, transformOutputs } from './infer.ts';
import { kernels } from '../wasm.ts';
import { Tensor, unscoped } from '../tensor.ts';
import { checkKnownKeys, checkNumber, shapeText } from '../errors.ts';
import { activationCode, type Activation } from '../activation.ts';
import type { ColumnAffine, OutputTransform } from '../layer-engine.ts';
import { DEFAULT_LEAKY_SLOPE } from './act.ts';
import { checkF32, checkF32Number, checkSameSize, outTensor } from './check.ts';

/** Column block of the kernels' summation order (f32-gemm's KC). */
const BLOCK = 256;

/** A row-major matrix [rows, cols] keeping only its non-zeros, in the layout the sparse kernel
 *  reads (see assembly/kernels/f32-sparse.ts): rows in groups of 4 whose entries interleave, cut
 *  every 256 columns and split by column mod 4 (the dense GEMM's summation blocks and lanes),
 *  shorter rows padded with zeros. */
export class CsrMatrix {
  readonly rows: number;
  readonly cols: number;
  /** Non-zeros (padding excluded). */
  readonly nnz: number;
  /** i32 [⌈rows/4⌉·nb·4 + 1], nb = ⌈cols/256⌉: group g's entries in column block j with
   *  columns ≡ r (mod 4) are groupPtr[s] … groupPtr[s + 1] − 1, s = (g·nb + j)·4 + r; entry e
   *  belongs to row 4g + e mod 4. */
  readonly groupPtr: Tensor<'i32'>;
  /** i32 [padded length]: the column of each entry, ascending within a row (0 for padding). */
  readonly colIndex: Tensor<'i32'>;
  /** f32 [padded length] (0 for padding). */
  readonly values: Tensor<'f32'>;

  private constructor(rows: number, cols: number, nnz: number, groupPtr: Tensor<'i32'>, colIndex: Tensor<'i32'>, values: Tensor<'f32'>) {
    this.rows = rows;
    this.cols = cols;
    this.nnz = nnz;
    this.groupPtr = groupPtr;
    this.colIndex = colIndex;
    this.values = values;
  }

  /** The non-zeros of a 2-D f32 tensor (±0 both count as zero).
   *  @example const csr = CsrMatrix.fromDense(weights); csr.nnz */
  static fromDense(w: Tensor<'f32'>): CsrMatrix {
    checkF32('CsrMatrix.fromDense', 'w', w);
    if (w.shape.length !== 2) throw new RangeError(`CsrMatrix.fromDense: w must be 2-D [rows, cols], got shape ${shapeText(w.shape)}`);
    const [rows, cols] = [w.shape[0]!, w.shape[1]!];
    const nb = Math.ceil(cols / BLOCK);
    const groups = Math.ceil(rows / 4);
    const dense = w.read();
    // The columns ≡ m (mod 4) of row r's non-zeros in column block j.
    const segment = (r: number, j: number, m: number): number[] => {
      const out: number[] = [];
      if (r < rows) for (let c = j * BLOCK + m; c < Math.min(cols, (j + 1) * BLOCK); c += 4) if (dense[r * cols + c] !== 0) out.push(c);
      return out;
    };
    const groupPtr = new Int32Array(groups * nb * 4 + 1);
    const colIndex: number[] = [];
    const values: number[] = [];
    let nnz = 0;
    for (let g = 0; g < groups; g++) {
      for (let s = g * nb * 4; s < (g + 1) * nb * 4; s++) {
        groupPtr[s] = colIndex.length;
        const segs = [0, 1, 2, 3].map((r) => segment(4 * g + r, (s >> 2) % nb, s & 3));
        const longest = Math.max(...segs.map((s) => s.length));
        for (let q = 0; q < longest; q++) {
          segs.forEach((s, r) => {
            const c = s[q];
            colIndex.push(c ?? 0);
            values.push(c === undefined ? 0 : dense[(4 * g + r) * cols + c]!);
            if (c !== undefined) nnz++;
          });
        }
      }
    }
    groupPtr[groups * nb * 4] = colIndex.length;
    return new CsrMatrix(
      rows,
      cols,
      nnz,
      Tensor.from(groupPtr, [groupPtr.length], 'i32'),
      Tensor.from(colIndex, [colIndex.length], 'i32'),
      Tensor.from(values, [values.length]),
    );
  }

  /** Fraction of entries that are zero. */
  get sparsity(): number {
    const total = this.rows * this.cols;
    return total === 0 ? 0 : 1 - this.nnz / total;
  }

  dispose(): void {
    this.groupPtr.dispose();
    this.colIndex.dispose();
    this.values.dispose();
  }
}

export interface CsrDenseForwardOptions {
  /** Bias [N] added to every row; none when absent. */
  bias?: Tensor<'f32'>;
  /** Activation applied after the bias (default 'linear'). */
  activation?: Activation;
  /** Negative slope of leaky_relu (default 0.01). */
  alpha?: number;
  /** Where to write y [B,N]; a new tensor when absent. Must not be x. */
  out?: Tensor<'f32'>;
}

/**
 * A dense layer with CSR weights: y = act(x·wᵀ + bias) for x [B,K] and w [N,K]. Same bits as
 * denseForward on the zero-filled matrix.
 *
 * @example
 * const y = csrDenseForward(x, CsrMatrix.fromDense(w), { bias: b, activation: 'relu' });
 */
export function csrDenseForward(x: Tensor<'f32'>, w: CsrMatrix, options: CsrDenseForwardOptions = {}): Tensor<'f32'> {
  const where = 'csrDenseForward';
  checkKnownKeys(where, options, ['bias', 'activation', 'alpha', 'out']);
  checkF32(where, 'x', x);
  if (!(w instanceof CsrMatrix)) throw new TypeError(`${where}: w must be a CsrMatrix`);
  if (x.shape.length !== 2 || x.shape[1] !== w.cols)
    throw new RangeError(`${where}: x has shape ${shapeText(x.shape)}, expected [batch, ${w.cols}] for w [${w.rows},${w.cols}]`);
  const B = x.shape[0]!,
    N = w.rows,
    K = w.cols;
  const code = activationCode(where, options.activation ?? 'linear');
  const alpha = checkF32Number(where, 'alpha', options.alpha ?? DEFAULT_LEAKY_SLOPE);
  if (options.bias !== undefined) {
    checkF32(where, 'bias', options.bias);
    if (options.bias.size !== N) throw new RangeError(`${where}: bias has shape ${shapeText(options.bias.shape)}, expected [${N}]`);
  }
  const y = outTensor(where, options.out, [B, N], 'f32');
  if (y === x) throw new RangeError(`${where}: out must not be x (the kernel reads x while writing y)`);
  const xt = B > 1 ? Tensor.empty([kernels().f32_csr_scratch_bytes(B, K) / 4]) : undefined;
  try {
    kernels().f32_csr_dense_fwd(
      y.ptr,
      x.ptr,
      w.groupPtr.ptr,
      w.colIndex.ptr,
      w.values.ptr,
      options.bias?.ptr ?? 0,
      B,
      N,
      K,
      code,
      alpha,
      xt?.ptr ?? 0,
    );
  } finally {
    xt?.dispose();
  }
  return y;
}

/**
 * acc ← acc + |a ⊙ b|, in place: first-order Taylor importance |w·∂L/∂w| summed over batches.
 *
 * @example
 * accumulateAbsProduct(scores, engine.params, engine.grads);
 */
export function accumulateAbsProduct(acc: Tensor<'f32'>, a: Tensor<'f32'>, b: Tensor<'f32'>): void {
  const where = 'accumulateAbsProduct';
  [acc, a, b].forEach((t, i) => checkF32(where, ['acc', 'a', 'b'][i]!, t));
  checkSameSize(where, ['acc', 'a', 'b'], [acc, a, b]);
  kernels().f32_abs_mul_acc(acc.ptr, a.ptr, b.ptr, acc.size);
}

/**
 * Per column of activations x [B,N]: absSum[n] += Σ_b |x[b,n]|, zeros[n] += #{b: x[b,n] = 0}.
 * Divided by the rows seen, these give the mean |activation| and APoZ of each neuron.
 *
 * @example
 * accumulateActivationStats(absSum, zeros, hidden);
 */
export function accumulateActivationStats(absSum: Tensor<'f32'>, zeros: Tensor<'f32'>, x: Tensor<'f32'>): void {
  const where = 'accumulateActivationStats';
  [absSum, zeros, x].forEach((t, i) => checkF32(where, ['absSum', 'zeros', 'x'][i]!, t));
  if (x.shape.length !== 2) throw new RangeError(`${where}: x must be 2-D [batch, units], got shape ${shapeText(x.shape)}`);
  const N = x.shape[1]!;
  if (absSum.size !== N || zeros.size !== N)
    throw new RangeError(
      `${where}: absSum ${shapeText(absSum.shape)} and zeros ${shapeText(zeros.shape)} need ${N} entries, one per column of x ${shapeText(x.shape)}`,
    );
  kernels().f32_col_act_stats(absSum.ptr, zeros.ptr, x.ptr, x.shape[0]!, N);
}

/** Sparsity (fraction of zero weights) at or above which a layer runs through CSR: one for a
 *  single row, one for batches (measured at 64 rows). */
export interface SparseThresholds {
  readonly batch1: number;
  readonly batched: number;
}

/** Measured by `npm run bench -- compress` on a magnitude-pruned 784-256-128-10 (Node 20, AMD
 *  EPYC x64, one thread), the whole model through CSR against the whole model dense, calls
 *  alternated: at batch 1 CSR runs at 0.4× the dense speed at 50% sparsity, 0.7× at 70%, 0.9×
 *  at 80%, 1.2× at 85%, 1.4× at 90%, 2.1× at 95%; at batch 64, 1.0× at 50%, 1.1× at 60%, 1.4×
 *  at 75%, 2.2× at 90%. One row is a memory-bound dot product per unit, which the dense path
 *  streams at full width while CSR moves an index per value and gathers; a batch reuses each
 *  weight 64 times, and there CSR wins as soon as it skips enough multiplications. */
export const SPARSE_THRESHOLDS: SparseThresholds = Object.freeze({ batch1: 0.85, batched: 0.6 });

/** A layer as SparseMlp takes it: a dense layer's weights, or a layer that passes values on at
 *  inference (dropout, flatten). */
export type SparseSourceLayer =
  | {
      readonly kind: 'dense';
      readonly inputs: number;
      readonly units: number;
      readonly act: number;
      readonly alpha: number;
      readonly weight: Tensor<'f32'>;
      readonly bias: Tensor<'f32'>;
    }
  | { readonly kind: 'dropout' | 'flatten'; readonly size: number };

interface MlpLayer {
  kind: 'dense' | 'dropout' | 'flatten';
  inputs: number;
  units: number;
  act: number;
  alpha: number;
  sparsity: number;
  dense?: Tensor<'f32'>;
  csr?: CsrMatrix;
  bias?: Tensor<'f32'>;
}

/** @internal Inference over a copy of an engine's weights, each layer sparse or dense. */
export class SparseMlp {
  readonly inputs: number;
  readonly outputs: number;
  readonly thresholds: SparseThresholds;
  #layers: MlpLayer[];
  #capacity = 0;
  #buffers: Tensor<'f32'>[] = [];

  constructor(layers: readonly SparseSourceLayer[], thresholds: SparseThresholds = SPARSE_THRESHOLDS) {
    checkNumber('SparseMlp', 'thresholds.batch1', thresholds.batch1, 0, 1);
    checkNumber('SparseMlp', 'thresholds.batched', thresholds.batched, 0, 1);
    this.thresholds = thresholds;
    const first = layers[0]!,
      last = layers.at(-1)!;
    this.inputs = first.kind === 'dense' ? first.inputs : first.size;
    this.outputs = last.kind === 'dense' ? last.units : last.size;
    const low = Math.min(thresholds.batch1, thresholds.batched);
    const high = Math.max(thresholds.batch1, thresholds.batched);
    this.#layers = unscoped(() =>
      layers.map((spec) => {
        if (spec.kind !== 'dense') return { kind: spec.kind, inputs: spec.size, units: spec.size, act: 0, alpha: 0, sparsity: 0 };
        const { weight, bias } = spec;
        const csr = CsrMatrix.fromDense(weight);
        const layer: MlpLayer = {
          kind: 'dense',
          inputs: spec.inputs,
          units: spec.units,
          act: spec.act,
          alpha: spec.alpha,
          sparsity: csr.sparsity,
          bias: Tensor.from(bias.view(), [spec.units]),
        };
        if (csr.sparsity >= low) layer.csr = csr;
        else csr.dispose();
        if (layer.sparsity < high) layer.dense = Tensor.from(weight.view(), [spec.units, spec.inputs]);
        return layer;
      }),
    );
  }

  /** Which path each layer takes for a batch of `rows`. */
  paths(rows: number): ('csr' | 'dense' | 'dropout' | 'flatten')[] {
    return this.#layers.map((l) => (l.kind !== 'dense' ? l.kind : this.#sparse(l, rows) ? 'csr' : 'dense'));
  }

  /** Sparsity of each layer's weights (0 for layers without weights). */
  get sparsities(): number[] {
    return this.#layers.map((l) => l.sparsity);
  }

  #sparse(l: MlpLayer, rows: number): boolean {
    return l.sparsity >= (rows <= 1 ? this.thresholds.batch1 : this.thresholds.batched);
  }

  // Buffers: x [cap, inputs], one output per layer, and the transposed input of the CSR path.
  #ensure(rows: number): Tensor<'f32'>[] {
    if (rows <= this.#capacity) return this.#buffers;
    for (const t of this.#buffers) t.dispose();
    const cap = Math.max(rows, this.#capacity);
    const widest = Math.max(this.inputs, ...this.#layers.map((l) => l.inputs));
    this.#buffers = unscoped(() => [
      Tensor.empty([cap, this.inputs]),
      ...this.#layers.map((l) => Tensor.empty([cap, l.units])),
      Tensor.empty([Math.max(4, kernels().f32_csr_scratch_bytes(cap, widest) / 4)]),
    ]);
    this.#capacity = cap;
    return this.#buffers;
  }

  // Runs buffers[0][0:rows] through the layers; returns the address of the last output.
  #forward(rows: number, output: OutputTransform, input: ColumnAffine | undefined, to: number): void {
    const k = kernels();
    const bufs = this.#buffers;
    const xt = bufs.at(-1)!.ptr;
    if (input) k.f32_affine_cols(bufs[0]!.ptr, input.scale.ptr, input.shift.ptr, rows, this.inputs);
    let x = bufs[0]!.ptr;
    this.#layers.forEach((l, i) => {
      const y = bufs[i + 1]!.ptr;
      if (l.kind !== 'dense') k.f32_copy(y, x, rows * l.units);
      else if (this.#sparse(l, rows)) {
        const c = l.csr!;
        k.f32_csr_dense_fwd(y, x, c.groupPtr.ptr, c.colIndex.ptr, c.values.ptr, l.bias!.ptr, rows, l.units, l.inputs, l.act, l.alpha, xt);
      } else k.f32_dense_fwd(y, 0, x, l.dense!.ptr, l.bias!.ptr, rows, l.units, l.inputs, l.act, l.alpha);
      x = y;
    });
    transformOutputs(to, x, rows, this.outputs, output);
  }

  /** Outputs [n, outputs] for x [n, inputs], in chunks of `chunk` rows. */
  predict(x: Tensor<'f32'>, output: OutputTransform = 'raw', input?: ColumnAffine, chunk = 1024): Tensor<'f32'> {
    const n = x.shape[0] ?? 0;
    if (x.size !== n * this.inputs)
      throw new RangeError(`SparseMlp.predict: input ${shapeText(x.shape)} does not have ${this.inputs} features`);
    const out = Tensor.empty([n, this.outputs]);
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const bufs = this.#ensure(rows);
      kernels().f32_copy(bufs[0]!.ptr, x.ptr + start * this.inputs * 4, rows * this.inputs);
      this.#forward(rows, output, input, out.ptr + start * this.outputs * 4);
    }
    return out;
  }

  /** As `predict`, from and to JS arrays, with nothing allocated in the core once warm. With
   *  `where`, NaN or infinite inputs throw a RangeError naming it, the row and the column. */
  predictArray(x: ArrayLike<number>, output: OutputTransform = 'raw', input?: ColumnAffine, where?: string, chunk = 1024): Float32Array {
    return predictInChunks(x, this.inputs, this.outputs, chunk, where, (rows) => {
      const bufs = this.#ensure(rows);
      const last = bufs[this.#layers.length]!.ptr;
      return { input: () => bufs[0]!.ptr, run: () => (this.#forward(rows, output, input, last), last) };
    });
  }

  dispose(): void {
    for (const t of this.#buffers) t.dispose();
    this.#buffers = [];
    this.#capacity = 0;
    for (const l of this.#layers) for (const t of [l.dense, l.csr, l.bias]) t?.dispose();
    this.#layers = [];
  }
}
