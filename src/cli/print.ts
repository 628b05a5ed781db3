// Printing: text for people, one JSON object for programs. Formatting only; every number shown
// was computed by the library.
import type { Dataset, Evaluation } from '../index.ts';
import { packageVersion } from './version.ts';

export const out = (text = ''): void => {
  process.stdout.write(`${text}\n`);
};

/** A note for people on stderr (so stdout stays clean for CSV and JSON). */
export const note = (text: string): void => {
  process.stderr.write(`kiln: note: ${text}\n`);
};

/** The version of the `--json` output's shape (README: "The --json contract"). It goes up when a
 *  field is removed, renamed or changes type; new fields do not change it. */
export const JSON_SCHEMA = 1;

/** The single JSON object a `--json` run prints: the schema version, the package version and
 *  the command first, then the command's fields. */
export function emitJson(value: { command: string } & Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ schema: JSON_SCHEMA, kiln: packageVersion(), ...value })}\n`);
}

/** Row counts, the same object in every command: rows read (`total`), and of those the rows
 *  trained on, held out for validation, and scored or predicted (`test`; eval, predict and info
 *  put all their rows there). */
export function rowsJson(
  train: Dataset | undefined,
  validation: Dataset | undefined,
  test: Dataset | undefined,
): { total: number; train: number; validation: number; test: number } {
  const [a, b, c] = [train?.numRows ?? 0, validation?.numRows ?? 0, test?.numRows ?? 0];
  return { total: a + b + c, train: a, validation: b, test: c };
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

/** Metrics for JSON. Every per-class array (confusion matrix rows and columns, `report`'s
 *  arrays) follows `classNames`; `perClass` repeats them as one object per class. */
export function metricsJson(e: Evaluation, model: { readonly classNames?: readonly string[] | undefined }): Record<string, unknown> {
  if (e.task === 'regression') return { task: e.task, mse: e.mse, rmse: e.rmse, mae: e.mae, r2: e.r2 };
  const classes = e.confusionMatrix.length;
  const classNames = model.classNames?.length === classes ? [...model.classNames] : Array.from({ length: classes }, (_, c) => String(c));
  return {
    task: e.task,
    accuracy: e.accuracy,
    logLoss: e.logLoss,
    macroF1: e.report.macro.f1,
    weightedF1: e.report.weighted.f1,
    classNames,
    confusionMatrix: e.confusionMatrix,
    perClass: classNames.map((name, c) => ({
      class: name,
      precision: e.report.precision[c]!,
      recall: e.report.recall[c]!,
      f1: e.report.f1[c]!,
      support: e.report.support[c]!,
    })),
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
