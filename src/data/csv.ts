// CSV text to a Dataset. Tokenising is Papa Parse's (quotes, CRLF, BOM); everything after it,
// header detection, the label column, numbers and classes, is decided here so the rules are in
// one place and documented on `parseCsv`.
import { readFileBytes } from '../io/atomic-write.ts';
import Papa from 'papaparse';
import { checkKnownKeys } from '../core/errors.ts';
import { Dataset, type Task } from './dataset.ts';

/** A CSV file that cannot become a Dataset. `row` is 1-based as a spreadsheet shows it (the
 *  header line is row 1); `column` is the column's name (or its 1-based number when there is no
 *  header), `value` the offending cell. Whole-file problems have `row` 0 and empty `column`. */
export class CsvError extends Error {
  constructor(
    message: string,
    readonly row: number,
    readonly column: string,
    readonly value: string,
  ) {
    super(message);
    this.name = 'CsvError';
  }
}

/** Options of `parseCsv` and `loadCsv`: label columns, header, delimiter and task. */
export interface CsvOptions {
  /** Label column(s): a header name or a 0-based index; default: the last column. Several
   *  columns (an array) make a multi-output regression. */
  label?: string | number | readonly (string | number)[];
  /** Whether the first row is a header; 'auto' (default) decides as described on parseCsv. */
  header?: 'auto' | boolean;
  /** 'auto' (default) decides as described on parseCsv. */
  task?: 'auto' | Task;
  /** Field separator, one character or string; default ','. */
  delimiter?: string;
}

const OPTION_KEYS = ['label', 'header', 'task', 'delimiter'] as const;
const WHERE = 'parseCsv';
/** An integer-valued label column with at most this many distinct values is a classification
 *  target under task 'auto'. */
export const AUTO_CLASS_LIMIT = 20;
// Header detection looks at this many data rows, which is plenty and keeps it O(1) in file size.
const SNIFF_ROWS = 100;
/** A decimal number as a CSV cell may hold it: `1`, `-2.5`, `.5`, `3e-4` (no NaN, Infinity or hex). */
export const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A long cell shortened for a message, so a bad 10 MB cell does not become a 10 MB error. */
export const clip = (cell: string, max = 60): string => (cell.length <= max ? cell : `${cell.slice(0, max)}… (${cell.length} characters)`);

/** One record of a CSV file. */
export interface Row {
  cells: string[];
  /** Spreadsheet row number: the line the record starts on. */
  line: number;
}

/**
 * Parses CSV text into a Dataset.
 *
 * Rules:
 * - Header, when `header: 'auto'`: the first row is a header if some column holds a number in
 *   every one of the next (up to 100) rows but not in the first row. A label given by name
 *   forces a header.
 * - Cells of feature columns must be finite decimal numbers (`1`, `-2.5`, `3e-4`); empty cells,
 *   `NaN`, `Infinity` and words are rejected with a `CsvError` naming row, column and value.
 * - Task, when `task: 'auto'`: classification if any label is not a number, or if every label is
 *   an integer and there are at most 20 distinct values; regression otherwise.
 * - Class ids: string labels are sorted by code unit (`'a' < 'b' < 'ba'`), numeric labels by
 *   value; class id i is the i-th in that order and `classNames[i]` its text (so labels 0–9 keep
 *   their ids). Blank lines are skipped; every other row must have as many cells as the first.
 *
 * @example
 * const ds = parseCsv('x,y,label\n1,2,cat\n3,4,dog\n');
 * ds.classNames; // ['cat', 'dog']
 */
