// The package's version, read from its package.json: the command runs from an installed package
// (dist/cli.mjs) or from the sources (src/cli), so the nearest package.json named kiln-ml upwards
// is the one.
import { readFileSync } from 'node:fs';

export const PACKAGE_NAME = 'kiln-ml';

let cached: string | undefined;

/** The version of the kiln-ml package this command belongs to. */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // no package.json here: look one folder up
    }
    if (dir.pathname === '/') throw new Error(`kiln: cannot find the package.json of ${PACKAGE_NAME} above ${import.meta.url}`);
  }
}
