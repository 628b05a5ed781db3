// Where a command's rows come from: a built-in data set, or a CSV file read as a table (typed
// columns, missing values, columns by name), split by the library's seeded stratified split, with
// the table encoder fitted on the training rows only and class ids lined up with the model's.
import { readFileBytes } from '../io/atomic-write.ts';
import { stat } from 'node:fs/promises';
import {
  Dataset,
  imageFolder,
  inputEncoder,
  iris,
  mnist,
  parseCsv,
  spam,
  parseTable,
  splitTable,
  tableDataset,
  tableLabels,
  tableRows,
  trainTestSplit,
  TableEncoder,
  type ColumnKind,
  type Sequential,
  type Table,
  type TableLabels,
} from '../index.ts';
import { decodeCsvBytes, type CsvEncoding } from '../data/csv.ts';
import { namedColumns, unusedColumnsNote } from '../data/table-inputs.ts';
import { classNamesOf, featureNamesOf, isQuantized, type Model } from './model.ts';
import { CliError, usageError } from './errors.ts';
import type { CommonOptions } from './options.ts';

export type CsvTask = 'auto' | 'classification' | 'regression';

const BUILTINS: Readonly<Record<string, () => Dataset | Promise<Dataset>>> = { iris, mnist: () => mnist() };
// Built-in tables: raw columns, read like a CSV file.
const TABLES: Readonly<Record<string, () => Promise<Table>>> = { spam };

/** The text of a data file (its path named in any error). */
export async function readText(path: string, encoding?: CsvEncoding): Promise<string> {
  return decodeCsvBytes(await readFileBytes(path), encoding, 'reading the file');
}

/** Whether `source` names a whole data set (a built-in name or a folder of images) rather than a CSV file. */
async function isWhole(source: string): Promise<boolean> {
  if (BUILTINS[source]) return true;
  try {
    return (await stat(source)).isDirectory();
  } catch {
    return false;
  }
}

/** A folder's images resized to `shape` ([c, h, w], a model's inputs) or to --image-size and --channels. */
function folderData(source: string, o: Pick<CommonOptions, 'imageSize' | 'channels'> | undefined, shape?: readonly number[]) {
  const image = shape?.length === 3 ? shape : undefined;
  return inFile(source, () =>
    imageFolder(source, {
      size: image ? [image[1]!, image[2]!] : (o?.imageSize ?? [28, 28]),
      channels: (image ? image[0] : (o?.channels ?? 1)) as 1 | 3,
    }),
  );
}

/** The input shape of a model ([c, h, w] for a CNN). */
const shapeOf = (model: Model | Sequential): readonly number[] | undefined => (model as { inputShape?: readonly number[] }).inputShape;

/** Rows of `--data` as a numeric matrix (a built-in name, a folder of images, or a CSV of numbers only). */
export async function loadData(
  source: string | undefined,
  label: string | number | undefined,
  task: CsvTask,
  flag = '--data',
  encoding?: CsvEncoding,
  images?: { options?: Pick<CommonOptions, 'imageSize' | 'channels'>; shape?: readonly number[] },
): Promise<Dataset> {
  if (source === undefined) throw usageError(`${flag} is required: a CSV file, a folder of images, 'iris', 'mnist' or 'spam'`);
  if (await isWhole(source)) {
    if (label !== undefined) throw usageError(`--label applies to CSV files, not to the data set '${source}'`);
    const builtin = BUILTINS[source];
    const ds = builtin ? await builtin() : await folderData(source, images?.options, images?.shape);
    if (task === 'regression') throw new CliError(`'${source}' is a classification data set; it cannot be used with --task regression`);
    return ds;
  }
  return inFile(source, async () => parseCsv(await readText(source, encoding), { ...(label === undefined ? {} : { label }), task }));
}

// The library's messages name rows and columns; the file name is only known here.
async function inFile<T>(path: string, read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if ((error as { code?: unknown }).code !== undefined && (error as { path?: unknown }).path !== undefined) throw error;
    throw new CliError(`${path}: ${(error as Error).message}`);
  }
}

async function readTable(path: string, encoding: CsvEncoding | undefined, expect?: readonly string[]): Promise<Table> {
  const builtin = TABLES[path];
  if (builtin) return inFile(path, builtin);
  const text = await inFile(path, () => readText(path, encoding));
  return inFile(path, () => parseTable(text, expect ? { expect } : {}));
}

