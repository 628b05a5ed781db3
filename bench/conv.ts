// Convolutional networks: training throughput and inference of a LeNet-like network (conv 5x5x32
// same → max-pool 2 → conv 5x5x64 same → max-pool 2 → dense 128 → 10, ReLU) on 28x28 digits,
// one thread (KILN_BENCH_THREADS=n: n threads for kiln, PyTorch and ONNX Runtime alike), kiln
// against its peers in the same process, contestants alternated, medians.
//   training (Adam, batch 64, samples/s): PyTorch on its CPU backend with as many threads (Debian's
//   python3-torch, run as a subprocess by bench/_torch-lenet.py when torch imports; reported as
//   absent otherwise); TensorFlow.js cpu (KILN_BENCH_TFJS_CPU=0 leaves it out: one batch takes
//   minutes); TensorFlow.js wasm is tried and reported (it has no Conv2DBackpropFilter kernel);
//   @jax-js/jax on its wasm device when KILN_BENCH_JAX=1 (its first step compiles for minutes).
//   convolution forward GFLOP/s as a fraction of the GEMM's on the same FLOPs: the GEMM of the
//   same M = filters, N = batch·OH·OW, K = C·KH·KW, and a square GEMM of about equal FLOPs, both
//   convolutions of the network at batch 64, in CPU time (see convVsGemm).
//   inference (batch 1 and 64, samples/s): TensorFlow.js wasm and ONNX Runtime Web (wasm), the
//   latter with kiln's weights, its outputs checked against kiln's.
//   int8 inference (batch 1 and 64): kiln's static int8 model against kiln f32 and ONNX Runtime
//   Web's QLinearConv graph of the same codes (see int8Inference below).
// npm run bench -- conv (KILN_BENCH_CONV=inference leaves training out, =int8 keeps only int8)
import type * as Tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Tensor, scope } from '../src/core/tensor.ts';
import { kernelByName } from '../src/core/wasm.ts';
import { conv2dChunk, convColumnSize, takesWinograd, winogradChunk, winogradWorkspaceSize } from '../src/core/ops/image-ops.ts';
import { adam, fit, mnist, quantize, type Dataset } from '../src/index.ts';
import { GraphBuilder } from '../src/onnx/graph-builder.ts';
import { AttributeType, DataType, encodeModel } from '../src/onnx/proto.ts';
import { alternate, fmt } from './_stats.ts';
import { lenet } from './_lenet.ts';
import { benchThreads, onnxModel, ortSession, ortWasm, tfjsVersion, tfjsWasm } from './_peers.ts';

const ROUNDS = Number(process.env.KILN_BENCH_ROUNDS ?? 3);
const BATCH = 64;
// PyTorch's timed training steps (after one untimed): the median of these is its figure.
const TORCH_STEPS = 8;
const THREADS = benchThreads();
let torchAbsent = 'not installed';
// KILN_BENCH_CONV=int8: only the int8 inference table (the training rounds take minutes);
// KILN_BENCH_CONV=inference: everything but training.
const INT8_ONLY = process.env.KILN_BENCH_CONV === 'int8';
const TRAINING = !INT8_ONLY && process.env.KILN_BENCH_CONV !== 'inference';
const tf = await tfjsWasm();
const all = await mnist();
const rows = (n: number) => all.subset(Int32Array.from({ length: n }, (_, i) => (i * 7919) % all.numRows));
// A contestant for alternate(): samples/s of `fn` on a batch, over 100 calls at batch 1 and 5 above.
const samplesPerSecond = (batch: number) => (fn: () => unknown) => async () => {
  const calls = batch === 1 ? 100 : 5;
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await fn();
  return (calls * batch) / ((performance.now() - t0) / 1000);
};

function tfLenet(): Tf.Sequential {
  // One input channel: NHWC and NCHW rows hold the same values in the same order.
  const m = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
  m.compile({ optimizer: tf.train.adam(), loss: tf.losses.softmaxCrossEntropy });
  return m;
}

