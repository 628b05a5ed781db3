// Text and table helpers every report section shares: numbers as the tables print them, objective
// labels, trial colours, and HTML tables that turn into label/value cards on a narrow screen.
import { escapeHtml } from './escape.ts';
import { formatNumber } from './scale.ts';
import type { PipelineResult, TrialSummary } from '../pipeline/types.ts';

export const OBJECTIVE_LABEL: Readonly<Record<string, string>> = {
  accuracy: 'validation accuracy',
  loss: 'validation loss',
  parameters: 'parameters',
  bytes: 'file bytes',
};

export const objectiveLabel = (objective: string | undefined): string =>
  objective === undefined ? 'objective' : (OBJECTIVE_LABEL[objective] ?? objective);

/** Okabe–Ito colours by trial state. */
export const STATE_COLOR = { complete: '#0072b2', pruned: '#d55e00', best: '#009e73', failed: '#000000', running: '#999999' };

export const fixed = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');
export const percent = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : '-');

export function bytesText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

export const valueText = (v: unknown): string =>
  typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toPrecision(3))) : Array.isArray(v) ? `[${v.join(', ')}]` : String(v);

export function paramsText(params: Readonly<Record<string, unknown>>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${valueText(v)}`)
    .join(' ');
}

export function trialTitle(t: TrialSummary, objective: string): string {
  const value = t.values?.[0];
  const head = `trial ${t.number} (${t.state})${value === undefined ? '' : `: ${objective} ${formatNumber(value)}`}`;
  const size = t.bytes === null ? '' : `\n${t.parameters} parameters, ${t.bytes} bytes`;
  return `${head}${size}\n${paramsText(t.params)}`;
}

export interface Column {
  text: string;
  num?: boolean;
}

/** A table whose cells carry their column's name, so the phone layout can show each row as a
 *  card of `name value` lines instead of a table wider than the screen. Cells are text; a cell
 *  given as `{ html }` is inserted as it is (the caller escaped it). */
export function tableHtml(header: readonly Column[], rows: readonly (readonly (string | { html: string })[])[], id: string): string {
  const head = header.map((h) => `<th${h.num ? ' class="num"' : ''}>${escapeHtml(h.text)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r
          .map((c, j) => {
            const h = header[j];
            const content = typeof c === 'string' ? escapeHtml(c) : c.html;
            return `<td${h?.num ? ' class="num"' : ''} data-label="${escapeHtml(h?.text ?? '')}">${content}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('');
  return `<table id="${escapeHtml(id)}" class="cards"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** One section of the report: its HTML (a `<section>` with an id and an `<h2>`), or null when
 *  the result has nothing for it. */
export type ReportSection = (result: PipelineResult) => string | null;
