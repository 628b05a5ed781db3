// Threads in a browser: kiln, TensorFlow.js (wasm backend, setThreadsCount) and ONNX Runtime Web
// (wasm, numThreads) with 1 and then 2 threads each, in a cross-origin-isolated page of headless
// Chromium served on 127.0.0.1: the only place all three run threaded. One page per thread
// count (the peers fix their thread count when their wasm loads); in each, the contestants
// alternate and the medians of wall-clock time are reported. Each library gets its own fastest
// form of the product: kiln's dense layer computes x·wᵀ, TensorFlow.js and ONNX Runtime A·B
// (tfjs-wasm's matMul with transposeB ran 2-10x slower here). The product's values are read out
// outside tf.tidy: a typed array returned from tidy is walked element by element looking for
// tensors, which cost tfjs-wasm seconds per call and made an earlier version of this page
// report it at 0.2 GFLOP/s.
// Part of `npm run bench -- threads` (needs dist/: npm run build; skipped without Chromium).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../scripts/chromium.ts';
import { onnxModel } from './_peers.ts';
import { fmt } from './_stats.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
const MIME: Record<string, string> = { mjs: 'text/javascript', js: 'text/javascript', wasm: 'application/wasm', html: 'text/html' };
const SERVED =
  /^\/(dist\/kiln\.mjs|node_modules\/@tensorflow\/tfjs\/dist\/tf\.min\.js|node_modules\/@tensorflow\/tfjs-backend-wasm\/dist\/[\w.-]+\.(js|wasm)|node_modules\/onnxruntime-web\/dist\/ort[\w.-]*\.(mjs|wasm))$/;
const SIZE = 1024;
const ROWS = 2560;

// Runs in the page: every contestant with `threads` threads; returns medians in ms.
const PAGE = (threads: number) => `<!doctype html><meta charset="utf-8"><title>kiln threads</title>
<script src="/node_modules/@tensorflow/tfjs/dist/tf.min.js"></script>
<script src="/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js"></script>
<script type="module">
import * as kiln from '/dist/kiln.mjs';
import * as ort from '/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';
const T = ${threads}, M = ${SIZE}, ROWS = ${ROWS};
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
async function time(fn, reps) {
  await fn();
  const out = [];
  for (let r = 0; r < reps; r++) { const t = performance.now(); await fn(); out.push(performance.now() - t); }
  return median(out);
}
async function run() {
  if (!crossOriginIsolated) throw new Error('the page is not cross-origin isolated');
  await kiln.init({ threads: T });
  tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  tf.wasm.setThreadsCount(T);
  // tfjs-backend-wasm caps its pool at navigator.hardwareConcurrency / 2 (it takes every core
  // for two hyper-threads), read when its wasm starts: on 2 cores without SMT it runs 1 thread
  // whatever setThreadsCount asks. For as long as its backend starts, the page reports cores
  // as hardware threads, 2 per core; kiln was told its thread count and has already started.
  const cores = Object.getOwnPropertyDescriptor(Navigator.prototype, 'hardwareConcurrency');
  const real = navigator.hardwareConcurrency;
  Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => 2 * real, configurable: true });
  try {
    if (!(await tf.setBackend('wasm')) || tf.getBackend() !== 'wasm') throw new Error('tfjs: the wasm backend did not start');
  } finally {
    Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', cores);
  }
  if (tf.wasm.getThreadsCount() !== T) throw new Error('tfjs: the wasm backend runs ' + tf.wasm.getThreadsCount() + ' threads, not ' + T);
  const tfMultithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  ort.env.wasm.numThreads = T;
  ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
  const session = await ort.InferenceSession.create('/gemm.onnx', { executionProviders: ['wasm'] });
  const a = new Float32Array(M * M).map((_, i) => Math.sin(i));
  const ta = tf.tensor2d(a, [M, M]);
  const feeds = { A: new ort.Tensor('float32', a, [M, M]), B: new ort.Tensor('float32', a, [M, M]) };
  // kiln's public matrix product is a dense layer without bias or activation: y = x·wᵀ.
  const model = new kiln.Sequential({ inputs: M, layers: [kiln.dense(M)], task: 'regression', seed: 1 });
  const out = { core: kiln.coreInfo().summary, tfThreads: tf.wasm.getThreadsCount(), tfMultithread, gemm: {}, train: {} };
  const contestants = {
    kiln: () => model.predict(a),
    tfjs: () => {
      const c = tf.matMul(ta, ta);
      c.dataSync();
      c.dispose();
    },
    ort: () => session.run(feeds),
  };
  const seen = { kiln: [], tfjs: [], ort: [] };
  for (let r = 0; r < 5; r++) for (const [name, fn] of Object.entries(contestants)) seen[name].push(await time(fn, 3));
  for (const name of Object.keys(seen)) out.gemm[name] = median(seen[name]);
  // One epoch of the 784-256-128-10 ReLU MLP at batch 256 on ROWS synthetic rows.
  const x = new Float32Array(ROWS * 784).map((_, i) => Math.sin(i * 0.37));
  const labels = Int32Array.from({ length: ROWS }, (_, i) => (i * 7) % 10);
  const data = new kiln.Dataset({ features: x, numFeatures: 784, labels });
  const xs = tf.tensor2d(x, [ROWS, 784]);
  const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat();
  const trainers = {
    kiln: async () => {
      const m = new kiln.Sequential({ inputs: 784, layers: [kiln.dense(256, 'relu'), kiln.dense(128, 'relu'), kiln.dense(10)], seed: 1 });
      await kiln.fit(m, data, { optimizer: kiln.adam(), epochs: 1, batchSize: 256, standardize: false });
      m.dispose();
    },
    tfjs: async () => {
      const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }), tf.layers.dense({ units: 128, activation: 'relu' }), tf.layers.dense({ units: 10 })] });
      m.compile({ optimizer: tf.train.adam(), loss: tf.losses.softmaxCrossEntropy });
      await m.fit(xs, ys, { batchSize: 256, epochs: 1, shuffle: true, verbose: 0 });
      m.dispose();
    },
  };
  const tseen = { kiln: [], tfjs: [] };
  for (let r = 0; r < 5; r++) for (const [name, fn] of Object.entries(trainers)) tseen[name].push(await time(fn, 1));
  for (const name of Object.keys(tseen)) out.train[name] = median(tseen[name]);
  return out;
}
window.benchResult = run().catch((e) => ({ error: String(e && e.stack || e) }));
</script>`;

