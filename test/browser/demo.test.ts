// The browser demo end to end: `node scripts/serve-demo.mjs --port 0` builds and serves it, headless
// Chromium runs it as a user would (MNIST with a tiny budget from the URL, then a CSV set on the
// file input), and the test checks the page's outcome: a finished run, the stage table, drawn
// charts, downloads whose bytes load back as models, and a console without errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { decodeSafetensors, iris, mnist } from '../../src/index.ts';
import { MODEL_FORMAT, modelFromBytes } from '../../src/io/model-file.ts';
import { QUANTIZED_FORMAT, quantizedModelFromBytes } from '../../src/compress/quant/file.ts';
import { SPARSE_MODEL_FORMAT, sparseModelFromBytes } from '../../src/io/sparse-file.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const RUN_MS = 60_000;

let server: ChildProcess;
let origin = '';
let context: BrowserContext;
let profile = '';

function startServer(): Promise<string> {
  server = spawn(process.execPath, ['scripts/serve-demo.mjs', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve-demo printed no URL in 30 s:\n${out}`)), 30_000);
    const read = (d: Buffer) => {
      out += d;
      const url = out.match(/kiln demo: (http:\/\/127\.0\.0\.1:\d+)\//)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    server.stdout!.on('data', read);
    server.stderr!.on('data', read);
    server.on('exit', (code) => reject(new Error(`serve-demo exited ${code}:\n${out}`)));
  });
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium`);
  origin = await startServer();
  profile = mkdtempSync(join(tmpdir(), 'kiln-demo-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    acceptDownloads: true,
  });
});

