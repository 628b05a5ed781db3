// The final model on the test rows: its confusion matrix as a heat map (shaded by the share of
// each true class, so a rare class reads as clearly as a common one) and per-class precision,
// recall and F1 with their macro and support-weighted means.
import type { FinalEvaluation, PipelineResult } from '../pipeline/types.ts';
import { figure, px, svgOpen } from './chart.ts';
import { escapeHtml } from './escape.ts';
import { fixed, tableHtml } from './format.ts';

const CELL = 34;
const shortName = (name: string): string => (name.length > 14 ? `${name.slice(0, 13)}…` : name);

// From white (0) to dark blue (1).
function blue(share: number): string {
  const q = Math.min(1, Math.max(0, share));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * q);
  return `rgb(${mix(255, 8)},${mix(255, 69)},${mix(255, 148)})`;
}

export function confusionSvg(e: FinalEvaluation): string {
  const k = e.classNames.length;
  const names = e.classNames.map(shortName);
  const labelWidth = Math.max(30, ...names.map((n) => n.length * 7 + 10));
  const left = labelWidth + 22,
    top = labelWidth + 22;
  const width = left + k * CELL + 8,
    height = top + k * CELL + 8;
  const parts: string[] = [];
  parts.push(`<text class="label" x="${px(left + (k * CELL) / 2)}" y="14" text-anchor="middle">predicted class</text>`);
  const mid = top + (k * CELL) / 2;
  parts.push(`<text class="label" x="14" y="${px(mid)}" text-anchor="middle" transform="rotate(-90 14 ${px(mid)})">true class</text>`);
  names.forEach((n, c) => {
    const x = left + c * CELL + CELL / 2;
    // Column names run upwards so that long class names fit above narrow columns.
    parts.push(
      `<text class="tick" x="${px(x + 4)}" y="${px(top - 6)}" transform="rotate(-90 ${px(x + 4)} ${px(top - 6)})"><title>${escapeHtml(e.classNames[c])}</title>${escapeHtml(n)}</text>`,
    );
    parts.push(
      `<text class="tick" x="${px(left - 6)}" y="${px(top + c * CELL + CELL / 2 + 4)}" text-anchor="end"><title>${escapeHtml(e.classNames[c])}</title>${escapeHtml(n)}</text>`,
    );
  });
  parts.push('<g class="series">');
  e.confusion.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      const share = total > 0 ? count / total : 0;
      const x = left + p * CELL,
        y = top + t * CELL;
      const tip = `true ${e.classNames[t]}, predicted ${e.classNames[p]}: ${count} of ${total} (${(share * 100).toFixed(1)}%)`;
      parts.push(
        `<rect x="${px(x)}" y="${px(y)}" width="${CELL}" height="${CELL}" fill="${blue(share)}" stroke="${t === p ? '#009e73' : '#e4e4e4'}"><title>${escapeHtml(tip)}</title></rect>`,
      );
      if (count > 0)
        parts.push(
          `<text x="${px(x + CELL / 2)}" y="${px(y + CELL / 2 + 4)}" text-anchor="middle" fill="${share > 0.5 ? '#fff' : '#1b1b1b'}" class="tick">${count}</text>`,
        );
    });
  });
  parts.push('</g>');
  return `${svgOpen('confusion', `Confusion matrix of the ${e.stage} model`, width, height)}${parts.join('')}</svg>`;
}

function perClassTable(e: FinalEvaluation): string {
  const total = e.support.reduce((a, b) => a + b, 0);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const weighted = (xs: number[]) => (total === 0 ? 0 : xs.reduce((a, x, c) => a + x * e.support[c]!, 0) / total);
  const rows = e.classNames.map((name, c) => [
    name,
    fixed(e.precision[c]!, 3),
    fixed(e.recall[c]!, 3),
    fixed(e.f1[c]!, 3),
    String(e.support[c]),
  ]);
  rows.push(['macro mean', fixed(mean(e.precision), 3), fixed(mean(e.recall), 3), fixed(mean(e.f1), 3), String(total)]);
  rows.push(['weighted mean', fixed(weighted(e.precision), 3), fixed(weighted(e.recall), 3), fixed(weighted(e.f1), 3), String(total)]);
  const header = [
    { text: 'class' },
    { text: 'precision', num: true },
    { text: 'recall', num: true },
    { text: 'F1', num: true },
    { text: 'support', num: true },
  ];
  return tableHtml(header, rows, 'per-class-table');
}

export function finalModelSection(r: PipelineResult): string | null {
  const e = r.evaluation;
  if (!e) return null;
  const note = `Rows are the true classes of the ${e.support.reduce((a, b) => a + b, 0)} test rows, columns the ${e.stage} model's predictions; cells are shaded by their share of the row (the recall of that class on the diagonal).`;
  return `<section id="final-model"><h2>Final model</h2><div class="charts">${figure('confusion', 'Confusion matrix', confusionSvg(e), note)}<figure class="chart" id="per-class"><figcaption>Per-class precision, recall and F1</figcaption>${perClassTable(e)}<p class="note">Precision tp/(tp+fp), recall tp/(tp+fn), F1 their harmonic mean (scikit-learn's definitions, 0 where a denominator is 0).</p></figure></div></section>`;
}