// Wall-time rate returned; the rate per CPU-second of the process goes to `cpuRates` (on a shared
// machine wall time also measures the neighbours, CPU time only this process's work).
function kilnTrain(data: Dataset, cpuRates: number[]): () => Promise<number> {
  return async () => {
    const model = lenet();
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    await fit(model, data, { optimizer: adam(), epochs: 1, batchSize: BATCH, standardize: false });
    const s = (performance.now() - t0) / 1000,
      c = process.cpuUsage(c0);
    cpuRates.push(data.numRows / ((c.user + c.system) / 1e6));
    model.dispose();
    return data.numRows / s;
  };
}

function tfTrain(backend: 'cpu' | 'wasm', data: Dataset): () => Promise<number> {
  return async () => {
    await tf.setBackend(backend);
    const xs = tf.tensor4d(data.features, [data.numRows, 28, 28, 1]);
    const ys = tf.oneHot(tf.tensor1d(data.labels, 'int32'), 10).toFloat();
    const m = tfLenet();
    try {
      const t0 = performance.now();
      await m.fit(xs, ys, { batchSize: BATCH, epochs: 1, shuffle: true, verbose: 0 });
      return data.numRows / ((performance.now() - t0) / 1000);
    } finally {
      tf.dispose([xs, ys]);
      m.dispose();
    }
  };
}

console.log(
  `LeNet-like CNN (conv 5x5x32 same, max-pool 2, conv 5x5x64 same, max-pool 2, dense 128, dense 10), 28x28 inputs, ${THREADS === 1 ? 'one thread' : `${THREADS} threads`}, tfjs ${tfjsVersion()}.\n`,
);

// ---- training ----
if (TRAINING) {
  const kilnRows = rows(4 * BATCH),
    cpuRows = rows(BATCH);
  let wasmTraining = 'trains';
  try {
    await tfTrain('wasm', rows(BATCH))();
  } catch (error) {
    wasmTraining = `cannot train it: ${((error as Error).message ?? String(error)).split('\n')[0]}`;
  }
  const withTfCpu = process.env.KILN_BENCH_TFJS_CPU !== '0';
  const kilnCpu: number[] = [];
  const train = await alternate(
    { kiln: kilnTrain(kilnRows, kilnCpu), ...(withTfCpu ? { 'tfjs-cpu': tfTrain('cpu', cpuRows) } : {}) },
    ROUNDS,
  );
  const torch = torchTraining();
  console.log(
    `Training with Adam at batch ${BATCH}, samples/s (median of ${ROUNDS}; kiln one epoch of ${kilnRows.numRows} rows, tfjs-cpu one batch, PyTorch the median of ${TORCH_STEPS} steps):\n`,
  );
  console.log('| kiln | pytorch-cpu | tfjs-cpu | kiln / pytorch | kiln / tfjs-cpu |');
  console.log('|---|---|---|---|---|');
  const tfCpu = train['tfjs-cpu'];
  console.log(
    `| ${fmt(train.kiln!, 1)} | ${torch ? fmt(torch.samplesPerSecond, 1) : 'absent'} | ${tfCpu ? fmt(tfCpu, 2) : 'left out'} | ${torch ? `${fmt(train.kiln! / torch.samplesPerSecond, 2)}x` : '-'} | ${tfCpu ? `${fmt(train.kiln! / tfCpu, 1)}x` : '-'} |`,
  );
  if (torch && THREADS === 1) {
    const cpu = kilnCpu.sort((a, b) => a - b)[kilnCpu.length >> 1]!;
    console.log(
      `\nPer CPU-second of each process (one thread: what the machine's other work cannot steal): kiln ${fmt(cpu, 1)}, PyTorch ${fmt(torch.samplesPerCpuSecond, 1)}, kiln / PyTorch ${fmt(cpu / torch.samplesPerCpuSecond, 2)}x.`,
    );
  }
  console.log(
    torch
      ? `\nPyTorch ${torch.version} (CPU backend, ${torch.threads} thread${torch.threads > 1 ? 's' : ''}) ran as a subprocess.`
      : `\nPyTorch: ${torchAbsent} (apt-get install python3-torch to include it).`,
  );
  if (!withTfCpu) console.log('TensorFlow.js cpu: left out (KILN_BENCH_TFJS_CPU=0).');
  console.log(`TensorFlow.js wasm ${wasmTraining}`);

  if (process.env.KILN_BENCH_JAX === '1') await jaxTraining(train.kiln!);
  else console.log('@jax-js/jax: set KILN_BENCH_JAX=1 to include it (its first step compiles the network for minutes).');
}

