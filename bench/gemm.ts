// f32 GEMM, C = A·B (all row-major), one thread unless KILN_BENCH_THREADS says more: kiln against TensorFlow.js (wasm backend,
// SIMD) and ONNX Runtime Web (wasm, a one-node MatMul model), plus the "SIMD128 peak" probe of
// the kiln core, all raced together per shape so that load on the machine hits each alike.
// GFLOP/s = 2·M·N·K / median time per run, in process CPU time (equal to wall-clock time on an
// idle machine, and robust when other processes share the cores); the kiln wall-clock figure is
// printed beside it. With more than one thread, CPU time adds up over the threads, so GFLOP/s
// come from wall-clock time and kiln is compared with threads x the peak. Each library is called through its public API with inputs already in
// place; ONNX Runtime's figure includes the input and output copies its API makes.
import { loadavg } from 'node:os';
import { Tensor } from '../src/core/tensor.ts';
import { kernels } from '../src/core/wasm.ts';
import { matmul } from '../src/core/ops/linalg.ts';
import { benchThreads, onnxModel, ortSession, ortVersion, ortWasm, race, tfjsVersion, tfjsWasm } from './_peers.ts';

// [M, K, N, B stored transposed]. 64x784·(256x784)ᵀ and 64x256·256x784 are the forward product
// and the input gradient of a 784→256 dense layer at batch 64. The last row is a dense layer's inference for one sample:
// weights stored [N,K] (C = A·Bᵀ; ONNX Gemm with transB).
const SHAPES: [number, number, number, boolean][] = [
  [64, 64, 64, false],
  [128, 128, 128, false],
  [256, 256, 256, false],
  [512, 512, 512, false],
  [1024, 1024, 1024, false],
  [64, 784, 256, false],
  [64, 784, 256, true],
  [64, 256, 784, false],
  [256, 256, 10, false],
  [1, 784, 128, false],
  [1, 784, 128, true],
];
const PROBE_ITERS = 200_000;
const PROBE_FLOPS = PROBE_ITERS * 64;

const threads = benchThreads();
const clock = threads > 1 ? 'median' : 'cpu';
const tf = await tfjsWasm();
const ort = await ortWasm();

function data(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 0.7 + seed);
  return out;
}

const maxDiff = (x: ArrayLike<number>, y: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
};

const fmt = (x: number) => x.toFixed(1);
const rows: string[] = [];
const load = loadavg()[0]!;