/** Gives `ds` the class ids of `classNames` (by name), so that a file holding only some of the
 *  classes, or listing them in another order, is scored against the right outputs. */
export function alignClasses(ds: Dataset, classNames: readonly string[] | undefined, what: string): Dataset {
  if (ds.task !== 'classification' || !classNames || classNames.length === 0) return ds;
  if (ds.classNames.length === classNames.length && ds.classNames.every((c, i) => c === classNames[i])) return ds;
  const id = new Map(classNames.map((c, i) => [c, i]));
  const mapped = ds.classNames.map((c) => {
    const to = id.get(c);
    if (to === undefined) throw new CliError(`${what}: label '${c}' is not one of the model's classes (${classNames.join(', ')})`);
    return to;
  });
  const labels = Int32Array.from(ds.labels, (y) => mapped[y]!);
  return new Dataset({ features: ds.features, featureNames: ds.featureNames, labels, classNames });
}

export interface TrainingData {
  train: Dataset;
  validation?: Dataset;
  test: Dataset;
  /** The table encoder fitted on the training rows (CSV data), to be saved with the model. */
  encoder?: TableEncoder;
  /** What the table reading decided, one line each: column kinds, dropped rows. */
  notes: string[];
  /** Rows left out because their label was missing. */
  droppedRows: number;
}

/** The column kinds the table flags declare. */
function declaredColumns(o: CommonOptions): Record<string, ColumnKind> {
  const columns: Record<string, ColumnKind> = Object.create(null) as Record<string, ColumnKind>;
  const flags: [keyof CommonOptions, ColumnKind][] = [
    ['numeric', 'numeric'],
    ['boolean', 'boolean'],
    ['categorical', 'categorical'],
    ['text', 'text'],
  ];
  for (const [key, kind] of flags) {
    for (const name of (o[key] as string[] | undefined) ?? []) {
      if (columns[name] !== undefined) throw usageError(`column '${name}' is declared both ${columns[name]} and ${kind}`);
      columns[name] = kind;
    }
  }
  return columns;
}

/** Train, validation and test parts for a new model: --test file or a --test-split of --data. */
export async function trainingData(o: CommonOptions, task: CsvTask, validationFraction: number): Promise<TrainingData> {
  if (o.data !== undefined && (await isWhole(o.data))) return builtinTrainingData(o, task, validationFraction);
  if (o.data === undefined) throw usageError("--data is required: a CSV file, 'iris', 'mnist' or 'spam'");
  if (o.test === undefined && (o.testSplit <= 0 || o.testSplit >= 1))
    throw usageError(
      `--test-split must be in (0, 1) for training (a test part and a training part), got ${o.testSplit}; or give --test <csv>`,
    );
  const table = await readTable(o.data, o.encoding);
  const split = await inFile(o.data, () =>
    splitTable(table, {
      ...(o.label === undefined ? {} : { label: o.label }),
      task,
      ...(o.classes ? { classes: o.classes } : {}),
      ...(o.missing ? { missing: o.missing } : {}),
      columns: declaredColumns(o),
      ...(o.drop ? { drop: o.drop } : {}),
      ...(o.features ? { features: o.features } : {}),
      impute: o.impute ?? 'mean',
      ...(o.maxCategories === undefined ? {} : { maxCategories: o.maxCategories }),
      ...(o.maxVocabulary === undefined ? {} : { maxVocabulary: o.maxVocabulary }),
      ...(o.ngrams === undefined ? {} : { ngrams: o.ngrams as 1 | 2 }),
      testFraction: o.test === undefined ? o.testSplit : 0,
      validationFraction,
      seed: o.seed,
    }),
  );
  const notes = tableNotes(split.encoder, split.label, o.data);
  let test = split.test;
  if (o.test !== undefined) {
    const rows = await labelledRows(
      o.test,
      split.encoder,
      {
        name: split.label.name,
        task: split.label.task,
        classNames: split.label.classNames,
      },
      o.encoding,
    );
    if (rows.label.dropped > 0) notes.push(`${o.test}: ${rows.label.dropped} rows without a label left out`);
    test = rows.data;
  }
  checkParts(o, split.train.numRows + (split.validation?.numRows ?? 0) + split.test.numRows, test, split.validation, validationFraction);
  return {
    train: split.train,
    ...(split.validation ? { validation: split.validation } : {}),
    test,
    encoder: split.encoder,
    notes,
    droppedRows: split.label.dropped,
  };
}

