// Builds the package in dist/ from src/ (run after build:wasm, which embeds the core in src/):
//   kiln.mjs    ESM for browsers, Deno, Bun, Node and workers (the core embedded as base64)
//   kiln.cjs    CommonJS for require()
//   kiln.browser.mjs  ESM for browser bundles: Node built-ins replaced by clear errors
//   kiln.url.mjs      the same without the embedded core, for init(url) (export 'kiln-ml/url')
//   index.d.ts  one self-contained declaration file (and index.d.cts, the same text, for require)
//   kiln.wasm   the core alone, for loading by URL or precompiling in a worker
//   cli.mjs     the `kiln` command (Node), built from src/cli/main.ts once that exists; it imports
//               the library from ./kiln.mjs rather than carrying a second copy
// The ESM build must stay platform neutral: a Node built-in imported at top level would break
// every other runtime, so the build fails if one appears.
import { build } from 'esbuild';
import { generateDtsBundle } from 'dts-bundle-generator';
import { existsSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const path = (p) => new URL(p, root).pathname;
mkdirSync(path('dist'), { recursive: true });

/** @type {import('esbuild').BuildOptions} */
const common = {
  entryPoints: [path('src/index.ts')],
  bundle: true,
  platform: 'neutral',
  // Neutral resolution reads no package.json main fields by default; ESM first where offered.
  mainFields: ['module', 'main'],
  // Node-only code reaches node:* through import() inside functions; it stays a runtime import.
  external: ['node:*'],
  // protobufjs (ONNX files) uses long.js only when present; int64 values as numbers suffice.
  // Papa Parse (CSV) requires Node's stream only for a reader kiln never calls.
  alias: { long: path('scripts/no-long.cjs'), stream: path('scripts/no-stream.cjs') },
  target: 'es2022',
  sourcemap: true,
  // Whitespace and syntax only: names stay, so stack traces still read (and the maps, not
  // shipped, map back); the install stays small.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
};
const esm = await build({ ...common, format: 'esm', outfile: path('dist/kiln.mjs'), metafile: true });
// What the bundle still imports at run time: only import() inside functions may remain, since
// only Node (or Deno, Bun) reaches the code that makes them.
const eager = Object.values(/** @type {import('esbuild').Metafile} */ (esm.metafile).outputs)
  .flatMap((o) => o.imports)
  .filter((i) => i.kind !== 'dynamic-import');
if (eager.length > 0) {
  throw new Error(`dist/kiln.mjs is not platform neutral: it imports ${eager.map((i) => `${i.path} (${i.kind})`).join(', ')} at load time`);
}
// CommonJS has no import.meta: code that uses it feature-tests import.meta.resolve and falls back
// to require.resolve, so esbuild's empty-object substitute is what it expects; import.meta.url
// (where trial workers find their entry files) becomes this file's own URL.
await build({
  ...common,
  format: 'cjs',
  outfile: path('dist/kiln.cjs'),
  define: { 'import.meta.url': '__kilnFileUrl' },
  banner: { js: "var __kilnFileUrl = require('node:url').pathToFileURL(__filename).href;" },
  logOverride: { 'empty-import-meta': 'silent' },
});

// The browser build: each Node built-in, reached only through import() inside the functions that
// need it, becomes a module that rejects with a clear UnsupportedRuntimeError, so that bundlers
// for the web see no node:* import (esbuild would fail on them, Vite warn).
const nodeOnly = path('src/platform/node-only.ts');
/** @type {import('esbuild').Plugin} */
const browserBuiltins = {
  name: 'kiln-browser-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'kiln-node-only' }));
    b.onLoad({ filter: /.*/, namespace: 'kiln-node-only' }, (args) => ({
      contents: `import { nodeOnly } from ${JSON.stringify(nodeOnly)};\nnodeOnly(${JSON.stringify(args.path)});\nexport {};\n`,
      loader: 'ts',
      resolveDir: path('src/platform'),
    }));
  },
};
/** The url build carries no core: apps load dist/kiln.wasm with init(url), so a bundler that
 *  ships the file as an asset does not ship a second, embedded copy.
 *  @type {import('esbuild').Plugin} */
const noEmbeddedCore = {
  name: 'kiln-no-embedded-core',
  setup(b) {
    b.onLoad({ filter: /embedded-wasm\.generated\.ts$/ }, () => ({
      contents: "export const EMBEDDED_WASM_BASE64 = '';\nexport const EMBEDDED_THREADS_WASM_BASE64 = '';\n",
      loader: 'ts',
    }));
  },
};
// Whitespace and syntax minified (names kept, so errors and stacks still read): apps bundle these
// files again anyway, and the installed package stays small (test/package: under 5 MB).
const browser = {
  ...common,
  platform: /** @type {const} */ ('browser'),
  external: [],
  format: /** @type {const} */ ('esm'),
  minifyWhitespace: true,
  minifySyntax: true,
};
const NODE_POLYFILL =
  /node_modules\/(buffer|process|events|util|stream-browserify|readable-stream|string_decoder|path-browserify|crypto-browserify|base64-js|ieee754)\//;
