import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsvError, loadCsv, parseCsv } from '../../src/data/csv.ts';

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);

function csvError(row: number, column: string, value: string, message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof CsvError, `expected CsvError, got ${String(e)}`);
    assert.equal(e.row, row);
    assert.equal(e.column, column);
    assert.equal(e.value, value);
    assert.match(e.message, message);
    return true;
  };
}

test('loadCsv: header detected, string labels sorted into class ids', async () => {
  const ds = await loadCsv(fixture('flowers.csv'));
  assert.equal(ds.task, 'classification');
  assert.deepEqual(ds.featureNames, ['sepal', 'petal']);
  assert.deepEqual(ds.classNames, ['setosa', 'versicolor', 'virginica']);
  assert.deepEqual([...ds.labels], [0, 1, 2, 0]);
  assert.deepEqual([...ds.features], [5.1, 1.4, 7.0, 4.7, 6.3, 6.0, 4.9, 1.4].map(Math.fround));
});

test('loadCsv: other delimiter, label by name, regression forced and guessed', async () => {
  const ds = await loadCsv(fixture('houses-semicolon.csv'), { delimiter: ';', label: 'price' });
  assert.equal(ds.task, 'regression', 'non-integer labels mean regression');
  assert.deepEqual(ds.featureNames, ['rooms', 'area']);
  assert.deepEqual(ds.targetNames, ['price']);
  assert.deepEqual([...ds.targets], [210.5, 300, 150, 410.75]);
  const byRooms = await loadCsv(fixture('houses-semicolon.csv'), { delimiter: ';', label: 0, task: 'regression' });
  assert.deepEqual([...byRooms.targets], [3, 4, 2, 5]);
  assert.deepEqual(byRooms.featureNames, ['area', 'price']);
});

test('bad cell: CsvError with spreadsheet row, column name and value', async () => {
  await assert.rejects(
    loadCsv(fixture('bad-cell.csv')),
    csvError(3, 'b', 'oops', /row 3, column 'b': value 'oops' is not a finite number/),
  );
});

test('header auto-detection', () => {
  const noHeader = parseCsv('1,2,0\n3,4,1\n');
  assert.equal(noHeader.numRows, 2);
  assert.deepEqual(noHeader.featureNames, ['column 1', 'column 2']);
  const withHeader = parseCsv('f1,f2,y\n1,2,0\n3,4,1\n');
  assert.equal(withHeader.numRows, 2);
  assert.deepEqual(withHeader.featureNames, ['f1', 'f2']);
  // A numeric-looking header stays data unless forced.
  const forced = parseCsv('10,20,1\n1,2,0\n3,4,1\n', { header: true });
  assert.deepEqual(forced.featureNames, ['10', '20']);
  assert.equal(forced.numRows, 2);
  // header: false keeps a text first row as data, which then fails as a bad cell.
  assert.throws(
    () => parseCsv('f1,f2,y\n1,2,0\n', { header: false }),
    csvError(1, 'column 1', 'f1', /row 1, column 'column 1': value 'f1'/),
  );
  // String label column alone does not make a header: the feature columns decide.
  const strings = parseCsv('1,2,cat\n3,4,dog\n');
  assert.equal(strings.numRows, 2);
  assert.deepEqual(strings.classNames, ['cat', 'dog']);
});

test('task auto rule: integers with at most 20 distinct values are classes', () => {
  const rows = (values: number[]) => values.map((v, i) => `${i},${v}`).join('\n');
  const few = parseCsv(rows([3, 1, 2, 1, 3]));
  assert.equal(few.task, 'classification');
  assert.deepEqual(few.classNames, ['1', '2', '3']);
  assert.deepEqual([...few.labels], [2, 0, 1, 0, 2]);
  const many = parseCsv(rows(Array.from({ length: 21 }, (_, i) => i * 7)));
  assert.equal(many.task, 'regression');
  const twenty = parseCsv(rows(Array.from({ length: 40 }, (_, i) => i % 20)));
  assert.equal(twenty.task, 'classification');
  assert.equal(twenty.numClasses, 20);
  // Numeric labels sort by value, not by text: 10 after 9.
  const numeric = parseCsv('x,y\n1,10\n2,9\n3,10\n', { task: 'classification' });
  assert.deepEqual(numeric.classNames, ['9', '10']);
  assert.deepEqual([...numeric.labels], [1, 0, 1]);
  // '2' and '2.0' are one class.
  const merged = parseCsv('x,y\n1,2\n2,2.0\n3,1\n', { task: 'classification' });
  assert.deepEqual(merged.classNames, ['1', '2']);
  assert.deepEqual([...merged.labels], [1, 1, 0]);
});