export function parseCsv(text: string, options: CsvOptions = {}): Dataset {
  checkKnownKeys(WHERE, options, OPTION_KEYS);
  if (typeof text !== 'string') throw new TypeError(`${WHERE}: text must be a string, got ${typeof text}`);
  const { header = 'auto', task = 'auto', delimiter = ',' } = options;
  if (header !== 'auto' && header !== true && header !== false)
    throw new TypeError(`${WHERE}: header must be 'auto', true or false, got ${String(header)}`);
  if (task !== 'auto' && task !== 'classification' && task !== 'regression')
    throw new TypeError(`${WHERE}: task must be 'auto', 'classification' or 'regression', got ${String(task)}`);
  if (typeof delimiter !== 'string' || delimiter.length === 0)
    throw new TypeError(`${WHERE}: delimiter must be a non-empty string, got ${String(delimiter)}`);

  const rows = tokenize(text, delimiter);
  if (rows.length === 0) throw new CsvError(`${WHERE}: the file is empty (no rows)`, 0, '', '');
  const width = checkWidths(rows, delimiter, WHERE);

  const labelSpec = options.label ?? width - 1;
  const specs = Array.isArray(labelSpec) ? labelSpec : [labelSpec as string | number];
  const byName = specs.some((s) => typeof s === 'string');
  const hasHeader = header === 'auto' ? byName || sniffHeader(rows) : header;
  const headerCells = hasHeader ? rows[0]!.cells.map((c) => c.trim()) : undefined;
  headerCells?.forEach((name, j) => {
    const first = headerCells.indexOf(name);
    if (name !== '' && first < j)
      throw new CsvError(
        `${WHERE}: header names column ${first + 1} and column ${j + 1} both '${name}'; column names must be unique`,
        rows[0]!.line,
        name,
        name,
      );
  });
  const body = hasHeader ? rows.slice(1) : rows;
  if (body.length === 0) throw new CsvError(`${WHERE}: the file has a header but no data rows`, 0, '', '');
  const columnName = (j: number) => headerCells?.[j] || `column ${j + 1}`;

  const labelCols = resolveLabels(specs, width, headerCells);
  if (labelCols.length > 1 && task === 'classification')
    throw new TypeError(`${WHERE}: classification takes one label column, got ${labelCols.length}`);
  const featureCols: number[] = [];
  for (let j = 0; j < width; j++) if (!labelCols.includes(j)) featureCols.push(j);
  if (featureCols.length === 0) throw new CsvError(`${WHERE}: no feature columns: all ${width} columns are labels`, 0, '', '');

  const n = body.length,
    d = featureCols.length;
  const features = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = body[i]!;
    for (let f = 0; f < d; f++) features[i * d + f] = cellNumber(row, featureCols[f]!, columnName);
  }
  const featureNames = featureCols.map(columnName);

  const resolved = task === 'auto' ? (labelCols.length > 1 ? 'regression' : guessTask(body, labelCols[0]!)) : task;
  if (resolved === 'regression') {
    const k = labelCols.length;
    const targets = new Float32Array(n * k);
    for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) targets[i * k + t] = cellNumber(body[i]!, labelCols[t]!, columnName);
    return new Dataset({ features, featureNames, targets, numTargets: k, targetNames: labelCols.map(columnName) });
  }
  const { labels, classNames } = classIds(body, labelCols[0]!, columnName);
  return new Dataset({ features, featureNames, labels, classNames });
}

/** Text encodings a CSV file may be declared in (`encoding`, `--encoding`). */
export const CSV_ENCODINGS = ['utf-8', 'utf-16le', 'utf-16be', 'latin1'] as const;
/** A text encoding of CSV_ENCODINGS. */
export type CsvEncoding = (typeof CSV_ENCODINGS)[number];

/**
 * The text of a data file's bytes. Gzip (magic bytes 1f 8b) is decompressed first. Then a byte
 * order mark decides (UTF-8, UTF-16 LE or BE) and wins over `encoding`; without one, `encoding`
 * decides (default UTF-8), except that UTF-16 text without a mark is recognised by its zero
 * bytes. Bytes that are not valid in the encoding are a CsvError naming the byte offset and the
 * way out (`--encoding latin1`), never U+FFFD in a class name.
 *
 * @example
 * const text = await decodeCsvBytes(readFileSync('data.csv.gz'));
 */
export async function decodeCsvBytes(input: Uint8Array, encoding?: CsvEncoding, where = WHERE): Promise<string> {
  if (encoding !== undefined && !(CSV_ENCODINGS as readonly string[]).includes(encoding))
    throw new TypeError(`${where}: encoding must be one of ${CSV_ENCODINGS.join(', ')}, got ${JSON.stringify(encoding)}`);
  let bytes = input;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = await gunzip(bytes, where);
  let chosen: CsvEncoding = encoding ?? 'utf-8';
  let skip = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) [chosen, skip] = ['utf-8', 3];
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) [chosen, skip] = ['utf-16le', 2];
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) [chosen, skip] = ['utf-16be', 2];
  else if (encoding === undefined) chosen = sniffUtf16(bytes) ?? 'utf-8';
  const body = bytes.subarray(skip);
  if (chosen === 'latin1') return latin1(body);
  if (chosen !== 'utf-8' && body.length % 2 !== 0)
    throw new CsvError(`${where}: the file is ${chosen} but has an odd number of bytes (${body.length}); it is cut short`, 0, '', '');
  try {
    return new TextDecoder(chosen, { fatal: true }).decode(body);
  } catch {
    const at = chosen === 'utf-8' ? firstBadUtf8(body) : -1;
    const hint = chosen === 'utf-8' ? "; if the file is Latin-1 (ISO-8859-1), declare it with encoding 'latin1' (--encoding latin1)" : '';
    throw new CsvError(
      `${where}: the file is not valid ${chosen}${at >= 0 ? ` (byte ${at + skip}, on row ${rowOf(body, at)}, is 0x${body[at]!.toString(16).padStart(2, '0')})` : ''}${hint}`,
      0,
      '',
      '',
    );
  }
}

