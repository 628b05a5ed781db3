// Raw tables, column typing and labels: each rule of parseTable, inferColumnKind and tableLabels
// on a table small enough to check by eye.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsvError } from '../../src/data/csv.ts';
import { inferColumnKind } from '../../src/data/column-types.ts';
import { tableLabels, splitTable } from '../../src/data/table-data.ts';
import { missingSet, parseTable, tableFromRecords } from '../../src/data/table.ts';

test('parseTable: header detection, trimmed cells, spreadsheet row numbers', () => {
  const t = parseTable('city, age\n"Paris, FR", 31\n\nOslo,NA\n');
  assert.deepEqual(t.names, ['city', 'age']);
  assert.deepEqual(t.rows, [
    ['Paris, FR', '31'],
    ['Oslo', 'NA'],
  ]);
  assert.deepEqual(t.lines, [2, 4]);
  // All text: a header when its cells are distinct, not numbers, and not repeated below.
  assert.equal(parseTable('colour,size\nred,big\nblue,small\n').hasHeader, true);
  assert.equal(parseTable('red,big\nblue,small\nred,small\n').hasHeader, false);
  assert.equal(parseTable('1,2\n3,4\n').hasHeader, false);
  assert.deepEqual(parseTable('1,2\n3,4\n').names, ['column 1', 'column 2']);
  // A model's names decide: all present is a header, none present is data.
  assert.equal(parseTable('b,a\n1,2\n', { expect: ['a', 'b'] }).hasHeader, true);
  assert.equal(parseTable('x,y\n1,2\n', { expect: ['a', 'b'], header: false }).hasHeader, false);
  assert.throws(() => parseTable('a,c\n1,2\n', { expect: ['a', 'b'] }), /the header lacks column 'b' \(expected: a, b\)/);
});

test('parseTable rejects duplicate names, ragged rows and empty files; long cells are clipped', () => {
  assert.throws(
    () => parseTable('a,b,a\n1,2,3\n', { header: true }),
    (e: unknown) => e instanceof CsvError && /header names column 1 and column 3 both 'a'/.test(e.message),
  );
  assert.throws(() => parseTable('a,b\n1,2\n3\n'), /row 3 has 1 cells, expected 2 like row 1/);
  assert.throws(() => parseTable(''), /the file is empty/);
  const long = 'x'.repeat(100_000);
  assert.throws(
    () => parseTable(`a,b\n1,2\n${long}\n`),
    (e: unknown) => e instanceof CsvError && e.message.length < 300 && /100000 characters/.test(e.message),
  );
  assert.throws(() => parseTable('a\n1\n', { header: 'yes' as never }), /header must be 'auto', true or false/);
});

test('tableFromRecords: keys in first-seen order, gaps, numbers and booleans as text', () => {
  const t = tableFromRecords([
    { a: 1.5, b: true },
    { c: 'x', a: null },
    { a: NaN, b: undefined },
  ]);
  assert.deepEqual(t.names, ['a', 'b', 'c']);
  assert.deepEqual(t.rows, [
    ['1.5', 'true', ''],
    ['', '', 'x'],
    ['', '', ''],
  ]);
  assert.throws(() => tableFromRecords([{ a: Infinity }]), /records\[0\]\.a must be finite, got Infinity/);
  assert.throws(() => tableFromRecords([{ a: [1] }]), /records\[0\]\.a must be a string, number, boolean or null, got array/);
  assert.throws(() => tableFromRecords([3 as never]), /records\[0\] must be an object keyed by column name, got number/);
  assert.throws(() => tableFromRecords({} as never), /records must be an array of objects/);
});

test('inferColumnKind: each rule in order', () => {
  const missing = missingSet('test', undefined);
  const kind = (cells: string[], name = 'c') => {
    const t = tableFromRecords(cells.map((c) => ({ [name]: c })));
    return inferColumnKind(t, 0, (c) => missing.has(c.toLowerCase())).kind;
  };
  const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));
  assert.equal(kind(['', 'NA', 'n/a', '?', 'null', 'NaN']), 'ignore', 'every value missing (markers any case)');
  assert.equal(kind(['1', '2'], 'customer_id'), 'ignore', 'named like an identifier');
  assert.equal(kind(['1', '2.5', '-3e2', 'NA']), 'numeric');
  assert.equal(kind(range(30, (i) => String(i + 1))), 'ignore', 'a row number');
  assert.equal(kind(range(30, (i) => String(i * 97))), 'numeric', 'distinct integers spread wide are a measurement');
  assert.equal(kind(['yes', 'No', 'Y', 'TRUE', 'f', '']), 'boolean');
  assert.equal(kind(['constructor', 'toString']), 'categorical', 'no prototype names as booleans');
  assert.equal(kind(['red', 'blue', 'red', 'green']), 'categorical');
  assert.equal(kind(['a long sentence here', 'another one with words', 'three more words']), 'text');
  assert.equal(kind(range(25, (i) => `user${i}`)), 'ignore', 'all distinct: an identifier');
  assert.throws(
    () => kind(['1', '2', 'three', '4']),
    (e: unknown) =>
      e instanceof CsvError &&
      e.column === 'c' &&
      e.value === 'three' &&
      /records\[2\], column 'c': value 'three' is not a number, but 3 of the 4 training values are/.test(e.message),
  );
});

test('tableLabels: by name or index, missing labels dropped and counted, class order', () => {
  const t = parseTable('x,y\n1,no\n2,\n3,yes\n4,NA\n5,no\n');
  const a = tableLabels(t, { label: 'y' });
  assert.equal(a.dropped, 2);
  assert.deepEqual(Array.from(a.rows), [0, 2, 4]);
  assert.deepEqual(a.classNames, ['no', 'yes']);
  assert.deepEqual(Array.from(a.labels!), [0, 1, 0]);
  const b = tableLabels(t, { label: 1, classes: ['yes', 'no', 'maybe'] });
  assert.deepEqual(Array.from(b.labels!), [1, 0, 1]);
  assert.throws(
    () => tableLabels(t, { classes: ['yes'] }),
    (e: unknown) => e instanceof CsvError && /row 2, label column 'y': 'no' is not one of the classes \(yes\)/.test(e.message),
  );
  assert.throws(() => tableLabels(t, { classes: ['yes', 'yes'] }), /classes names 'yes' twice/);
  assert.throws(() => tableLabels(t, { label: 'z' }), /label column 'z' not found in header \[x, y\]/);
  assert.throws(() => tableLabels(t, { label: 2 }), /label column index 2 is outside \[0, 2\)/);
  const r = tableLabels(parseTable('x,p\n1,2.5\n2,?\n3,10\n'), {});
  assert.equal(r.task, 'regression');
  assert.deepEqual(Array.from(r.targets!), [2.5, 10]);
  assert.throws(
    () => tableLabels(parseTable('x,p\n1,2.5\n2,abc\n'), { task: 'regression' }),
    /row 3, label column 'p': value 'abc' is not a finite number/,
  );
  assert.throws(() => tableLabels(parseTable('x,p\n1,\n2,NA\n'), {}), /the label column 'p' has no values/);
  // Numeric labels sort and merge by value.
  assert.deepEqual(tableLabels(parseTable('x,k\n1,10\n2,2\n3,2.0\n'), {}).classNames, ['2', '10']);
});

test('splitTable refuses a label with one class', () => {
  assert.throws(
    () => splitTable(parseTable('x,y\n1,a\n2,a\n3,a\n4,,\n'.replace(',,', ',')), { label: 'y' }),
    /the label 'y' has one class \('a'\): there is nothing to tell apart/,
  );
});
