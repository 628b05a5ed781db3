// Soak: long create/train/predict/dispose cycles per model kind, a long study, and the edge
// handler under concurrent requests; memory must come back to its baseline. Not timed tests:
// figures to read. Cycles scale with KILN_SOAK (default 1; the full soak is
// KILN_SOAK=10: 2,000 cycles per kind, a 1,000-trial study, 2 × 2,000 requests).
//   npm run bench -- soak            KILN_SOAK=10 npm run bench -- soak
import { liveBytes, memoryBytes } from '../src/core/wasm.ts';
import { Sequential } from '../src/nn/sequential.ts';
import { dense, dropout } from '../src/nn/layers/index.ts';
import { fit } from '../src/train/fit.ts';
import { adam } from '../src/train/optimizers.ts';
import { iris } from '../src/data/builtin.ts';
import { Dataset } from '../src/data/dataset.ts';
import { quantize } from '../src/compress/quant/quantize.ts';
import { prepareQat } from '../src/compress/quant/qat.ts';
import { sparseModelFromBytes, sparseModelToBytes } from '../src/io/sparse-file.ts';
import { createStudy } from '../src/search/study.ts';

const scale = Number(process.env.KILN_SOAK ?? 1);
const MiB = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
const data = iris();
const rows = data.features.subarray(0, 40 * 4);
const regression = new Dataset({
  features: data.features,
  featureNames: data.featureNames,
  targets: data.features.map((v, i) => (i % 4 === 0 ? v : 0)).filter((_, i) => i % 4 === 0),
  numTargets: 1,
  targetNames: ['y'],
});
const binary = new Dataset({
  features: data.features,
  featureNames: data.featureNames,
  labels: data.labels.map((y) => (y === 0 ? 0 : 1)),
  classNames: ['setosa', 'other'],
});

type Kind = [string, () => Promise<void>];
const mlp = () => new Sequential({ inputs: 4, layers: [dense(16, 'relu'), dropout(0.1), dense(3)], seed: 1 });
const train = { optimizer: adam({ lr: 0.01 }), epochs: 1, batchSize: 32 };
const KINDS: Kind[] = [
  [
    'mlp (classification)',
    async () => {
      const m = mlp();
      await fit(m, data, train);
      m.predict(rows);
      m.dispose();
    },
  ],
  [
    'binary',
    async () => {
      const m = new Sequential({ inputs: 4, layers: [dense(8, 'tanh'), dense(1)], task: 'binary', seed: 1 });
      await fit(m, binary, train);
      m.predict(rows);
      m.dispose();
    },
  ],
  [
    'regression',
    async () => {
      const m = new Sequential({ inputs: 4, layers: [dense(8, 'gelu'), dense(1)], task: 'regression', seed: 1 });
      await fit(m, regression, train);
      m.predict(rows);
      m.dispose();
    },
  ],
  [
    'int8 (calibrated) + int4',
    async () => {
      const m = mlp();
      await fit(m, data, train);
      const q8 = quantize(m, { scheme: 'int8-per-channel', calibration: { data } });
      const q4 = quantize(m, { scheme: 'int4', groupSize: 32 });
      q8.predict(rows);
      q4.predict(rows);
      q8.dispose();
      q4.dispose();
      m.dispose();
    },
  ],
  [
    'QAT (disposed without detach)',
    async () => {
      const m = mlp();
      prepareQat(m, {});
      await fit(m, data, train);
      m.predict(rows);
      m.dispose();
    },
  ],
  [
    'pruned (sparse file round trip)',
    async () => {
      const m = mlp();
      m.setPruningMask(Uint8Array.from({ length: m.parameterCount }, (_, i) => i % 2));
      await fit(m, data, train);
      const back = sparseModelFromBytes(sparseModelToBytes(m));
      back.predict(rows);
      back.dispose();
      m.dispose();
    },
  ],
];

console.log(`| what | cycles | live WASM bytes before → after | WASM memory before → after | ms per cycle |`);
console.log(`|---|---|---|---|---|`);
for (const [name, cycle] of KINDS) {
  const cycles = 200 * scale;
  for (let i = 0; i < 5; i++) await cycle(); // warm: workspaces and caches reach their size
  const live = liveBytes(),
    mem = memoryBytes();
  const t0 = performance.now();
  for (let i = 0; i < cycles; i++) await cycle();
  const ms = (performance.now() - t0) / cycles;
  console.log(`| ${name} | ${cycles} | ${live} → ${liveBytes()} | ${MiB(mem)} → ${MiB(memoryBytes())} | ${ms.toFixed(2)} |`);
}

{
  const trials = 100 * scale;
  const live = liveBytes(),
    mem = memoryBytes();
  const study = await createStudy({ seed: 3 });
  const t0 = performance.now();
  await study.optimize(
    async (t) => {
      const m = new Sequential({ inputs: 4, layers: [dense(t.suggestInt('units', 2, 32), 'relu'), dense(3)], seed: t.number });
      try {
        const h = await fit(m, data, { optimizer: adam({ lr: t.suggestFloat('lr', 1e-3, 0.1, { log: true }) }), epochs: 1, batchSize: 32 });
        return h.epochs.at(-1)!.loss;
      } finally {
        m.dispose();
      }
    },
    { trials },
  );
  const ms = (performance.now() - t0) / trials;
  console.log(
    `| study (${trials} trials) | ${trials} | ${live} → ${liveBytes()} | ${MiB(mem)} → ${MiB(memoryBytes())} | ${ms.toFixed(2)} |`,
  );
}

// The edge handler over the built bundle (its own core), requests at concurrency 16.
{
  const kiln = await import('../dist/kiln.mjs' as string);
  kiln.initSync({ threads: 1 });
  const m = new kiln.Sequential({ inputs: 4, layers: [kiln.dense(16, 'relu'), kiln.dense(3)], seed: 1 });
  const bytes = kiln.quantizedModelToBytes(kiln.quantize(m, { scheme: 'int8-dynamic' }));
  const { createWorker } = await import('../examples/edge/worker.mjs' as string);
  const handler = createWorker({ wasm: kiln.compiledModule(), model: bytes });
  const good = JSON.stringify({ features: Array.from({ length: 8 }, () => [5.1, 3.5, 1.4, 0.2]) });
  const bad = ['{"features": [[null, 1, 2, 3]]}', '{"features": "1234"}', 'x'.repeat(2_000_000)];
  const request = (i: number) =>
    handler
      .fetch(new Request('http://edge/predict', { method: 'POST', body: i % 4 === 3 ? bad[i % 3]! : good }))
      .then((r: Response) => r.arrayBuffer());
  const round = async (n: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < n) await request(next++);
      }),
    );
  };
  const heap = () => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage();
  };
  await round(64);
  const before = heap();
  const n = 200 * scale;
  const t0 = performance.now();
  await round(n);
  const middle = heap();
  await round(n);
  const ms = (performance.now() - t0) / (2 * n);
  const after = heap();
  console.log(
    `| edge handler (2 × ${n} requests, concurrency 16, 1 in 4 malformed or 2 MB) | ${2 * n} | heap ${MiB(before.heapUsed)} → ${MiB(middle.heapUsed)} → ${MiB(after.heapUsed)} | rss ${MiB(before.rss)} → ${MiB(middle.rss)} → ${MiB(after.rss)} | ${ms.toFixed(2)} |`,
  );
}