// Too few rows for the parts asked for would train, then fail to score (or to validate).
function checkParts(o: CommonOptions, rows: number, test: Dataset, validation: Dataset | undefined, validationFraction: number): void {
  if (test.numRows === 0)
    throw new CliError(
      `${o.test ?? o.data}: no test rows${o.test === undefined ? ` (--test-split ${o.testSplit} of ${rows} labelled rows rounds to 0)` : ''}; give more rows, a larger --test-split or --test <csv>`,
    );
  if (validationFraction > 0 && (validation?.numRows ?? 0) === 0)
    throw new CliError(
      `${o.data}: --validation-split ${validationFraction} of ${rows} labelled rows rounds to 0 validation rows; give more rows or a larger --validation-split`,
    );
}

async function builtinTrainingData(
  o: CommonOptions,
  task: CsvTask,
  validationFraction: number,
  shape?: readonly number[],
): Promise<TrainingData> {
  const all = await loadData(o.data, o.label, task, '--data', o.encoding, { options: o, ...(shape ? { shape } : {}) });
  if (o.test !== undefined) throw usageError(`--test applies to CSV training data, not to the built-in data set '${o.data}'`);
  if (o.testSplit <= 0 || o.testSplit >= 1)
    throw usageError(
      `--test-split must be in (0, 1) for training (a test part and a training part), got ${o.testSplit}; or give --test <csv>`,
    );
  const parts = trainTestSplit(all, { testFraction: o.testSplit, validationFraction, seed: o.seed });
  return { train: parts.train, ...(parts.validation ? { validation: parts.validation } : {}), test: parts.test, notes: [], droppedRows: 0 };
}

/** Saves the training table's encoder with a new model (call after fit). */
export function keepEncoder(model: Sequential, data: Pick<TrainingData, 'encoder'>): void {
  if (data.encoder) model.setPreprocessing({ ...model.preprocessing, table: data.encoder.toJSON() });
}

/** One line per column: how it was read (and why), with its gaps; and dropped rows. */
function tableNotes(encoder: TableEncoder, label: TableLabels, source: string): string[] {
  const lines = encoder.report.map((c) => {
    const gaps = c.missing > 0 ? `, ${c.missing} missing` : '';
    return c.kind === 'ignore'
      ? `${c.name}: ignored (${c.reason})`
      : `${c.name}: ${c.kind} (${c.reason}${gaps}) → ${c.inputs} input${c.inputs === 1 ? '' : 's'}`;
  });
  lines.push(
    `${label.name}: label, ${label.task}${label.classNames ? ` (${label.classNames.join(', ')})` : ''}${label.dropped > 0 ? `, missing in ${label.dropped} rows of ${source} (left out)` : ''}`,
  );
  return lines;
}

/** Train, validation and test parts for further training of `model` (prune, distill, quantize,
 *  continued training): read through the model's own encoder, in its class ids. */
export async function trainingDataFor(o: CommonOptions, model: Sequential, validationFraction: number): Promise<TrainingData> {
  const source = o.data;
  if (source === undefined) throw usageError("--data is required: a CSV file, 'iris', 'mnist' or 'spam'");
  if (await isWhole(source)) {
    const parts = await builtinTrainingData(
      o,
      model.task === 'regression' ? 'regression' : 'classification',
      validationFraction,
      shapeOf(model),
    );
    if (parts.train.numFeatures !== model.inputs)
      throw new CliError(
        `${source} has ${parts.train.numFeatures} feature columns, the model takes ${model.inputs} (${describeInputs(model)})`,
      );
    const names = model.preprocessing.classNames;
    return {
      ...parts,
      train: alignClasses(parts.train, names, source),
      ...(parts.validation ? { validation: alignClasses(parts.validation, names, source) } : {}),
      test: alignClasses(parts.test, names, source),
    };
  }
  const encoder = modelEncoder(model);
  const all = await labelledRows(source, encoder, labelOf(o, model), o.encoding);
  const notes = all.notes.slice();
  if (all.label.dropped > 0) notes.push(`${source}: ${all.label.dropped} rows without a label left out`);
  if (o.test !== undefined) {
    const test = await labelledRows(o.test, encoder, labelOf(o, model), o.encoding);
    const parts = validationFraction > 0 ? trainTestSplit(all.data, { testFraction: 0, validationFraction, seed: o.seed }) : undefined;
    return {
      train: parts?.train ?? all.data,
      ...(parts?.validation ? { validation: parts.validation } : {}),
      test: test.data,
      notes,
      droppedRows: all.label.dropped,
    };
  }
  if (o.testSplit <= 0 || o.testSplit >= 1)
    throw usageError(
      `--test-split must be in (0, 1) for training (a test part and a training part), got ${o.testSplit}; or give --test <csv>`,
    );
  const parts = trainTestSplit(all.data, { testFraction: o.testSplit, validationFraction, seed: o.seed });
  return {
    train: parts.train,
    ...(parts.validation ? { validation: parts.validation } : {}),
    test: parts.test,
    notes,
    droppedRows: all.label.dropped,
  };
}

