// Mixture kernels: v128 against the _ref twins (bit for bit where the header promises it), against
// f64 formulas written here, and the backward against central finite differences of an f64
// mixture, on seeded shapes with tails and degenerate sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { kernelByName, kernels } from '../../src/core/wasm.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));
const SIZES = [0, 1, 3, 4, 5, 8, 17, 33, 1001];
const SHAPES: [number, number, number][] = [
  [1, 0, 4],
  [1, 1, 1],
  [2, 3, 5],
  [3, 4, 8],
  [4, 7, 13],
  [1, 9, 33],
  [5, 16, 64],
];

test('f32_dot: the documented f64 lane order exactly, _ref to f64 rounding', () => {
  const rand = mulberry32(1);
  for (const n of SIZES) {
    const x = uniform(rand, n, -10, 10),
      y = uniform(rand, n, -10, 10);
    const [fast, ref] = scope(() => {
      const tx = Tensor.from(x),
        ty = Tensor.from(y);
      return [kernels().f32_dot!(tx.ptr, ty.ptr, n), kernels().f32_dot_ref!(tx.ptr, ty.ptr, n)];
    });
    const lanes = [0, 0, 0, 0];
    const body = n - (n % 4);
    for (let i = 0; i < body; i++) lanes[i % 4]! += x[i]! * y[i]!;
    let expected = lanes[0]! + lanes[1]! + (lanes[2]! + lanes[3]!);
    for (let i = body; i < n; i++) expected += x[i]! * y[i]!;
    assert.equal(fast, expected, `lane order n=${n}`);
    assertClose([ref], [expected], { atol: 1e-12, rtol: 1e-14 }, `ref n=${n}`);
  }
});

interface Mix {
  A: number;
  B: number;
  N: number;
  br: Float32Array;
  w: Float32Array;
  mask: Float32Array | undefined;
}

function mixture(rand: () => number, A: number, B: number, N: number, withMask = true): Mix {
  return { A, B, N, br: uniform(rand, A * B * N), w: uniform(rand, A, 0, 1), mask: withMask ? uniform(rand, N, 0, 1) : undefined };
}

function mixFwd(kernel: string, m: Mix): Float32Array {
  return scope(() => {
    const y = Tensor.from(new Float32Array(m.B * m.N).fill(NaN));
    const mask = m.mask ? Tensor.from(m.mask) : undefined;
    kernelByName(kernel)(y.ptr, Tensor.from(m.br).ptr, Tensor.from(m.w).ptr, mask?.ptr ?? 0, m.A, m.B, m.N);
    return y.read();
  });
}

function mixBwd(kernel: string, m: Mix, dy: Float32Array): { dmix: Float32Array; dw: Float32Array; dmask: Float32Array } {
  return scope(() => {
    const dmix = Tensor.from(new Float32Array(m.B * m.N).fill(NaN));
    const dw = Tensor.from(new Float32Array(m.A).fill(NaN));
    const dmask = Tensor.from(new Float32Array(m.N).fill(NaN));
    const mask = m.mask ? Tensor.from(m.mask) : undefined;
    kernelByName(kernel)(
      dmix.ptr,
      dw.ptr,
      dmask.ptr,
      Tensor.from(dy).ptr,
      Tensor.from(m.br).ptr,
      Tensor.from(m.w).ptr,
      mask?.ptr ?? 0,
      m.A,
      m.B,
      m.N,
    );
    return { dmix: dmix.read(), dw: dw.read(), dmask: dmask.read() };
  });
}

// y[b,j] = m[j]·Σ_a w[a]·br[a,b,j] in f64.
function mixF64(
  m: { A: number; B: number; N: number },
  br: ArrayLike<number>,
  w: ArrayLike<number>,
  mask: ArrayLike<number> | undefined,
): Float64Array {
  const y = new Float64Array(m.B * m.N);
  for (let b = 0; b < m.B; b++) {
    for (let j = 0; j < m.N; j++) {
      let s = 0;
      for (let a = 0; a < m.A; a++) s += w[a]! * br[a * m.B * m.N + b * m.N + j]!;
      y[b * m.N + j] = s * (mask ? mask[j]! : 1);
    }
  }
  return y;
}