// CPU time measures one thread's kernel only when nothing else runs it.
if (!INT8_ONLY && THREADS === 1) convVsGemm();
else if (!INT8_ONLY) console.log('\nConvolution forward against the GEMM: one thread only (KILN_BENCH_THREADS=1).');

// ---- inference ----
const model = lenet();
await fit(model, rows(256), { optimizer: adam(), epochs: 1, batchSize: BATCH, standardize: false });
const params = model.parameters();
const session = await ortSession(
  onnxModel({
    nodes: [
      { opType: 'Conv', inputs: ['x', 'w0', 'b0'], outputs: ['c0'], attributes: { kernel_shape: [5, 5], pads: [2, 2, 2, 2] } },
      { opType: 'Relu', inputs: ['c0'], outputs: ['r0'] },
      { opType: 'MaxPool', inputs: ['r0'], outputs: ['p0'], attributes: { kernel_shape: [2, 2], strides: [2, 2] } },
      { opType: 'Conv', inputs: ['p0', 'w1', 'b1'], outputs: ['c1'], attributes: { kernel_shape: [5, 5], pads: [2, 2, 2, 2] } },
      { opType: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      { opType: 'MaxPool', inputs: ['r1'], outputs: ['p1'], attributes: { kernel_shape: [2, 2], strides: [2, 2] } },
      { opType: 'Flatten', inputs: ['p1'], outputs: ['f'] },
      { opType: 'Gemm', inputs: ['f', 'w2', 'b2'], outputs: ['h'], attributes: { transB: 1 } },
      { opType: 'Relu', inputs: ['h'], outputs: ['r2'] },
      { opType: 'Gemm', inputs: ['r2', 'w3', 'b3'], outputs: ['z'], attributes: { transB: 1 } },
      { opType: 'Softmax', inputs: ['z'], outputs: ['p'], attributes: { axis: 1 } },
    ],
    inputs: [{ name: 'x', shape: [-1, 1, 28, 28] }],
    outputs: [{ name: 'p', shape: [-1, 10] }],
    initializers: params.map((p, i) => ({ name: `${i % 2 ? 'b' : 'w'}${i >> 1}`, dims: p.shape, data: p.data })),
  }),
);
const ort = await ortWasm();
await tf.setBackend('wasm');
const tfModel = tfLenet();

const x64 = rows(BATCH).features;
if (!INT8_ONLY) {
  const ortOut = (await session.run({ x: new ort.Tensor('float32', x64, [BATCH, 1, 28, 28]) })).p!.data as Float32Array;
  const kilnOut = model.predict(x64);
  const maxDiff = kilnOut.reduce((m, v, i) => Math.max(m, Math.abs(v - ortOut[i]!)), 0);
  console.log(
    `\nInference, samples/s (median of ${ROUNDS}); kiln's and ONNX Runtime's probabilities differ by at most ${maxDiff.toExponential(1)}; load average ${loadAverage()}:\n`,
  );
  console.log('| batch | kiln | ort-web | tfjs-wasm | kiln / ort-web | kiln / tfjs-wasm |');
  console.log('|---|---|---|---|---|---|');
  for (const batch of [1, BATCH]) {
    const x = x64.slice(0, batch * 784);
    const xt = tf.tensor4d(x, [batch, 28, 28, 1]);
    const ox = new ort.Tensor('float32', x, [batch, 1, 28, 28]);
    const rate = samplesPerSecond(batch);
    const r = await alternate(
      {
        kiln: rate(() => model.predict(x)),
        ort: rate(async () => (await session.run({ x: ox })).p!.data),
        tfjs: rate(() => tf.tidy(() => (tfModel.predict(xt) as Tf.Tensor).dataSync())),
      },
      ROUNDS,
    );
    xt.dispose();
    console.log(
      `| ${batch} | ${fmt(r.kiln!, 0)} | ${fmt(r.ort!, 0)} | ${fmt(r.tfjs!, 0)} | ${fmt(r.kiln! / r.ort!, 2)}x | ${fmt(r.kiln! / r.tfjs!, 2)}x |`,
    );
  }
}
await int8Inference();
model.dispose();
tfModel.dispose();

// PyTorch through Debian's python3-torch, if some python3 on the machine imports torch.

interface TorchRun {
  version: string;
  threads: number;
  samplesPerSecond: number;
  samplesPerCpuSecond: number;
}

function torchTraining(): TorchRun | undefined {
  const script = fileURLToPath(new URL('./_torch-lenet.py', import.meta.url));
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      const out = execFileSync(python, [script, String(TORCH_STEPS)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return JSON.parse(out.trim().split('\n').at(-1)!) as TorchRun;
    } catch (error) {
      torchAbsent = `not importable (${python}: ${String((error as { stderr?: string }).stderr ?? error)
        .trim()
        .split('\n')
        .at(-1)})`;
    }
  }
  return undefined;
}

// Both convolutions of the network at batch 64: the forward kernel the layer calls (im2col of
// each chunk + GEMM, bias, ReLU) against two GEMMs (f32_gemm_nn): the one of the same shape (M =
// filters, N = batch·OH·OW, K = C·KH·KW, on a ready column buffer, the convolution's own product
// without im2col or epilogue) and a square one of about the same FLOPs (n = ∛(M·N·K)). Each is
// timed in CPU time of this process (every kernel here runs on this thread), alternated, medians:
// on a shared machine wall time measures the neighbours more than the kernel. GFLOP/s count each
// product's own 2·M·N·K. The inference column is the forward predict runs (Winograd where the
// layer takes it, its rate counted on direct convolution's FLOPs: effective GFLOP/s).
function convVsGemm(): void {
  const runs = ROUNDS * 3;
  console.log(
    `\nConvolution forward against the GEMM, batch ${BATCH}, GFLOP/s in CPU time (median of ${runs}); load average ${loadAverage()}:\n`,
  );
  console.log(
    '| layer | M, N, K | chunk | conv forward | GEMM same M, N, K | conv / same-shape GEMM | square GEMM (n) | conv / square GEMM | inference forward | inference / same-shape GEMM |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const [C, H, O] of [
    [1, 28, 32],
    [32, 14, 64],
  ] as const) {
    const g = { C, H, W: H, OH: H, OW: H, KH: 5, KW: 5, sh: 1, sw: 1, ph: 2, pw: 2, dilh: 1, dilw: 1, O, groups: 1 };
    const P = H * H,
      Kc = C * 25,
      N = BATCH * P,
      flops = 2 * O * Kc * N,
      n = Math.round(Math.cbrt(O * Kc * N));
    scope(() => {
      const t = (len: number) => Tensor.from(Float32Array.from({ length: len }, (_, i) => ((i * 7919) % 997) / 997 - 0.5));
      const x = t(BATCH * C * P),
        w = t(O * Kc),
        b = t(O),
        y = t(O * N),
        ws = t(Math.max(1, convColumnSize(g))),
        wws = Tensor.zeros([Math.max(1, winogradWorkspaceSize(g))]);
      const cols = t(Kc * N),
        sq = [t(n * n), t(n * n), t(n * n)] as const;
      const conv = kernelByName('f32_conv2d_fwd'),
        winograd = kernelByName('f32_conv2d_winograd'),
        gemm = kernelByName('f32_gemm_nn');
      const wino = takesWinograd(g);
      const cpuSeconds = (fn: () => void) => {
        const t0 = process.cpuUsage();
        fn();
        const d = process.cpuUsage(t0);
        return (d.user + d.system) / 1e6;
      };
      const contestants = {
        conv: () => conv(y.ptr, 0, x.ptr, w.ptr, b.ptr, ws.ptr, BATCH, C, H, H, O, H, H, 5, 5, 1, 1, 2, 2, 1, 1, 1, conv2dChunk(g), 1, 0),
        same: () => gemm(y.ptr, w.ptr, cols.ptr, O, N, Kc, 0),
        square: () => gemm(sq[2].ptr, sq[0].ptr, sq[1].ptr, n, n, n, 0),
        inference: wino
          ? () => winograd(y.ptr, 0, x.ptr, w.ptr, b.ptr, wws.ptr, BATCH, C, H, H, O, H, H, 5, 2, 2, winogradChunk(g), 1, 1, 0)
          : () => conv(y.ptr, 0, x.ptr, w.ptr, b.ptr, ws.ptr, BATCH, C, H, H, O, H, H, 5, 5, 1, 1, 2, 2, 1, 1, 1, conv2dChunk(g), 1, 0),
      };
      const seconds: Record<keyof typeof contestants, number[]> = { conv: [], same: [], square: [], inference: [] };
      for (const fn of Object.values(contestants)) fn();
      for (let r = 0; r < runs; r++)
        for (const [k, fn] of Object.entries(contestants)) seconds[k as keyof typeof contestants].push(cpuSeconds(fn));
      const med = (xs: number[]) => xs.sort((p, q) => p - q)[xs.length >> 1]!;
      const cg = flops / med(seconds.conv) / 1e9,
        sg = flops / med(seconds.same) / 1e9,
        qg = (2 * n ** 3) / med(seconds.square) / 1e9,
        ig = flops / med(seconds.inference) / 1e9;
      console.log(
        `| conv ${C}→${O} 5x5 on ${H}x${H} | ${O}, ${N}, ${Kc} | ${conv2dChunk(g)} | ${fmt(cg, 1)} | ${fmt(sg, 1)} | ${fmt(cg / sg, 2)} | ${fmt(qg, 1)} (${n}) | ${fmt(cg / qg, 2)} | ${fmt(ig, 1)}${wino ? ' (Winograd)' : ''} | ${fmt(ig / sg, 2)} |`,
      );
    });
  }
}