// Latin-1 maps each byte to the code point of the same number (TextDecoder's 'latin1' label is
// windows-1252, which differs in 0x80–0x9f).
function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

// UTF-16 text of mostly ASCII has a zero in every other byte; UTF-8 text never holds a zero.
function sniffUtf16(bytes: Uint8Array): CsvEncoding | undefined {
  const n = Math.min(bytes.length, 512) & ~1;
  if (n < 4) return undefined;
  let even = 0,
    odd = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) even++;
    if (bytes[i + 1] === 0) odd++;
  }
  if (odd > n / 4 && even === 0) return 'utf-16le';
  if (even > n / 4 && odd === 0) return 'utf-16be';
  return undefined;
}

const rowOf = (bytes: Uint8Array, at: number): number => {
  let row = 1;
  for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) row++;
  return row;
};

// The first byte that starts no valid UTF-8 sequence (lead byte and continuation bytes only;
// -1 when the fault is subtler, e.g. an overlong form).
function firstBadUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

async function gunzip(bytes: Uint8Array, where: string): Promise<Uint8Array> {
  try {
    if (typeof DecompressionStream === 'function') {
      const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    }
    const { gunzipSync } = await import('node:zlib');
    return new Uint8Array(gunzipSync(bytes));
  } catch (error) {
    throw new CsvError(`${where}: the file starts like gzip (1f 8b) but does not decompress: ${(error as Error).message}`, 0, '', '');
  }
}

/**
 * Reads a CSV file (Node, Deno, Bun), plain or gzip, in the encoding `decodeCsvBytes` finds or
 * `encoding` declares, and parses it with `parseCsv`.
 *
 * @example
 * const ds = await loadCsv('data/wine.csv', { label: 'quality', task: 'regression' });
 */
export async function loadCsv(path: string | URL, options: CsvOptions & { encoding?: CsvEncoding } = {}): Promise<Dataset> {
  const { encoding, ...rest } = options;
  return parseCsv(await decodeCsvBytes(await readFileBytes(path), encoding, 'loadCsv'), rest);
}

// Papa Parse quietly replaces these delimiters with ','; kiln refuses them instead.
const BAD_DELIMITERS = ['\r', '\n', '"', '\uFEFF'];

/** Records of CSV text (Papa Parse: quotes, CRLF, BOM), blank lines skipped; `where` names the
 *  caller in errors. Papa Parse needs no Node Buffer, so browser bundles carry no polyfill. */
export function tokenize(text: string, delimiter: string, where = WHERE): Row[] {
  if (BAD_DELIMITERS.includes(delimiter))
    throw new TypeError(`${where}: delimiter ${JSON.stringify(delimiter)} is a line break, quote or byte order mark; choose another`);
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows: Row[] = [];
  // Each record starts where the previous one ended (Papa's cursor, past its line break); the
  // line it starts on is 1 + the line breaks before that offset, counted once as the cursor moves.
  let start = 0,
    line = 1;
  const lineAt = (offset: number): number => {
    for (let p = body.indexOf('\n', start); p >= 0 && p < offset; p = body.indexOf('\n', p + 1)) line++;
    start = Math.max(start, offset);
    return line;
  };
  let malformed: CsvError | undefined;
  Papa.parse<string[]>(body, {
    delimiter,
    step: (result, parser) => {
      const quoteError = result.errors.find((e) => e.type === 'Quotes');
      if (quoteError) {
        const at = lineAt(quoteError.index ?? start);
        malformed = new CsvError(`${where}: malformed CSV near row ${at}: ${quoteError.message}`, at, '', '');
        parser.abort();
        return;
      }
      const record = result.data;
      const first = lineAt(start);
      lineAt(result.meta.cursor);
      // Whitespace-only lines count as blank: a trailing "  " line is a typing slip, not a row.
      if (record.length === 1 && record[0]!.trim() === '') return;
      rows.push({ cells: record, line: first });
    },
  });
  if (malformed) throw malformed;
  return rows;
}

/**
 * Checks that every row has as many cells as the first and returns that count. A mismatch
 * names the row, both counts and the row's text; a trailing comma (an extra empty last cell, on
 * one row or on every row including the header) is called that, with the column it follows.
 */
