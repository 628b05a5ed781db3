// From a raw table to training data: the label column (by name or index), rows without a label
// dropped and counted, class order, a seeded split, and an encoder fitted on the training rows
// only, so nothing about validation or test rows reaches the model.
import { checkKnownKeys } from '../core/errors.ts';
import { AUTO_CLASS_LIMIT, CsvError } from './csv.ts';
import { Dataset, type Task } from './dataset.ts';
import { trainTestSplit, type SplitOptions } from './split.ts';
import { TableEncoder, type TableEncoderOptions } from './table-encoder.ts';
import { clip, isNumberText, kindOf, missingSet, rowText, tableRows, type Table } from './table.ts';

/** Options of `tableLabels`. */
export interface TableLabelOptions {
  /** Label column: a name or a 0-based index; default the last column. */
  label?: string | number;
  /** 'auto' (default): classification if any label is not a number, or all are integers with at
   *  most 20 distinct values; else regression. */
  task?: 'auto' | Task;
  /** Class order: class id i is `classes[i]`; every label must be one of them. Default: labels
   *  sorted (numbers by value, text by code unit). */
  classes?: readonly string[];
  /** Cells read as missing; default `DEFAULT_MISSING`. */
  missing?: readonly string[];
}

/** The labelled rows of a table. */
export interface TableLabels {
  /** Name of the label column. */
  name: string;
  task: Task;
  /** Rows (indices into the table) that have a label, in order. */
  rows: Int32Array;
  /** Rows without a label, left out. */
  dropped: number;
  /** Classification: class id per kept row, and the class names. */
  labels?: Int32Array;
  classNames?: string[];
  /** Regression: target per kept row. */
  targets?: Float32Array;
}

const LABEL_KEYS = ['label', 'task', 'classes', 'missing'] as const;

/**
 * Finds the label column and reads it: rows whose label is missing are dropped (and counted in
 * `dropped`), the task is decided, class ids follow `classes` or the sorted labels.
 *
 * @example
 * const t = tableLabels(parseTable('x,y\n1,no\n2,\n3,yes\n'), { label: 'y', classes: ['yes', 'no'] });
 * t.dropped; // 1
 * t.labels; // Int32Array [1, 0]
 */
export function tableLabels(table: Table, options: TableLabelOptions = {}): TableLabels {
  const where = 'tableLabels';
  checkKnownKeys(where, options, LABEL_KEYS);
  const spec = options.label ?? table.names.length - 1;
  let j: number;
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec < 0 || spec >= table.names.length)
      throw new RangeError(`${where}: label column index ${spec} is outside [0, ${table.names.length}) for ${table.names.length} columns`);
    j = spec;
  } else if (typeof spec === 'string') {
    j = table.names.indexOf(spec);
    if (j < 0) throw new RangeError(`${where}: label column '${spec}' not found in header [${table.names.join(', ')}]`);
  } else {
    throw new TypeError(`${where}: label must be a column name or index, got ${kindOf(spec)}`);
  }
  const name = table.names[j]!;
  const task = options.task ?? 'auto';
  if (task !== 'auto' && task !== 'classification' && task !== 'regression')
    throw new TypeError(`${where}: task must be 'auto', 'classification' or 'regression', got ${String(task)}`);
  const missing = missingSet(where, options.missing);
  const kept: number[] = [];
  table.rows.forEach((row, i) => {
    if (!missing.has(row[j]!.toLowerCase())) kept.push(i);
  });
  if (kept.length === 0)
    throw new CsvError(`${where}: the label column '${name}' has no values (all ${table.rows.length} rows missing)`, 0, name, '');
  const cells = kept.map((i) => table.rows[i]![j]!);
  const resolved = task === 'auto' ? (options.classes ? 'classification' : guessTask(cells)) : task;
  const base = { name, task: resolved, rows: Int32Array.from(kept), dropped: table.rows.length - kept.length };
  if (resolved === 'regression') {
    if (options.classes !== undefined)
      throw new TypeError(`${where}: classes apply to classification; the label '${name}' is read as regression`);
    const targets = new Float32Array(kept.length);
    cells.forEach((c, k) => {
      const v = isNumberText(c) ? Number(c) : NaN;
      if (!(Math.abs(v) <= 3.4028234663852886e38)) {
        throw new CsvError(
          `${where}: ${rowText(table, kept[k]!)}, label column '${name}': value '${clip(c)}' is not a finite number (regression)`,
          table.lines[kept[k]!]!,
          name,
          clip(c),
        );
      }
      targets[k] = v;
    });
    return { ...base, targets };
  }
  const classNames = options.classes ? checkClasses(where, options.classes) : sortedClasses(cells);
  const key = (c: string) => (options.classes ? c : numericLabels(cells) ? String(Number(c)) : c);
  const id = new Map(classNames.map((c, k) => [c, k]));
  const labels = Int32Array.from(cells, (c, k) => {
    const v = id.get(key(c));
    if (v === undefined) {
      throw new CsvError(
        `${where}: ${rowText(table, kept[k]!)}, label column '${name}': '${clip(c)}' is not one of the classes (${classNames.join(', ')})`,
        table.lines[kept[k]!]!,
        name,
        clip(c),
      );
    }
    return v;
  });
  return { ...base, labels, classNames };
}

