import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../../src/io/atomic-write.ts';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-atomic-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('writes new files and replaces old ones, leaving no temporary file', () =>
  withDir(async (dir) => {
    const path = join(dir, 'model.safetensors');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await readFile(path))], [1, 2, 3]);
    await writeFile(path, 'old contents that are longer');
    await writeFileAtomic(pathToFileURL(path), new Uint8Array([9]));
    assert.deepEqual([...(await readFile(path))], [9]);
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
  }));

test('concurrent writers each leave a whole file', () =>
  withDir(async (dir) => {
    const path = join(dir, 'm.bin');
    const payloads = Array.from({ length: 8 }, (_, i) => new Uint8Array(4096).fill(i + 1));
    await Promise.all(payloads.map((p) => writeFileAtomic(path, p)));
    const got = await readFile(path);
    assert.equal(got.length, 4096);
    assert.ok(
      got.every((b) => b === got[0]),
      'one writer wins whole',
    );
    assert.deepEqual(await readdir(dir), ['m.bin']);
  }));

test('a failed write leaves the old file and no temporary file', () =>
  withDir(async (dir) => {
    const target = join(dir, 'sub');
    await writeFile(join(dir, 'keep'), 'x');
    // Renaming a file over a non-empty directory fails after the temporary file was written.
    const { mkdir } = await import('node:fs/promises');
    await mkdir(target);
    await writeFile(join(target, 'inside'), 'y');
    await assert.rejects(writeFileAtomic(target, new Uint8Array([1])));
    assert.deepEqual((await readdir(dir)).sort(), ['keep', 'sub']);
    await assert.rejects(writeFileAtomic(join(dir, 'missing', 'f'), new Uint8Array(1)), /ENOENT/);
  }));

test('argument errors', async () => {
  await assert.rejects(writeFileAtomic('', new Uint8Array(1)), /path must be a non-empty string or a file URL, got ''/);
  await assert.rejects(writeFileAtomic('x', [1] as never), /bytes must be a Uint8Array, got object/);
});