export interface ModelRows {
  data: Dataset;
  /** False for a CSV without a label column (predict only). */
  labeled: boolean;
  /** Where the rows came from, for messages and output. */
  source: string;
  /** How the file was read: columns by position, columns ignored, rows left out. */
  notes: string[];
}

/**
 * Rows to run `model` on, columns matched by name. `--test <csv>` wins; otherwise `--data`, all
 * of it when `all` is set or `--test-split` is 1, else the same seeded test part that
 * `kiln train` held out.
 */
export async function modelRows(o: CommonOptions, model: Model, all: boolean, allowUnlabeled: boolean): Promise<ModelRows> {
  const source = o.test ?? o.data;
  if (source === undefined) throw usageError("--data (a CSV file, 'iris', 'mnist' or 'spam') or --test <csv> is required");
  let rows: ModelRows;
  if (await isWhole(source)) {
    const data = await loadData(source, o.label, model.task === 'regression' ? 'regression' : 'classification', '--data', o.encoding, {
      options: o,
      ...(shapeOf(model) ? { shape: shapeOf(model)! } : {}),
    });
    if (data.numFeatures !== model.inputs)
      throw new CliError(`${source} has ${data.numFeatures} feature columns, the model takes ${model.inputs} (${describeInputs(model)})`);
    rows = { data: alignClasses(data, classNamesOf(model), source), labeled: true, source, notes: [] };
  } else {
    rows = await csvRows(source, model, o, allowUnlabeled);
  }
  if (rows.labeled && o.test === undefined && !all && o.testSplit < 1) {
    rows.data = trainTestSplit(rows.data, { testFraction: o.testSplit, seed: o.seed }).test;
  }
  return rows;
}

async function csvRows(path: string, model: Model, o: CommonOptions, allowUnlabeled: boolean): Promise<ModelRows> {
  const encoder = modelEncoder(model);
  const spec = labelOf(o, model);
  const table = await readTable(path, o.encoding, encoder.inputColumns);
  const named = await inFile(path, () => namedColumns(table, encoder));
  let label = labelColumn(named.table, encoder, spec);
  const notes = [...named.notes, ...unusedColumnsNote(named.table, encoder, label === undefined ? [] : [label])];
  const gaps = label !== undefined && allowUnlabeled ? missingLabels(named.table, label, encoder) : 0;
  if (gaps > 0) {
    notes.push(
      `the label column '${label}' is missing in ${gaps} of ${named.table.rows.length} rows: predicting every row, without scoring`,
    );
    label = undefined;
  }
  if (label === undefined) {
    if (!allowUnlabeled)
      throw new CliError(
        `${path} has no label column${typeof spec.name === 'string' && !spec.legacy ? ` '${spec.name}'` : ''} to score against (columns: ${named.table.names.join(', ')}); give --label <column>`,
      );
    const data = await inFile(
      path,
      () =>
        new Dataset({
          features: encoder.transform(named.table),
          featureNames: encoder.outputNames,
          targets: new Float32Array(named.table.rows.length),
        }),
    );
    return { data, labeled: false, source: path, notes };
  }
  const rows = await inFile(path, () => labelledDataset(named.table, encoder, label!, spec));
  if (rows.label.dropped > 0) notes.push(`${rows.label.dropped} rows without a label left out`);
  return { data: rows.data, labeled: true, source: path, notes };
}

