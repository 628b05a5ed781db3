// Bad CSV files: parseCsv (numeric matrices), parseTable (typed tables) and the byte decoder.
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CsvError, decodeCsvBytes, parseCsv } from '../../src/data/csv.ts';
import { parseTable } from '../../src/data/table.ts';
import { runCorpus, type BadInput } from './corpus.ts';

const HEADER = ['sepal_len', 'sepal_wid', 'petal_len', 'petal_wid', 'species'];
const ROWS = [
  ['5.1', '3.5', '1.4', '0.2', 'setosa'],
  ['7.0', '3.2', '4.7', '1.4', 'versicolor'],
  ['6.3', '3.3', '6.0', '2.5', 'virginica'],
  ['4.9', '3.0', '1.4', '0.2', 'setosa'],
];
const csv = (rows: string[][], header = HEADER) => [header, ...rows].map((r) => r.join(',')).join('\n') + '\n';
const withCell = (row: number, col: number, value: string) =>
  ROWS.map((r, i) => (i === row ? r.map((c, j) => (j === col ? value : c)) : r));

const cases: BadInput[] = [];

// A bad value in each feature column, on each row: CsvError naming row, column and value.
const BAD_NUMBERS: [string, string][] = [
  ['', 'is empty'],
  ['NaN', 'is not a finite number'],
  ['Infinity', 'is not a finite number'],
  ['-Infinity', 'is not a finite number'],
  ['abc', 'is not a finite number'],
  ['0x1A', 'is not a finite number'],
  ['1e39', 'overflows f32'],
  ['--1', 'is not a finite number'],
  ['1.2.3', 'is not a finite number'],
  ['"3,5"', 'is not a finite number'],
];
for (const [value, what] of BAD_NUMBERS)
  for (let col = 0; col < 4; col++) {
    const row = (col + BAD_NUMBERS.findIndex(([v]) => v === value)) % ROWS.length;
    const shown = value.startsWith('"') ? value.slice(1, -1) : value;
    cases.push({
      name: `parseCsv: ${JSON.stringify(value)} in ${HEADER[col]} row ${row + 2}`,
      run: () => parseCsv(csv(withCell(row, col, value))),
      type: CsvError,
      names: [`row ${row + 2}`, `column '${HEADER[col]}'`, `value '${shown}'`, what],
    });
  }

// Ragged rows at each position, too short and too long.
for (let row = 0; row < ROWS.length; row++)
  for (const [label, cells] of [
    ['short', ROWS[row]!.slice(0, 3)],
    ['long', [...ROWS[row]!.slice(0, 4), '9.9', ROWS[row]![4]!]],
  ] as const) {
    const rows = ROWS.map((r, i) => (i === row ? [...cells] : r));
    for (const [reader, parse] of [
      ['parseCsv', (t: string) => parseCsv(t)],
      ['parseTable', (t: string) => parseTable(t)],
    ] as const)
      cases.push({
        name: `${reader}: ${label} row ${row + 2}`,
        run: () => parse(csv(rows)),
        type: CsvError,
        names: [reader, `row ${row + 2} has ${cells.length} cells, expected 5 like row 1`, cells[0]!],
      });
  }

// Trailing commas: one row, the header, every line.
for (let row = 0; row < ROWS.length; row++)
  cases.push({
    name: `trailing comma on row ${row + 2}`,
    run: () => parseCsv(csv(ROWS.map((r, i) => (i === row ? [...r, ''] : r)))),
    type: CsvError,
    names: [`row ${row + 2} has 6 cells`, "a trailing ',' after column 5 ('species')"],
  });
cases.push({
  name: 'trailing comma in the header only',
  run: () => parseTable(csv(ROWS, [...HEADER, ''])),
  type: CsvError,
  names: ['row 2 has 5 cells, expected 6', "trailing ',' after its column 5"],
});
cases.push({
  name: 'trailing comma on every line',
  run: () =>
    parseCsv(
      csv(
        ROWS.map((r) => [...r, '']),
        [...HEADER, ''],
      ),
    ),
  type: CsvError,
  names: ['column 6 is empty in every row', "trailing ','"],
});

