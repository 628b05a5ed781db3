// A table of raw cells with named columns: what a CSV file or a list of records holds before any
// column is typed or encoded. Cells stay text (trimmed) so that typing, missing markers and
// encoders decide everything in one place (column-types.ts, table-encoder.ts).
import { readFileBytes } from '../io/atomic-write.ts';
import { checkKnownKeys } from '../core/errors.ts';
import { checkWidths, clip, CsvError, decodeCsvBytes, NUMBER, sniffHeader, tokenize, type CsvEncoding, type Row } from './csv.ts';

export { clip };

/** Raw rows with named columns. `rows[i][j]` is the trimmed text of row i, column `names[j]`;
 *  `lines[i]` is the row's number as a spreadsheet shows it (the header is row 1), for messages. */
export interface Table {
  readonly names: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly lines: readonly number[];
  /** False when the names were made up (`column 1`, …) or given by the caller. */
  readonly hasHeader: boolean;
  /** True for a table made by `tableFromRecords`: `lines` are then 0-based record indices. */
  readonly fromRecords?: boolean;
}

/** Options of `parseTable`. */
export interface TableOptions {
  /** Whether the first row is a header; 'auto' (default): see `parseTable`. */
  header?: 'auto' | boolean;
  /** Field separator; default ','. */
  delimiter?: string;
  /** Column names the caller expects (a model's inputs): under header 'auto', a first row that
   *  holds every one of them is the header, and one that holds none is data. */
  expect?: readonly string[];
}

const WHERE = 'parseTable';
const OPTION_KEYS = ['header', 'delimiter', 'expect'] as const;

/** The cells kiln reads as missing unless told otherwise (compared case-insensitively, trimmed). */
export const DEFAULT_MISSING: readonly string[] = Object.freeze(['', 'NA', 'N/A', 'NaN', 'null', '?']);

/**
 * Parses CSV text into a Table of raw cells (no typing yet).
 *
 * Header, under 'auto': with `expect`, the first row is a header when it holds every expected
 * name; otherwise it is a header when some column holds a number in every one of the next (up
 * to 100) rows but not in the first (the `parseCsv` rule), or when its cells are non-empty,
 * distinct, not numbers, and none of them appears again in its column. Header names must be
 * unique; an empty one becomes `column <j>` (1-based). Every row must have as many cells as the
 * first; blank lines are skipped.
 *
 * @example
 * const table = parseTable('city,age\nParis,31\nOslo,NA\n');
 * table.names; // ['city', 'age']
 * table.rows[1]; // ['Oslo', 'NA']
 */
export function parseTable(text: string, options: TableOptions = {}): Table {
  checkKnownKeys(WHERE, options, OPTION_KEYS);
  if (typeof text !== 'string') throw new TypeError(`${WHERE}: text must be a string, got ${typeof text}`);
  const { header = 'auto', delimiter = ',', expect } = options;
  if (header !== 'auto' && header !== true && header !== false)
    throw new TypeError(`${WHERE}: header must be 'auto', true or false, got ${String(header)}`);
  if (typeof delimiter !== 'string' || delimiter.length === 0)
    throw new TypeError(`${WHERE}: delimiter must be a non-empty string, got ${String(delimiter)}`);
  const rows = tokenize(text, delimiter, WHERE);
  if (rows.length === 0) throw new CsvError(`${WHERE}: the file is empty (no rows)`, 0, '', '');
  const width = checkWidths(rows, delimiter, WHERE);
  const hasHeader = header === 'auto' ? detectHeader(rows, expect) : header;
  const names = hasHeader ? headerNames(rows[0]!) : Array.from({ length: width }, (_, j) => `column ${j + 1}`);
  const body = hasHeader ? rows.slice(1) : rows;
  return Object.freeze({
    names: Object.freeze(names),
    rows: Object.freeze(body.map((r) => Object.freeze(r.cells.map((c) => c.trim())))),
    lines: Object.freeze(body.map((r) => r.line)),
    hasHeader,
  });
}

/**
 * Reads a CSV file (Node, Deno, Bun) and parses it with `parseTable`.
 *
 * @example
 * const table = await loadTable('customers.csv');
 */
export async function loadTable(path: string | URL, options: TableOptions & { encoding?: CsvEncoding } = {}): Promise<Table> {
  const { encoding, ...rest } = options;
  return parseTable(await decodeCsvBytes(await readFileBytes(path), encoding, 'loadTable'), rest);
}

/**
 * A Table from records keyed by column name (as JSON gives them). Columns are the keys in the
 * order first seen; a key a record lacks, `null`, `undefined` and `NaN` are missing cells;
 * numbers are written as `String(v)` (which reads back to the same number), booleans as
 * `true`/`false`. Anything else (objects, ±Infinity) is an error naming the record and key.
 *
 * @example
 * const table = tableFromRecords([{ city: 'Paris', age: 31 }, { age: null, city: 'Oslo' }]);
 * table.rows; // [['Paris', '31'], ['Oslo', '']]
 */