interface PageResult {
  core: string;
  tfThreads: number;
  tfMultithread: boolean;
  gemm: Record<string, number>;
  train: Record<string, number>;
  error?: string;
}

async function inPage(threads: number): Promise<PageResult> {
  const model = onnxModel({
    nodes: [{ opType: 'MatMul', inputs: ['A', 'B'], outputs: ['C'] }],
    inputs: [
      { name: 'A', shape: [SIZE, SIZE] },
      { name: 'B', shape: [SIZE, SIZE] },
    ],
    outputs: [{ name: 'C', shape: [SIZE, SIZE] }],
  });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...ISOLATION }).end(PAGE(threads));
    else if (path === '/gemm.onnx') res.writeHead(200, { 'content-type': 'application/octet-stream', ...ISOLATION }).end(model);
    else if (SERVED.test(path) && existsSync(join(root, path)))
      res.writeHead(200, { 'content-type': MIME[path.split('.').at(-1)!]!, ...ISOLATION }).end(readFileSync(join(root, path)));
    else res.writeHead(404, ISOLATION).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const profile = mkdtempSync(join(tmpdir(), 'kiln-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(600_000);
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => 'benchResult' in window);
    const result = (await page.evaluate(() => (window as unknown as { benchResult: Promise<unknown> }).benchResult)) as PageResult;
    if (result.error) throw new Error(`page with ${threads} threads: ${result.error}`);
    return result;
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Runs the page with 1 and then 2 threads and prints the table; says why when it cannot run. */
export async function browserThreads(): Promise<void> {
  if (!existsSync(join(root, 'dist/kiln.mjs'))) return console.log('(browser part skipped: dist/kiln.mjs is missing, run npm run build)');
  if (!existsSync(CHROMIUM)) return console.log(`(browser part skipped: no Chromium at ${CHROMIUM})`);
  const load0 = loadavg()[0]!;
  const one = await inPage(1);
  const two = await inPage(2);
  const gf = (ms: number) => (2 * SIZE ** 3) / (ms * 1e6);
  console.log(
    `Cross-origin-isolated Chromium page on 127.0.0.1; kiln: "${one.core}" then "${two.core}"; tfjs-wasm multithread support ${two.tfMultithread}, threads it reports ${one.tfThreads} then ${two.tfThreads}; load average ${load0.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end\n`,
  );
  console.log(`| | threads | kiln | tfjs-wasm | ort-web | kiln / tfjs | kiln / ort |`);
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [t, r] of [
    [1, one],
    [2, two],
  ] as const) {
    console.log(
      `| ${SIZE}³ GEMM, GFLOP/s | ${t} | ${fmt(gf(r.gemm.kiln!))} | ${fmt(gf(r.gemm.tfjs!))} | ${fmt(gf(r.gemm.ort!))} | ${fmt(r.gemm.tfjs! / r.gemm.kiln!, 2)}x | ${fmt(r.gemm.ort! / r.gemm.kiln!, 2)}x |`,
    );
  }
  for (const [t, r] of [
    [1, one],
    [2, two],
  ] as const) {
    console.log(
      `| training batch 256, samples/s | ${t} | ${fmt(ROWS / (r.train.kiln! / 1000), 0)} | ${fmt(ROWS / (r.train.tfjs! / 1000), 0)} | | ${fmt(r.train.tfjs! / r.train.kiln!, 2)}x | |`,
    );
  }
  console.log(
    `\n2 threads / 1: kiln GEMM ${fmt(one.gemm.kiln! / two.gemm.kiln!, 2)}x, training ${fmt(one.train.kiln! / two.train.kiln!, 2)}x; tfjs-wasm GEMM ${fmt(one.gemm.tfjs! / two.gemm.tfjs!, 2)}x, training ${fmt(one.train.tfjs! / two.train.tfjs!, 2)}x; ort-web GEMM ${fmt(one.gemm.ort! / two.gemm.ort!, 2)}x`,
  );
}
