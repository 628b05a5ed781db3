// The package as a consumer gets it: resolved by name through the exports map from outside the
// repository, by import and by require, its declaration files type-checked by tsc for an ESM and a
// CommonJS consumer, the separate kiln.wasm equal to the embedded core, and the tarball's contents.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
let consumer = '';

before(() => {
  consumer = mkdtempSync(join(tmpdir(), 'kiln-consumer-'));
  mkdirSync(join(consumer, 'node_modules'));
  symlinkSync(root, join(consumer, 'node_modules', 'kiln'), 'dir');
});

after(() => rmSync(consumer, { recursive: true, force: true }));

function node(args: string[]): string {
  const run = spawnSync(process.execPath, args, { cwd: consumer, encoding: 'utf8' });
  assert.equal(run.status, 0, `node ${args.join(' ')} failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout.trim();
}

const USE = `k.initSync(); const t = k.Tensor.from([1.5, -2, 3], [3]); console.log(JSON.stringify([...t.read()])); t.dispose();`;

test('import "kiln" resolves to the ESM bundle and works', () => {
  assert.equal(node(['--input-type=module', '-e', `import * as k from 'kiln'; ${USE}`]), '[1.5,-2,3]');
  assert.match(node(['--input-type=module', '-e', `console.log(import.meta.resolve('kiln'))`]), /\/dist\/kiln\.mjs$/);
});

test('require("kiln") resolves to the CommonJS bundle and works', () => {
  assert.equal(node(['--input-type=commonjs', '-e', `const k = require('kiln'); ${USE}`]), '[1.5,-2,3]');
  assert.match(node(['--input-type=commonjs', '-e', `console.log(require.resolve('kiln'))`]), /\/dist\/kiln\.cjs$/);
});

test('kiln/kiln.wasm is the same core as the one embedded in the bundle', () => {
  const out = node([
    '--input-type=module',
    '-e',
    `
    import * as k from 'kiln';
    import { readFileSync } from 'node:fs';
    const bytes = readFileSync(new URL(import.meta.resolve('kiln/kiln.wasm')));
    const names = (m) => JSON.stringify(WebAssembly.Module.exports(m));
    k.initSync();
    const embedded = names(k.compiledModule());
    await k.init(bytes);
    console.log(JSON.stringify({ same: embedded === names(k.compiledModule()), size: bytes.length }));`,
  ]);
  const { same, size } = JSON.parse(out) as { same: boolean; size: number };
  assert.ok(same, 'dist/kiln.wasm exports differ from the embedded core');
  assert.deepEqual(readFileSync(join(root, 'dist/kiln.wasm')).length, size);
});

test('dist/index.d.ts and index.d.cts type-check for ESM and CommonJS consumers', () => {
  const body = (imp: string) => `${imp}
export async function demo(): Promise<number[]> {
  await init();
  const t: Tensor<'f32'> = Tensor.from([1, 2, 3], [3]);
  // @ts-expect-error: f64 is not a dtype
  Tensor.zeros([2], 'f64');
  const kept = scope(() => Tensor.zeros([2]));
  kept.dispose();
  return [...t.read()];
}
`;
  writeFileSync(join(consumer, 'esm.mts'), body(`import { init, Tensor, scope } from 'kiln';`));
  writeFileSync(join(consumer, 'cjs.cts'), body(`import { init, Tensor, scope } from 'kiln';`));
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        lib: ['es2022', 'dom'],
        types: [],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      files: ['esm.mts', 'cjs.cts'],
    }),
  );
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', consumer], { cwd: consumer, encoding: 'utf8' });
  } catch (error) {
    assert.fail(`tsc rejected a consumer of dist/index.d.ts:\n${(error as { stdout?: string }).stdout}`);
  }
});

test('npm pack ships the bundles, declarations and core, and nothing from the sources', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path).sort();
  for (const needed of ['dist/kiln.mjs', 'dist/kiln.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/kiln.wasm', 'package.json']) {
    assert.ok(files.includes(needed), `the tarball lacks ${needed}: ${files.join(', ')}`);
  }
  // Besides dist/ and the metadata, only the documentation the README links to (Markdown).
  const stray = files.filter(
    (f) => !f.startsWith('dist/') && !/^(package\.json|README(\.md)?|LICENSE(\.md)?)$/i.test(f) && !f.endsWith('.md'),
  );
  assert.deepEqual(stray, [], 'only dist/, the package metadata and documentation are shipped');
});

test('the kiln command starts from the installed package', (t) => {
  if (!existsSync(join(root, 'dist/cli.mjs'))) return t.skip('no src/cli/main.ts yet, so no dist/cli.mjs');
  assert.match(node([join(consumer, 'node_modules/kiln/dist/cli.mjs'), '--help']), /Usage: kiln/);
});
