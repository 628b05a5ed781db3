// The threaded core: the same bytes for 1, 2, 4 and 8 threads and the same as the single-thread
// core, for the split kernels (GEMM in three forms, dense forward and backward, int8 GEMM with
// each epilogue and on rows packed already, convolution forward and backward, pooling forward
// and backward, int8 convolutions and pooling, int4 products, sparse layers) and for whole
// training runs (MLP and CNN); the split itself (pieces cover C exactly once); the kernel that
// computes a block of C against its scalar twin; and the loading options. Thread counts above
// the machine's cores are oversubscribed on purpose: correctness must not depend on the timing
// of threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coreInfo, initSync, kernelByName, kernels } from '../../src/core/wasm.ts';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { denseBackward, denseForward, matmul } from '../../src/core/ops/linalg.ts';
import { MIN_ELEMENTWISE, MIN_MACS, pieces } from '../../src/core/threads/split.ts';
import { pool2dBackwardRows, pool2dForwardRows, type PoolKind, type WindowGeometry } from '../../src/core/ops/image-ops.ts';
import { int8Gemm, packInt8Weights } from '../../src/core/ops/quant.ts';
import {
  Dataset,
  Sequential,
  adam,
  avgPool2d,
  sgd,
  conv2d,
  dense,
  fit,
  flatten,
  maxPool2d,
  modelToBytes,
  pruneWeights,
  quantize,
  SparseModel,
} from '../../src/index.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

const bits = (x: Float32Array) => new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));

// [M, K, N]: many rows (row pieces), few rows and wide (column panels), tails in every dimension.
const GEMM_SHAPES: [number, number, number][] = [
  [256, 300, 200],
  [5, 2000, 300],
  [301, 77, 129],
  [130, 513, 33],
];