after(async () => {
  await context?.close();
  server?.kill('SIGTERM');
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** A page that records console errors, page errors and failed requests. */
async function open(query: string): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(`${origin}/${query}`);
  await page.waitForSelector('body[data-state=idle]');
  return { page, problems };
}

async function runToEnd(page: Page, problems: string[]): Promise<void> {
  await page.click('#run');
  await page.waitForSelector('body:not([data-state=idle]):not([data-state=running])', { timeout: RUN_MS });
  const state = await page.getAttribute('body', 'data-state');
  assert.equal(state, 'done', `the run ended '${state}': ${await page.textContent('#status')}\n${problems.join('\n')}`);
}

async function table(page: Page): Promise<{ columns: string[]; rows: string[][] }> {
  assert.ok(await page.isVisible('#stages'), 'the stage table is shown');
  return page.evaluate(() => ({
    columns: Array.from(document.querySelectorAll('#stages th')).map((c) => c.textContent ?? ''),
    rows: Array.from(document.querySelectorAll('#stages tbody tr')).map((r) => Array.from(r.children).map((c) => c.textContent ?? '')),
  }));
}

/** The lines of a chart: points per path and whether it is drawn faint (the frame and grid are
 *  rects and lines, not paths). */
const chartCurves = (page: Page, id: string) =>
  page.$$eval(`#${id} path`, (ps) =>
    ps.map((p) => ({
      points: (p.getAttribute('d') ?? '').split('L').length,
      faint: p.getAttribute('stroke-opacity') !== '1',
    })),
  );
const legend = (page: Page, id: string) => page.$$eval(`#${id} text.legend`, (ts) => ts.map((t) => t.textContent));

async function download(page: Page, index: number): Promise<{ name: string; bytes: Buffer }> {
  const links = await page.$$('#downloads a.download');
  assert.ok(links.length > index, `download link ${index} exists (${links.length} links)`);
  const [file] = await Promise.all([page.waitForEvent('download'), links[index]!.click()]);
  const path = await file.path();
  return { name: file.suggestedFilename(), bytes: readFileSync(path) };
}

/** Loads a downloaded model file with the reader its format names. */
function loadModel(bytes: Uint8Array): { predict(x: Float32Array): Float32Array; dispose(): void } {
  const format = decodeSafetensors(bytes).metadata?.format;
  switch (format) {
    case MODEL_FORMAT:
      return modelFromBytes(bytes);
    case QUANTIZED_FORMAT:
      return quantizedModelFromBytes(bytes);
    case SPARSE_MODEL_FORMAT:
      return sparseModelFromBytes(bytes);
    default:
      throw new Error(`the downloaded model has format ${format}`);
  }
}

test('MNIST with a tiny budget from the URL: charts, stage table, downloads, no console errors', { timeout: 80_000 }, async () => {
  const trials = 3;
  const { page, problems } = await open(`?trials=${trials}&perDigit=50&epochs=2&seed=3`);
  assert.equal(await page.inputValue('#trials'), String(trials), 'the query sets the form');
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the page is cross-origin isolated (fine timers)');
  await runToEnd(page, problems);

  const { columns, rows } = await table(page);
  assert.deepEqual(columns.slice(0, 3), ['stage', 'model', 'test accuracy']);
  assert.deepEqual(
    rows.map((r) => r[0]),
    ['search', 'distill', 'prune', 'quantize'],
  );
  for (const r of rows) {
    assert.equal(r.length, columns.length);
    const accuracy = Number(r[2]!.replace('%', ''));
    // 500 digits and two epochs a stage: well above the 10% of chance, well below a real budget.
    assert.ok(accuracy > 25 && accuracy <= 100, `stage ${r[0]} test accuracy ${r[2]}`);
  }
  assert.match(rows[3]![1]!, /^784(-\d+)+-10 int8-per-channel$/);

  // Stage curves are drawn opaque over the faint trial curves; each has its epochs.
  for (const id of ['loss-chart', 'accuracy-chart']) {
    const curves = await chartCurves(page, id);
    const stages = curves.filter((c) => !c.faint);
    assert.equal(stages.length, 3, `${id}: search, distill and prune curves (${JSON.stringify(curves)})`);
    assert.ok(
      stages.every((c) => c.points >= 2),
      `${id}: every stage curve has its epochs (${JSON.stringify(stages)})`,
    );
    assert.ok(curves.filter((c) => c.faint).length >= 1, `${id}: trial curves`);
    assert.deepEqual(await legend(page, id), ['search trials', 'search', 'distill', 'prune']);
  }
  const markers = await page.$$eval('#trial-chart circle', (cs) => cs.length);
  assert.equal(markers, trials, 'one marker per trial');
  assert.equal((await chartCurves(page, 'trial-chart')).length, 1, 'the best-so-far line');

  const model = await download(page, 0);
  assert.match(model.name, /\.safetensors$/);
  assert.ok(model.bytes.length > 0);
  const digits = await mnist({ perDigit: 1 });
  const loaded = loadModel(new Uint8Array(model.bytes));
  const probs = loaded.predict(digits.features);
  assert.equal(probs.length, 100, 'the downloaded model maps 784 pixels to 10 classes');
  for (let r = 0; r < 10; r++) {
    const sum = probs.slice(r * 10, r * 10 + 10).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-4, `row ${r} probabilities sum to ${sum}`);
  }
  loaded.dispose();

  const report = await download(page, 1);
  assert.equal(report.name, 'kiln-report.html');
  const html = report.bytes.toString('utf8');
  assert.match(html, /^<!doctype html>/i);
  assert.ok(
    ['search', 'distill', 'prune', 'quantize'].every((s) => html.includes(`<td data-label="stage">${s}</td>`)),
    'the report has the stage table',
  );
  assert.doesNotMatch(html, /<script|(src|href)="https?:/i, 'the report is self-contained');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a CSV set on the file input trains on its rows', { timeout: 60_000 }, async () => {
  const { page, problems } = await open('?trials=2&epochs=3');
  const csv = readFileSync(join(root, 'examples/deno/iris.csv'));
  await page.setInputFiles('#csv-file', { name: 'iris.csv', mimeType: 'text/csv', buffer: csv });
  await page.waitForFunction(() => (document.querySelector('#csv-name')?.textContent ?? '').startsWith('iris.csv'));
  assert.equal(await page.isChecked('#data-csv'), true, 'choosing a file selects the CSV source');
  await runToEnd(page, problems);

  const { rows } = await table(page);
  assert.ok(rows.length >= 1);
  assert.match((await page.textContent('#status')) ?? '', /^Done in [\d.]+ s\.$/);
  assert.equal((await chartCurves(page, 'loss-chart')).filter((c) => !c.faint).length, 3);
  const model = await download(page, 0);
  const loaded = loadModel(new Uint8Array(model.bytes));
  const flowers = iris();
  assert.equal(loaded.predict(flowers.features).length, 150 * 3, 'the downloaded model classifies 4 features into 3 species');
  loaded.dispose();
  assert.deepEqual(problems, []);
  await page.close();
});

test('a CSV dropped anywhere on the page becomes the data', { timeout: 30_000 }, async () => {
  const { page, problems } = await open('');
  await page.evaluate(() => {
    const data = new DataTransfer();
    data.items.add(new File(['a,b,label\n1,2,x\n3,4,y\n'], 'dropped.csv', { type: 'text/csv' }));
    document.querySelector('header')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction(() => (document.querySelector('#csv-name')?.textContent ?? '').startsWith('dropped.csv'));
  assert.equal(await page.isChecked('#data-csv'), true);
  assert.equal(page.url(), `${origin}/`, 'the browser did not navigate to the file');
  assert.deepEqual(problems, []);
  await page.close();
});

test('Stop cancels a run between steps', { timeout: 60_000 }, async () => {
  const { page, problems } = await open('?trials=200&perDigit=50&epochs=50');
  await page.click('#run');
  await page.waitForSelector('#loss-chart path', { timeout: RUN_MS });
  await page.click('#stop');
  await page.waitForSelector('body[data-state=stopped]', { timeout: 10_000 });
  assert.equal(await page.isHidden('#results'), true, 'a stopped run shows no results');
  assert.deepEqual(problems, []);
  await page.close();
});

test(
  'the digit pad: a CNN trains in its worker and a stroke drawn with the mouse gets every stage’s prediction',
  { timeout: 300_000 },
  async () => {
    const { page, problems } = await open('?perDigit=20&epochs=1&seed=1');
    await page.click('#train-digits');
    await page.waitForSelector('body[data-digits=ready], body[data-digits=error]', { timeout: 280_000 });
    assert.equal(await page.getAttribute('body', 'data-digits'), 'ready', (await page.textContent('#digit-status')) ?? '');
    assert.deepEqual(await page.$$eval('#predictions tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.stage)), [
      'float',
      'pruned',
      'int8',
    ]);
    await page.locator('#pad').scrollIntoViewIfNeeded();
    const box = (await page.locator('#pad').boundingBox())!;
    // A "1" drawn top to bottom; the prediction must appear while the button is still down.
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.51, box.y + box.height * 0.5, { steps: 8 });
    await page.waitForFunction(() => /^\d$/.test(document.querySelector('#predictions tr[data-stage=float] .digit')?.textContent ?? ''));
    await page.mouse.move(box.x + box.width * 0.52, box.y + box.height * 0.85, { steps: 8 });
    await page.mouse.up();
    const rows: Record<string, { digit: string; confidence: string; bars: number; accuracy: number }> = {};
    for (const stage of ['float', 'pruned', 'int8']) {
      const row = await page.$eval(`#predictions tr[data-stage=${stage}]`, (r) => ({
        digit: r.querySelector('.digit')?.textContent ?? '',
        confidence: r.querySelector('.confidence')?.textContent ?? '',
        bars: r.querySelectorAll('.bars span').length,
        accuracy: Number.parseFloat(r.children[2]?.textContent ?? ''),
      }));
      assert.match(row.digit, /^\d$/, `${stage} predicts a digit`);
      assert.match(row.confidence, /^\d+\.\d%$/);
      assert.equal(row.bars, 10, `${stage} shows ten probabilities`);
      assert.ok(row.accuracy > 10 && row.accuracy <= 100, `${stage} test accuracy ${row.accuracy}%`);
      rows[stage] = row;
    }
    // The int8 model is the pruned one in integers: within a few of its 40 test digits.
    assert.ok(Math.abs(rows.int8!.accuracy - rows.pruned!.accuracy) <= 10, JSON.stringify(rows));
    // The network's input: a thin vertical stroke, some pixels inked and most blank.
    const inked = await page.$eval('#preview', (c) => {
      const data = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0 && data[i]! < 128) n++;
      return n;
    });
    assert.ok(inked >= 20 && inked < 200, `${inked} of 784 preview pixels inked`);
    await page.click('#clear');
    assert.equal(await page.textContent('#predictions tr[data-stage=float] .digit'), '', 'Clear empties the predictions');
    assert.deepEqual(problems, []);
    await page.close();
  },
);
