// The report and its chart module: scales and ticks against hand-worked values, escaping of
// hostile text, and the page of a real pipeline run rendered in headless Chromium: every chart
// drew marks, the stage table is there, nothing was logged as an error and nothing was fetched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iris } from '../../src/data/builtin.ts';
import { runPipeline } from '../../src/pipeline/pipeline.ts';
import type { PipelineResult } from '../../src/pipeline/types.ts';
import { DEFAULT_MLP_SETTINGS } from '../../src/model-search/settings.ts';
import { renderReport } from '../../src/report/report.ts';
import { barChart, plot } from '../../src/report/chart.ts';
import { escapeHtml } from '../../src/report/escape.ts';
import { parallelCoordinates } from '../../src/report/parallel.ts';
import { formatNumber, linearScale, logScale, niceDomain, niceStep } from '../../src/report/scale.ts';
import { launch, openReport } from '../helpers/chromium.ts';

const CHARTS = [
  'search-history',
  'trial-curves',
  'pareto',
  'importances',
  'parallel',
  'curves-accuracy',
  'curves-loss',
  'confusion',
  'contour',
  'edf',
  'timeline',
];

test('round steps, domains and ticks', () => {
  assert.equal(niceStep(10, 5), 2);
  assert.equal(niceStep(0.14, 5), 0.05, '0.028 rounds up to 0.05');
  assert.equal(niceStep(7000, 4), 2000, '1750 rounds up to 2000');
  assert.deepEqual(niceDomain(0.83, 0.97), [0.8, 1]);
  assert.deepEqual(niceDomain(3, 3), [2.6, 3.4], 'a single value gets ±10% around it');
  assert.deepEqual(niceDomain(0, 0), [-1, 1]);
  const s = linearScale([0, 10], [50, 250]);
  assert.equal(s.map(0), 50);
  assert.equal(s.map(2.5), 100);
  assert.equal(s.map(10), 250);
  assert.deepEqual(s.ticks(5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(linearScale([0.8, 1], [0, 1]).ticks(4), [0.8, 0.85, 0.9, 0.95, 1], 'no binary noise in tick values');
  const down = linearScale([0, 1], [300, 20]);
  assert.equal(down.map(1), 20, 'a y scale maps upwards');
});

test('log scale: decades evenly spaced, ticks at 1, 2 and 5', () => {
  const s = logScale([100, 100_000], [0, 300]);
  for (const [v, at] of [
    [100, 0],
    [1000, 100],
    [10_000, 200],
    [100_000, 300],
  ] as const)
    assert.ok(Math.abs(s.map(v) - at) < 1e-9, `${v} → ${s.map(v)}, expected ${at}`);
  assert.deepEqual(s.ticks(), [100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000]);
  assert.deepEqual(logScale([10, 1e7], [0, 1]).ticks(), [10, 100, 1000, 10_000, 100_000, 1e6, 1e7], 'six decades: powers of ten only');
  assert.deepEqual(logScale([900, 1500], [0, 1]).ticks(), [900, 1000], 'less than a decade: every mantissa inside');
});

test('numbers for labels', () => {
  assert.equal(formatNumber(42), '42');
  assert.equal(formatNumber(0.12345), '0.1235');
  assert.equal(formatNumber(12_345), '12.3k');
  assert.equal(formatNumber(2_500_000), '2.5M');
  assert.equal(formatNumber(0.00001234), '1.2e-5');
  assert.equal(formatNumber(NaN), 'NaN');
});

test('escaping covers element text and both quote styles', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  assert.equal(escapeHtml(3), '3');
});

test('plot: marks where the scales put them, tooltips, legend, empty data', () => {
  const svg = plot({
    id: 'c',
    title: 'T',
    xLabel: 'x',
    yLabel: 'y',
    width: 400,
    height: 300,
    series: [
      {
        name: 'pts',
        style: 'points',
        points: [
          { x: 1, y: 1, title: 'first' },
          { x: 2, y: 3 },
          { x: 3, y: 2 },
          { x: NaN, y: 1 },
        ],
      },
    ],
  });
  const circles = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"[^>]*><title>([^<]*)<\/title>/g)].map((m) => ({
    cx: Number(m[1]),
    cy: Number(m[2]),
    title: m[3],
  }));
  assert.equal(circles.length, 3, 'the NaN point is left out');
  assert.ok(circles[0]!.cx < circles[1]!.cx && circles[1]!.cx < circles[2]!.cx, 'x grows to the right');
  assert.ok(circles[1]!.cy < circles[2]!.cy && circles[2]!.cy < circles[0]!.cy, 'y grows upwards');
  assert.equal(circles[0]!.title, 'first');
  assert.equal(circles[1]!.title, 'pts: 2, 3');
  assert.match(svg, /<g class="legend">.*>pts<\/text>/);
  assert.match(plot({ id: 'e', title: 'E', xLabel: 'x', yLabel: 'y', series: [] }), />no data</);
  const bars = barChart({
    id: 'b',
    title: 'B',
    xLabel: 'v',
    bars: [
      { label: 'lr', value: 0.75 },
      { label: 'units', value: 0.25 },
    ],
  });
  const widths = [...bars.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(widths.length, 2);
  assert.ok(Math.abs(widths[0]! / widths[1]! - 3) < 0.02, `bars in proportion: ${widths}`);
});

