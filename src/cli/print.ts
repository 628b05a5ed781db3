// Printing: text for people, one JSON object for programs. Formatting only; every number shown
// was computed by the library.
import type { Evaluation } from '../index.ts';

export const out = (text = ''): void => {
  process.stdout.write(`${text}\n`);
};

/** A note for people on stderr (so stdout stays clean for CSV and JSON). */
export const note = (text: string): void => {
  process.stderr.write(`kiln: note: ${text}\n`);
};

/** The single JSON object a `--json` run prints. */
export function emitJson(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A number for people: fixed decimals, or exponent notation when tiny. */
export function fmt(value: number | undefined, digits = 4): string {
  if (value === undefined) return '-';
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(2);
  return value.toFixed(digits);
}

export function bytesText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const numeric = header.map((_, j) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.]+(e[-+]?\d+)?%?$|^-$/.test(r[j] ?? '')));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, j) => (numeric[j] ? c.padStart(widths[j]!) : c.padEnd(widths[j]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** Metrics without the bulky parts, for JSON. */
export function metricsJson(e: Evaluation): Record<string, unknown> {
  if (e.task === 'regression') return { mse: e.mse, rmse: e.rmse, mae: e.mae, r2: e.r2 };
  return {
    accuracy: e.accuracy,
    logLoss: e.logLoss,
    macroF1: e.report.macro.f1,
    weightedF1: e.report.weighted.f1,
    confusionMatrix: e.confusionMatrix,
    report: e.report,
  };
}

/** "accuracy 0.9667  log loss 0.0912  macro F1 0.9666" */
export function metricsLine(e: Evaluation): string {
  if (e.task === 'regression') return `MSE ${fmt(e.mse)}  RMSE ${fmt(e.rmse)}  MAE ${fmt(e.mae)}  R² ${fmt(e.r2)}`;
  return `accuracy ${fmt(e.accuracy)}  log loss ${fmt(e.logLoss)}  macro F1 ${fmt(e.report.macro.f1)}`;
}

/** Confusion matrix (rows true, columns predicted) and per-class precision / recall / F1. */
export function classificationText(e: Extract<Evaluation, { task: 'classification' }>, classNames: readonly string[]): string[] {
  const names = e.confusionMatrix.map((_, c) => classNames[c] ?? String(c));
  const matrix = table(
    ['true \\ predicted', ...names],
    e.confusionMatrix.map((row, c) => [names[c]!, ...row.map(String)]),
  );
  const r = e.report;
  const perClass = table(
    ['class', 'precision', 'recall', 'f1', 'support'],
    names.map((name, c) => [name, fmt(r.precision[c]), fmt(r.recall[c]), fmt(r.f1[c]), String(r.support[c])]),
  );
  return ['confusion matrix:', ...matrix, '', ...perClass];
}