// Every result the split kernels produce on a workload above the split threshold, as bytes.
async function workload(): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const rand = mulberry32(19);
  scope(() => {
    for (const [M, K, N] of GEMM_SHAPES) {
      assert.ok(M * N * K >= MIN_MACS, `${M}x${K}x${N} is large enough to split`);
      const a = Tensor.from(uniform(rand, M * K), [M, K]);
      const b = Tensor.from(uniform(rand, K * N), [K, N]);
      const bt = Tensor.from(uniform(rand, N * K), [N, K]);
      const at = Tensor.from(uniform(rand, K * M), [K, M]);
      const c = Tensor.from(uniform(rand, M * N), [M, N]);
      out.push(bits(matmul(a, b).read()), bits(matmul(a, bt, { transB: true }).read()), bits(matmul(at, b, { transA: true }).read()));
      matmul(a, b, { out: c, accumulate: true });
      out.push(bits(c.read()));
    }
    // Dense layers: batch rows per thread, and (3 rows) column panels then bias and activation.
    for (const [B, K, N] of [
      [200, 100, 150],
      [3, 1400, 600],
    ] as const) {
      const x = Tensor.from(uniform(rand, B * K), [B, K]);
      const w = Tensor.from(uniform(rand, N * K), [N, K]);
      const bias = Tensor.from(uniform(rand, N), [N]);
      const pre = Tensor.empty([B, N]);
      const y = denseForward(x, w, { bias, activation: 'gelu', pre });
      out.push(bits(y.read()), bits(pre.read()));
      const dy = Tensor.from(uniform(rand, B * N), [B, N]);
      const dw = Tensor.from(uniform(rand, N * K), [N, K]);
      const db = Tensor.from(uniform(rand, N), [N]);
      const g = denseBackward(dy, x, w, { activation: 'gelu', pre, y, dw, db, accumulate: true });
      out.push(bits(g.dw.read()), bits(g.db!.read()), bits(g.dx!.read()), bits(dy.read()));
    }
  });
  // Pooling by planes: the 2x2 stride-2 max pool's fast path (odd width: a tail column), the
  // general max path with padding, and the average pool, each above the split threshold.
  scope(() => {
    const B = 100;
    const windows: [PoolKind, WindowGeometry][] = [
      ['max', { C: 8, H: 20, W: 21, OH: 10, OW: 10, KH: 2, KW: 2, sh: 2, sw: 2, ph: 0, pw: 0, dilh: 1, dilw: 1 }],
      ['max', { C: 8, H: 17, W: 17, OH: 9, OW: 9, KH: 3, KW: 3, sh: 2, sw: 2, ph: 1, pw: 1, dilh: 1, dilw: 1 }],
      ['avg', { C: 8, H: 17, W: 17, OH: 17, OW: 17, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1, dilh: 1, dilw: 1 }],
    ];
    for (const [kind, g] of windows) {
      assert.ok(B * g.C * g.H * g.W >= MIN_ELEMENTWISE, `${kind} pool on ${g.H}x${g.W} is large enough to split`);
      const x = Tensor.from(uniform(rand, B * g.C * g.H * g.W), [B, g.C * g.H * g.W]);
      const y = Tensor.empty([B, g.C * g.OH * g.OW]);
      pool2dForwardRows(kind, y, x, B, g);
      const dy = Tensor.from(uniform(rand, B * g.C * g.OH * g.OW), [B, g.C * g.OH * g.OW]);
      const dx = Tensor.empty([B, g.C * g.H * g.W]);
      pool2dBackwardRows(kind, dx, dy, x, B, g);
      out.push(bits(y.read()), bits(dx.read()));
    }
  });
  // int8 products, every epilogue, in bands of rows: a band per thread, a 1-row last band (13
  // rows on 4 threads), and too few rows to split (column panels are not taken: stays whole).
  for (const [M, K, N] of [
    [200, 300, 100],
    [13, 2000, 300],
    [3, 3000, 500],
  ] as const) {
    scope(() => {
      const codes = (n: number, lo: number, hi: number) => Int8Array.from({ length: n }, () => lo + Math.floor(rand() * (hi - lo + 1)));
      const xu = Tensor.from(
        Uint8Array.from(codes(M * K, 0, 127), (v) => v * 2),
        [M, K],
        'u8',
      );
      const xi = Tensor.from(codes(M * K, -128, 127), [M, K], 'i8');
      const zw = Int32Array.from({ length: N }, (_, i) => (i % 7) - 3);
      const w = packInt8Weights(Tensor.from(codes(N * K, -128, 127), [N, K], 'i8'), zw);
      const weightScales = Tensor.from(
        Float32Array.from({ length: N }, () => 1e-4 * (1 + rand())),
        [N],
      );
      const bias = Tensor.from(uniform(rand, N), [N]);
      const raw = (t: Tensor<'i32'> | Tensor<'f32'> | Tensor<'u8'>) => new Uint8Array((t.read() as Uint8Array).buffer.slice(0));
      out.push(raw(int8Gemm(xu, 117, w, { output: 'i32' })), raw(int8Gemm(xi, -5, w, { output: 'i32' })));
      out.push(raw(int8Gemm(xu, 117, w, { output: 'f32', xScale: 0.02, weightScales, bias, relu: true })));
      out.push(raw(int8Gemm(xu, 3, w, { output: 'u8', xScale: 0.02, weightScales, bias, outScale: 0.05, outZeroPoint: 9 })));
    });
  }
  // The x = 0 form: rows packed by u8_im2row_packed (a 1x1 window over 20x20 NHWC codes of 64
  // channels: 400 rows of K = 64), then products over the packed rows, split by bands.
  scope(() => {
    const k = kernels();
    const [H, W, C, N] = [20, 20, 64, 300];
    const M = H * W;
    assert.ok(M * N * C >= MIN_MACS);
    const image = Tensor.from(
      Uint8Array.from({ length: M * C }, () => Math.floor(rand() * 256)),
      [M * C],
      'u8',
    );
    const ap = Tensor.empty([k.i8_gemm_scratch_bytes(M, C)], 'u8');
    const img = Tensor.empty([Math.max(16, k.u8_conv2d_col_bytes(H, W, 1, 1, C, 1, 1, 1, 1))], 'u8');
    k.u8_im2row_packed(ap.ptr, image.ptr, 1, C, H, W, C, H, W, 1, 1, 1, 1, 0, 0, 1, 1, 7, img.ptr);
    const w = packInt8Weights(
      Tensor.from(
        Int8Array.from({ length: N * C }, () => Math.floor(rand() * 256) - 128),
        [N, C],
        'i8',
      ),
    );
    const c = Tensor.empty([M * N], 'i32');
    k.i8_gemm_i32(c.ptr, 0, 0, 7, w.packed.ptr, ap.ptr, M, N, C);
    out.push(new Uint8Array((c.read() as Int32Array).buffer.slice(0)));
  });
  // Training: 64-256-128-10 at batch 128, where every layer's products and the updates split.
  const n = 512;
  const r = mulberry32(5);
  const data = new Dataset({
    features: uniform(r, n * 64),
    numFeatures: 64,
    labels: Int32Array.from({ length: n }, () => Math.floor(r() * 10)),
  });
  const model = new Sequential({ inputs: 64, layers: [dense(256, 'relu'), dense(128, 'tanh'), dense(10)], seed: 3 });
  await fit(model, data, { optimizer: adam({ lr: 0.01 }), epochs: 2, batchSize: 128 });
  out.push(modelToBytes(model), bits(model.predict(data.features)));
  // SGD with momentum: its update, like Adam's, splits by ranges of the 50k parameters.
  await fit(model, data, { optimizer: sgd({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 }), epochs: 1, batchSize: 128 });
  out.push(modelToBytes(model));
  model.dispose();
  // A CNN at batch 32 on 12x12 images: both convolutions split by samples forward, and backward
  // into dw (calling thread) and dx by samples; the first one has no dx (stays whole). Its
  // predictions run the second convolution (16 channels, 3x3) as Winograd, split by samples.
  const images = new Dataset({
    features: uniform(r, 96 * 144),
    numFeatures: 144,
    labels: Int32Array.from({ length: 96 }, () => Math.floor(r() * 10)),
  });
  const cnn = new Sequential({
    inputs: [1, 12, 12],
    layers: [
      conv2d(16, 3, { padding: 'same', activation: 'relu' }),
      conv2d(16, 3, { activation: 'tanh' }),
      maxPool2d(2),
      flatten(),
      dense(10),
    ],
    seed: 4,
  });
  await fit(cnn, images, { optimizer: adam({ lr: 0.01 }), epochs: 2, batchSize: 32 });
  out.push(modelToBytes(cnn), bits(cnn.predict(images.features)));
  cnn.dispose();
  // int8 image models, by samples: a grouped convolution, max and average pooling on codes,
  // static and per-row dynamic activations.
  const digits = new Dataset({ features: uniform(r, 40 * 784), numFeatures: 784, labels: new Int32Array(40) });
  const small = new Sequential({
    inputs: [1, 28, 28],
    layers: [
      conv2d(8, 3, { padding: 'same', activation: 'relu' }),
      maxPool2d(2),
      conv2d(8, 3, { padding: 1, groups: 2, activation: 'relu' }),
      avgPool2d(2, { padding: 1 }),
      flatten(),
      dense(10),
    ],
    seed: 6,
  });
  for (const options of [
    { scheme: 'int8-per-channel', calibration: { data: digits } },
    { scheme: 'int8-dynamic', dynamicRange: 'row' },
  ] as const) {
    const q = quantize(small, options);
    out.push(bits(q.predict(digits.features)));
    q.dispose();
  }
  small.dispose();
  // Weight-only int4 products and a 90 %-sparse model on the CSR path, by bands of rows.
  const wide = new Sequential({ inputs: 784, layers: [dense(256, 'relu'), dense(64, 'relu'), dense(10)], seed: 8 });
  const rows = uniform(r, 160 * 784);
  const int4 = quantize(wide, { scheme: 'int4' });
  out.push(bits(int4.predict(rows)));
  int4.dispose();
  pruneWeights(wide, { sparsity: 0.9, scope: 'global' });
  const sparse = SparseModel.from(wide);
  out.push(bits(sparse.predict(rows)));
  sparse.dispose();
  wide.dispose();
  return out;
}

