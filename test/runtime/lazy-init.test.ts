// Importing kiln never starts the core, so an app can import it where WebAssembly is missing and
// feature-detect: Node's --jitless mode has no WebAssembly at all. The built files are checked
// (ESM and CommonJS), as apps load them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROBE = `const out = { imported: typeof kiln.fit === 'function', wasm: typeof WebAssembly };
try { kiln.initSync(); out.error = 'none'; } catch (e) { out.error = e.name + ': ' + e.message; }
console.log(JSON.stringify(out));`;

for (const [file, script] of [
  ['dist/kiln.mjs', `const kiln = await import('./dist/kiln.mjs');\n${PROBE}`],
  ['dist/kiln.cjs', `const kiln = require('./dist/kiln.cjs');\n${PROBE}`],
] as const) {
  test(`${file} imports without WebAssembly; first use says why it cannot run`, () => {
    assert.ok(existsSync(`${ROOT}${file}`), `${file} is missing: run npm run build first`);
    const type = file.endsWith('.mjs') ? 'module' : 'commonjs';
    const run = spawnSync(process.execPath, ['--jitless', `--input-type=${type}`, '-e', script], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    assert.deepEqual(out, { imported: true, wasm: 'undefined', error: 'UnsupportedRuntimeError: kiln: this runtime has no WebAssembly' });
  });
}
