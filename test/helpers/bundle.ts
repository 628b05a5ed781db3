// One esbuild bundle of a Node entry point (a CLI, a child process of a test or a benchmark),
// built once per process and removed at exit: a bundle starts several times faster than the
// same sources through tsx, which matters when a test or a benchmark starts many processes.
import { mkdirSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Bundles `entry` (a path) into node_modules/.cache, where the bundle finds the packages it leaves
 *  out (the optional dependencies) as dist/cli.mjs does; returns the bundle's path. */
export async function bundleForNode(entry: string): Promise<string> {
  const folder = `${ROOT}node_modules/.cache/kiln-bundles/`;
  mkdirSync(folder, { recursive: true });
  const path = `${folder}${basename(entry).replace(/\.ts$/, '')}-${process.pid}.mjs`;
  process.once('exit', () => rmSync(path, { force: true }));
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18',
    outfile: path,
    // pg and ioredis stay packages, loaded on first use as in the library.
    external: ['pg', 'ioredis'],
    // CommonJS packages (commander, cli-progress) inside an ESM bundle need a real require for
    // their require() of Node built-ins.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __kilnCreateRequire } from 'node:module';\nconst require = __kilnCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  return path;
}
