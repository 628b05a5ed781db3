// f32 GEMM in its three forms: the SIMD kernels against their scalar _ref twins (same bits: both
// follow the summation order the kernel file documents), against an f64 product computed here,
// and the properties that order promises (batch and form invariance, determinism).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { kernelByName, kernels } from '../../src/core/wasm.ts';
import { matmul } from '../../src/core/ops/linalg.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

type Form = 'nn' | 'nt' | 'tn';
const FORMS: Form[] = ['nn', 'nt', 'tn'];

// Element strides of A(i,k) and B(k,j) as each form stores them.
function strides(form: Form, M: number, N: number, K: number) {
  return {
    ai: form === 'tn' ? 1 : K,
    ak: form === 'tn' ? M : 1,
    bk: form === 'nt' ? 1 : N,
    bj: form === 'nt' ? K : 1,
  };
}

function gemmF64(
  form: Form,
  M: number,
  N: number,
  K: number,
  a: Float32Array,
  b: Float32Array,
  c0: Float32Array | undefined,
): Float64Array {
  const s = strides(form, M, N, K);
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = c0 ? c0[i * N + j]! : 0;
      for (let k = 0; k < K; k++) sum += a[i * s.ai + k * s.ak]! * b[k * s.bk + j * s.bj]!;
      out[i * N + j] = sum;
    }
  }
  return out;
}

function gemm(kernel: string, M: number, N: number, K: number, a: Float32Array, b: Float32Array, c0?: Float32Array): Float32Array {
  return scope(() => {
    const at = Tensor.from(a);
    const bt = Tensor.from(b);
    const ct = c0 ? Tensor.from(c0) : Tensor.from(new Float32Array(M * N).fill(NaN));
    kernelByName(kernel)(ct.ptr, at.ptr, bt.ptr, M, N, K, c0 ? 1 : 0);
    return ct.read();
  });
}

// x stored [rows, cols] -> [cols, rows].
function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j]!;
  return out;
}