test('f32_mix_fwd: SIMD equals _ref bit for bit and matches f64; a null mask means ones', () => {
  const rand = mulberry32(2);
  for (const [A, B, N] of SHAPES) {
    for (const withMask of [true, false]) {
      const m = mixture(rand, A, B, N, withMask);
      const label = `A=${A} B=${B} N=${N} mask=${withMask}`;
      const fast = mixFwd('f32_mix_fwd', m);
      assert.deepEqual(bits(fast), bits(mixFwd('f32_mix_fwd_ref', m)), label);
      assertClose(fast, mixF64(m, m.br, m.w, m.mask), { atol: 1e-6, rtol: 1e-6 }, label);
    }
  }
});

test('f32_mix_bwd: dmix and dmask bit for bit with _ref, dw to f64 rounding; all match finite differences of the f64 mixture', () => {
  const rand = mulberry32(3);
  for (const [A, B, N] of SHAPES) {
    for (const withMask of [true, false]) {
      const m = mixture(rand, A, B, N, withMask);
      const dy = uniform(rand, B * N);
      const label = `A=${A} B=${B} N=${N} mask=${withMask}`;
      const fast = mixBwd('f32_mix_bwd', m, dy);
      const ref = mixBwd('f32_mix_bwd_ref', m, dy);
      assert.deepEqual(bits(fast.dmix), bits(ref.dmix), `${label}: dmix`);
      assert.deepEqual(bits(fast.dmask), bits(ref.dmask), `${label}: dmask`);
      assertClose(fast.dw, ref.dw, { rtol: 2 ** -23, atol: 1e-30 }, `${label}: dw`);
      // L = Σ dy·y; central differences in f64 (L is linear in each argument, so h = 1 is exact).
      const L = (br: ArrayLike<number>, w: ArrayLike<number>, mask: ArrayLike<number> | undefined) =>
        mixF64(m, br, w, mask).reduce((s, v, i) => s + v * dy[i]!, 0);
      const fd = (x: Float32Array, f: (p: Float64Array) => number) => {
        const p = Float64Array.from(x);
        return p.map((v, i) => {
          p[i] = v + 1;
          const up = f(p);
          p[i] = v - 1;
          const down = f(p);
          p[i] = v;
          return (up - down) / 2;
        });
      };
      const tol = { atol: 1e-5 * (B * N + 1), rtol: 1e-5 };
      assertClose(
        fast.dw,
        fd(m.w, (w) => L(m.br, w, m.mask)),
        tol,
        `${label}: dw vs FD`,
      );
      if (m.mask)
        assertClose(
          fast.dmask,
          fd(m.mask, (mask) => L(m.br, m.w, mask)),
          tol,
          `${label}: dmask vs FD`,
        );
      // The gradient of each branch element is w[a]·dmix.
      if (A * B * N > 600) continue;
      const dbr = fd(m.br, (br) => L(br, m.w, m.mask));
      const fromKernel = new Float64Array(A * B * N).map((_, i) => m.w[Math.floor(i / (B * N))]! * fast.dmix[i % (B * N)]!);
      assertClose(fromKernel, dbr, { atol: 1e-6, rtol: 1e-6 }, `${label}: dbranch vs FD`);
    }
  }
});

test('f32_mix_bwd: zero dw and dmask pointers skip those outputs, dmix is unchanged', () => {
  const m = mixture(mulberry32(4), 2, 3, 5);
  const dy = uniform(mulberry32(5), 15);
  const out = scope(() => {
    const dmix = Tensor.zeros([15]);
    kernels().f32_mix_bwd!(
      dmix.ptr,
      0,
      0,
      Tensor.from(dy).ptr,
      Tensor.from(m.br).ptr,
      Tensor.from(m.w).ptr,
      Tensor.from(m.mask!).ptr,
      2,
      3,
      5,
    );
    return dmix.read();
  });
  assert.deepEqual(bits(out), bits(mixBwd('f32_mix_bwd_ref', m, dy).dmix));
});

function prefixMask(kernel: string, p: Float32Array, widths: Int32Array, N: number): Float32Array {
  return scope(() => {
    const mask = Tensor.from(new Float32Array(N).fill(NaN));
    kernelByName(kernel)(mask.ptr, Tensor.from(p).ptr, Tensor.from(widths, [widths.length], 'i32').ptr, widths.length, N);
    return mask.read();
  });
}

function prefixMaskBwd(kernel: string, dmask: Float32Array, widths: Int32Array): Float32Array {
  return scope(() => {
    const dp = Tensor.from(new Float32Array(widths.length).fill(NaN));
    kernelByName(kernel)(dp.ptr, Tensor.from(dmask).ptr, Tensor.from(widths, [widths.length], 'i32').ptr, widths.length, dmask.length);
    return dp.read();
  });
}

