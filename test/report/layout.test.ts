// The report's layout in headless Chromium at a desktop and a phone width, asserted on the page's
// geometry rather than on pixels: the document never scrolls sideways (also in a full-page
// screenshot, whose width is the viewport's), every section is present and visible, every chart
// fits the element that holds it, and on the phone the tables turn into cards. Run on a real
// pipeline run and on a made-up run with the awkward parts: ten classes with long names, forty
// trials, a diverged trial and int8 making the file larger.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { iris } from '../../src/data/builtin.ts';
import { runPipeline } from '../../src/pipeline/pipeline.ts';
import type { PipelineResult, TrialSummary } from '../../src/pipeline/types.ts';
import { DEFAULT_MLP_SETTINGS } from '../../src/model-search/settings.ts';
import { renderReport } from '../../src/report/report.ts';
import { mulberry32 } from '../helpers/rand.ts';
import { launch, openReport } from '../helpers/chromium.ts';

const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 375, height: 740, isMobile: true },
};
const SECTIONS = ['stages', 'final-model', 'search', 'search-views', 'curves'];
const CHARTS = ['confusion', 'search-history', 'trial-curves', 'pareto', 'importances', 'parallel', 'contour', 'edf', 'timeline'];

/** A made-up run with everything that strains a narrow page. */
function awkwardResult(): PipelineResult {
  const rand = mulberry32(7);
  const classes = Array.from({ length: 10 }, (_, c) => `class number ${c} with a long name`);
  const trials: TrialSummary[] = Array.from({ length: 40 }, (_, n) => {
    const lr = 1e-4 * 1000 ** rand();
    const width = 16 + Math.floor(rand() * 240);
    const state = n % 7 === 3 ? 'pruned' : n === 11 ? 'failed' : 'complete';
    // Trial 5 diverged: accuracy at chance where the others are above 0.9.
    const value = n === 5 ? 0.1 : 0.9 + 0.08 * rand();
    return {
      number: n,
      state,
      params: { learning_rate_of_the_optimizer: lr, hidden_units_first_layer: width, activation: rand() < 0.5 ? 'relu' : 'gelu' },
      values: state === 'failed' ? null : [value],
      intermediate: state === 'failed' ? [] : Array.from({ length: state === 'pruned' ? 2 : 6 }, (_, e) => [e, value - 0.05 / (e + 1)]),
      accuracy: state === 'complete' ? value : null,
      parameters: state === 'complete' ? width * 800 : null,
      bytes: state === 'complete' ? width * 3200 : null,
      startedAt: 1_700_000_000_000 + n * 900,
      durationMs: state === 'failed' ? 50 : 800,
    };
  });
  const row = (stage: PipelineResult['stages'][number]['stage'], model: string, bytes: number, nonZeros: number) => ({
    stage,
    model,
    accuracy: 0.95,
    parameters: 100_000,
    nonZeros,
    bytes,
    latencyUs: 40,
    speedup: 1.5,
    seconds: 12,
  });
  const confusion = classes.map((_, t) => classes.map((__, p) => (t === p ? 90 : Math.floor(rand() * 4))));
  return {
    seed: 1,
    data: { features: 784, classes, rows: { train: 7000, validation: 1000, test: 2000 } },
    stages: [
      row('search', '784-256-128-10 f32', 820_000, 100_000),
      row('distill', '784-64-32-10 f32', 210_000, 52_000),
      row('prune', '784-64-32-10 f32, 90% zero', 60_000, 5_200),
      row('quantize', '784-64-32-10 int8-per-channel', 54_000 + 30_000, 52_000),
    ],
    objectives: ['accuracy'],
    directions: ['maximize'],
    trials,
    bestTrial: 7,
    paretoFront: [],
    importances: { learning_rate_of_the_optimizer: 0.6, hidden_units_first_layer: 0.3, activation: 0.1 },
    settings: { ...DEFAULT_MLP_SETTINGS },
    curves: [{ stage: 'search', points: [1, 2, 3].map((epoch) => ({ epoch, loss: 1 / epoch, valLoss: 1 / epoch, valAccuracy: 0.9 })) }],
    stageSettings: [
      { stage: 'search', settings: { trials: 40, sampler: 'tpe', pruner: 'hyperband', layers: [256, 128], learning_rate: 0.00123 } },
      { stage: 'prune', settings: { method: 'unstructured', sparsity: 0.9, steps: 4 } },
    ],
    evaluation: {
      stage: 'quantize',
      classNames: classes,
      confusion,
      precision: classes.map(() => 0.95),
      recall: classes.map(() => 0.94),
      f1: classes.map(() => 0.945),
      support: confusion.map((r) => r.reduce((a, b) => a + b, 0)),
    },
    model: { stage: 'quantize', format: 'kiln.quantized', bytes: new Uint8Array(84_000) },
    seconds: 60,
  };
}

let browser: Browser;
let real: PipelineResult;
before(async () => {
  browser = await launch();
  real = await runPipeline(iris(), {
    seed: 3,
    search: { trials: 8, epochs: 15 },
    distill: { epochs: 10 },
    prune: { fineTuneEpochs: 2 },
    latencyRepeats: 3,
  });
});
after(async () => {
  await browser?.close();
});

