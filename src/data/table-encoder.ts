// The fitted map from raw table rows to numeric model inputs: column typing, imputation, missing
// indicators, one-hot categories and bags of words. Fitted on training rows only, saved in the
// model file as JSON, and applied by column NAME, so a file with its columns in another order
// gives the same inputs.
import { checkInteger, checkKnownKeys } from '../core/errors.ts';
import { BOOLEAN_WORDS, COLUMN_KINDS, inferColumnKind, type ColumnKind } from './column-types.ts';
import { CsvError } from './csv.ts';
import { clip, isNumberText, kindOf, missingSet, rowText, type Table } from './table.ts';
import { textGrams } from './text-grams.ts';

/** How one column becomes model inputs (the saved form). */
export type ColumnCode =
  | { name: string; kind: 'numeric'; fill: number | null; indicator: boolean }
  | { name: string; kind: 'boolean'; fill: 0 | 1; indicator: boolean }
  | { name: string; kind: 'categorical'; categories: string[]; fill: string; indicator: boolean }
  | { name: string; kind: 'text'; ngrams: 1 | 2; vocabulary: string[] };

/** The saved form of a fitted `TableEncoder`, kept in a model's preprocessing as `table`. */
export interface TableEncoderJSON {
  kind: 'TableEncoder';
  version: 1;
  /** Columns of the training table, in its order (label included): a file without a header is
   *  mapped onto these by position. */
  sourceColumns: string[];
  /** The label column(s) of the training table. */
  label: string[];
  /** Missing markers (compared case-insensitively; the empty cell is always missing). */
  missing: string[];
  /** What a category unseen in training becomes: the `<other>` input, or an error. */
  unknownCategory: 'other' | 'error';
  /** The feature columns, in input order. */
  columns: ColumnCode[];
  /** Training columns left out, with why. */
  ignored: { name: string; reason: string }[];
}

/** Options of `TableEncoder.fit`. */
export interface TableEncoderOptions {
  /** Column kinds that override inference, by column name. */
  columns?: Readonly<Record<string, ColumnKind>>;
  /** Use only these columns as features (default: every column but the label). */
  features?: readonly string[];
  /** Leave these columns out. */
  drop?: readonly string[];
  /** Label column name(s): never features. */
  label?: string | readonly string[];
  /** Cells read as missing; default `DEFAULT_MISSING` ('', NA, N/A, NaN, null, ?). */
  missing?: readonly string[];
  /** Fill of missing numbers: the training mean (default) or median. */
  impute?: 'mean' | 'median';
  /** Add a 0/1 input `<column>:missing` for each column with gaps in training; default true. */
  missingIndicators?: boolean;
  /** One-hot inputs per categorical column: its most frequent values; the rest share
   *  `<column>=<other>`. Default 30. */
  maxCategories?: number;
  /** Words (and word pairs) per text column: the most frequent in training. Default 200. */
  maxVocabulary?: number;
  /** A word enters a vocabulary when at least this many training rows hold it. Default 2. */
  minDocumentFrequency?: number;
  /** 1: words; 2 (default): words and pairs of adjacent words. */
  ngrams?: 1 | 2;
  /** A category not seen in training: 'other' (default) sets `<column>=<other>`; 'error' throws. */
  unknownCategory?: 'other' | 'error';
}

/** What `fit` decided about each column, for reports. */
export interface ColumnReport {
  name: string;
  kind: ColumnKind;
  reason: string;
  /** Missing cells in the training rows. */
  missing: number;
  /** Model inputs the column became. */
  inputs: number;
}

const WHERE = 'TableEncoder';
const OPTION_KEYS = [
  'columns',
  'features',
  'drop',
  'label',
  'missing',
  'impute',
  'missingIndicators',
  'maxCategories',
  'maxVocabulary',
  'minDocumentFrequency',
  'ngrams',
  'unknownCategory',
] as const;
const F32_MAX = 3.4028234663852886e38;
export const OTHER = '<other>';