test("the threaded core gives the single-thread core's bytes with 1, 2, 4 and 8 threads", async () => {
  initSync({ threads: 1 });
  assert.equal(coreInfo().threads, 1);
  assert.match(coreInfo().summary, /^single-thread core: 1 thread asked$/);
  const expected = await workload();
  for (const threads of [2, 4, 8]) {
    initSync({ threads });
    assert.equal(coreInfo().threads, threads, coreInfo().summary);
    assert.match(coreInfo().summary, new RegExp(`^threaded core, ${threads} threads on worker_threads`));
    const got = await workload();
    assert.equal(got.length, expected.length);
    got.forEach((bytes, i) => assert.deepEqual(bytes, expected[i], `${threads} threads: result ${i} differs from one thread's`));
  }
  initSync();
});

test('pieces cover every element of C exactly once, on tile boundaries', () => {
  const rand = mulberry32(7);
  for (let trial = 0; trial < 300; trial++) {
    const M = 1 + Math.floor(rand() * 300);
    const N = 1 + Math.floor(rand() * 300);
    const T = 1 + Math.floor(rand() * 9);
    const ps = pieces(M, N, T);
    assert.ok(ps.length >= 1 && ps.length <= T, `${M}x${N} on ${T}: ${ps.length} pieces`);
    const seen = new Uint8Array(M * N);
    for (const [i0, i1, j0, j1] of ps) {
      assert.ok(i0 < i1 && j0 < j1, `empty piece ${[i0, i1, j0, j1]}`);
      assert.ok(
        (i0 % 4 === 0 && j0 === 0 && j1 === N) || (j0 % 8 === 0 && i0 === 0 && i1 === M),
        `piece ${[i0, i1, j0, j1]} is whole rows from a multiple of 4 or whole columns from a multiple of 8`,
      );
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) seen[i * N + j]!++;
    }
    assert.ok(
      seen.every((v) => v === 1),
      `${M}x${N} on ${T} threads: every element once`,
    );
  }
});