test('string classes sort by code unit', () => {
  const ds = parseCsv('x,y\n1,b\n2,ba\n3,B\n4,a\n');
  assert.deepEqual(ds.classNames, ['B', 'a', 'b', 'ba']);
  assert.deepEqual([...ds.labels], [2, 3, 0, 1]);
});

test('multi-output regression, quoted cells, CRLF, BOM, blank lines, spaces', () => {
  const text = '\uFEFFa,"b",t1,t2\r\n 1 ,"2",3,4\r\n\r\n5,6,7,8\r\n';
  const ds = parseCsv(text, { label: ['t1', 't2'] });
  assert.equal(ds.task, 'regression');
  assert.deepEqual(ds.featureNames, ['a', 'b']);
  assert.deepEqual(ds.targetNames, ['t1', 't2']);
  assert.deepEqual([...ds.features], [1, 2, 5, 6]);
  assert.deepEqual([...ds.targets], [3, 4, 7, 8]);
});

test('rows are numbered as lines, blank lines and the header included', () => {
  assert.throws(() => parseCsv('a,y\n1,0\n\n\n2,1\nzz,1\n'), csvError(6, 'a', 'zz', /row 6, column 'a'/));
  // A quoted label spanning two lines: the bad row is reported at the line it starts on.
  assert.throws(() => parseCsv('a,b,y\n1,2,"two\nlines"\n3,zz,c\n'), csvError(4, 'b', 'zz', /row 4, column 'b'/));
  assert.throws(() => parseCsv('a,b,y\nzz,1,"two\nlines"\n2,3,c\n'), csvError(2, 'a', 'zz', /row 2, column 'a'/));
});

test('structural errors', () => {
  assert.throws(() => parseCsv(''), csvError(0, '', '', /the file is empty/));
  assert.throws(() => parseCsv('\n\n  \n'), /the file is empty/);
  assert.throws(() => parseCsv('a,b,y\n'), /has a header but no data rows/);
  assert.throws(() => parseCsv('a,b,y\n1,2,0\n3,4\n'), csvError(3, '', '3,4', /row 3 has 2 cells, expected 3 like row 1/));
  assert.throws(() => parseCsv('y\n1\n2\n'), /no feature columns: all 1 columns are labels/);
  assert.throws(() => parseCsv('a,b,y\n1,2,0\n', { label: 'z' }), csvError(1, 'z', '', /label column 'z' not found in header \[a, b, y\]/));
  assert.throws(() => parseCsv('1,2,0\n', { label: 'y', header: false }), /given by name, but the file has no header/);
  assert.throws(() => parseCsv('1,2,0\n', { label: 3 }), /label column index 3 is outside \[0, 3\)/);
  assert.throws(
    () => parseCsv('a,b\n"1,2\n'),
    (e: unknown) => e instanceof CsvError && /malformed CSV/.test(e.message),
  );
  assert.throws(() => parseCsv('a,y\n,1\n'), csvError(2, 'a', '', /value '' is empty/));
  assert.throws(() => parseCsv('a,y\nNaN,1\n'), csvError(2, 'a', 'NaN', /is not a finite number/));
  assert.throws(() => parseCsv('a,y\n1e39,1\n'), csvError(2, 'a', '1e39', /overflows f32/));
  assert.throws(() => parseCsv('a,y\n1,\n2,b\n'), csvError(2, 'y', '', /label is empty/));
  assert.throws(() => parseCsv('a,y\n1,x\n', { task: 'regression' }), csvError(2, 'y', 'x', /row 2, column 'y': value 'x'/));
  assert.throws(
    () => parseCsv('a,b,c\n1,2,3\n', { label: ['b', 'c'], task: 'classification' }),
    /classification takes one label column, got 2/,
  );
  assert.throws(() => parseCsv('a,y\n1,2\n', { labels: 'y' } as never), /unknown option 'labels'/);
  assert.throws(() => parseCsv('a,y\n1,2\n', { task: 'cluster' as never }), /task must be 'auto', 'classification' or 'regression'/);
});

test('duplicate header names and huge bad cells get short, precise errors', () => {
  assert.throws(
    () => parseCsv('a,b,a,y\n1,2,3,0\n'),
    csvError(1, 'a', 'a', /header names column 1 and column 3 both 'a'; column names must be unique/),
  );
  const huge = 'z'.repeat(10_000_000);
  assert.throws(
    () => parseCsv(`a,y\n1,0\n${huge},1\n`),
    (e: unknown) =>
      e instanceof CsvError &&
      e.message.length < 300 &&
      e.value.length < 100 &&
      /\(10000000 characters\)' is not a finite number/.test(e.message),
  );
});
