// Crash-safe file replacement for Node, Deno and Bun: readers see the old file or the new one,
// never a torn mix. node:fs is imported on first use so that browser bundles still load.

let counter = 0;

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same folder (rename is only
 * atomic within one file system) is written, flushed to disk and renamed over `path`; the
 * folder is then flushed where the platform allows, so the rename itself survives a crash.
 *
 * @example
 * await writeFileAtomic('model.safetensors', encodeSafetensors(tensors));
 */
export async function writeFileAtomic(target: string | URL, bytes: Uint8Array): Promise<void> {
  if (!(target instanceof URL) && (typeof target !== 'string' || target.length === 0)) {
    throw new TypeError(
      `writeFileAtomic: path must be a non-empty string or a file URL, got ${typeof target === 'string' ? "''" : typeof target}`,
    );
  }
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`writeFileAtomic: bytes must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  const fs = await import('node:fs/promises');
  const path = target instanceof URL ? (await import('node:url')).fileURLToPath(target) : target;
  const { dirname, basename, join } = await import('node:path');
  const { pid } = await import('node:process');
  const dir = dirname(path);
  // pid + counter is unique among concurrent writers on this machine; 'wx' refuses to reuse a
  // leftover file instead of writing into someone else's.
  const temp = join(dir, `.${basename(path)}.${pid}.${++counter}.tmp`);
  const handle = await fs.open(temp, 'wx');
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(fs, dir);
}

async function syncDirectory(fs: typeof import('node:fs/promises'), dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof fs.open>> | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open or flush a directory; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}