export function tableFromRecords(records: readonly Readonly<Record<string, unknown>>[]): Table {
  const where = 'tableFromRecords';
  if (!Array.isArray(records)) throw new TypeError(`${where}: records must be an array of objects, got ${kindOf(records)}`);
  const index = new Map<string, number>();
  records.forEach((record, i) => {
    if (record === null || typeof record !== 'object' || Array.isArray(record))
      throw new TypeError(`${where}: records[${i}] must be an object keyed by column name, got ${kindOf(record)}`);
    for (const key of Object.keys(record)) if (!index.has(key)) index.set(key, index.size);
  });
  const names = [...index.keys()];
  const rows = records.map((record, i) => names.map((name) => cellText(where, record[name], i, name)));
  return Object.freeze({
    names: Object.freeze(names),
    rows: Object.freeze(rows),
    lines: Object.freeze(records.map((_, i) => i)),
    hasHeader: true,
    fromRecords: true,
  });
}

/** The rows of `table` at `indices`, in that order. */
export function tableRows(table: Table, indices: ArrayLike<number>): Table {
  const rows: (readonly string[])[] = [],
    lines: number[] = [];
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    if (!Number.isInteger(i) || i < 0 || i >= table.rows.length)
      throw new RangeError(`tableRows: indices[${r}] is ${i}, outside [0, ${table.rows.length})`);
    rows.push(table.rows[i]!);
    lines.push(table.lines[i]!);
  }
  return Object.freeze({ ...table, rows: Object.freeze(rows), lines: Object.freeze(lines) });
}

/** Where a row is, for messages: "row 12" of a file, "records[11]" of a record list. */
export const rowText = (table: Table, i: number): string => (table.fromRecords ? `records[${table.lines[i]}]` : `row ${table.lines[i]}`);

/** Case-insensitive lookup set of missing markers. */
export function missingSet(where: string, markers: readonly string[] | undefined): ReadonlySet<string> {
  const list = markers ?? DEFAULT_MISSING;
  if (!Array.isArray(list)) throw new TypeError(`${where}: missing must be an array of strings, got ${kindOf(list)}`);
  list.forEach((m, k) => {
    if (typeof m !== 'string') throw new TypeError(`${where}: missing[${k}] must be a string, got ${kindOf(m)}`);
  });
  // The empty cell is always missing: there is no other way to read it.
  return new Set(['', ...list.map((m) => m.trim().toLowerCase())]);
}

export const isNumberText = (cell: string): boolean => NUMBER.test(cell);

function detectHeader(rows: Row[], expect: readonly string[] | undefined): boolean {
  const first = rows[0]!.cells.map((c) => c.trim());
  if (expect && expect.length > 0) {
    const held = new Set(first);
    if (expect.every((name) => held.has(name))) return true;
    if (expect.some((name) => held.has(name))) {
      const absent = expect.filter((name) => !held.has(name));
      throw new CsvError(
        `${WHERE}: the header lacks column${absent.length > 1 ? 's' : ''} ${absent.map((a) => `'${a}'`).join(', ')} (expected: ${expect.join(', ')})`,
        rows[0]!.line,
        absent[0]!,
        '',
      );
    }
    // None of the expected names: a header of other columns, or no header; the general rules decide.
  }
  if (sniffHeader(rows)) return true;
  const sample = rows.slice(1, 101);
  if (sample.length === 0) return false;
  if (first.some((c) => c === '' || NUMBER.test(c)) || new Set(first).size !== first.length) return false;
  return first.every((name, j) => sample.every((r) => r.cells[j]!.trim() !== name));
}

function headerNames(row: Row): string[] {
  const names = row.cells.map((c, j) => c.trim() || `column ${j + 1}`);
  const seen = new Map<string, number>();
  names.forEach((name, j) => {
    const before = seen.get(name);
    if (before !== undefined)
      throw new CsvError(
        `${WHERE}: header names column ${before + 1} and column ${j + 1} both '${name}'; column names must be unique`,
        row.line,
        name,
        name,
      );
    seen.set(name, j);
  });
  return names;
}

function cellText(where: string, value: unknown, i: number, key: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '';
    if (!Number.isFinite(value)) throw new RangeError(`${where}: records[${i}].${key} must be finite, got ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  throw new TypeError(`${where}: records[${i}].${key} must be a string, number, boolean or null, got ${kindOf(value)}`);
}

export function kindOf(x: unknown): string {
  return x === null
    ? 'null'
    : Array.isArray(x)
      ? 'array'
      : typeof x === 'object'
        ? Object.prototype.toString.call(x).slice(8, -1)
        : typeof x;
}