/** Options of `splitTable`: the label, the encoder and the split. */
export interface TableSplitOptions
  extends TableLabelOptions, Omit<TableEncoderOptions, 'label' | 'missing'>, Omit<SplitOptions, 'stratify'> {}

/** What `splitTable` returns. */
export interface TableSplit {
  train: Dataset;
  test: Dataset;
  /** Present when validationFraction > 0. */
  validation?: Dataset;
  /** Fitted on the training rows only. */
  encoder: TableEncoder;
  label: TableLabels;
}

/**
 * Labels, seeded stratified split (classification) and an encoder fitted on the training part
 * only, applied to every part. The split is `trainTestSplit`'s on the labelled rows, so it is
 * the split a numeric table with the same labels and seed would get.
 *
 * @example
 * const { train, test, encoder, label } = splitTable(parseTable(csvText), { label: 'y', testFraction: 0.2, seed: 1 });
 * const model = new Sequential({ inputs: train.numFeatures, layers: [dense(32, 'relu'), dense(train.numClasses)] });
 * await fit(model, train);
 * model.setPreprocessing({ ...model.preprocessing, table: encoder.toJSON() });
 */
export function splitTable(table: Table, options: TableSplitOptions = {}): TableSplit {
  const { label: labelSpec, task, classes, missing, testFraction, validationFraction, seed, ...encoderOptions } = options;
  const label = tableLabels(table, { ...defined({ label: labelSpec, task, classes, missing }) });
  const n = label.rows.length;
  if (label.classNames && label.classNames.length < 2 && classes === undefined) {
    throw new RangeError(`splitTable: the label '${label.name}' has one class ('${label.classNames[0]}'): there is nothing to tell apart`);
  }
  // The split depends only on the labels (or the row count), so a placeholder feature suffices.
  const placeholder = label.labels
    ? new Dataset({ features: new Float32Array(n), numFeatures: 1, labels: label.labels, classNames: label.classNames })
    : new Dataset({ features: new Float32Array(n), numFeatures: 1, targets: label.targets! });
  const parts = trainTestSplit(placeholder, defined({ testFraction, validationFraction, seed }));
  const rowsOf = (indices: Int32Array) => Int32Array.from(indices, (k) => label.rows[k]!);
  const encoder = TableEncoder.fit(tableRows(table, rowsOf(parts.indices.train)), {
    ...encoderOptions,
    label: [label.name],
    ...defined({ missing }),
  });
  const all = tableDataset(tableRows(table, label.rows), encoder, label);
  return {
    train: all.subset(parts.indices.train),
    test: all.subset(parts.indices.test),
    ...(parts.validation ? { validation: all.subset(parts.indices.validation) } : {}),
    encoder,
    label,
  };
}

/** A Dataset of `table` (rows already those of `label.rows`, in order) through `encoder`. */
export function tableDataset(
  table: Table,
  encoder: TableEncoder,
  label: Pick<TableLabels, 'labels' | 'classNames' | 'targets' | 'name'>,
): Dataset {
  const features = encoder.transform(table);
  const featureNames = encoder.outputNames;
  if (label.labels) return new Dataset({ features, featureNames, labels: label.labels, classNames: label.classNames });
  return new Dataset({ features, featureNames, targets: label.targets!, targetNames: [label.name] });
}

function guessTask(cells: string[]): Task {
  if (!numericLabels(cells)) return 'classification';
  const values = cells.map(Number);
  if (!values.every(Number.isInteger)) return 'regression';
  return new Set(values).size <= AUTO_CLASS_LIMIT ? 'classification' : 'regression';
}

const numericLabels = (cells: string[]): boolean => cells.every(isNumberText);

function sortedClasses(cells: string[]): string[] {
  const numeric = numericLabels(cells);
  const unique = [...new Set(cells.map((c) => (numeric ? String(Number(c)) : c)))];
  return unique.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function checkClasses(where: string, classes: readonly string[]): string[] {
  if (!Array.isArray(classes) || classes.length === 0)
    throw new TypeError(`${where}: classes must be a non-empty array of class names, got ${kindOf(classes)}`);
  classes.forEach((c, k) => {
    if (typeof c !== 'string' || c.trim() === '')
      throw new TypeError(`${where}: classes[${k}] must be a non-empty string, got ${JSON.stringify(c)}`);
  });
  const trimmed = classes.map((c) => c.trim());
  const twice = trimmed.find((c, k) => trimmed.indexOf(c) !== k);
  if (twice !== undefined) throw new RangeError(`${where}: classes names '${twice}' twice`);
  return trimmed;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
