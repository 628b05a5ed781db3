// docs/api.md is generated from the TSDoc of the public exports; this keeps it from drifting and
// keeps every export documented. One generator run (a few seconds: it type-checks src/) serves both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('api reference', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-api-docs-'));
  try {
    const out = join(dir, 'api.md');
    const run = spawnSync(process.execPath, ['scripts/api-docs.mjs', out], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(run.status, 0, `scripts/api-docs.mjs failed:\n${run.stderr}`);
    const generated = readFileSync(out, 'utf8');

    await t.test('docs/api.md is up to date (run `npm run docs`)', () => {
      const committed = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
      if (committed === generated) return;
      const a = committed.split('\n');
      const b = generated.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      const at = line === -1 ? a.length : line;
      assert.fail(
        `docs/api.md differs from the generated reference at line ${at + 1}:\n  committed: ${a[at] ?? '<end>'}\n  generated: ${b[at] ?? '<end>'}\nRun \`npm run docs\`.`,
      );
    });

    await t.test('every export has a TSDoc summary', () => {
      const missing = run.stderr
        .split('\n')
        .filter((l) => l.startsWith('missing summary: '))
        .map((l) => l.slice('missing summary: '.length));
      assert.deepEqual(missing, [], `exports without a TSDoc summary:\n  ${missing.join('\n  ')}`);
    });

    await t.test('every export of src/index.ts is in the reference', async () => {
      const api = await import('../../src/index.ts');
      const headings = new Set([...generated.matchAll(/^### `([^`]+)`$/gm)].map((m) => m[1]));
      const absent = Object.keys(api).filter((name) => !headings.has(name));
      assert.deepEqual(absent, []);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
