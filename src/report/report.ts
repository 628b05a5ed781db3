// The pipeline report: one self-contained HTML page (inline CSS and SVG, no script, nothing
// fetched) built from sections, each a function of the pipeline result in its own file: the
// stages with their settings, the final model's confusion matrix and per-class scores, the search
// and the views Optuna users look at, and the training curves. A new section is one file and
// one line in SECTIONS. The page reflows to a phone's width: tables become cards and charts
// scale down, so nothing scrolls sideways.
import type { PipelineResult } from '../pipeline/types.ts';
import { curvesSection } from './curves.ts';
import { escapeHtml } from './escape.ts';
import { finalModelSection } from './final-model.ts';
import { bytesText, fixed, percent, type ReportSection } from './format.ts';
import { searchSection } from './search.ts';
import { searchViewsSection } from './search-views.ts';
import { stagesSection } from './stages.ts';
import { compressionSection } from './compression.ts';

/** Options of `renderReport`. */
export interface RenderReportOptions {
  /** Page title; default 'kiln pipeline report'. */
  title?: string;
}

/** The report's sections in page order. */
export const SECTIONS: readonly ReportSection[] = [
  stagesSection,
  finalModelSection,
  searchSection,
  searchViewsSection,
  compressionSection,
  curvesSection,
];

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b; margin: 0 auto; padding: 24px; max-width: 1360px; overflow-wrap: anywhere; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.summary { color: #444; margin: 0 0 8px; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; max-width: 100%; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
th { background: #f5f5f5; font-weight: 600; }
td.num, th.num { text-align: right; }
ul.settings { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 2px 14px; }
ul.settings .key { color: #555; }
.warning { background: #fff4e5; border-left: 4px solid #d55e00; padding: 6px 10px; margin: 8px 0; max-width: 900px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: flex-start; }
figure.chart { margin: 0; min-width: 0; max-width: 100%; }
figcaption { font-weight: 600; margin: 4px 0; }
svg { display: block; max-width: 100%; height: auto; font: 12px system-ui, sans-serif; fill: #333; }
svg .grid line { stroke: #ececec; }
svg .axis line { stroke: #888; }
svg .label { font-weight: 600; }
svg path.line { fill: none; stroke-width: 2; }
svg .faint path.line { stroke-width: 1.2; opacity: 0.45; }
svg .faint circle, svg .faint path:not(.line) { opacity: 0.45; }
svg .empty { fill: #888; }
svg .tick { font-size: 11px; }
.note { color: #555; font-size: 12.5px; margin: 4px 0 0; max-width: 640px; }
details { margin: 8px 0; }
code { font-size: 12.5px; }
@media (max-width: 700px) {
  body { padding: 12px; }
  .charts { gap: 16px; }
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: 100%; }
  table.cards thead { display: none; }
  table.cards tr { border: 1px solid #e4e4e4; border-radius: 6px; margin: 0 0 8px; padding: 4px 8px; }
  table.cards td { border: none; padding: 2px 0; text-align: right; display: flex; justify-content: space-between; gap: 12px; }
  table.cards td::before { content: attr(data-label); font-weight: 600; text-align: left; flex: none; }
  table.cards td > ul.settings { justify-content: flex-end; }
}
`;

/**
 * The report of a pipeline run as one HTML page that works offline.
 *
 * @example
 * await writeFileAtomic('report.html', new TextEncoder().encode(renderReport(result)));
 */
export function renderReport(result: PipelineResult, options: RenderReportOptions = {}): string {
  const title = options.title ?? 'kiln pipeline report';
  const r = result;
  const final = r.stages.at(-1);
  const rows = r.data.rows;
  const summary = `${rows.train + rows.validation + rows.test} rows (${rows.train} train, ${rows.validation} validation, ${rows.test} test), ${r.data.features} features, ${r.data.classes.length} classes; seed ${r.seed}; ${fixed(r.seconds, 1)} s in all.`;
  const finalText = final
    ? `Final model: ${final.model}, ${r.model.format}, ${bytesText(r.model.bytes.length)}, test accuracy ${percent(final.accuracy)}, ${fixed(final.speedup, 2)}× the first stage's batch-1 speed.`
    : '';
  const sections = SECTIONS.map((section) => section(r)).filter((html): html is string => html !== null);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1><p class="summary">${escapeHtml(summary)}</p><p class="summary">${escapeHtml(finalText)}</p>
${sections.join('\n')}
</body></html>
`;
}