/**
 * Turns raw table rows (CSV cells or records) into numeric model inputs, column by name.
 *
 * Per kind: numeric → the number (missing: the training mean or median); boolean → 1/0
 * (missing: the more frequent); categorical → one-hot over the most frequent training values
 * plus `<column>=<other>` for the rest and for values unseen in training (missing: the most
 * frequent value); text → 1/0 per vocabulary word or word pair (lowercased runs of letters and
 * digits; vocabulary from the training rows). Each numeric, boolean or categorical column with
 * gaps in training also gets a 0/1 `<column>:missing` input. Inputs are not standardised here:
 * the model's own standardisation follows.
 *
 * @example
 * const table = parseTable('city,age,y\nParis,31,a\nOslo,NA,b\nParis,40,a\n');
 * const encoder = TableEncoder.fit(table, { label: 'y', columns: { city: 'categorical' } });
 * encoder.outputNames; // ['city=Paris', 'city=Oslo', 'city=<other>', 'age', 'age:missing']
 * encoder.transform(tableFromRecords([{ age: 20, city: 'Rome' }])); // [0, 0, 1, 20, 0]
 */
export class TableEncoder {
  readonly json: Readonly<TableEncoderJSON>;
  /** Per-column decisions of `fit`; empty for an encoder read with `fromJSON`. */
  readonly report: readonly ColumnReport[];
  readonly outputNames: readonly string[];
  readonly #missing: ReadonlySet<string>;
  // Per column: category or gram → its input offset, so a row costs one lookup per cell or word.
  readonly #index: (ReadonlyMap<string, number> | undefined)[];

  private constructor(json: TableEncoderJSON, report: ColumnReport[]) {
    this.json = Object.freeze(json);
    this.report = Object.freeze(report);
    this.outputNames = Object.freeze(json.columns.flatMap(outputNamesOf));
    this.#missing = missingSet(WHERE, json.missing);
    this.#index = json.columns.map((c) =>
      c.kind === 'categorical'
        ? new Map(c.categories.map((v, k) => [v, k]))
        : c.kind === 'text'
          ? new Map(c.vocabulary.map((g, k) => [g, k]))
          : undefined,
    );
  }

  /** Number of model inputs. */
  get numOutputs(): number {
    return this.outputNames.length;
  }

  /** Names of the raw columns a table must have. */
  get inputColumns(): string[] {
    return this.json.columns.map((c) => c.name);
  }

  /** Fits on training rows only: kinds, fills, categories and vocabularies come from `table`. */
  static fit(table: Table, options: TableEncoderOptions = {}): TableEncoder {
    const where = `${WHERE}.fit`;
    checkKnownKeys(where, options, OPTION_KEYS);
    if (table.rows.length === 0) throw new RangeError(`${where}: needs at least one training row, got 0`);
    const o = resolveOptions(where, table, options);
    const isMissing = (cell: string) => o.missing.has(cell.toLowerCase());
    const columns: ColumnCode[] = [],
      ignored: { name: string; reason: string }[] = [],
      report: ColumnReport[] = [];
    table.names.forEach((name, j) => {
      if (o.label.includes(name)) return;
      let typing: { kind: ColumnKind; reason: string };
      if (o.drop.has(name)) typing = { kind: 'ignore', reason: 'dropped' };
      else if (o.features && !o.features.has(name)) typing = { kind: 'ignore', reason: 'not among the chosen features' };
      else if (o.columns.has(name)) typing = { kind: o.columns.get(name)!, reason: 'declared' };
      else typing = inferColumnKind(table, j, isMissing);
      const cells = table.rows.map((r) => r[j]!);
      const gaps = cells.filter(isMissing).length;
      if (typing.kind === 'ignore') {
        ignored.push({ name, reason: typing.reason });
        report.push({ name, ...typing, missing: gaps, inputs: 0 });
        return;
      }
      if (gaps === cells.length)
        throw new CsvError(
          `${where}: column '${name}' is ${typing.kind} (${typing.reason}) but every training value is missing; drop it or fill it`,
          0,
          name,
          '',
        );
      const code = fitColumn(table, j, typing.kind, cells, gaps > 0 && o.indicators, isMissing, o);
      columns.push(code);
      report.push({ name, ...typing, missing: gaps, inputs: outputNamesOf(code).length });
    });
    const json: TableEncoderJSON = {
      kind: 'TableEncoder',
      version: 1,
      sourceColumns: table.names.slice(),
      label: o.label.slice(),
      missing: o.markers.slice(),
      unknownCategory: o.unknownCategory,
      columns,
      ignored,
    };
    if (columns.flatMap(outputNamesOf).length === 0) {
      throw new RangeError(
        `${where}: no model inputs left: ${ignored.map((c) => `'${c.name}' ignored (${c.reason})`).join('; ') || 'the table has only label columns'}`,
      );
    }
    return new TableEncoder(json, report);
  }

  /** An encoder that reads the named columns as numbers, with no imputation: what a model trained
   *  on a numeric matrix (feature names only) needs to map a file's columns by name. `label`
   *  names the column that followed them in training, for files without a header. */
  static numeric(names: readonly string[], label?: string): TableEncoder {
    const columns: ColumnCode[] = names.map((name) => ({ name, kind: 'numeric', fill: null, indicator: false }));
    const labels = label === undefined ? [] : [label];
    return TableEncoder.fromJSON({
      kind: 'TableEncoder',
      version: 1,
      sourceColumns: [...names, ...labels],
      label: labels,
      missing: [],
      unknownCategory: 'error',
      columns,
      ignored: [],
    });
  }

  /**
   * Model inputs of every row, row-major [rows, numOutputs], columns found by name. A column the
   * encoder needs and the table lacks is a RangeError naming it; columns it does not use are
   * skipped (see `extraColumns`). Cells that cannot be read are a CsvError naming row, column
   * and value.
   */
  transform(table: Table): Float32Array {
    const at = this.columnIndices(table);
    const width = this.numOutputs,
      n = table.rows.length;
    const out = new Float32Array(n * width);
    for (let i = 0; i < n; i++) {
      let o = i * width;
      this.json.columns.forEach((c, k) => {
        o = writeColumn(
          out,
          o,
          c,
          this.#index[k],
          table.rows[i]![at[k]!]!,
          this.#missing,
          this.json.unknownCategory,
          () => rowText(table, i),
          () => table.lines[i]!,
        );
      });
    }
    return out;
  }

  /** Where each column the encoder reads is in `table`; a RangeError names the first one missing. */
  columnIndices(table: Table): number[] {
    const index = new Map(table.names.map((n, j) => [n, j]));
    return this.json.columns.map((c) => {
      const j = index.get(c.name);
      if (j === undefined)
        throw new RangeError(
          `${WHERE}.transform: the input has no column '${c.name}' (the model reads ${listText(this.inputColumns)}; the input has ${listText(table.names)})`,
        );
      return j;
    });
  }

  /** Columns of `table` the encoder never saw in training (they are not used). */
  extraColumns(table: Table): string[] {
    const known = new Set(this.json.sourceColumns);
    return table.names.filter((n) => !known.has(n));
  }

  toJSON(): TableEncoderJSON {
    return structuredClone(this.json) as TableEncoderJSON;
  }

  /** Rebuilds an encoder saved with `toJSON`, checking every field. */
  static fromJSON(json: unknown): TableEncoder {
    return new TableEncoder(checkJson(`${WHERE}.fromJSON`, json), []);
  }
}