for (const [M, K, N, transB] of SHAPES) {
  const flops = 2 * M * N * K;
  const a = data(M * K, 1);
  const b = data(K * N, 2);
  const bShape = transB ? [N, K] : [K, N];
  {
    const at = Tensor.from(a, [M, K]);
    const bt = Tensor.from(b, bShape);
    const ct = Tensor.empty([M, N]);
    const ta = tf.tensor2d(a, [M, K]);
    const tb = tf.tensor2d(b, bShape as [number, number]);
    const session = await ortSession(
      onnxModel({
        nodes: [
          transB
            ? { opType: 'Gemm', inputs: ['A', 'B'], outputs: ['C'], attributes: { transB: 1 } }
            : { opType: 'MatMul', inputs: ['A', 'B'], outputs: ['C'] },
        ],
        inputs: [
          { name: 'A', shape: [M, K] },
          { name: 'B', shape: bShape },
        ],
        outputs: [{ name: 'C', shape: [M, N] }],
      }),
    );
    const feeds = { A: new ort.Tensor('float32', a, [M, K]), B: new ort.Tensor('float32', b, bShape) };

    // Everyone must compute the same product before anyone is timed.
    matmul(at, bt, { out: ct, transB });
    const kilnC = ct.read();
    const tfC = tf.matMul(ta, tb, false, transB);
    const ortC = (await session.run(feeds)).C!.data as Float32Array;
    const diff = Math.max(maxDiff(kilnC, tfC.dataSync()), maxDiff(kilnC, ortC));
    tfC.dispose();
    if (diff > 1e-3 * Math.sqrt(K))
      throw new Error(`gemm bench ${M}x${K}x${N}${transB ? ' (B transposed)' : ''}: results disagree by ${diff}`);

    const result = await race(
      [
        { name: 'kiln', run: () => matmul(at, bt, { out: ct, transB }) },
        { name: 'tfjs', run: () => tf.matMul(ta, tb, false, transB).dispose() },
        { name: 'ort', run: () => session.run(feeds) },
        { name: 'peak', run: () => kernels().f32_peak_probe!(PROBE_ITERS, 1, 0.5) },
      ],
      { reps: 9, minMs: 30 },
    );
    // kiln and the probe alone, without the peers between their runs: a peer's run evicts the
    // packed panels from L1 and L2, which the probe (all in registers) never notices.
    const alone = await race(
      [
        { name: 'kiln', run: () => matmul(at, bt, { out: ct, transB }) },
        { name: 'peak', run: () => kernels().f32_peak_probe!(PROBE_ITERS, 1, 0.5) },
      ],
      { reps: 9, minMs: 30 },
    );
    const aloneRatio = flops / (alone.get('kiln')![clock] * 1e6) / ((threads * PROBE_FLOPS) / (alone.get('peak')!.cpu * 1e6));
    const g = (name: string, c: 'cpu' | 'median' = clock) => flops / (result.get(name)![c] * 1e6);
    const peak = (threads * PROBE_FLOPS) / (result.get('peak')!.cpu * 1e6);
    const kiln = g('kiln');
    rows.push(
      `| ${M}x${K}·${transB ? `(${N}x${K})ᵀ` : `${K}x${N}`} | ${fmt(kiln)} | ${fmt(g('tfjs'))} | ${fmt(g('ort'))} | ${(kiln / g('tfjs')).toFixed(2)} | ${(kiln / g('ort')).toFixed(2)} | ${fmt(peak)} | ${(kiln / peak).toFixed(2)} | ${aloneRatio.toFixed(2)} | ${(result.get('kiln')!.cpu * 1e3).toFixed(1)} | ${fmt(g('kiln', 'median'))} |`,
    );
    ta.dispose();
    tb.dispose();
    await session.release();
    for (const t of [at, bt, ct]) t.dispose();
  }
  console.error(`  done ${M}x${K}x${N}`);
}

// The 4x8 register tile alone against the peak probe: the ceiling of the packed path.
const TILE_ITERS = 1000;
const tile = await race(
  [
    { name: 'tile', run: () => kernels().f32_gemm_tile_probe!(TILE_ITERS) },
    { name: 'peak', run: () => kernels().f32_peak_probe!(PROBE_ITERS, 1, 0.5) },
  ],
  { reps: 9, minMs: 30 },
);
const tileGflops = (TILE_ITERS * 256 * 64) / (tile.get('tile')!.cpu * 1e6);
const tilePeak = PROBE_FLOPS / (tile.get('peak')!.cpu * 1e6);

console.log(
  `f32 GEMM C[M,N] = A[M,K]·B[K,N], ${threads > 1 ? `${threads} threads (tfjs-wasm 1), GFLOP/s from the median wall-clock time` : 'single thread, GFLOP/s from the median CPU time'} of 9 alternated repetitions; tfjs-backend-wasm ${tfjsVersion()} (SIMD), onnxruntime-web ${await ortVersion()} (wasm); load average ${load.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end\n`,
);
console.log(
  `| shape | kiln | tfjs-wasm | ort-web | kiln/tfjs | kiln/ort | ${threads > 1 ? `${threads} x SIMD128 peak` : 'SIMD128 peak'} | kiln/peak | kiln/peak alone | kiln µs | kiln wall |`,
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
console.log(
  `\nThe 4x8 micro-tile alone (operands in L1, no packing): ${fmt(tileGflops)} GFLOP/s, ${(tileGflops / tilePeak).toFixed(2)} of the SIMD128 peak probe (${fmt(tilePeak)}), one thread.`,
);