const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);
function assertSameBits(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const a = bits(actual);
  const e = bits(expected);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) assert.fail(`${label}: first differing bits at ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

// f32 blocked summation of K products of magnitude <= 1: a few hundred ulps of the sum at most.
const tol = (K: number) => ({ atol: 4e-7 * (K + 1), rtol: 1e-5 });

// Degenerate sizes, 4k+1 tails in every dimension, M == 1 and N == 1 (the vector paths), narrow
// N (computed as Cᵀ), K spanning several K blocks (256) and N several N blocks (64).
const SHAPES: [number, number, number][] = [
  [0, 5, 3],
  [5, 0, 3],
  [4, 8, 0],
  [1, 1, 1],
  [1, 7, 1],
  [7, 1, 1],
  [3, 3, 3],
  [4, 8, 4],
  [5, 9, 5],
  [1, 1, 300],
  [1, 37, 300],
  [1, 128, 784],
  [2, 33, 17],
  [3, 64, 1],
  [17, 13, 33],
  [9, 65, 257],
  [33, 130, 70],
  [64, 10, 256],
  [13, 72, 513],
  [6, 200, 129],
  [9, 1, 300],
  [70, 1, 7],
  [40, 3, 20],
  [200, 10, 33],
];

for (const form of FORMS) {
  test(`f32_gemm_${form} matches its _ref twin bit for bit and an f64 product`, () => {
    const rand = mulberry32(11 + form.charCodeAt(1));
    for (const [M, N, K] of SHAPES) {
      for (const acc of [false, true]) {
        const a = uniform(rand, M * K);
        const b = uniform(rand, K * N);
        const c0 = acc ? uniform(rand, M * N) : undefined;
        const label = `${form} M=${M} N=${N} K=${K} acc=${acc}`;
        const fast = gemm(`f32_gemm_${form}`, M, N, K, a, b, c0);
        const ref = gemm(`f32_gemm_${form}_ref`, M, N, K, a, b, c0);
        assertSameBits(fast, ref, label);
        assertClose(fast, gemmF64(form, M, N, K, a, b, c0), tol(K), label);
      }
    }
  });
}

test('f32_gemm: nn and tn give the same bits for the same product (nt has its own order)', () => {
  const rand = mulberry32(5);
  const [M, N, K] = [19, 45, 300];
  const a = uniform(rand, M * K);
  const b = uniform(rand, K * N);
  assertSameBits(gemm('f32_gemm_tn', M, N, K, transpose(a, M, K), b), gemm('f32_gemm_nn', M, N, K, a, b), 'tn vs nn');
});

// Row i of a product alone (M == 1) and column j alone (N == 1) against the full product.
test('f32_gemm: a row or a column gives the same bits alone (the vector paths) as inside a product', () => {
  const rand = mulberry32(6);
  for (const form of FORMS) {
    const [M, N, K] = [21, 37, 600];
    const a = uniform(rand, M * K);
    const b = uniform(rand, K * N);
    const full = gemm(`f32_gemm_${form}`, M, N, K, a, b);
    const s = strides(form, M, N, K);
    for (const i of [0, 3, 20]) {
      const row = Float32Array.from({ length: K }, (_, k) => a[i * s.ai + k * s.ak]!);
      assertSameBits(gemm(`f32_gemm_${form}`, 1, N, K, row, b), full.subarray(i * N, (i + 1) * N), `${form} row ${i}`);
    }
    for (const j of [0, 4, 36]) {
      const col = Float32Array.from({ length: K }, (_, k) => b[k * s.bk + j * s.bj]!);
      const want = Float32Array.from({ length: M }, (_, i) => full[i * N + j]!);
      assertSameBits(gemm(`f32_gemm_${form}`, M, 1, K, a, col), want, `${form} column ${j}`);
    }
  }
});

test('f32_gemm: repeated calls give the same bits', () => {
  const rand = mulberry32(7);
  const [M, N, K] = [37, 70, 520];
  const a = uniform(rand, M * K);
  const b = uniform(rand, K * N);
  const first = gemm('f32_gemm_nn', M, N, K, a, b);
  for (let r = 0; r < 3; r++) assertSameBits(gemm('f32_gemm_nn', M, N, K, a, b), first, `run ${r}`);
});

test('f32_gemm: K == 0 zeroes C or leaves it; M or N == 0 writes nothing', () => {
  for (const form of FORMS) {
    const c0 = new Float32Array([1, 2, 3, 4, 5, 6]);
    assertSameBits(gemm(`f32_gemm_${form}`, 2, 3, 0, new Float32Array(0), new Float32Array(0)), new Float32Array(6), `${form} K=0`);
    assertSameBits(gemm(`f32_gemm_${form}`, 2, 3, 0, new Float32Array(0), new Float32Array(0), c0), c0, `${form} K=0 acc`);
    scope(() => {
      const guard = Tensor.from([7, 8, 9]);
      const x = Tensor.from([1, 2, 3]);
      kernelByName(`f32_gemm_${form}`)(guard.ptr, x.ptr, x.ptr, 0, 3, 1, 0);
      kernelByName(`f32_gemm_${form}`)(guard.ptr, x.ptr, x.ptr, 3, 0, 1, 0);
      assert.deepEqual([...guard.read()], [7, 8, 9]);
    });
  }
});

test('f32_gemm: NaN and infinities land where the reference puts them, padding lanes stay out', () => {
  const rand = mulberry32(8);
  for (const form of FORMS) {
    const [M, N, K] = [7, 13, 9];
    const a = uniform(rand, M * K);
    const b = uniform(rand, K * N);
    const s = strides(form, M, N, K);
    a[6 * s.ai + 2 * s.ak] = Infinity; // a row in the M tail
    a[1 * s.ai + 4 * s.ak] = NaN;
    b[3 * s.bk + 12 * s.bj] = -Infinity; // a column in the N tail
    const fast = gemm(`f32_gemm_${form}`, M, N, K, a, b);
    assertClose(fast, gemm(`f32_gemm_${form}_ref`, M, N, K, a, b), {}, form);
    assert.ok(Number.isNaN(fast[1 * N + 0]!) && !Number.isFinite(fast[6 * N + 0]!) && Number.isFinite(fast[0]!), form);
  }
});

test('f32_peak_probe runs and returns a number; f32_gemm_tile_probe runs', () => {
  assert.equal(typeof kernels().f32_peak_probe!(10, 1, 0.5), 'number');
  kernels().f32_gemm_tile_probe(3);
});

test('matmul picks the form from transA/transB and honours out and accumulate', () => {
  const rand = mulberry32(9);
  const [M, N, K] = [5, 6, 7];
  const a = uniform(rand, M * K);
  const b = uniform(rand, K * N);
  const aT = transpose(a, M, K);
  const bT = transpose(b, K, N);
  const want = gemm('f32_gemm_nn_ref', M, N, K, a, b);
  scope(() => {
    const at = Tensor.from(a, [M, K]);
    const bt = Tensor.from(b, [K, N]);
    const c = matmul(at, bt);
    assert.deepEqual(c.shape, [M, N]);
    assertSameBits(c.read(), want, 'nn');
    assertSameBits(matmul(at, Tensor.from(bT, [N, K]), { transB: true }).read(), gemm('f32_gemm_nt_ref', M, N, K, a, bT), 'transB');
    assertSameBits(matmul(Tensor.from(aT, [K, M]), bt, { transA: true }).read(), want, 'transA');
    const out = Tensor.from(new Float32Array(M * N).fill(1), [M, N]);
    assert.equal(matmul(at, bt, { out, accumulate: true }), out);
    assertSameBits(out.read(), gemm('f32_gemm_nn_ref', M, N, K, a, b, new Float32Array(M * N).fill(1)), 'accumulate');
  });
});

test('matmul rejects bad shapes, kinds, options and overlapping memory', () => {
  scope(() => {
    const a = Tensor.zeros([2, 3]);
    const b = Tensor.zeros([4, 5]);
    assert.throws(() => matmul(a, b), /matmul: inner dimensions differ: a \[2,3\] has 3 columns, b \[4,5\] has 4 rows/);
    assert.throws(() => matmul(a, b, { transA: true, transB: true }), /matmul: transA and transB together are not supported/);
    assert.throws(
      () => matmul(a, b, { transB: true }),
      /matmul: inner dimensions differ: a \[2,3\] has 3 columns, bᵀ of b \[4,5\] has 5 rows/,
    );
    assert.throws(() => matmul(Tensor.zeros([6]), b), /matmul: a must be a 2-D matrix, got shape \[6\]/);
    assert.throws(() => matmul(a, Tensor.zeros([3, 2], 'i32') as never), /matmul: b must be an f32 tensor, got i32/);
    assert.throws(() => matmul(a, Tensor.zeros([3, 2]), { accumulate: true }), /matmul: accumulate needs an out tensor/);
    assert.throws(() => matmul(a, Tensor.zeros([3, 2]), { out: Tensor.zeros([2, 3]) }), /matmul: out has shape \[2,3\], expected \[2,2\]/);
    assert.throws(() => matmul(a, Tensor.zeros([3, 3]), { out: a }), /matmul: out \[2,3\] shares memory with a \[2,3\]/);
    assert.throws(() => matmul(a, Tensor.zeros([3, 2]), { transpose: true } as never), /matmul: unknown option 'transpose'/);
    assert.throws(() => matmul(a, Tensor.zeros([3, 2]), { transA: 1 } as never), /matmul: transA must be a boolean, got number/);
    assert.deepEqual(matmul(Tensor.zeros([0, 3]), Tensor.zeros([3, 2])).shape, [0, 2]);
  });
});