test('f32_prefix_mask and its backward: twins, the probability that unit j exists, the transpose', () => {
  const rand = mulberry32(6);
  const cases: [number[], number][] = [
    [[1], 1],
    [[4, 8], 8],
    [[16, 32, 64, 128, 256], 256],
    [[3, 5, 7], 7],
    [[9, 2, 13], 13],
    [[1, 4, 17], 17],
    [[0, 5], 5],
  ];
  for (const [ws, N] of cases) {
    const widths = Int32Array.from(ws);
    const p = uniform(rand, ws.length, 0, 1);
    const label = `widths=${ws.join('/')} N=${N}`;
    const mask = prefixMask('f32_prefix_mask', p, widths, N);
    assert.deepEqual(bits(mask), bits(prefixMask('f32_prefix_mask_ref', p, widths, N)), label);
    const expected = Array.from({ length: N }, (_, j) => ws.reduce((s, w, i) => s + (j < w ? p[i]! : 0), 0));
    assertClose(mask, expected, { rtol: 1e-6, atol: 1e-7 }, label);
    // Transpose: ⟨dmask, mask(p)⟩ = ⟨dp, p⟩ for every p.
    const dmask = uniform(rand, N);
    const dp = prefixMaskBwd('f32_prefix_mask_bwd', dmask, widths);
    assertClose(dp, prefixMaskBwd('f32_prefix_mask_bwd_ref', dmask, widths), { rtol: 2 ** -23 }, `${label}: bwd twin`);
    const dpF64 = ws.map((w) => dmask.slice(0, Math.min(w, N)).reduce((s, v) => s + v, 0));
    assertClose(dp, dpF64, { rtol: 2 ** -23, atol: 1e-7 }, `${label}: bwd f64`);
  }
});

function softmaxBwd(kernel: string, dy: Float32Array, y: Float32Array, rows: number, cols: number, inPlace = false): Float32Array {
  return scope(() => {
    const tdy = Tensor.from(dy);
    const dx = inPlace ? tdy : Tensor.from(new Float32Array(rows * cols).fill(NaN));
    kernelByName(kernel)(dx.ptr, tdy.ptr, Tensor.from(y).ptr, rows, cols);
    return dx.read();
  });
}

test('f32_softmax_rows_bwd: twins, in place, and finite differences of an f64 softmax', () => {
  const rand = mulberry32(7);
  for (const [rows, cols] of [
    [1, 1],
    [1, 2],
    [1, 5],
    [3, 4],
    [2, 9],
    [4, 17],
  ] as [number, number][]) {
    const x = uniform(rand, rows * cols, -3, 3);
    const y = new Float32Array(rows * cols);
    const yF64 = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const e = Array.from(x.subarray(r * cols, (r + 1) * cols), (v) => Math.exp(v));
      const s = e.reduce((a, b) => a + b, 0);
      e.forEach((v, j) => ((yF64[r * cols + j] = v / s), (y[r * cols + j] = v / s)));
    }
    const dy = uniform(rand, rows * cols);
    const label = `rows=${rows} cols=${cols}`;
    const fast = softmaxBwd('f32_softmax_rows_bwd', dy, y, rows, cols);
    assertClose(fast, softmaxBwd('f32_softmax_rows_bwd_ref', dy, y, rows, cols), { rtol: 1e-6, atol: 1e-7 }, `${label}: twin`);
    assert.deepEqual(bits(softmaxBwd('f32_softmax_rows_bwd', dy, y, rows, cols, true)), bits(fast), `${label}: in place`);
    const L = (xs: Float64Array) => {
      let total = 0;
      for (let r = 0; r < rows; r++) {
        const e = Array.from(xs.subarray(r * cols, (r + 1) * cols), (v) => Math.exp(v));
        const s = e.reduce((a, b) => a + b, 0);
        e.forEach((v, j) => (total += (v / s) * dy[r * cols + j]!));
      }
      return total;
    };
    const p = Float64Array.from(x);
    const h = 1e-6;
    const fd = p.map((v, i) => {
      p[i] = v + h;
      const up = L(p);
      p[i] = v - h;
      const down = L(p);
      p[i] = v;
      return (up - down) / (2 * h);
    });
    assertClose(fast, fd, { atol: 1e-6, rtol: 1e-5 }, `${label}: FD`);
  }
});