interface Resolved {
  label: string[];
  drop: Set<string>;
  features: Set<string> | undefined;
  columns: ReadonlyMap<string, ColumnKind>;
  markers: string[];
  missing: ReadonlySet<string>;
  impute: 'mean' | 'median';
  indicators: boolean;
  maxCategories: number;
  maxVocabulary: number;
  minDf: number;
  ngrams: 1 | 2;
  unknownCategory: 'other' | 'error';
}

function resolveOptions(where: string, table: Table, o: TableEncoderOptions): Resolved {
  const known = new Set(table.names);
  const names = (what: string, list: unknown): string[] => {
    if (list === undefined) return [];
    const arr = typeof list === 'string' && what === 'label' ? [list] : list;
    if (!Array.isArray(arr)) throw new TypeError(`${where}: ${what} must be an array of column names, got ${kindOf(list)}`);
    arr.forEach((n, k) => {
      if (typeof n !== 'string') throw new TypeError(`${where}: ${what}[${k}] must be a column name (string), got ${kindOf(n)}`);
      if (!known.has(n))
        throw new RangeError(`${where}: ${what} names column '${n}', which the table lacks (columns: ${listText(table.names)})`);
    });
    return arr as string[];
  };
  const label = names('label', o.label);
  const drop = names('drop', o.drop);
  const features = o.features === undefined ? undefined : names('features', o.features);
  for (const n of features ?? []) {
    if (label.includes(n)) throw new RangeError(`${where}: '${n}' is the label; it cannot also be a feature`);
    if (drop.includes(n)) throw new RangeError(`${where}: '${n}' is both among the features and dropped`);
  }
  const columns = o.columns ?? {};
  if (columns === null || typeof columns !== 'object' || Array.isArray(columns))
    throw new TypeError(`${where}: columns must be an object of column name → kind, got ${kindOf(columns)}`);
  for (const [n, kind] of Object.entries(columns)) {
    if (!known.has(n))
      throw new RangeError(`${where}: columns names column '${n}', which the table lacks (columns: ${listText(table.names)})`);
    if (!COLUMN_KINDS.includes(kind))
      throw new TypeError(`${where}: columns.${n} must be one of ${COLUMN_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
    if (label.includes(n)) throw new RangeError(`${where}: '${n}' is the label; it has no feature kind`);
  }
  const missing = missingSet(where, o.missing);
  const impute = o.impute ?? 'mean';
  if (impute !== 'mean' && impute !== 'median')
    throw new TypeError(`${where}: impute must be 'mean' or 'median', got ${JSON.stringify(impute)}`);
  const indicators = o.missingIndicators ?? true;
  if (typeof indicators !== 'boolean') throw new TypeError(`${where}: missingIndicators must be a boolean, got ${kindOf(indicators)}`);
  const ngrams = o.ngrams ?? 2;
  if (ngrams !== 1 && ngrams !== 2) throw new RangeError(`${where}: ngrams must be 1 or 2, got ${String(ngrams)}`);
  const unknownCategory = o.unknownCategory ?? 'other';
  if (unknownCategory !== 'other' && unknownCategory !== 'error')
    throw new TypeError(`${where}: unknownCategory must be 'other' or 'error', got ${JSON.stringify(unknownCategory)}`);
  return {
    label,
    drop: new Set(drop),
    features: features && new Set(features),
    columns: new Map(Object.entries(columns)),
    markers: [...missing].filter((m) => m !== ''),
    missing,
    impute,
    indicators,
    ngrams,
    unknownCategory,
    maxCategories: checkInteger(where, 'maxCategories', o.maxCategories ?? 30, 1, 1 << 16),
    maxVocabulary: checkInteger(where, 'maxVocabulary', o.maxVocabulary ?? 200, 0, 1 << 20),
    minDf: checkInteger(where, 'minDocumentFrequency', o.minDocumentFrequency ?? 2, 1, Number.MAX_SAFE_INTEGER),
  };
}

function fitColumn(
  table: Table,
  j: number,
  kind: Exclude<ColumnKind, 'ignore'>,
  cells: string[],
  indicator: boolean,
  isMissing: (c: string) => boolean,
  o: Resolved,
): ColumnCode {
  const name = table.names[j]!;
  const bad = (i: number, what: string): never => {
    throw new CsvError(
      `${WHERE}.fit: ${rowText(table, i)}, column '${name}': value '${clip(cells[i]!)}' is not ${what}`,
      table.lines[i]!,
      name,
      clip(cells[i]!),
    );
  };
  switch (kind) {
    case 'numeric': {
      const values: number[] = [];
      cells.forEach((c, i) => {
        if (isMissing(c)) return;
        const v = isNumberText(c) ? Number(c) : NaN;
        if (!(Math.abs(v) <= F32_MAX)) bad(i, 'a finite number');
        values.push(v);
      });
      return { name, kind, fill: o.impute === 'mean' ? mean(values) : median(values), indicator };
    }
    case 'boolean': {
      let ones = 0,
        count = 0;
      cells.forEach((c, i) => {
        if (isMissing(c)) return;
        const v = BOOLEAN_WORDS.get(c.toLowerCase());
        if (v === undefined) bad(i, `a boolean (${[...BOOLEAN_WORDS.keys()].join(', ')})`);
        ones += v!;
        count++;
      });
      return { name, kind, fill: 2 * ones > count ? 1 : 0, indicator };
    }
    case 'categorical': {
      const counts = new Map<string, number>();
      for (const c of cells) if (!isMissing(c)) counts.set(categoryKey(c), (counts.get(categoryKey(c)) ?? 0) + 1);
      const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([v]) => v);
      return { name, kind, categories: ranked.slice(0, o.maxCategories), fill: ranked[0]!, indicator };
    }
    case 'text': {
      const df = new Map<string, number>();
      for (const c of cells) if (!isMissing(c)) for (const g of textGrams(c, o.ngrams)) df.set(g, (df.get(g) ?? 0) + 1);
      const vocabulary = [...df]
        .filter(([, d]) => d >= o.minDf)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .slice(0, o.maxVocabulary)
        .map(([g]) => g);
      return { name, kind, ngrams: o.ngrams, vocabulary };
    }
  }
}

function writeColumn(
  out: Float32Array,
  o: number,
  c: ColumnCode,
  index: ReadonlyMap<string, number> | undefined,
  cell: string,
  missing: ReadonlySet<string>,
  unknown: 'other' | 'error',
  where: () => string,
  line: () => number,
): number {
  const gap = missing.has(cell.toLowerCase());
  const bad = (what: string): never => {
    throw new CsvError(`${WHERE}.transform: ${where()}, column '${c.name}': value '${clip(cell)}' ${what}`, line(), c.name, clip(cell));
  };
  switch (c.kind) {
    case 'numeric': {
      if (gap) {
        if (c.fill === null) bad('is missing, and the model has no imputation for this column');
        out[o++] = c.fill!;
      } else {
        const v = isNumberText(cell) ? Number(cell) : NaN;
        if (!(Math.abs(v) <= F32_MAX)) bad(Number.isFinite(v) ? 'overflows f32' : 'is not a finite number');
        out[o++] = v;
      }
      if (c.indicator) out[o++] = gap ? 1 : 0;
      return o;
    }
    case 'boolean': {
      const v = gap ? c.fill : BOOLEAN_WORDS.get(cell.toLowerCase());
      if (v === undefined) bad(`is not a boolean (${[...BOOLEAN_WORDS.keys()].join(', ')})`);
      out[o++] = v!;
      if (c.indicator) out[o++] = gap ? 1 : 0;
      return o;
    }
    case 'categorical': {
      const k = index!.get(gap ? c.fill : categoryKey(cell)) ?? -1;
      if (k < 0 && unknown === 'error') bad(`is a category not seen in training (known: ${listText(c.categories)})`);
      out[o + (k < 0 ? c.categories.length : k)] = 1;
      o += c.categories.length + 1;
      if (c.indicator) out[o++] = gap ? 1 : 0;
      return o;
    }
    case 'text': {
      if (!gap) {
        for (const g of textGrams(cell, c.ngrams)) {
          const k = index!.get(g);
          if (k !== undefined) out[o + k] = 1;
        }
      }
      return o + c.vocabulary.length;
    }
  }
}

function outputNamesOf(c: ColumnCode): string[] {
  const indicator = 'indicator' in c && c.indicator ? [`${c.name}:missing`] : [];
  switch (c.kind) {
    case 'numeric':
    case 'boolean':
      return [c.name, ...indicator];
    case 'categorical':
      return [...c.categories.map((v) => `${c.name}=${v}`), `${c.name}=${OTHER}`, ...indicator];
    case 'text':
      return c.vocabulary.map((g) => `${c.name}~${g}`);
  }
}

// Integer codes declared categorical match by value: '2', '2.0' and '02' are one category.
const categoryKey = (cell: string): string => (isNumberText(cell) ? String(Number(cell)) : cell);

function mean(values: number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function listText(names: readonly string[]): string {
  const shown = names.length <= 8 ? names : [...names.slice(0, 6), '…', names.at(-1)!];
  return shown.map((n) => (n === '…' ? n : `'${n}'`)).join(', ');
}

function checkJson(where: string, json: unknown): TableEncoderJSON {
  const obj = (value: unknown, what: string): Record<string, unknown> => {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new TypeError(`${where}: ${what} must be an object, got ${kindOf(value)}`);
    return value as Record<string, unknown>;
  };
  const strings = (value: unknown, what: string, unique: boolean): string[] => {
    if (!Array.isArray(value)) throw new TypeError(`${where}: ${what} must be an array of strings, got ${kindOf(value)}`);
    value.forEach((s, k) => {
      if (typeof s !== 'string') throw new TypeError(`${where}: ${what}[${k}] must be a string, got ${kindOf(s)}`);
    });
    if (unique && new Set(value).size !== value.length)
      throw new RangeError(`${where}: ${what} repeats a name: ${listText(value.filter((s, k) => value.indexOf(s) !== k))}`);
    return value.slice();
  };
  const bool = (value: unknown, what: string): boolean => {
    if (typeof value !== 'boolean') throw new TypeError(`${where}: ${what} must be a boolean, got ${kindOf(value)}`);
    return value;
  };
  const j = obj(json, 'the table encoder');
  checkKnownKeys(where, j, ['kind', 'version', 'sourceColumns', 'label', 'missing', 'unknownCategory', 'columns', 'ignored']);
  if (j.kind !== 'TableEncoder') throw new TypeError(`${where}: kind must be 'TableEncoder', got ${JSON.stringify(j.kind)}`);
  if (j.version !== 1) throw new RangeError(`${where}: version ${JSON.stringify(j.version)} is not supported (this kiln reads version 1)`);
  const sourceColumns = strings(j.sourceColumns, 'sourceColumns', true);
  const source = new Set(sourceColumns);
  const label = strings(j.label, 'label', true);
  const missing = strings(j.missing, 'missing', false);
  if (j.unknownCategory !== 'other' && j.unknownCategory !== 'error')
    throw new TypeError(`${where}: unknownCategory must be 'other' or 'error', got ${JSON.stringify(j.unknownCategory)}`);
  if (!Array.isArray(j.columns)) throw new TypeError(`${where}: columns must be an array, got ${kindOf(j.columns)}`);
  const columns = j.columns.map((value, k): ColumnCode => {
    const at = `columns[${k}]`;
    const c = obj(value, at);
    if (typeof c.name !== 'string') throw new TypeError(`${where}: ${at}.name must be a string, got ${kindOf(c.name)}`);
    const name = c.name;
    switch (c.kind) {
      case 'numeric':
        checkKnownKeys(`${where} ${at}`, c, ['name', 'kind', 'fill', 'indicator']);
        if (c.fill !== null && !(typeof c.fill === 'number' && Math.abs(c.fill) <= F32_MAX))
          throw new RangeError(`${where}: ${at}.fill ('${name}') must be a finite f32 number or null, got ${String(c.fill)}`);
        return { name, kind: 'numeric', fill: c.fill, indicator: bool(c.indicator, `${at}.indicator`) };
      case 'boolean':
        checkKnownKeys(`${where} ${at}`, c, ['name', 'kind', 'fill', 'indicator']);
        if (c.fill !== 0 && c.fill !== 1) throw new RangeError(`${where}: ${at}.fill ('${name}') must be 0 or 1, got ${String(c.fill)}`);
        return { name, kind: 'boolean', fill: c.fill, indicator: bool(c.indicator, `${at}.indicator`) };
      case 'categorical': {
        checkKnownKeys(`${where} ${at}`, c, ['name', 'kind', 'categories', 'fill', 'indicator']);
        const categories = strings(c.categories, `${at}.categories`, true);
        if (categories.length === 0) throw new RangeError(`${where}: ${at}.categories ('${name}') must not be empty`);
        if (typeof c.fill !== 'string') throw new TypeError(`${where}: ${at}.fill ('${name}') must be a string, got ${kindOf(c.fill)}`);
        return { name, kind: 'categorical', categories, fill: c.fill, indicator: bool(c.indicator, `${at}.indicator`) };
      }
      case 'text':
        checkKnownKeys(`${where} ${at}`, c, ['name', 'kind', 'ngrams', 'vocabulary']);
        if (c.ngrams !== 1 && c.ngrams !== 2)
          throw new RangeError(`${where}: ${at}.ngrams ('${name}') must be 1 or 2, got ${String(c.ngrams)}`);
        return { name, kind: 'text', ngrams: c.ngrams, vocabulary: strings(c.vocabulary, `${at}.vocabulary`, true) };
      default:
        throw new TypeError(
          `${where}: ${at}.kind ('${name}') must be numeric, boolean, categorical or text, got ${JSON.stringify(c.kind)}`,
        );
    }
  });
  const used = columns.map((c) => c.name);
  strings(used, 'column names', true);
  for (const n of [...used, ...label])
    if (!source.has(n)) throw new RangeError(`${where}: column '${n}' is not among sourceColumns (${listText(sourceColumns)})`);
  for (const n of label) if (used.includes(n)) throw new RangeError(`${where}: '${n}' is both the label and a feature column`);
  if (columns.flatMap(outputNamesOf).length === 0) throw new RangeError(`${where}: the encoder makes no model inputs`);
  if (!Array.isArray(j.ignored)) throw new TypeError(`${where}: ignored must be an array, got ${kindOf(j.ignored)}`);
  const ignored = j.ignored.map((value, k) => {
    const c = obj(value, `ignored[${k}]`);
    checkKnownKeys(`${where} ignored[${k}]`, c, ['name', 'reason']);
    if (typeof c.name !== 'string' || typeof c.reason !== 'string')
      throw new TypeError(`${where}: ignored[${k}] must have a string name and reason`);
    return { name: c.name, reason: c.reason };
  });
  return { kind: 'TableEncoder', version: 1, sourceColumns, label, missing, unknownCategory: j.unknownCategory, columns, ignored };
}
