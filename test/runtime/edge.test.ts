// The edge example under Deno.serve on 127.0.0.1: a quantized Iris model made here in Node is
// served by the handler (core handed over as a precompiled module), and its answers must equal
// the same model's predictions in Node, bit for bit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sequential, dense, fit, adam, iris, quantize, quantizedModelToBytes } from '../../src/index.ts';

const DENO = new URL('../../node_modules/.bin/deno', import.meta.url).pathname;
const rows = [
  [5.1, 3.5, 1.4, 0.2],
  [7.0, 3.2, 4.7, 1.4],
  [6.3, 3.3, 6.0, 2.5],
];
let server: ChildProcess;
let base = '';
let expected: Float32Array;

before(async () => {
  const data = iris();
  const net = new Sequential({ inputs: 4, layers: [dense(16, 'relu'), dense(3)], seed: 1 });
  await fit(net, data, { optimizer: adam({ lr: 0.02 }), epochs: 40, batchSize: 16 });
  const q = quantize(net, { scheme: 'int8-per-channel', calibration: { data } });
  expected = q.predict(rows);
  const dir = mkdtempSync(join(tmpdir(), 'kiln-edge-'));
  const file = join(dir, 'iris.int8.safetensors');
  writeFileSync(file, quantizedModelToBytes(q));
  q.dispose();
  net.dispose();
  const root = new URL('../../', import.meta.url).pathname;
  server = spawn(
    DENO,
    [
      'run',
      `--allow-read=${root},${dir}`,
      '--allow-net=127.0.0.1',
      '--config',
      'examples/edge/deno.json',
      'examples/edge/deno-serve.mjs',
      file,
      '0',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  server.stderr!.on('data', (d) => (stderr += d));
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`deno did not start: ${stderr}`)), 30_000);
    server.stdout!.on('data', (d) => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(String(d));
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    server.on('exit', (code) => reject(new Error(`deno exited with ${code}: ${stderr}`)));
  });
});

after(() => {
  server?.kill();
});

const post = (body: unknown) => fetch(`${base}/predict`, { method: 'POST', body: JSON.stringify(body) });

test('GET / describes the quantized model', async () => {
  const res = await fetch(`${base}/`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { scheme: string; classes: string[]; inputs: number };
  assert.equal(body.scheme, 'int8-per-channel');
  assert.deepEqual(body.classes, ['setosa', 'versicolor', 'virginica']);
  assert.equal(body.inputs, 4);
});

test('POST /predict answers with the same probabilities as the model in Node', async () => {
  const res = await post({ features: rows });
  assert.equal(res.status, 200);
  const { classes, probabilities } = (await res.json()) as { classes: string[]; probabilities: number[][] };
  assert.deepEqual(classes, ['setosa', 'versicolor', 'virginica']);
  assert.deepEqual(Float32Array.from(probabilities.flat()), expected);
});

test('bad input gets 400 with the validation message, unknown routes 404', async () => {
  const bad = await post({ features: [[1, 2]] });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /2 (values|features)/);
  const missing = await fetch(`${base}/nothing`);
  assert.equal(missing.status, 404);
});
