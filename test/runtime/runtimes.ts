// Runs test/runtime/report.mjs (the shared workload over dist/kiln.mjs) in one runtime and
// returns its report. Node, Deno and Bun run the CLI driver as child processes; Chromium loads the
// same modules from a loopback HTTP server. A missing runtime is an error, never a skip.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../scripts/chromium.ts';

/** SHA-256 of all the workload's bytes, and a short digest of each named part. */
export interface Report {
  sha256: string;
  length: number;
  parts: Record<string, string>;
  csv: string;
  conv: string;
  ms: number;
  core: string;
}
/** The runtimes, and the threaded core where it needs more than the defaults: Node with 1 and 4
 *  threads (KILN_THREADS), and a cross-origin-isolated Chromium page, which loads the threaded
 *  core (the plain page loads the single-thread core by URL). */
export type RuntimeName = 'node' | 'node-1-thread' | 'node-4-threads' | 'deno' | 'bun' | 'chromium' | 'chromium-isolated';

const root = fileURLToPath(new URL('../../', import.meta.url));
const driver = 'test/runtime/cli-driver.mjs';

// The npm packages' launchers first; the platform packages' binaries if a launcher was not linked.
const BINARIES: Record<'deno' | 'bun', string[]> = {
  deno: ['node_modules/.bin/deno', 'node_modules/@deno/linux-x64-glibc/deno'],
  bun: ['node_modules/.bin/bun', 'node_modules/@oven/bun-linux-x64/bin/bun'],
};

function binary(name: 'deno' | 'bun'): string {
  const found = BINARIES[name].map((p) => join(root, p)).find((p) => existsSync(p));
  if (!found)
    throw new Error(`${name} is not installed (looked for ${BINARIES[name].join(', ')}): run npm ci, which installs the ${name} package`);
  return found;
}

function runChild(command: string, args: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<Report> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${command}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`${command} ${args.join(' ')} exited ${code ?? signal}\nstdout: ${stdout}\nstderr: ${stderr}`));
      } else resolve(JSON.parse(line) as Report);
    });
  });
}

const SERVED = /^\/(dist\/kiln\.(mjs|wasm)|test\/runtime\/[\w-]+\.mjs)$/;
const MIME: Record<string, string> = { mjs: 'text/javascript; charset=utf-8', wasm: 'application/wasm' };
const page = (source: string) => `<!doctype html><meta charset="utf-8"><title>kiln cross-runtime</title>
<script type="module">
import { report } from '/test/runtime/report.mjs';
window.kilnReport = report(${source}).catch((e) => ({ error: String(e && e.stack || e) }));
</script>`;
// What makes a page cross-origin isolated, and so gives it SharedArrayBuffer.
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

// The plain page loads the core by URL (the single-thread core); the isolated one loads the
// embedded cores, and so the threaded one.
async function runChromium(timeoutMs: number, isolated: boolean): Promise<Report> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium (.ci/run does)`);
  let wasmFetched = false;
  const headers = isolated ? ISOLATION : {};
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/dist/kiln.wasm') wasmFetched = true;
    if (path === '/')
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers })
        .end(page(isolated ? '' : "new URL('/dist/kiln.wasm', location.href)"));
    else if (SERVED.test(path))
      res.writeHead(200, { 'content-type': MIME[path.split('.').at(-1)!]!, ...headers }).end(readFileSync(join(root, path)));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const profile = mkdtempSync(join(tmpdir(), 'kiln-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    timeout: timeoutMs,
  });
  const logs: string[] = [];
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    page.setDefaultTimeout(timeoutMs);
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => 'kilnReport' in window);
    const result = (await page.evaluate(() => (window as unknown as { kilnReport: Promise<unknown> }).kilnReport)) as
      Report | { error: string };
    if ('error' in result) throw new Error(`Chromium workload failed: ${result.error}`);
    if (!isolated && !wasmFetched) throw new Error('Chromium never fetched /dist/kiln.wasm: init(url) did not load the core by URL');
    return result;
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${logs.join('\n')}`);
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Runs the workload in `name` and returns its report, or rejects saying why. */
export async function runIn(name: RuntimeName, timeoutMs: number): Promise<Report> {
  switch (name) {
    case 'node':
      return runChild(process.execPath, [driver], timeoutMs);
    case 'node-1-thread':
      return runChild(process.execPath, [driver], timeoutMs, { KILN_THREADS: '1' });
    case 'node-4-threads':
      return runChild(process.execPath, [driver], timeoutMs, { KILN_THREADS: '4' });
    case 'deno':
      return runChild(binary('deno'), ['run', '--no-lock', '--no-prompt', driver], timeoutMs);
    case 'bun':
      return runChild(binary('bun'), [driver], timeoutMs);
    case 'chromium':
      return runChromium(timeoutMs, false);
    case 'chromium-isolated':
      return runChromium(timeoutMs, true);
  }
}
