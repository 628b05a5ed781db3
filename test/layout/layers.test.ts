// No import runs up the layers: the study engine knows no models, files never know compression,
// and the pipeline sees the report only through its public index. Read from the sources' import
// statements, so a new file that breaks a rule fails here with its name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every relative import of the files under `dir`, as [file, imported path from the root]. */
function imports(dir: string): [string, string][] {
  return sources(dir).flatMap((file) =>
    [...readFileSync(join(root, file), 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map(
      (m) => [file, normalize(join(dirname(file), m[1]!))] as [string, string],
    ),
  );
}

const outside = (dir: string, allowed: string[]) =>
  imports(dir)
    .filter(([, target]) => !target.startsWith(`${dir}/`) && !allowed.some((a) => target.startsWith(`${a}/`)))
    .map(([f, t]) => `${f} → ${t}`);

test('the study engine (src/search) imports only the core and the platform layer', () => {
  assert.deepEqual(outside('src/search', ['src/core', 'src/platform']), []);
});

test('src/io never imports compression; the pipeline reaches the report only through its index', () => {
  assert.deepEqual(
    imports('src/io')
      .filter(([, t]) => t.startsWith('src/compress/'))
      .map(([f, t]) => `${f} → ${t}`),
    [],
  );
  assert.deepEqual(
    imports('src/pipeline')
      .filter(([, t]) => t.startsWith('src/report/') && t !== 'src/report/index.ts')
      .map(([f, t]) => `${f} → ${t}`),
    [],
  );
});

test('the measurement module sits below compression, the pipeline and the command line', () => {
  const up = imports('src/metrics').filter(([, t]) => /^src\/(compress|pipeline|cli|model-search|search|report)\//.test(t));
  assert.deepEqual(
    up.map(([f, t]) => `${f} → ${relative('src', t)}`),
    [],
  );
});
