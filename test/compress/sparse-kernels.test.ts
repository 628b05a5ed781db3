// Sparse kernels: the CSR layer against its _ref twin (same bits), against the dense layer on the
// zero-filled matrix (same bits, the contract that lets inference switch paths) and against an
// f64 layer written here; the Taylor and activation-statistics accumulators against twins and
// hand counts; the wrappers' checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { kernelByName, kernels } from '../../src/core/wasm.ts';
import { ACTIVATIONS } from '../../src/core/activation.ts';
import { denseForward } from '../../src/core/ops/linalg.ts';
import { CsrMatrix, accumulateAbsProduct, accumulateActivationStats, csrDenseForward } from '../../src/core/ops/sparse.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

// Weights with about `sparsity` of the entries zeroed, some rows left empty.
function sparseWeights(rand: () => number, N: number, K: number, sparsity: number): Float32Array {
  const w = uniform(rand, N * K);
  for (let i = 0; i < w.length; i++) if (rand() < sparsity || Math.floor(i / K) % 5 === 4) w[i] = 0;
  return w;
}

function csrForward(
  kernel: string,
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | undefined,
  B: number,
  N: number,
  K: number,
  act: number,
): Float32Array {
  return scope(() => {
    const csr = CsrMatrix.fromDense(Tensor.from(w, [N, K]));
    const y = Tensor.from(new Float32Array(B * N).fill(NaN));
    const xt = Tensor.empty([Math.max(16, kernels().f32_csr_scratch_bytes(B, K))], 'u8');
    const b = bias ? Tensor.from(bias) : undefined;
    kernelByName(kernel)(
      y.ptr,
      Tensor.from(x).ptr,
      csr.groupPtr.ptr,
      csr.colIndex.ptr,
      csr.values.ptr,
      b?.ptr ?? 0,
      B,
      N,
      K,
      act,
      0.1,
      xt.ptr,
    );
    const out = y.read();
    csr.dispose();
    return out;
  });
}

const SHAPES: [number, number, number][] = [
  [0, 3, 5],
  [1, 1, 1],
  [1, 7, 300],
  [3, 5, 1],
  [4, 9, 257],
  [5, 4, 17],
  [16, 6, 33],
  [17, 3, 600],
  [33, 8, 64],
  [64, 5, 784],
];

test('CSR layer: SIMD equals the _ref twin bit for bit, and the dense layer on the zero-filled matrix', () => {
  const rand = mulberry32(11);
  for (const [B, N, K] of SHAPES) {
    for (const sparsity of [0, 0.5, 0.95, 1]) {
      const act = Math.floor(rand() * ACTIVATIONS.length);
      const w = sparseWeights(rand, N, K, sparsity);
      const x = uniform(rand, B * K, -2, 2);
      const bias = rand() < 0.8 ? uniform(rand, N) : undefined;
      const fast = csrForward('f32_csr_dense_fwd', x, w, bias, B, N, K, act);
      const ref = csrForward('f32_csr_dense_fwd_ref', x, w, bias, B, N, K, act);
      const label = `B=${B} N=${N} K=${K} s=${sparsity} act=${ACTIVATIONS[act]}`;
      assert.deepEqual(bits(fast), bits(ref), label);
      const dense = scope(() =>
        denseForward(Tensor.from(x, [B, K]), Tensor.from(w, [N, K]), {
          bias: bias && Tensor.from(bias),
          activation: ACTIVATIONS[act],
          alpha: 0.1,
        }).read(),
      );
      assert.deepEqual(bits(fast), bits(dense), `${label} vs dense`);
    }
  }
});

test('CSR layer against an f64 layer', () => {
  const rand = mulberry32(5);
  const [B, N, K] = [7, 11, 300];
  const w = sparseWeights(rand, N, K, 0.8);
  const x = uniform(rand, B * K);
  const bias = uniform(rand, N);
  const expected = new Float64Array(B * N);
  for (let b = 0; b < B; b++)
    for (let n = 0; n < N; n++) {
      let s = bias[n]!;
      for (let k = 0; k < K; k++) s += x[b * K + k]! * w[n * K + k]!;
      expected[b * N + n] = Math.max(0, s);
    }
  const y = scope(() =>
    csrDenseForward(Tensor.from(x, [B, K]), CsrMatrix.fromDense(Tensor.from(w, [N, K])), {
      bias: Tensor.from(bias),
      activation: 'relu',
    }).read(),
  );
  assertClose(y, expected, { atol: 1e-5, rtol: 1e-5 }, 'csr vs f64');
});

