// kiln predict: a saved model's predictions for every row of a CSV (or a built-in data set), as CSV.
import type { Command } from 'commander';
import { writeFileAtomic } from '../../index.ts';
import { modelRows } from '../data.ts';
import { classNamesOf, evaluateModel, readModel, type Model } from '../model.ts';
import { commonOptions, given, type CommonOptions } from '../options.ts';
import { emitJson, metricsJson, note, out, rowsJson } from '../print.ts';

interface PredictOptions extends CommonOptions {
  outCsv?: string;
}

export function registerPredict(program: Command): void {
  const cmd = program
    .command('predict')
    .description('predictions of a model for every row of a CSV file (with or without its label column) as CSV');
  commonOptions(cmd, ['data', 'label', 'testSplit', 'test', 'model'], {
    data: "rows to predict: a CSV file (columns matched by name to the model's; with a header, any order), 'iris', 'mnist' or 'spam'",
    testSplit: 'predict only the seeded test part of labelled --data (default: every row)',
    test: 'rows to predict from this CSV file (instead of --data)',
  }).option('--out-csv <file>', 'write the predictions CSV to this file (atomically) instead of stdout');
  cmd.addHelpText(
    'after',
    `
Columns are matched by name: any order works, a missing column is an error, extra columns are
ignored with a note. A file without a header must have the training file's columns in its order.

Output columns: label (labelled classification data), prediction (class name or value), and for
classifiers p_<class>, the probability of each class.

Examples:
  kiln predict --model iris.safetensors --data flowers.csv > predictions.csv
  kiln predict --model iris.safetensors --data iris --out-csv iris-predictions.csv
  kiln predict --model houses.safetensors --data new-houses.csv --json`,
  );
  cmd.action((o: PredictOptions) => predict(cmd, o));
}

async function predict(cmd: Command, o: PredictOptions): Promise<void> {
  const loaded = await readModel(o.model);
  const { model } = loaded;
  const rows = await modelRows(o, model, !given(cmd, 'testSplit'), true);
  if (!o.json) for (const line of rows.notes) note(line);
  const { header, lines, predictions, probabilities } = predictionTable(model, rows.data.features, rows.labeled ? rows.data : undefined);
  const csv = [header, ...lines].map((cells) => cells.map(csvCell).join(',')).join('\n') + '\n';
  if (o.outCsv !== undefined) await writeFileAtomic(o.outCsv, new TextEncoder().encode(csv));
  if (o.json) {
    emitJson({
      command: 'predict',
      task: model.task,
      parameters: model.parameterCount,
      bytes: loaded.bytes,
      data: rows.source,
      rows: rowsJson(undefined, undefined, rows.data),
      metrics: rows.labeled ? metricsJson(evaluateModel(model, rows.data), model) : null,
      predictions,
      ...(probabilities ? { probabilities } : {}),
      outCsv: o.outCsv ?? null,
      notes: rows.notes,
    });
  } else if (o.outCsv === undefined) {
    process.stdout.write(csv);
  } else {
    out(`wrote ${rows.data.numRows} predictions to ${o.outCsv}`);
  }
}

interface PredictionTable {
  header: string[];
  lines: string[][];
  predictions: (string | number | number[])[];
  probabilities?: number[][];
}

function predictionTable(
  model: Model,
  features: Float32Array,
  labelled: { labels: Int32Array; classNames: readonly string[] } | undefined,
): PredictionTable {
  const n = features.length / model.inputs;
  const output = model.predict(features);
  const k = model.outputs;
  const row = (i: number) => Array.from(output.subarray(i * k, i * k + k), short);
  const labelCell = (i: number) => (labelled ? [labelled.classNames[labelled.labels[i]!]!] : []);
  if (model.task === 'regression') {
    const names = k === 1 ? ['prediction'] : Array.from({ length: k }, (_, j) => `prediction_${j}`);
    const predictions = Array.from({ length: n }, (_, i) => (k === 1 ? row(i)[0]! : row(i)));
    return { header: names, lines: predictions.map((p) => (Array.isArray(p) ? p : [p]).map(String)), predictions };
  }
  const names = classNamesOf(model) ?? Array.from({ length: Math.max(2, k) }, (_, c) => String(c));
  const classes = model.predictClasses(features);
  const probabilities = Array.from({ length: n }, (_, i) => row(i));
  const predictions = Array.from(classes, (c) => names[c] ?? String(c));
  const probNames = k === 1 ? [`p_${names[1]}`] : names.map((c) => `p_${c}`);
  const header = [...(labelled ? ['label'] : []), 'prediction', ...probNames];
  const lines = probabilities.map((p, i) => [...labelCell(i), predictions[i]!, ...p.map(String)]);
  return { header, lines, predictions, probabilities };
}

// f32 outputs printed with the digits that matter, not f64 noise.
const short = (v: number): number => Number(v.toPrecision(7));

const csvCell = (cell: string): string => (/[",\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);