test("f32_gemm_part computes a block of C: its _ref twin's bits and the whole product's, the rest untouched", () => {
  const k = kernels();
  const rand = mulberry32(23);
  const forms = ['nn', 'nt', 'tn'] as const;
  for (let trial = 0; trial < 60; trial++) {
    const form = trial % 3;
    const M = 1 + Math.floor(rand() * 40);
    const N = 1 + Math.floor(rand() * 40);
    const K = 1 + Math.floor(rand() * 600);
    const i0 = Math.floor(rand() * M);
    const i1 = i0 + 1 + Math.floor(rand() * (M - i0));
    const j0 = Math.floor(rand() * N);
    const j1 = j0 + 1 + Math.floor(rand() * (N - j0));
    const acc = trial % 2;
    scope(() => {
      const a = Tensor.from(uniform(rand, M * K));
      const b = Tensor.from(uniform(rand, K * N));
      const c0 = uniform(rand, M * N);
      const part = Tensor.from(c0);
      const ref = Tensor.from(c0);
      const whole = Tensor.from(c0);
      k.f32_gemm_part(form, part.ptr, a.ptr, b.ptr, M, N, K, acc, i0, i1, j0, j1);
      k.f32_gemm_part_ref(form, ref.ptr, a.ptr, b.ptr, M, N, K, acc, i0, i1, j0, j1);
      kernelByName(`f32_gemm_${forms[form]}`)(whole.ptr, a.ptr, b.ptr, M, N, K, acc);
      const label = `${forms[form]} ${M}x${N}x${K} block [${i0},${i1})x[${j0},${j1}) acc ${acc}`;
      const p = part.read();
      const w = whole.read();
      assert.deepEqual(bits(p), bits(ref.read()), `${label}: against the twin`);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          const inside = i >= i0 && i < i1 && j >= j0 && j < j1;
          const want = inside ? w[i * N + j]! : c0[i * N + j]!;
          if (!Object.is(p[i * N + j], want))
            assert.fail(
              `${label}: element (${i},${j}) is ${p[i * N + j]}, expected ${want}${inside ? " (the whole product's)" : ' (untouched)'}`,
            );
        }
      }
    });
  }
});

test('init options: threads must be an integer from 1 to 64, and nothing else is accepted', () => {
  assert.throws(() => initSync({ threads: 0 }), RangeError);
  assert.throws(() => initSync({ threads: 2.5 }), RangeError);
  assert.throws(() => initSync({ threads: 65 }), RangeError);
  assert.throws(() => initSync({ thread: 2 } as never), /thread/);
  initSync();
  assert.ok(coreInfo().threads >= 1);
});
