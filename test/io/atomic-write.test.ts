import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileAccessError, readFileBytes, writeFileAtomic } from '../../src/io/atomic-write.ts';
import { loadModel } from '../../src/io/model-file.ts';
import { loadCsv } from '../../src/data/csv.ts';

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

test('write errors name the user path, never the temporary file, as a FileAccessError', () =>
  withDir(async (dir) => {
    const folder = join(dir, 'out');
    await mkdir(folder);
    await assert.rejects(
      writeFileAtomic(folder, new Uint8Array([1])),
      (e: unknown) =>
        e instanceof FileAccessError &&
        e.code === 'EISDIR' &&
        e.path === folder &&
        e.message === `cannot write '${folder}': is a directory, not a file (EISDIR)`,
    );
    const missing = join(dir, 'no', 'such', 'model.safetensors');
    await assert.rejects(
      writeFileAtomic(missing, new Uint8Array([1])),
      (e: unknown) => e instanceof FileAccessError && e.message === `cannot write '${missing}': its folder does not exist (ENOENT)`,
    );
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      await mkdir(locked);
      await chmod(locked, 0o500);
      const target = join(locked, 'm.safetensors');
      await assert.rejects(
        writeFileAtomic(target, new Uint8Array([1])),
        (e: unknown) =>
          e instanceof FileAccessError && e.path === target && /permission denied \(EACCES\)|not permitted \(EPERM\)/.test(e.message),
      );
    }
    assert.deepEqual((await readdir(folder)).length, 0, 'no temporary file left in the folder');
    assert.ok(
      (await readdir(dir)).every((n) => !n.endsWith('.tmp')),
      'no temporary file left',
    );
    await assert.rejects(
      readFileBytes(folder),
      (e: unknown) => e instanceof FileAccessError && e.message === `cannot read '${folder}': is a directory, not a file (EISDIR)`,
    );
    await assert.rejects(loadModel(folder), (e: unknown) => e instanceof FileAccessError && e.path === folder);
    await assert.rejects(
      loadCsv(join(dir, 'nope.csv')),
      (e: unknown) => e instanceof FileAccessError && /cannot read '.*nope\.csv': no such file \(ENOENT\)/.test(e.message),
    );
  }));

test('temporary files left by killed writers are removed on the next save to that path; live writers keep theirs', () =>
  withDir(async (dir) => {
    const path = join(dir, 'model.safetensors');
    // A pid that cannot be running (above the kernel's limit), a live one (ours), another target's.
    const dead = `.model.safetensors.4194305.1.tmp`;
    const dead2 = `.model.safetensors.4194306.7.tmp`;
    const live = `.model.safetensors.${process.pid}.999.tmp`;
    const other = `.other.safetensors.4194305.1.tmp`;
    for (const name of [dead, dead2, live, other]) await writeFile(join(dir, name), 'partial');
    await writeFileAtomic(path, new Uint8Array([7]));
    assert.deepEqual((await readdir(dir)).sort(), [live, other, 'model.safetensors'].sort());
  }));