for (const [outfile, plugins] of /** @type {const} */ ([
  ['dist/kiln.browser.mjs', [browserBuiltins]],
  ['dist/kiln.url.mjs', [browserBuiltins, noEmbeddedCore]],
])) {
  const result = await build({ ...browser, outfile: path(outfile), plugins: [...plugins], metafile: true });
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports);
  if (imports.length > 0) throw new Error(`${outfile} must import nothing, it imports ${imports.map((i) => i.path).join(', ')}`);
  // Nor may a polyfill of a Node module ride in: apps would carry it whether or not they use it.
  const polyfills = Object.keys(result.metafile.inputs).filter((f) => NODE_POLYFILL.test(f));
  if (polyfills.length > 0) throw new Error(`${outfile} carries polyfills of Node modules: ${polyfills.join(', ')}`);
}

if (existsSync(path('src/cli/main.ts'))) {
  const library = path('src/index.ts');
  const useBundledLibrary = {
    name: 'kiln-library-external',
    setup(b) {
      b.onResolve({ filter: /index\.ts$/ }, (args) =>
        new URL(args.path, `file://${args.resolveDir}/`).pathname === library ? { path: './kiln.mjs', external: true } : undefined,
      );
    },
  };
  // The command runs from an installed package, so its dependencies (commander, ...) are there to
  // import at run time (bundling CommonJS ones into ESM would break their require() calls); dev
  // dependencies are not, so whatever it uses of those is bundled.
  const { dependencies = {} } = JSON.parse(readFileSync(path('package.json'), 'utf8'));
  const cli = await build({
    ...common,
    entryPoints: [path('src/cli/main.ts')],
    platform: 'node',
    format: 'esm',
    external: ['node:*', ...Object.keys(dependencies).flatMap((d) => [d, `${d}/*`])],
    outfile: path('dist/cli.mjs'),
    banner: { js: '#!/usr/bin/env node' },
    plugins: [useBundledLibrary],
    metafile: true,
  });
  // A second copy of the core would have its own memory, and Tensors from one handed to the other.
  const cliInputs = Object.values(/** @type {import('esbuild').Metafile} */ (cli.metafile).outputs).map((o) => o.inputs);
  if (
    cliInputs.some((inputs) => Object.entries(inputs).some(([f, i]) => f.endsWith('embedded-wasm.generated.ts') && i.bytesInOutput > 0))
  ) {
    throw new Error('dist/cli.mjs carries its own copy of the core: the command must reach kiln through src/index.ts');
  }
}

// Trial workers of optimizeParallel and searchModel load these files. They reach the library
// through kiln.mjs, so in each worker the runner and the objective share one core instance.
writeFileSync(path('dist/kiln-worker.mjs'), "import { runTrialWorker } from './kiln.mjs';\nawait runTrialWorker();\n");
writeFileSync(path('dist/kiln-mlp-objective.mjs'), "export { mlpTrialObjective as objective } from './kiln.mjs';\n");

const [dts] = generateDtsBundle([{ filePath: path('src/index.ts'), output: { noBanner: true, exportReferencedTypes: false } }], {
  preferredConfigPath: path('tsconfig.build.json'),
});
if (dts === undefined) throw new Error('dts-bundle-generator made no declaration file for src/index.ts');
writeFileSync(path('dist/index.d.ts'), dts);
writeFileSync(path('dist/index.d.cts'), dts);

// From the embedded copy, not build/kiln.wasm: the file and the bundle must hold the same core
// even if build/ was rebuilt after embedding.
const embedded = readFileSync(path('src/core/embedded-wasm.generated.ts'), 'utf8').match(
  /EMBEDDED_WASM_BASE64: string = '([A-Za-z0-9+/=]+)'/,
);
if (!embedded) throw new Error('src/core/embedded-wasm.generated.ts holds no EMBEDDED_WASM_BASE64: run npm run build:wasm');
writeFileSync(path('dist/kiln.wasm'), Buffer.from(/** @type {string} */ (embedded[1]), 'base64'));

const size = (p) => `${(statSync(path(p)).size / 1024).toFixed(1)} KiB`;
console.log(
  `dist: kiln.mjs ${size('dist/kiln.mjs')}, kiln.cjs ${size('dist/kiln.cjs')}, index.d.ts ${size('dist/index.d.ts')}, kiln.wasm ${size('dist/kiln.wasm')}`,
);