test('parallel coordinates: a polyline per line through every axis, the best on top', () => {
  const svg = parallelCoordinates({
    id: 'p',
    title: 'P',
    axes: ['lr', 'act', 'acc'],
    width: 500,
    height: 300,
    lines: [
      { values: [0.001, 'relu', 0.9], quality: 1, title: 'best', highlight: true },
      { values: [0.1, 'tanh', 0.5], quality: 0, title: 'worst' },
      { values: [0.01, 'gelu', 0.7], quality: 0.5, title: 'middle' },
    ],
  });
  const paths = [...svg.matchAll(/<path class="line" d="([^"]+)" stroke="([^"]+)"[^>]*><title>([^<]+)<\/title>/g)].map((m) => ({
    points: [...m[1]!.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((p) => [Number(p[1]), Number(p[2])]),
    color: m[2],
    title: m[3],
  }));
  assert.deepEqual(
    paths.map((p) => p.title),
    ['worst', 'middle', 'best'],
    'drawn worst first, the highlighted one last',
  );
  for (const p of paths) assert.equal(p.points.length, 3);
  const y = (title: string, axis: number) => paths.find((p) => p.title === title)!.points[axis]![1]!;
  // lr spans a factor of 100: log axis, so 0.01 sits halfway between 0.001 and 0.1.
  assert.ok(Math.abs(y('middle', 0) - (y('best', 0) + y('worst', 0)) / 2) < 0.2, 'log axis');
  assert.ok(y('best', 0) > y('worst', 0), 'larger values higher up');
  // Categories in sorted order, evenly spaced: gelu, relu, tanh from the bottom.
  assert.ok(y('middle', 1) > y('best', 1) && y('best', 1) > y('worst', 1));
  assert.ok(Math.abs(y('middle', 1) - y('best', 1) - (y('best', 1) - y('worst', 1))) < 0.2);
  assert.equal(paths[2]!.color, '#009e73');
});

// A result with text a user controls (class names, parameter values) set to markup.
function hostileResult(): PipelineResult {
  const evil = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`;
  const trial = (number: number, state: 'complete' | 'pruned', values: number[]) => ({
    number,
    state,
    params: { activation: number === 3 ? 'relu' : evil, lr: 0.01 * (number + 1) },
    values,
    intermediate: values.map((v, i) => [i, v] as [number, number]),
    accuracy: state === 'complete' ? values.at(-1)! : null,
    parameters: state === 'complete' ? 100 * (number + 1) : null,
    bytes: state === 'complete' ? 400 * (number + 1) : null,
    startedAt: 1_700_000_000_000 + 15 * number,
    durationMs: 10,
  });
  const row = (stage: 'search' | 'quantize', accuracy: number, bytes: number) => ({
    stage,
    model: evil,
    accuracy,
    parameters: 10,
    nonZeros: 10,
    bytes,
    latencyUs: 3,
    speedup: 1,
    seconds: 0.1,
  });
  return {
    seed: 0,
    data: { features: 4, classes: [evil, 'b'], rows: { train: 10, validation: 5, test: 5 } },
    stages: [row('search', 0.9, 4000), row('quantize', 0.85, 1000)],
    objectives: ['accuracy'],
    directions: ['maximize'],
    trials: [trial(0, 'complete', [0.5, 0.8]), trial(1, 'pruned', [0.3]), trial(2, 'complete', [0.6, 0.9]), trial(3, 'complete', [0.7])],
    bestTrial: 2,
    paretoFront: [
      { trial: 0, accuracy: 0.8, bytes: 400 },
      { trial: 2, accuracy: 0.9, bytes: 1200 },
    ],
    importances: { [evil]: 0.7, lr: 0.3 },
    settings: { ...DEFAULT_MLP_SETTINGS },
    curves: [
      {
        stage: 'search',
        points: [
          { epoch: 1, loss: 1, valLoss: 0.9, valAccuracy: 0.5 },
          { epoch: 2, loss: 0.5, valLoss: 0.6, valAccuracy: 0.9 },
        ],
      },
    ],
    stageSettings: [
      { stage: 'search', settings: { [evil]: evil, layers: [16, 8] } },
      { stage: 'quantize', settings: { scheme: 'int8-per-channel' } },
    ],
    evaluation: {
      stage: 'quantize',
      classNames: [evil, 'b'],
      confusion: [
        [2, 1],
        [0, 2],
      ],
      precision: [1, 2 / 3],
      recall: [2 / 3, 1],
      f1: [0.8, 0.8],
      support: [3, 2],
    },
    model: { stage: 'quantize', format: 'kiln.quantized', bytes: new Uint8Array(1000) },
    seconds: 1,
  };
}

test('user text cannot inject markup', () => {
  const html = renderReport(hostileResult(), { title: 'run <b>1</b>' });
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<img/i);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;&gt;&lt;img src=x onerror=alert\(2\)&gt;/);
  assert.match(html, /<title>run &lt;b&gt;1&lt;\/b&gt;<\/title>/);
  // The only URL is the SVG namespace, which names and never fetches.
  const urls = [...html.matchAll(/(?:https?:)?\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
  assert.deepEqual([...new Set(urls)], ['http://www.w3.org/2000/svg']);
});

interface PageCheck {
  charts: Record<string, { marks: number; drawn: number }>;
  stageRows: string[][];
  trialRows: number;
}

async function inChromium(html: string): Promise<{ check: PageCheck; errors: string[]; requests: string[] }> {
  const browser = await launch();
  try {
    const { page, errors, requests } = await openReport(browser, html);
    const check = await page.evaluate(() => {
      const charts: Record<string, { marks: number; drawn: number }> = {};
      for (const svg of Array.from(document.querySelectorAll('svg[data-chart]'))) {
        const marks = Array.from(svg.querySelectorAll('.series path, .series circle, .series rect')).filter(
          (el) => el.tagName !== 'path' || (el.getAttribute('d') ?? '').length > 1,
        );
        const drawn = marks.filter((el) => {
          const box = (el as SVGGraphicsElement).getBBox();
          return box.width > 0 || box.height > 0;
        });
        charts[svg.getAttribute('data-chart')!] = { marks: marks.length, drawn: drawn.length };
      }
      const stageRows = Array.from(document.querySelectorAll('#stage-table tbody tr')).map((tr) =>
        Array.from(tr.children).map((td) => td.textContent ?? ''),
      );
      return { charts, stageRows, trialRows: document.querySelectorAll('#trial-table tbody tr').length };
    });
    return { check, errors, requests };
  } finally {
    await browser.close();
  }
}

test('the report of a real run draws every chart in Chromium, offline and without errors', async () => {
  const result = await runPipeline(iris(), {
    seed: 2,
    search: { trials: 12, epochs: 30 },
    distill: { epochs: 30 },
    prune: { fineTuneEpochs: 5 },
    latencyRepeats: 5,
  });
  const html = renderReport(result);
  const { check, errors, requests } = await inChromium(html);
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, [], 'the page fetched nothing');
  for (const id of CHARTS) {
    if (id === 'importances' && result.importances === null) continue;
    const chart = check.charts[id];
    assert.ok(chart, `chart ${id} is on the page (have ${Object.keys(check.charts).join(', ')})`);
    assert.ok(chart.marks > 0 && chart.drawn === chart.marks, `chart ${id}: ${chart.drawn} of ${chart.marks} marks have a size`);
  }
  assert.ok(result.importances !== null, 'twelve iris trials give importances');
  const complete = result.trials.filter((t) => t.state === 'complete').length;
  const pruned = result.trials.filter((t) => t.state === 'pruned').length;
  assert.ok(check.charts['search-history']!.marks >= complete + pruned, 'a mark per trial with a value');
  assert.deepEqual(
    check.stageRows.map((r) => r[0]),
    ['search', 'distill', 'prune', 'quantize'],
  );
  check.stageRows.forEach((cells, i) => {
    const row = result.stages[i]!;
    assert.equal(cells[1], row.model);
    assert.equal(cells[2], `${(row.accuracy * 100).toFixed(2)}%`);
    assert.equal(cells[3], String(row.parameters));
  });
  assert.equal(check.trialRows, result.trials.length);
});

test('hostile text stays text in Chromium too', async () => {
  const { check, errors, requests } = await inChromium(renderReport(hostileResult()));
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, [], 'no image was requested from the injected markup');
  assert.equal(check.stageRows[0]![1], `<script>alert(1)</script>"><img src=x onerror=alert(2)>`);
  for (const id of CHARTS) assert.ok(check.charts[id]!.drawn > 0, `chart ${id} drew`);
});
