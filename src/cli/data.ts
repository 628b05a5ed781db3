// Where a command's rows come from: a built-in data set or a CSV file, split by the library's
// seeded stratified split, with class ids lined up with the model's class names.
import { readFile } from 'node:fs/promises';
import { Dataset, iris, mnist, parseCsv, trainTestSplit, type Sequential } from '../index.ts';
import { classNamesOf, featureNamesOf, type Model } from './model.ts';
import { CliError, usageError } from './errors.ts';
import type { CommonOptions } from './options.ts';

export type CsvTask = 'auto' | 'classification' | 'regression';

const BUILTINS: Readonly<Record<string, () => Dataset | Promise<Dataset>>> = { iris, mnist: () => mnist() };

/** The text of a data file (its path named in any error). */
export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

/** Rows of `--data` (a built-in name or a CSV path). */
export async function loadData(source: string | undefined, label: string | number | undefined, task: CsvTask, flag = '--data'): Promise<Dataset> {
  if (source === undefined) throw usageError(`${flag} is required: a CSV file, 'iris' or 'mnist'`);
  const builtin = BUILTINS[source];
  if (builtin) {
    if (label !== undefined) throw usageError(`--label applies to CSV files, not to the built-in data set '${source}'`);
    const ds = await builtin();
    if (task === 'regression') throw new CliError(`'${source}' is a classification data set; it cannot be used with --task regression`);
    return ds;
  }
  return inFile(source, async () => parseCsv(await readText(source), { ...(label === undefined ? {} : { label }), task }));
}

// The library's messages name rows and columns; the file name is only known here.
async function inFile<T>(path: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if ((error as { code?: unknown }).code !== undefined && (error as { path?: unknown }).path !== undefined) throw error;
    throw new CliError(`${path}: ${(error as Error).message}`);
  }
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
}

/** Train, validation and test parts for `train`: --test file or a --test-split of --data. */
export async function trainingData(o: CommonOptions, task: CsvTask, validationFraction: number): Promise<TrainingData> {
  const all = await loadData(o.data, o.label, task);
  if (o.test !== undefined) {
    const resolved = all.task === 'regression' ? 'regression' : 'classification';
    const test = alignClasses(await loadData(o.test, o.label, resolved, '--test'), all.classNames, o.test);
    const parts = validationFraction > 0 ? trainTestSplit(all, { testFraction: 0, validationFraction, seed: o.seed }) : undefined;
    return { train: parts?.train ?? all, validation: parts?.validation, test };
  }
  if (o.testSplit <= 0 || o.testSplit >= 1) throw usageError(`--test-split must be in (0, 1) for training (a test part and a training part), got ${o.testSplit}; or give --test <csv>`);
  const parts = trainTestSplit(all, { testFraction: o.testSplit, validationFraction, seed: o.seed });
  return { train: parts.train, validation: parts.validation, test: parts.test };
}

/** Train, validation and test parts for further training of `model` (prune, distill, continued
 *  training): read as the model's task, checked against its inputs, in its class ids. */
export async function trainingDataFor(o: CommonOptions, model: Sequential, validationFraction: number): Promise<TrainingData> {
  const parts = await trainingData(o, model.task === 'regression' ? 'regression' : 'classification', validationFraction);
  if (parts.train.numFeatures !== model.inputs) throw new CliError(`${o.data} has ${parts.train.numFeatures} feature columns, the model takes ${model.inputs} (${describeInputs(model)})`);
  const names = model.preprocessing.classNames;
  return {
    train: alignClasses(parts.train, names, o.data!),
    validation: parts.validation && alignClasses(parts.validation, names, o.data!),
    test: alignClasses(parts.test, names, o.test ?? o.data!),
  };
}

export interface ModelRows {
  data: Dataset;
  /** False for a CSV without a label column (predict only). */
  labeled: boolean;
  /** Where the rows came from, for messages and output. */
  source: string;
}

/**
 * Rows to run `model` on. `--test <csv>` wins; otherwise `--data`, all of it when `all` is set
 * or `--test-split` is 1, else the same seeded test part that `kiln train` held out.
 */
export async function modelRows(o: CommonOptions, model: Model, all: boolean, allowUnlabeled: boolean): Promise<ModelRows> {
  const source = o.test ?? o.data;
  if (source === undefined) throw usageError("--data (a CSV file, 'iris' or 'mnist') or --test <csv> is required");
  const task: CsvTask = model.task === 'regression' ? 'regression' : 'classification';
  let rows: ModelRows;
  if (BUILTINS[source]) rows = { data: await loadData(source, o.label, task), labeled: true, source };
  else rows = await csvRows(source, model, o.label, task, allowUnlabeled);
  if (rows.data.numFeatures !== model.inputs) {
    throw new CliError(`${source} has ${rows.data.numFeatures} feature columns, the model takes ${model.inputs} (${describeInputs(model)})`);
  }
  if (rows.labeled && o.test === undefined && !all && o.testSplit < 1) {
    rows.data = trainTestSplit(rows.data, { testFraction: o.testSplit, seed: o.seed }).test;
  }
  if (rows.labeled) rows.data = alignClasses(rows.data, classNamesOf(model), source);
  return rows;
}

// A CSV with one column more than the model has inputs is labelled (the label defaults to the
// last column); one with exactly as many columns is features only.
async function csvRows(path: string, model: Model, label: string | number | undefined, task: CsvTask, allowUnlabeled: boolean): Promise<ModelRows> {
  const text = await inFile(path, () => readText(path));
  const labeled = await inFile(path, async () => parseCsv(text, { ...(label === undefined ? {} : { label }), task }));
  if (label !== undefined || labeled.numFeatures !== model.inputs - 1) return { data: labeled, labeled: true, source: path };
  if (!allowUnlabeled) throw new CliError(`${path} has ${model.inputs} columns, as many as the model's inputs: there is no label column to score against`);
  // Parsed with the last column as a numeric target, then put back beside the others: the
  // library's rules for numbers and headers apply to every column.
  const asTarget = await inFile(path, async () => parseCsv(text, { task: 'regression' }));
  const n = asTarget.numRows, d = asTarget.numFeatures;
  const features = new Float32Array(n * (d + 1));
  for (let i = 0; i < n; i++) {
    features.set(asTarget.features.subarray(i * d, i * d + d), i * (d + 1));
    features[i * (d + 1) + d] = asTarget.targets[i]!;
  }
  const data = new Dataset({ features, featureNames: [...asTarget.featureNames, ...asTarget.targetNames], targets: new Float32Array(n) });
  return { data, labeled: false, source: path };
}

function describeInputs(model: Model): string {
  const names = featureNamesOf(model);
  if (!names) return `${model.inputs} features`;
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 3).join(', ')}, …, ${names.at(-1)}`;
}