interface LabelSpec {
  /** --label, or the label column the model was trained with. */
  name: string | number | undefined;
  /** --label was given (so it must exist). */
  given?: boolean;
  /** The model was trained on a numeric matrix: its label column's name is not known. */
  legacy?: boolean;
  task: 'classification' | 'regression';
  classNames?: readonly string[] | undefined;
}

/** The label column of a model's files: --label, else the one its table was trained with. */
function labelOf(o: CommonOptions, model: Model): LabelSpec {
  const classNames = classNamesOf(model);
  const table = isQuantized(model) ? undefined : model.preprocessing.table;
  return {
    name: o.label ?? table?.label[0],
    given: o.label !== undefined,
    legacy: table === undefined,
    task: model.task === 'regression' ? 'regression' : 'classification',
    ...(classNames ? { classNames } : {}),
  };
}

function missingLabels(table: Table, name: string, encoder: TableEncoder): number {
  const j = table.names.indexOf(name);
  const markers = new Set(['', ...encoder.json.missing.map((m) => m.toLowerCase())]);
  return table.rows.filter((r) => markers.has(r[j]!.toLowerCase())).length;
}

/** The name of the label column of `table` for `spec`, or undefined when the table has none. A
 *  model trained on a numeric matrix does not know its label's name: the one column that is not
 *  an input is the label. */
function labelColumn(table: Table, encoder: TableEncoder, spec: LabelSpec): string | undefined {
  const { name } = spec;
  if (typeof name === 'number') {
    if (!Number.isInteger(name) || name < 0 || name >= table.names.length)
      throw new CliError(`--label ${name} is outside the ${table.names.length} columns (0-based)`);
    return table.names[name];
  }
  if (name !== undefined && (spec.given || table.names.includes(name))) {
    if (!table.names.includes(name)) throw new CliError(`label column '${name}' not found in header [${table.names.join(', ')}]`);
    return name;
  }
  if (!spec.legacy) return undefined;
  const extra = encoder.extraColumns(table);
  return extra.length === 1 ? extra[0] : undefined;
}

/** Labelled rows of a CSV file read through `encoder`, in the model's class ids. */
async function labelledRows(
  path: string,
  encoder: TableEncoder,
  spec: LabelSpec,
  encoding: CsvEncoding | undefined,
): Promise<{ data: Dataset; label: TableLabels; notes: string[] }> {
  const table = await readTable(path, encoding, encoder.inputColumns);
  return inFile(path, () => {
    const named = namedColumns(table, encoder);
    encoder.columnIndices(named.table);
    const label = labelColumn(named.table, encoder, spec);
    if (label === undefined)
      throw new Error(
        `no label column${typeof spec.name === 'string' ? ` '${spec.name}'` : ''} among the columns (${named.table.names.join(', ')}); give --label <column>`,
      );
    return {
      ...labelledDataset(named.table, encoder, label, spec),
      notes: [...named.notes, ...unusedColumnsNote(named.table, encoder, [label])],
    };
  });
}

function labelledDataset(table: Table, encoder: TableEncoder, name: string, spec: LabelSpec): { data: Dataset; label: TableLabels } {
  encoder.columnIndices(table);
  const label = tableLabels(table, {
    label: name,
    task: spec.task,
    ...(spec.classNames ? { classes: spec.classNames } : {}),
    missing: encoder.json.missing,
  });
  return { data: tableDataset(tableRows(table, label.rows), encoder, label), label };
}

/** How `model` reads raw rows: its table encoder, or its feature names read as numbers (a model
 *  trained on a numeric matrix; the column after them in training was its label). */
function modelEncoder(model: Model): TableEncoder {
  if (!isQuantized(model) && model.preprocessing.table) return inputEncoder(model.preprocessing);
  const names = featureNamesOf(model);
  if (!names || names.length !== model.inputs)
    return TableEncoder.numeric(
      Array.from({ length: model.inputs }, (_, j) => `column ${j + 1}`),
      `column ${model.inputs + 1}`,
    );
  const label = names.includes(`column ${names.length + 1}`) ? 'label' : `column ${names.length + 1}`;
  return TableEncoder.numeric(names, label);
}

function describeInputs(model: Model): string {
  const names = featureNamesOf(model);
  if (!names) return `${model.inputs} features`;
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 3).join(', ')}, …, ${names.at(-1)}`;
}