export function checkWidths(rows: Row[], delimiter: string, where: string): number {
  const first = rows[0]!;
  const width = first.cells.length;
  const lastEmpty = (r: Row) => r.cells.length > 1 && r.cells.at(-1)!.trim() === '';
  for (const r of rows) {
    if (r.cells.length === width) continue;
    const text = clip(r.cells.join(delimiter));
    let why = '';
    if (r.cells.length === width + 1 && lastEmpty(r))
      why = `; its last cell is empty: a trailing '${delimiter}' after column ${width} ('${clip(first.cells[width - 1]!.trim(), 40)}')?`;
    else if (r.cells.length === width - 1 && lastEmpty(first))
      why = `; row ${first.line} ends with an empty cell: a trailing '${delimiter}' after its column ${width - 1}?`;
    throw new CsvError(
      `${where}: row ${r.line} has ${r.cells.length} cells, expected ${width} like row ${first.line}${why}: '${text}'`,
      r.line,
      '',
      text,
    );
  }
  if (rows.every(lastEmpty))
    throw new CsvError(
      `${where}: column ${width} is empty in every row, header included: each line ends with a trailing '${delimiter}'; remove them`,
      first.line,
      `column ${width}`,
      '',
    );
  return width;
}

const isNumber = (cell: string) => NUMBER.test(cell.trim());

/** Whether the first row is a header by the numeric-column rule of `parseCsv`. */
export function sniffHeader(rows: Row[]): boolean {
  const first = rows[0]!.cells;
  const sample = rows.slice(1, 1 + SNIFF_ROWS);
  if (sample.length === 0) return !first.every(isNumber);
  return first.some((cell, j) => !isNumber(cell) && sample.every((r) => isNumber(r.cells[j]!)));
}

function resolveLabels(specs: readonly (string | number)[], width: number, header: string[] | undefined): number[] {
  if (specs.length === 0) throw new TypeError(`${WHERE}: label must name at least one column, got []`);
  const cols = specs.map((s) => {
    if (typeof s === 'number') {
      if (!Number.isInteger(s) || s < 0 || s >= width)
        throw new CsvError(`${WHERE}: label column index ${s} is outside [0, ${width}) for ${width} columns`, 0, String(s), '');
      return s;
    }
    if (typeof s !== 'string') throw new TypeError(`${WHERE}: label must be a column name or index, got ${typeof s}`);
    if (!header) throw new CsvError(`${WHERE}: label column '${s}' given by name, but the file has no header (header: false)`, 0, s, '');
    const j = header.indexOf(s);
    if (j < 0) throw new CsvError(`${WHERE}: label column '${s}' not found in header [${header.join(', ')}]`, 1, s, '');
    return j;
  });
  if (new Set(cols).size !== cols.length) throw new TypeError(`${WHERE}: label names the same column twice: ${specs.join(', ')}`);
  return cols;
}

function cellNumber(row: Row, j: number, columnName: (j: number) => string): number {
  const cell = row.cells[j]!;
  const v = NUMBER.test(cell.trim()) ? Number(cell) : NaN;
  if (!Number.isFinite(v) || Math.abs(v) > 3.4028234663852886e38) {
    const what = cell.trim() === '' ? 'is empty' : Number.isFinite(v) ? 'overflows f32' : 'is not a finite number';
    throw new CsvError(
      `${WHERE}: row ${row.line}, column '${columnName(j)}': value '${clip(cell)}' ${what}`,
      row.line,
      columnName(j),
      clip(cell),
    );
  }
  return v;
}

function guessTask(body: Row[], j: number): Task {
  const distinct = new Set<number>();
  for (const row of body) {
    const cell = row.cells[j]!;
    if (!isNumber(cell)) return 'classification';
    const v = Number(cell);
    if (!Number.isInteger(v)) return 'regression';
    distinct.add(v);
  }
  return distinct.size <= AUTO_CLASS_LIMIT ? 'classification' : 'regression';
}

function classIds(body: Row[], j: number, columnName: (j: number) => string): { labels: Int32Array; classNames: string[] } {
  const texts = body.map((r) => r.cells[j]!.trim());
  texts.forEach((t, i) => {
    if (t === '')
      throw new CsvError(`${WHERE}: row ${body[i]!.line}, column '${columnName(j)}': label is empty`, body[i]!.line, columnName(j), '');
  });
  const numeric = texts.every((t) => NUMBER.test(t));
  // Numeric labels are compared by value so that '2', '2.0' and '10' sort and merge as numbers.
  const key = (t: string) => (numeric ? String(Number(t)) : t);
  const unique = [...new Set(texts.map(key))];
  unique.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const id = new Map(unique.map((name, c) => [name, c]));
  const labels = Int32Array.from(texts, (t) => id.get(key(t))!);
  return { labels, classNames: unique };
}