interface Layout {
  scrollWidth: number;
  innerWidth: number;
  sections: Record<string, { visible: boolean; width: number }>;
  charts: Record<string, { width: number; right: number; holder: number; holderRight: number }>;
  overflowing: string[];
  headsHidden: boolean;
}

// Measures the page; a string, so that the test's compiler adds no helpers the page lacks.
const LAYOUT_PROBE = `({ sections, charts }) => {
  const box = (el) => el.getBoundingClientRect();
  const visible = (el) => {
    const b = box(el);
    const style = getComputedStyle(el);
    return b.width > 0 && b.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
  };
  const out = {
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
    sections: {},
    charts: {},
    overflowing: [],
    headsHidden: Array.from(document.querySelectorAll('table.cards thead')).every((h) => getComputedStyle(h).display === 'none'),
  };
  for (const id of sections) {
    const el = document.getElementById(id);
    out.sections[id] = el ? { visible: visible(el), width: box(el).width } : { visible: false, width: 0 };
  }
  for (const id of charts) {
    const svg = document.querySelector('svg[data-chart="' + id + '"]');
    if (!svg) continue;
    // The box the chart must fit: its section, which spans the body's content box.
    const holder = svg.closest('section');
    out.charts[id] = { width: box(svg).width, right: box(svg).right, holder: box(holder).width, holderRight: box(holder).right };
  }
  // Any element whose right edge passes the viewport's (marks inside an svg are clipped by it).
  for (const el of Array.from(document.body.querySelectorAll('*'))) {
    if (el.closest('svg') && el.tagName !== 'svg') continue;
    if (box(el).right > window.innerWidth + 0.5) out.overflowing.push(el.tagName.toLowerCase() + '#' + el.id + '.' + el.className);
  }
  return out;
}`;

// The png's width from its IHDR chunk (bytes 16..19, big-endian).
const pngWidth = (png: Buffer): number => png.readUInt32BE(16);

for (const [name, viewport] of Object.entries(VIEWPORTS)) {
  for (const which of ['real', 'awkward'] as const) {
    test(`${which} run at ${name} width: no sideways scrolling, every section shown, charts inside their boxes`, async () => {
      const result = which === 'real' ? real : awkwardResult();
      const { page, errors, requests } = await openReport(browser, renderReport(result), viewport);
      const layout = (await page.evaluate(`(${LAYOUT_PROBE})(${JSON.stringify({ sections: SECTIONS, charts: CHARTS })})`)) as Layout;
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, []);
      assert.ok(layout.scrollWidth <= layout.innerWidth, `scrollWidth ${layout.scrollWidth} > innerWidth ${layout.innerWidth}`);
      assert.deepEqual(layout.overflowing, [], 'no element reaches past the right edge');
      for (const id of SECTIONS) assert.ok(layout.sections[id]?.visible, `section #${id} is present and visible`);
      for (const id of CHARTS) {
        if (id === 'importances' && !result.importances) continue;
        const c = layout.charts[id];
        assert.ok(c, `chart ${id} is on the page`);
        assert.ok(c.width > 0 && c.width <= c.holder + 0.5 && c.right <= c.holderRight + 0.5, `chart ${id} fits: ${JSON.stringify(c)}`);
      }
      if (name === 'phone') assert.ok(layout.headsHidden, 'tables are cards on a phone');
      else assert.ok(!layout.headsHidden, 'tables keep their header rows on a desktop');
      const shot = await page.screenshot({ fullPage: true });
      assert.equal(pngWidth(shot), viewport.width, 'the full-page screenshot is as wide as the viewport');
      await page.context().close();
    });
  }
}

test('the awkward run: the diverged trial sits on the axis edge, int8 growth is warned about', async () => {
  const html = renderReport(awkwardResult());
  const { page } = await openReport(browser, html);
  const history = await page.evaluate(() => {
    const svg = document.querySelector('svg[data-chart="search-history"]')!;
    const ticks = Array.from(svg.querySelectorAll('.axis text[text-anchor="end"]')).map((t) => Number(t.textContent));
    const hollow = Array.from(svg.querySelectorAll('circle.outside')).map((c) => c.querySelector('title')?.textContent ?? '');
    return { ticks, hollow, note: svg.closest('figure')!.querySelector('.note')!.textContent };
  });
  assert.ok(Math.min(...history.ticks) >= 0.8, `the y axis starts near the good trials, not at the diverged one: ${history.ticks}`);
  assert.equal(history.hollow.length, 1);
  assert.match(history.hollow[0]!, /^off the axis: trial 5 /);
  assert.match(history.note!, /1 far outlying value \(hollow\) is drawn at the edge/);
  const warnings = await page.$$eval('#stages .warning', (ws) => ws.map((w) => w.textContent));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /Quantisation made the file larger: 58\.6 KiB after prune, 82\.0 KiB after quantize \(1\.40×\)/);
  assert.match(warnings[0]!, /stores only its 5200 non-zero weights/);
  await page.context().close();
});
