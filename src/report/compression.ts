// The report's compression section: with an accuracy budget, every candidate the compression
// study measured (validation accuracy against file bytes and against batch-1 latency), its Pareto
// front, the budget line and the candidate kept, with a table saying why.
import type { CompressionCandidate } from '../pipeline/budget.ts';
import type { PipelineResult } from '../pipeline/types.ts';
import { plot, type ChartPoint, type ChartSeries } from './chart.ts';
import { escapeHtml } from './escape.ts';
import { tableHtml } from './format.ts';

const percent = (v: number): string => `${(v * 100).toFixed(2)}%`;

/** The section's HTML, or null when the run had no accuracy budget. */
export function compressionSection(r: PipelineResult): string | null {
  const s = r.compression;
  if (!s) return null;
  const front = new Set(s.front);
  const chosen = s.candidates[s.chosen]!;
  const title = (c: CompressionCandidate) =>
    `${c.name}${c.distilled ? ' (distilled)' : ''}\nvalidation accuracy ${percent(c.accuracy)}, ${c.bytes} bytes, ${c.latencyUs.toFixed(1)} µs`;
  const chart = (key: 'bytes' | 'latencyUs', id: string, label: string) => {
    const point = (c: CompressionCandidate): ChartPoint => ({ x: c[key], y: c.accuracy, title: title(c) });
    const xs = s.candidates.map((c) => c[key]);
    const series: ChartSeries[] = [
      {
        name: 'candidates',
        points: s.candidates.filter((_, i) => !front.has(i)).map(point),
        style: 'points',
        marker: 'circle',
        faint: true,
      },
      {
        name: 'Pareto front',
        points: s.candidates
          .filter((_, i) => front.has(i))
          .map(point)
          .sort((a, b) => a.x - b.x),
        style: 'points',
        marker: 'circle',
        color: '#009e73',
      },
      {
        name: `budget line (${(s.maxDrop * 100).toFixed(2)} points below ${percent(s.reference)})`,
        points: [
          { x: Math.min(...xs), y: s.line },
          { x: Math.max(...xs), y: s.line },
        ],
        style: 'line',
        dashed: true,
        color: '#d55e00',
      },
      { name: 'kept', points: [point(chosen)], style: 'points', marker: 'diamond', color: '#000000' },
    ];
    return plot({
      id,
      title: `Validation accuracy against ${label}`,
      xLabel: `${label} (log scale)`,
      yLabel: 'validation accuracy',
      xLog: true,
      series,
    });
  };
  const rows = s.candidates.map((c, i) => [
    c.name,
    c.distilled ? 'yes' : 'no',
    percent(c.accuracy),
    String(c.bytes),
    c.latencyUs.toFixed(1),
    front.has(i) ? 'yes' : '',
    c.accuracy >= s.line - 1e-9 ? 'yes' : 'no',
    i === s.chosen ? 'kept' : '',
  ]);
  const columns = [
    { text: 'candidate' },
    { text: 'distilled' },
    { text: 'validation accuracy', num: true },
    { text: 'bytes', num: true },
    { text: 'latency (µs)', num: true },
    { text: 'front' },
    { text: 'within budget' },
    { text: 'choice' },
  ];
  const why = `Kept: ${chosen.name} — the ${s.optimizeFor === 'bytes' ? 'smallest file' : 'lowest batch-1 latency'} among the candidates whose validation accuracy is at least ${percent(s.line)} (the searched model's ${percent(s.reference)} minus ${(s.maxDrop * 100).toFixed(2)} points).`;
  return `<section id="compression"><h2>Compression within the accuracy budget</h2><p class="summary">${escapeHtml(why)}</p><div class="charts">${chart('bytes', 'compression-bytes', 'file bytes')}${chart('latencyUs', 'compression-latency', 'batch-1 latency (µs)')}</div>${tableHtml(columns, rows, 'compression-candidates')}</section>`;
}
