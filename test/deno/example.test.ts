// The Deno example run as a user runs it (deno run over the built bundle, read access to the
// bundle and the example's folder only), its figures checked against the same recipe run here in
// Node from the source: the same seeds must give the same loss, accuracies and sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adam, dense, fit, parseCsv, quantize, Sequential, trainTestSplit } from '../../src/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const deno = join(root, 'node_modules/.bin/deno');

function runExample(): string {
  assert.ok(existsSync(deno), `${deno} is missing: npm ci installs the deno package`);
  assert.ok(existsSync(join(root, 'dist/kiln.mjs')), 'dist/kiln.mjs is missing: run npm run build');
  const run = spawnSync(deno, ['run', '--no-lock', '--no-prompt', '--allow-read=dist,examples/deno', 'examples/deno/train.ts'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  assert.equal(run.status, 0, `deno run exited ${run.status ?? run.signal}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return run.stdout;
}

function field(out: string, pattern: RegExp): RegExpMatchArray {
  const m = out.match(pattern);
  assert.ok(m, `output has no line matching ${pattern}:\n${out}`);
  return m;
}

test('deno run examples/deno/train.ts trains, quantises and prints what Node computes', async () => {
  const out = runExample();
  const data = parseCsv(readFileSync(join(root, 'examples/deno/iris.csv'), 'utf8'));
  const { train, test: held } = trainTestSplit(data, { testFraction: 0.2, seed: 7 });
  assert.match(
    out,
    new RegExp(`^data: ${train.numRows} train and ${held.numRows} test rows, 4 features, classes setosa, versicolor, virginica$`, 'm'),
  );

  const model = new Sequential({ inputs: 4, layers: [dense(16, 'relu'), dense(3)], seed: 1 });
  const history = await fit(model, train, { optimizer: adam({ lr: 0.02 }), epochs: 60, batchSize: 16 });
  const accuracyOf = (classes: Int32Array) => classes.filter((c, i) => c === held.labels[i]).length / held.numRows;
  const f32 = field(out, /^float32: (\d+) epochs in \d+ ms, final loss ([\d.]+), test accuracy ([\d.]+)$/m);
  assert.equal(Number(f32[1]), 60);
  assert.equal(f32[2], history.epochs.at(-1)!.loss.toFixed(4));
  assert.equal(f32[3], accuracyOf(model.predictClasses(held.features)).toFixed(3));
  assert.ok(Number(f32[3]) >= 0.9, `float32 test accuracy ${f32[3]} on Iris`);

  for (const q of [
    quantize(model, { scheme: 'int8-per-channel', calibration: { data: train } }),
    quantize(model, { scheme: 'int4', groupSize: 32 }),
  ]) {
    const line = field(
      out,
      new RegExp(
        `^${q.scheme}: test accuracy ([\\d.]+), agrees with float32 on (\\d+)/${held.numRows} rows, parameters (\\d+) bytes \\(float32 (\\d+) bytes, ([\\d.]+)x smaller\\)$`,
        'm',
      ),
    );
    const info = q.info();
    assert.equal(line[1], accuracyOf(q.predictClasses(held.features)).toFixed(3), `${q.scheme} accuracy`);
    assert.ok(Number(line[1]) >= 0.9, `${q.scheme} test accuracy ${line[1]}`);
    assert.ok(Number(line[2]) >= held.numRows - 2, `${q.scheme} agrees with float32 on ${line[2]} rows`);
    assert.equal(Number(line[3]), info.bytes);
    assert.equal(Number(line[4]), info.float32Bytes);
    assert.ok(info.bytes < info.float32Bytes, `${q.scheme} is smaller than float32`);
    q.dispose();
  }
  model.dispose();
});