test('CsrMatrix interleaves groups of four rows by 256-column block and column mod 4, padding short rows', () => {
  scope(() => {
    const wide = new Float32Array(5 * 600);
    // Row 0: columns 3, 255 | 256 | 599; row 1: 10 | 520; row 4 (second group): 7.
    for (const i of [3, 255, 256, 599, 600 + 10, 600 + 520, 2400 + 7]) wide[i] = i + 1;
    const csr = CsrMatrix.fromDense(Tensor.from(wide, [5, 600]));
    assert.equal(csr.nnz, 7);
    // Segments (block, residue): group 0 has (0,2) [row 1: 10], (0,3) [row 0: 3, 255], (1,0) [256], (2,0) [row 1: 520], (2,3) [599].
    assert.deepEqual(
      Array.from(csr.groupPtr.read()),
      [0, 0, 0, 4, 12, 16, 16, 16, 16, 20, 20, 20, 24, 24, 24, 24, 28, 28, 28, 28, 28, 28, 28, 28, 28],
    );
    assert.deepEqual(
      Array.from(csr.colIndex.read()),
      [0, 10, 0, 0, 3, 0, 0, 0, 255, 0, 0, 0, 256, 0, 0, 0, 0, 520, 0, 0, 599, 0, 0, 0, 7, 0, 0, 0],
    );
    assert.deepEqual(
      Array.from(csr.values.read()),
      [0, 611, 0, 0, 4, 0, 0, 0, 256, 0, 0, 0, 257, 0, 0, 0, 0, 1121, 0, 0, 600, 0, 0, 0, 2408, 0, 0, 0],
    );
    assert.equal(csr.sparsity, 1 - 7 / 3000);
    csr.dispose();
  });
});

test('Taylor accumulator: |a·b| added in place, twin bit for bit', () => {
  const rand = mulberry32(3);
  for (const n of [0, 1, 3, 4, 17, 1001]) {
    const [acc0, a, b] = [uniform(rand, n, 0, 1), uniform(rand, n), uniform(rand, n)];
    const run = (kernel: string) =>
      scope(() => {
        const acc = Tensor.from(acc0);
        kernelByName(kernel)(acc.ptr, Tensor.from(a).ptr, Tensor.from(b).ptr, n);
        return acc.read();
      });
    const fast = run('f32_abs_mul_acc');
    assert.deepEqual(bits(fast), bits(run('f32_abs_mul_acc_ref')), `n=${n}`);
    assertClose(
      fast,
      Array.from(acc0, (v, i) => v + Math.abs(a[i]! * b[i]!)),
      { atol: 1e-6, rtol: 1e-6 },
      `n=${n} f64`,
    );
  }
  scope(() => {
    const acc = Tensor.from([1, 2]);
    accumulateAbsProduct(acc, Tensor.from([-2, 3]), Tensor.from([0.5, -1]));
    assert.deepEqual(Array.from(acc.read()), [2, 5]);
    assert.throws(
      () => accumulateAbsProduct(acc, Tensor.from([1]), Tensor.from([1, 2])),
      /accumulateAbsProduct: a \[1\] has 1 elements, acc \[2\] has 2/,
    );
  });
});

test('activation statistics: column sums of |x| and zero counts, twin bit for bit', () => {
  const rand = mulberry32(9);
  for (const [B, N] of [
    [0, 3],
    [1, 1],
    [5, 4],
    [6, 7],
    [33, 9],
  ] as const) {
    const x = uniform(rand, B * N);
    for (let i = 0; i < x.length; i++) if (rand() < 0.4) x[i] = rand() < 0.5 ? 0 : -0;
    const start = uniform(rand, 2 * N, 0, 3);
    const run = (kernel: string) =>
      scope(() => {
        const s = Tensor.from(start.subarray(0, N));
        const z = Tensor.from(start.subarray(N));
        kernelByName(kernel)(s.ptr, z.ptr, Tensor.from(x).ptr, B, N);
        return [...s.read(), ...z.read()];
      });
    const fast = run('f32_col_act_stats');
    assert.deepEqual(bits(Float32Array.from(fast)), bits(Float32Array.from(run('f32_col_act_stats_ref'))), `B=${B} N=${N}`);
    const expected = Array.from(start);
    for (let b = 0; b < B; b++)
      for (let n = 0; n < N; n++) {
        expected[n]! += Math.abs(x[b * N + n]!);
        if (x[b * N + n] === 0) expected[N + n]! += 1;
      }
    assertClose(fast, expected, { atol: 1e-5, rtol: 1e-6 }, `B=${B} N=${N} f64`);
  }
  scope(() => {
    const [s, z] = [Tensor.zeros([2]), Tensor.zeros([2])];
    accumulateActivationStats(s, z, Tensor.from([0, -1, 2, 0, 0, 0.5], [3, 2]));
    assert.deepEqual(Array.from(s.read()), [2, 1.5]);
    assert.deepEqual(Array.from(z.read()), [2, 1]);
    assert.throws(
      () => accumulateActivationStats(s, z, Tensor.from([1, 2, 3], [1, 3])),
      /accumulateActivationStats: absSum \[2\] and zeros \[2\] need 3 entries/,
    );
  });
});

test('csrDenseForward checks shapes and aliasing', () => {
  scope(() => {
    const csr = CsrMatrix.fromDense(Tensor.from([1, 0, 0, 1], [2, 2]));
    assert.throws(
      () => csrDenseForward(Tensor.zeros([3, 3]), csr),
      /csrDenseForward: x has shape \[3,3\], expected \[batch, 2\] for w \[2,2\]/,
    );
    assert.throws(() => csrDenseForward(Tensor.zeros([1, 2]), csr, { bias: Tensor.zeros([3]) }), /bias has shape \[3\], expected \[2\]/);
    const x = Tensor.zeros([2, 2]);
    assert.throws(() => csrDenseForward(x, csr, { out: x }), /out must not be x/);
    assert.throws(() => CsrMatrix.fromDense(Tensor.zeros([4])), /must be 2-D/);
  });
});
