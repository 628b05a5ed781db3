// Crash-safe file replacement for Node, Deno and Bun: readers see the old file or the new one,
// never a torn mix. node:fs is imported on first use so that browser bundles still load.
// File-system failures come back as a FileAccessError naming the user's path (never the
// temporary file) and saying what is wrong in words.

let counter = 0;

/** A file that cannot be read or written: `path` is the path the caller gave, `code` the
 *  system's code (EISDIR, EACCES, EPERM, ENOENT, ENOTDIR, ENOSPC, EROFS, ...). */
export class FileAccessError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly code: string,
    /** The reason alone, without the path: "is a directory, not a file". */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'FileAccessError';
  }
}

/** What a file-system error code means, as the end of "<path>: ..." (the CLI prints it so too). */
export const FILE_REASONS: Readonly<Record<string, string>> = {
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted (permissions, or a read-only or locked file)',
  ENOSPC: 'the disk is full',
  EROFS: 'the file system is read-only',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
};

/** `error` from the file system as a FileAccessError about `path` (other errors unchanged). */
export function fileError(error: unknown, action: 'read' | 'write', path: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('E')) return error;
  const reason = action === 'write' && code === 'ENOENT' ? 'its folder does not exist' : (FILE_REASONS[code] ?? (error as Error).message);
  return new FileAccessError(`cannot ${action} '${path}': ${reason} (${code})`, path, code, reason);
}

/** Reads a whole file (Node, Deno, Bun); a failure is a FileAccessError naming `path`. */
export async function readFileBytes(target: string | URL): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  const path = target instanceof URL ? (await import('node:url')).fileURLToPath(target) : target;
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw fileError(error, 'read', path);
  }
}

// Temporary files are `.<name>.<pid>.<n>.tmp` beside the target.
const tempName = (name: string, pid: number, n: number) => `.${name}.${pid}.${n}.tmp`;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same folder (rename is only
 * atomic within one file system) is written, flushed to disk and renamed over `path`; the
 * folder is then flushed where the platform allows, so the rename itself survives a crash.
 * Temporary files for `path` left by writers that were killed (their process is gone) are
 * removed first.
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
  // Checked first: renaming a file over a directory fails with a code that names neither.
  const existing = await fs.stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw fileError(Object.assign(new Error('EISDIR'), { code: 'EISDIR' }), 'write', path);
  await removeStaleTemps(fs, dir, basename(path), join);
  // pid + counter is unique among concurrent writers on this machine; 'wx' refuses to reuse a
  // leftover file instead of writing into someone else's.
  const temp = join(dir, tempName(basename(path), pid, ++counter));
  let handle: Awaited<ReturnType<typeof fs.open>>;
  try {
    handle = await fs.open(temp, 'wx');
  } catch (error) {
    throw fileError(error, 'write', path);
  }
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
    throw fileError(error, 'write', path);
  }
  await syncDirectory(fs, dir);
}

// A temporary file of this target whose writer process no longer exists was left by a crash or
// a kill: nobody will ever rename it. Files of live processes (concurrent writers) are kept.
async function removeStaleTemps(
  fs: typeof import('node:fs/promises'),
  dir: string,
  name: string,
  join: (...parts: string[]) => string,
): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch {
    return; // the open below reports a missing or unreadable folder with the user's path
  }
  const pattern = new RegExp(`^\\.${escapeRegExp(name)}\\.(\\d+)\\.\\d+\\.tmp$`);
  for (const entry of entries) {
    const m = pattern.exec(entry);
    if (m && !processAlive(Number(m[1]))) await fs.rm(join(dir, entry), { force: true }).catch(() => undefined);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as { code?: string }).code === 'EPERM';
  }
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