// The 1-, 5- and 15-minute load averages, as the figures beside them should be read.
function loadAverage(): string {
  return loadavg()
    .map((v) => v.toFixed(1))
    .join(' / ');
}

// int8 inference: kiln's static int8 model (per-channel weights, u8 activations calibrated on 256
// digits) against kiln f32 and ONNX Runtime Web running the same codes and parameters as a
// QLinearConv graph: QuantizeLinear → QLinearConv → MaxPool (u8) → QLinearConv → MaxPool →
// Flatten → MatMulInteger → ×scales + bias → Relu → QuantizeLinear → MatMulInteger → ×scales +
// bias → Softmax. Every activation zero point after a ReLU is 0, so the ReLUs of the convolutions
// are the clamp of their requantisation, in both engines.
async function int8Inference(): Promise<void> {
  const q = quantize(model, { scheme: 'int8-per-channel', calibration: { data: rows(256) } });
  const L = q.layers;
  const g = new GraphBuilder();
  const scalar = (name: string, v: number) => g.constant(name, [], Float32Array.of(v));
  const zp = (name: string, v: number) => g.constant(name, [], Uint8Array.of(v));
  let x = g.node('in', 'QuantizeLinear', ['x', scalar('xsq', L[0]!.input!.scale), zp('zxq', L[0]!.input!.zeroPoint)])[0]!;
  for (const i of [0, 1]) {
    const l = L[i]!,
      next = L[i + 1]!.input!,
      c = l.conv!;
    const [O, Cg, KH, KW] = [l.units, c.inputShape[0] / c.groups, c.kernel[0], c.kernel[1]];
    const bias = Int32Array.from(l.bias, (b, o) => Math.round(b / Math.fround(l.input!.scale * l.scales[o]!)));
    x = g.node(
      `conv${i}`,
      'QLinearConv',
      [
        x,
        scalar(`xs${i}`, l.input!.scale),
        zp(`zx${i}`, l.input!.zeroPoint),
        g.constant(`w${i}`, [O, Cg, KH, KW], l.codes),
        g.constant(`ws${i}`, [O], l.scales),
        g.constant(`wz${i}`, [O], new Int8Array(O)),
        scalar(`ys${i}`, next.scale),
        zp(`zy${i}`, next.zeroPoint),
        g.constant(`b${i}`, [O], bias),
      ],
      [
        { name: 'kernel_shape', type: AttributeType.INTS, ints: [KH, KW] },
        { name: 'pads', type: AttributeType.INTS, ints: [c.padding[0], c.padding[1], c.padding[0], c.padding[1]] },
      ],
    )[0]!;
    x = g.node(
      `pool${i}`,
      'MaxPool',
      [x],
      [
        { name: 'kernel_shape', type: AttributeType.INTS, ints: [2, 2] },
        { name: 'strides', type: AttributeType.INTS, ints: [2, 2] },
      ],
    )[0]!;
  }
  x = g.node('flatten', 'Flatten', [x])[0]!;
  for (const i of [2, 3]) {
    const l = L[i]!;
    // MatMulInteger takes B as [inputs, units]: the codes transposed.
    const wt = new Int8Array(l.codes.length);
    for (let n = 0; n < l.units; n++) for (let kk = 0; kk < l.inputs; kk++) wt[kk * l.units + n] = l.codes[n * l.inputs + kk]!;
    if (i === 3) x = g.node('q3', 'QuantizeLinear', [x, scalar('xs3', l.input!.scale), zp('zx3', l.input!.zeroPoint)])[0]!;
    x = g.node(`dense${i}`, 'MatMulInteger', [x, g.constant(`w${i}`, [l.inputs, l.units], wt), zp(`zxm${i}`, l.input!.zeroPoint)])[0]!;
    x = g.node(`dense${i}`, 'Cast', [x], [{ name: 'to', type: AttributeType.INT, i: DataType.FLOAT }])[0]!;
    const s = Float32Array.from(l.scales, (w) => Math.fround(l.input!.scale * w));
    x = g.node(`dense${i}`, 'Mul', [x, g.constant(`s${i}`, [l.units], s)])[0]!;
    x = g.node(`dense${i}`, 'Add', [x, g.constant(`bd${i}`, [l.units], l.bias)])[0]!;
    if (i === 2) x = g.node(`dense${i}`, 'Relu', [x])[0]!;
  }
  x = g.node('out', 'Softmax', [x], [{ name: 'axis', type: AttributeType.INT, i: 1 }])[0]!;
  g.rename(x, 'p');
  const f = (name: string, shape: (number | string)[]) => ({ name, elemType: DataType.FLOAT, shape });
  const bytes = encodeModel({
    irVersion: 7,
    producerName: 'kiln-bench',
    producerVersion: '0',
    docString: '',
    opsetImports: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [f('x', ['batch', 1, 28, 28])],
      outputs: [f('p', ['batch', 10])],
      sparseInitializers: 0,
    },
    metadata: [],
    functions: 0,
  });
  const ortQ = await ortSession(bytes);
  const ox64 = new ort.Tensor('float32', x64, [BATCH, 1, 28, 28]);
  const ortP = (await ortQ.run({ x: ox64 })).p!.data as Float32Array;
  const kiP = q.predict(x64);
  const f32P = model.predict(x64);
  const agree = (a: Float32Array, b: Float32Array) => {
    let same = 0;
    for (let r = 0; r < BATCH; r++) {
      const am = (v: Float32Array) => v.subarray(r * 10, r * 10 + 10).reduce((m, e, j, arr) => (e > arr[m]! ? j : m), 0);
      if (am(a) === am(b)) same++;
    }
    return same;
  };
  const diff = kiP.reduce((m, v, i) => Math.max(m, Math.abs(v - ortP[i]!)), 0);
  console.log(
    `\nint8 inference, samples/s (median of ${ROUNDS}). kiln int8 and ONNX Runtime's QLinearConv graph agree on ${agree(kiP, ortP)}/${BATCH} classes (probabilities within ${diff.toExponential(1)}); kiln int8 and f32 on ${agree(kiP, f32P)}/${BATCH}; load average ${loadAverage()}:\n`,
  );
  console.log('| batch | kiln int8 | kiln f32 | ort-web int8 | int8 / f32 | kiln int8 / ort-web int8 |');
  console.log('|---|---|---|---|---|---|');
  for (const batch of [1, BATCH]) {
    const xb = x64.slice(0, batch * 784);
    const ox = new ort.Tensor('float32', xb, [batch, 1, 28, 28]);
    const rate = samplesPerSecond(batch);
    const r = await alternate(
      {
        int8: rate(() => q.predict(xb)),
        f32: rate(() => model.predict(xb)),
        ort: rate(async () => (await ortQ.run({ x: ox })).p!.data),
      },
      ROUNDS,
    );
    console.log(
      `| ${batch} | ${fmt(r.int8!, 0)} | ${fmt(r.f32!, 0)} | ${fmt(r.ort!, 0)} | ${fmt(r.int8! / r.f32!, 2)}x | ${fmt(r.int8! / r.ort!, 2)}x |`,
    );
  }
  q.dispose();
}

