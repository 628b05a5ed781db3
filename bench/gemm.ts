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

// [M, K, N, form]: nn C = A·B, nt C = A·Bᵀ (B stored [N,K]), tn C = Aᵀ·B (A stored [K,M]).
// 64x784·(256x784)ᵀ, 64x256·256x784 and (64x784)ᵀ·64x256 are the forward product, the input
// gradient and the weight gradient of a 784→256 dense layer at batch 64. The last row is a dense
// layer's inference for one sample: weights stored [N,K] (ONNX Gemm with transB).
type Form = 'nn' | 'nt' | 'tn';
const SHAPES: [number, number, number, Form][] = [
  [64, 64, 64, 'nn'],
  [128, 128, 128, 'nn'],
  [256, 256, 256, 'nn'],
  [512, 512, 512, 'nn'],
  [1024, 1024, 1024, 'nn'],
  [64, 784, 256, 'nn'],
  [64, 784, 256, 'nt'],
  [64, 256, 784, 'nn'],
  [784, 64, 256, 'tn'],
  [256, 256, 10, 'nn'],
  [1, 784, 128, 'nn'],
  [1, 784, 128, 'nt'],
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

for (const [M, K, N, form] of SHAPES) {
  const transA = form === 'tn';
  const transB = form === 'nt';
  const flops = 2 * M * N * K;
  const a = data(M * K, 1);
  const b = data(K * N, 2);
  const aShape = transA ? [K, M] : [M, K];
  const bShape = transB ? [N, K] : [K, N];
  const label = `${transA ? `(${K}x${M})ᵀ` : `${M}x${K}`}·${transB ? `(${N}x${K})ᵀ` : `${K}x${N}`}`;
  {
    const at = Tensor.from(a, aShape);
    const bt = Tensor.from(b, bShape);
    const ct = Tensor.empty([M, N]);
    const ta = tf.tensor2d(a, aShape as [number, number]);
    const tb = tf.tensor2d(b, bShape as [number, number]);
    const session = await ortSession(
      onnxModel({
        nodes: [
          form === 'nn'
            ? { opType: 'MatMul', inputs: ['A', 'B'], outputs: ['C'] }
            : { opType: 'Gemm', inputs: ['A', 'B'], outputs: ['C'], attributes: transA ? { transA: 1 } : { transB: 1 } },
        ],
        inputs: [
          { name: 'A', shape: aShape },
          { name: 'B', shape: bShape },
        ],
        outputs: [{ name: 'C', shape: [M, N] }],
      }),
    );
    const feeds = { A: new ort.Tensor('float32', a, aShape), B: new ort.Tensor('float32', b, bShape) };

    // Everyone must compute the same product before anyone is timed.
    matmul(at, bt, { out: ct, transA, transB });
    const kilnC = ct.read();
    const tfC = tf.matMul(ta, tb, transA, transB);
    const ortC = (await session.run(feeds)).C!.data as Float32Array;
    const diff = Math.max(maxDiff(kilnC, tfC.dataSync()), maxDiff(kilnC, ortC));
    tfC.dispose();
    if (diff > 1e-3 * Math.sqrt(K)) throw new Error(`gemm bench ${label}: results disagree by ${diff}`);

    const result = await race(
      [
        { name: 'kiln', run: () => matmul(at, bt, { out: ct, transA, transB }) },
        { name: 'tfjs', run: () => tf.matMul(ta, tb, transA, transB).dispose() },
        { name: 'ort', run: () => session.run(feeds) },
        { name: 'peak', run: () => kernels().f32_peak_probe!(PROBE_ITERS, 1, 0.5) },
      ],
      { reps: 9, minMs: 30 },
    );
    // kiln and the probe alone, without the peers between their runs: a peer's run evicts the
    // packed panels from L1 and L2, which the probe (all in registers) never notices. Beside the
    // medians, the ratio of the fastest runs: on a shared machine the other processes' cache
    // evictions and the host's scheduling slow the memory-bound GEMM more than the probe, and
    // the fastest run of each is the one they disturbed least.
    const alone = await race(
      [
        { name: 'kiln', run: () => matmul(at, bt, { out: ct, transA, transB }) },
        { name: 'peak', run: () => kernels().f32_peak_probe!(PROBE_ITERS, 1, 0.5) },
      ],
      { reps: 9, minMs: 30 },
    );
    const aloneRatio = flops / (alone.get('kiln')![clock] * 1e6) / ((threads * PROBE_FLOPS) / (alone.get('peak')!.cpu * 1e6));
    const bestRatio =
      flops / (alone.get('kiln')![threads > 1 ? 'best' : 'cpuBest'] * 1e6) / ((threads * PROBE_FLOPS) / (alone.get('peak')!.cpuBest * 1e6));
    const g = (name: string, c: 'cpu' | 'median' = clock) => flops / (result.get(name)![c] * 1e6);
    const peak = (threads * PROBE_FLOPS) / (result.get('peak')!.cpu * 1e6);
    const kiln = g('kiln');
    rows.push(
      `| ${label} | ${fmt(kiln)} | ${fmt(g('tfjs'))} | ${fmt(g('ort'))} | ${(kiln / g('tfjs')).toFixed(2)} | ${(kiln / g('ort')).toFixed(2)} | ${fmt(peak)} | ${(kiln / peak).toFixed(2)} | ${aloneRatio.toFixed(2)} | ${bestRatio.toFixed(2)} | ${(result.get('kiln')!.cpu * 1e3).toFixed(1)} | ${fmt(g('kiln', 'median'))} |`,
    );
    ta.dispose();
    tb.dispose();
    await session.release();
    for (const t of [at, bt, ct]) t.dispose();
  }
  console.error(`  done ${label}`);
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
const tileBest = (TILE_ITERS * 256 * 64) / (tile.get('tile')!.cpuBest * 1e6) / (PROBE_FLOPS / (tile.get('peak')!.cpuBest * 1e6));

console.log(
  `f32 GEMM C[M,N] = A[M,K]·B[K,N], ${threads > 1 ? `${threads} threads (tfjs-wasm 1), GFLOP/s from the median wall-clock time` : 'single thread, GFLOP/s from the median CPU time'} of 9 alternated repetitions; tfjs-backend-wasm ${tfjsVersion()} (SIMD), onnxruntime-web ${await ortVersion()} (wasm); load average ${load.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end\n`,
);
console.log(
  `| shape | kiln | tfjs-wasm | ort-web | kiln/tfjs | kiln/ort | ${threads > 1 ? `${threads} x SIMD128 peak` : 'SIMD128 peak'} | kiln/peak | kiln/peak alone | alone, fastest runs | kiln µs | kiln wall |`,
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
console.log(
  `\nThe 4x8 micro-tile alone (operands in L1, no packing): ${fmt(tileGflops)} GFLOP/s, ${(tileGflops / tilePeak).toFixed(2)} of the SIMD128 peak probe (${fmt(tilePeak)}), ${tileBest.toFixed(2)} in the fastest runs, one thread.`,
);
