import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense, dropout } from '../../src/nn/layers/index.ts';
import { fit } from '../../src/train/fit.ts';
import { adam } from '../../src/train/optimizers.ts';
import { iris } from '../../src/data/builtin.ts';
import { loadModel, modelFromBytes, modelToBytes, saveModel } from '../../src/io/model-file.ts';
import { decodeSafetensors, encodeSafetensors, ModelFileError } from '../../src/io/safetensors.ts';

async function trained(): Promise<Sequential> {
  const model = new Sequential({ inputs: 4, layers: [dense(8, 'gelu'), dropout(0.1), dense(3)], seed: 4 });
  await fit(model, iris(), { optimizer: adam({ lr: 0.01 }), epochs: 5, batchSize: 16 });
  return model;
}

test('save and load round-trip weights, preprocessing and predictions bit for bit', async () => {
  const model = await trained();
  const dir = mkdtempSync(join(tmpdir(), 'kiln-model-'));
  const path = join(dir, 'iris.safetensors');
  await saveModel(model, path);
  assert.deepEqual(readdirSync(dir), ['iris.safetensors'], 'no temp file left behind');
  const loaded = await loadModel(path);
  assert.deepEqual(loaded.toConfig(), model.toConfig());
  assert.deepEqual(loaded.preprocessing, JSON.parse(JSON.stringify(model.preprocessing)));
  const x = iris().features;
  assert.deepEqual(Buffer.from(loaded.predict(x).buffer), Buffer.from(model.predict(x).buffer));
  assert.deepEqual(Buffer.from(modelToBytes(loaded)), readFileSync(path));
  model.dispose();
  loaded.dispose();
});

test('the file is plain safetensors: layers.<i>.weight / bias in F32', async () => {
  const model = await trained();
  const { tensors, metadata } = decodeSafetensors(modelToBytes(model));
  assert.deepEqual(Object.keys(tensors).sort(), ['layers.0.bias', 'layers.0.weight', 'layers.2.bias', 'layers.2.weight']);
  assert.deepEqual(tensors['layers.0.weight']!.shape, [8, 4]);
  assert.equal(tensors['layers.2.bias']!.dtype, 'F32');
  assert.equal(metadata.format, 'kiln.sequential');
  assert.deepEqual(JSON.parse(metadata.preprocessing!).classNames, ['setosa', 'versicolor', 'virginica']);
  model.dispose();
});

function rewrite(bytes: Uint8Array, edit: (t: Record<string, any>, m: Record<string, string>) => void): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const t: Record<string, any> = { ...tensors };
  const m = { ...metadata };
  edit(t, m);
  return encodeSafetensors(t, m);
}

test('bad model files give a ModelFileError naming what is wrong', async () => {
  const model = await trained();
  const good = modelToBytes(model);
  const cases: [string, Uint8Array, RegExp][] = [
    ['truncated', good.slice(0, good.length - 10), /.+/],
    [
      'header length beyond the file',
      (() => {
        const b = good.slice();
        new DataView(b.buffer).setUint32(0, 1e6, true);
        return b;
      })(),
      /.+/,
    ],
    [
      'not kiln',
      rewrite(good, (_, m) => {
        m.format = 'other';
      }),
      /format is "other"/,
    ],
    [
      'future version',
      rewrite(good, (_, m) => {
        m.version = '9';
      }),
      /version "9" is not supported/,
    ],
    [
      'bad JSON',
      rewrite(good, (_, m) => {
        m.model = '{';
      }),
      /model is not valid JSON/,
    ],
    [
      'unknown layer',
      rewrite(good, (_, m) => {
        m.model = m.model!.replace('"dropout"', '"conv"');
      }),
      /layer type must be one of dense, dropout, .*, got conv$/,
    ],
    [
      'missing tensor',
      rewrite(good, (t) => {
        delete t['layers.2.bias'];
      }),
      /tensor 'layers.2.bias' is missing/,
    ],
    [
      'extra tensor',
      rewrite(good, (t) => {
        t.extra = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
      }),
      /unexpected tensor 'extra'/,
    ],
    [
      'shape mismatch',
      rewrite(good, (t) => {
        t['layers.0.weight'] = { dtype: 'F32', shape: [4, 8], data: new Float32Array(32) };
      }),
      /shape \[4,8\], the architecture needs \[8,4\]/,
    ],
    [
      'dtype mismatch',
      rewrite(good, (t) => {
        t['layers.0.bias'] = { dtype: 'I32', shape: [8], data: new Int32Array(8) };
      }),
      /dtype I32, expected F32/,
    ],
  ];
  for (const [name, bytes, message] of cases) {
    assert.throws(
      () => modelFromBytes(bytes),
      (e: unknown) => {
        assert.ok(e instanceof ModelFileError, `${name}: ${e}`);
        assert.match((e as Error).message, message, name);
        return true;
      },
    );
  }
  model.dispose();
});

test('a Node Buffer from readFileSync (a view into a larger pool) decodes as its own bytes', async () => {
  const { Buffer } = await import('node:buffer');
  const model = new Sequential({ inputs: 4, layers: [dense(3)], seed: 2 });
  const bytes = modelToBytes(model);
  // Like readFileSync: a Buffer at an offset inside a larger ArrayBuffer.
  const pool = new ArrayBuffer(bytes.length + 64);
  const buffer = Buffer.from(pool, 8, bytes.length);
  buffer.set(bytes);
  const again = modelFromBytes(buffer);
  assert.deepEqual(again.parameters(), model.parameters());
  model.dispose();
  again.dispose();
});