// Duplicate header names, each pair of columns.
for (let a = 0; a < 4; a++)
  for (let b = a + 1; b < 4; b++) {
    const header = HEADER.map((h, j) => (j === b ? HEADER[a]! : h));
    cases.push({
      name: `duplicate header ${HEADER[a]} at ${a + 1} and ${b + 1}`,
      run: () => parseCsv(csv(ROWS, header)),
      type: CsvError,
      names: [`column ${a + 1} and column ${b + 1} both '${HEADER[a]}'`],
    });
  }

// Empty labels on each row, labels by a name that is not there, indices out of range.
for (let row = 0; row < ROWS.length; row++)
  cases.push({
    name: `empty label on row ${row + 2}`,
    run: () => parseCsv(csv(withCell(row, 4, ''))),
    type: CsvError,
    names: [`row ${row + 2}`, "column 'species'", 'label is empty'],
  });
for (const label of ['Species', 'class', 'species ', 'target'])
  cases.push({
    name: `label '${label}' not in header`,
    run: () => parseCsv(csv(ROWS), { label }),
    type: CsvError,
    names: [`label column '${label}' not found in header`, 'sepal_len'],
  });
for (const label of [5, 6, 99])
  cases.push({
    name: `label index ${label}`,
    run: () => parseCsv(csv(ROWS), { label }),
    type: CsvError,
    names: [`label column index ${label} is outside [0, 5)`],
  });

// Whole-file problems.
cases.push(
  { name: 'empty text', run: () => parseCsv(''), type: CsvError, names: ['the file is empty'] },
  { name: 'only blank lines', run: () => parseCsv('\n\n  \n'), type: CsvError, names: ['the file is empty'] },
  {
    name: 'header only',
    run: () => parseCsv(HEADER.join(',') + '\n', { label: 'species' }),
    type: CsvError,
    names: ['has a header but no data rows'],
  },
  { name: 'unclosed quote', run: () => parseCsv('a,b\n1,"2\n3,4\n'), type: CsvError, names: ['malformed CSV near row'] },
  { name: 'not a string', run: () => parseCsv(42 as never), type: TypeError, names: ['text must be a string, got number'] },
  {
    name: 'bad delimiter option',
    run: () => parseCsv('a\n1\n', { delimiter: '' }),
    type: TypeError,
    names: ['delimiter must be a non-empty string'],
  },
  {
    name: 'bad header option',
    run: () => parseCsv('a\n1\n', { header: 'yes' as never }),
    type: TypeError,
    names: ["header must be 'auto', true or false, got yes"],
  },
  {
    name: 'bad task option',
    run: () => parseCsv('a\n1\n', { task: 'cluster' as never }),
    type: TypeError,
    names: ['task must be', 'got cluster'],
  },
  { name: 'unknown option', run: () => parseCsv('a\n1\n', { labels: 'a' } as never), type: TypeError, names: ["unknown option 'labels'"] },
  {
    name: 'long bad cell is clipped',
    run: () => parseCsv(csv(withCell(1, 2, 'q'.repeat(100_000)))),
    type: CsvError,
    names: ['(100000 characters)', "column 'petal_len'"],
  },
);

// Bytes: invalid UTF-8 at several places, broken gzip, odd UTF-16.
const text = new TextEncoder().encode(csv(ROWS));
for (const at of [0, 7, 40, 80, text.length - 2]) {
  const bytes = text.slice();
  bytes[at] = 0xff;
  const row = new TextDecoder().decode(text.subarray(0, at)).split('\n').length;
  cases.push({
    name: `0xff at byte ${at}`,
    run: () => decodeCsvBytes(bytes),
    type: CsvError,
    names: [`byte ${at}, on row ${row}, is 0xff`, '--encoding latin1'],
  });
}
const gz = new Uint8Array(gzipSync(text));
for (const cut of [10, gz.length >> 1, gz.length - 4])
  cases.push({
    name: `gzip cut at ${cut}`,
    run: () => decodeCsvBytes(gz.subarray(0, cut)),
    type: CsvError,
    names: ['starts like gzip (1f 8b) but does not decompress'],
  });
cases.push({
  name: 'odd-length UTF-16',
  run: () => decodeCsvBytes(Uint8Array.of(0xfe, 0xff, 0, 0x61, 0)),
  type: CsvError,
  names: ['utf-16be', 'odd number of bytes (3)'],
});

test('bad CSV inputs: each a CsvError (or TypeError for options) naming row, column and value', () => runCorpus(cases, 95));