// @jax-js/jax (optional dev dependency): the same network and loss, gradients by valueAndGrad
// under jit on the wasm device, plain SGD (the update is negligible next to the convolutions).
async function jaxTraining(kilnRate: number): Promise<void> {
  let jax: typeof import('@jax-js/jax');
  try {
    jax = await import('@jax-js/jax');
  } catch {
    console.log('@jax-js/jax is not installed (npm install -D @jax-js/jax): skipped');
    return;
  }
  const { init, numpy: np, lax, nn, valueAndGrad, jit, random } = jax;
  await init('wasm');
  type A = InstanceType<typeof np.Array>;
  type Params = { w1: A; b1: A; w2: A; b2: A; w3: A; b3: A; w4: A; b4: A };
  const pool = (x: A, C: number, H: number) => np.max(x.reshape([BATCH, C, H / 2, 2, H / 2, 2]), [3, 5]);
  const loss = (p: Params, x: A, y: A): A => {
    let h = nn.relu(lax.conv(x, p.w1, [1, 1], 'SAME').add(p.b1.reshape([1, 32, 1, 1])));
    h = pool(h, 32, 28);
    h = nn.relu(lax.conv(h, p.w2, [1, 1], 'SAME').add(p.b2.reshape([1, 64, 1, 1])));
    h = nn.relu(np.dot(pool(h, 64, 14).reshape([BATCH, 3136]), p.w3).add(p.b3));
    return nn
      .logSoftmax(np.dot(h, p.w4).add(p.b4))
      .mul(y)
      .sum()
      .mul(-1 / BATCH);
  };
  const [k1, k2, k3, k4] = random.split(random.key(0), 4);
  let p: Params = {
    w1: random.normal(k1!, [32, 1, 5, 5]).mul(0.2),
    b1: np.zeros([32]),
    w2: random.normal(k2!, [64, 32, 5, 5]).mul(0.035),
    b2: np.zeros([64]),
    w3: random.normal(k3!, [3136, 128]).mul(0.025),
    b3: np.zeros([128]),
    w4: random.normal(k4!, [128, 10]).mul(0.1),
    b4: np.zeros([10]),
  };
  const step = jit(valueAndGrad(loss));
  const data = rows(BATCH);
  const x = np.array(data.features).reshape([BATCH, 1, 28, 28]);
  const y = nn.oneHot(np.array(data.labels, { dtype: np.int32 }), 10);
  const times: number[] = [];
  for (let i = 0; i < 1 + ROUNDS; i++) {
    const t0 = performance.now();
    const refs = Object.fromEntries(Object.entries(p).map(([k, a]) => [k, a.ref])) as Params;
    const [value, grads] = step(refs, x.ref, y.ref) as unknown as [A, Params];
    await value.data();
    p = Object.fromEntries(Object.entries(p).map(([k, a]) => [k, a.sub(grads[k as keyof Params].mul(0.01))])) as Params;
    await p.b4.ref.data();
    times.push((performance.now() - t0) / 1000);
  }
  const steady = times.slice(1).sort((a, b) => a - b)[Math.floor((times.length - 1) / 2)]!;
  console.log(
    `@jax-js/jax (wasm): first step (compiling) ${fmt(times[0]!, 1)} s; then ${fmt(BATCH / steady, 2)} samples/s (median of ${ROUNDS} steps); kiln / jax-js ${fmt(kilnRate / (BATCH / steady), 1)}x`,
  );
}
