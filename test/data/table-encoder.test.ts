// TableEncoder against encodings worked out by hand from test/fixtures/tables/people.csv:
//   id,city,age,member,notes,y   (6 rows; gaps: city row 7, age rows 3 and 5, member row 4, notes row 6)
// city: Paris 2, Oslo 2, Rome 1 → ranked Oslo, Paris (tie by code unit), Rome; fill Oslo.
// age: 30, 50, 40, 26 → mean 36.5, median 35.  member: yes 3 of 5 → fill 1.
// notes (words and pairs in ≥ 2 rows): great 3; and, fast, late, service, slow 2 each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CsvError } from '../../src/data/csv.ts';
import { TableEncoder } from '../../src/data/table-encoder.ts';
import { parseTable, tableFromRecords, tableRows } from '../../src/data/table.ts';
import { splitTable } from '../../src/data/table-data.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/tables/${name}`, import.meta.url), 'utf8');
const people = () => parseTable(fixture('people.csv'));

const NAMES = [
  'city=Oslo',
  'city=Paris',
  'city=Rome',
  'city=<other>',
  'city:missing',
  'age',
  'age:missing',
  'member',
  'member:missing',
  'notes~great',
  'notes~and',
  'notes~fast',
  'notes~late',
  'notes~service',
  'notes~slow',
];
//            Oslo Paris Rome other miss | age   miss | member miss | great and fast late service slow
const ROWS = [
  [0, 1, 0, 0, 0, 30, 0, 1, 0, 1, 0, 1, 0, 1, 0],
  [1, 0, 0, 0, 0, 36.5, 1, 0, 0, 0, 1, 0, 1, 0, 1],
  [0, 1, 0, 0, 0, 50, 0, 1, 1, 1, 0, 0, 0, 1, 0],
  [0, 0, 1, 0, 0, 36.5, 1, 1, 0, 0, 0, 0, 1, 0, 1],
  [1, 0, 0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  [1, 0, 0, 0, 1, 26, 0, 1, 0, 1, 1, 1, 0, 0, 0],
];

test('fit infers kinds and encodes every row as worked out by hand', () => {
  const encoder = TableEncoder.fit(people(), { label: 'y' });
  assert.deepEqual(
    encoder.report.map((c) => [c.name, c.kind, c.missing, c.inputs]),
    [
      ['id', 'ignore', 0, 0],
      ['city', 'categorical', 1, 5],
      ['age', 'numeric', 2, 2],
      ['member', 'boolean', 1, 2],
      ['notes', 'text', 1, 6],
    ],
  );
  assert.deepEqual(encoder.outputNames, NAMES);
  assert.deepEqual(Array.from(encoder.transform(people())), ROWS.flat());
});

test('median imputation, no indicators, words only', () => {
  const encoder = TableEncoder.fit(people(), {
    label: 'y',
    impute: 'median',
    missingIndicators: false,
    ngrams: 1,
    minDocumentFrequency: 3,
  });
  assert.deepEqual(encoder.outputNames, ['city=Oslo', 'city=Paris', 'city=Rome', 'city=<other>', 'age', 'member', 'notes~great']);
  const x = encoder.transform(people());
  assert.equal(x[1 * 7 + 4], 35, 'the median of 26, 30, 40, 50');
  assert.deepEqual(Array.from(x.subarray(5 * 7, 6 * 7)), [1, 0, 0, 0, 26, 1, 1]);
});

test('declared kinds, dropped and chosen columns', () => {
  const t = people();
  const a = TableEncoder.fit(t, { label: 'y', columns: { id: 'categorical', notes: 'ignore' }, drop: ['member'], maxCategories: 2 });
  // id: six values seen once each: the two first by code unit; city: the two most frequent; the
  // rest share <other>.
  assert.deepEqual(a.outputNames, [
    'id=1',
    'id=2',
    'id=<other>',
    'city=Oslo',
    'city=Paris',
    'city=<other>',
    'city:missing',
    'age',
    'age:missing',
  ]);
  assert.deepEqual(a.json.ignored, [
    { name: 'member', reason: 'dropped' },
    { name: 'notes', reason: 'declared' },
  ]);
  const b = TableEncoder.fit(t, { label: 'y', features: ['age'] });
  assert.deepEqual(b.outputNames, ['age', 'age:missing']);
});

test('categories match by name and by numeric value; unseen ones go to <other> or throw', () => {
  const encoder = TableEncoder.fit(parseTable('code,y\n2,a\n3,b\n2,a\n'), { label: 'y', columns: { code: 'categorical' } });
  assert.deepEqual(encoder.outputNames, ['code=2', 'code=3', 'code=<other>']);
  assert.deepEqual(
    Array.from(encoder.transform(tableFromRecords([{ code: '2.0' }, { code: 7 }, { code: '03' }]))),
    [1, 0, 0, 0, 0, 1, 0, 1, 0],
  );
  const strict = TableEncoder.fit(people(), { label: 'y', unknownCategory: 'error' });
  assert.throws(
    () => strict.transform(tableFromRecords([{ city: 'Lima', age: 1, member: 'no', notes: '' }])),
    (e: unknown) =>
      e instanceof CsvError &&
      /records\[0\], column 'city': value 'Lima' is a category not seen in training \(known: 'Oslo', 'Paris', 'Rome'\)/.test(e.message),
  );
});

test('transform matches columns by name: any order, extra columns skipped, a missing one named', () => {
  const encoder = TableEncoder.fit(people(), { label: 'y' });
  const reordered = parseTable(fixture('people-reordered.csv'));
  assert.deepEqual(Array.from(encoder.transform(reordered)), ROWS.flat());
  assert.deepEqual(encoder.extraColumns(reordered), ['extra']);
  assert.throws(() => encoder.transform(tableFromRecords([{ city: 'Oslo', age: 3, notes: 'x' }])), /the input has no column 'member'/);
});

test('statistics come from the rows fitted on: nothing of other rows leaks in', () => {
  const t = people();
  const train = tableRows(t, [0, 1, 2]); // ages 30, NA, 50; cities Paris, Oslo, Paris
  const encoder = TableEncoder.fit(train, { label: 'y' });
  const fill = encoder.json.columns.find((c) => c.name === 'age');
  assert.deepEqual(fill, { name: 'age', kind: 'numeric', fill: 40, indicator: true });
  assert.deepEqual((encoder.json.columns.find((c) => c.name === 'city') as { categories: string[] }).categories, ['Paris', 'Oslo']);
  // Rome (row 5) was not in training: <other>. Its missing age takes the training fill 40.
  assert.deepEqual(Array.from(encoder.transform(tableRows(t, [3])).subarray(0, 5)), [0, 0, 1, 40, 1]);
});

test('splitTable fits the encoder on the training part only', () => {
  // z = i + 0.5 with a gap every fifth row: its fill must be the mean of the training rows' z.
  const lines = ['x,z,y'];
  for (let i = 0; i < 40; i++) lines.push(`${i % 2 === 0 ? i : 1000 + i},${i % 5 === 0 ? 'NA' : i + 0.5},${i % 2 === 0 ? 'a' : 'b'}`);
  const table = parseTable(lines.join('\n'));
  const { train, test: held, encoder } = splitTable(table, { label: 'y', testFraction: 0.25, seed: 3 });
  assert.equal(train.numRows, 30);
  assert.equal(held.numRows, 10);
  // Independent: the training rows' z values (those not missing) are in train.features.
  const d = train.numFeatures;
  const z: number[] = [];
  for (let i = 0; i < train.numRows; i++) if (train.features[i * d + 2] === 0) z.push(train.features[i * d + 1]!);
  const fill = (encoder.json.columns[1] as { fill: number }).fill;
  assert.ok(z.length > 0 && z.length < 30);
  assert.equal(fill, z.reduce((s, v) => s + v, 0) / z.length);
  let all = 0,
    count = 0;
  for (let i = 0; i < 40; i++)
    if (i % 5 !== 0) {
      all += i + 0.5;
      count++;
    }
  assert.notEqual(fill, all / count, 'not the mean over every row');
  for (let i = 0; i < train.numRows; i++) if (train.features[i * d + 2] === 1) assert.equal(train.features[i * d + 1], Math.fround(fill));
});

test('toJSON / fromJSON round trip, and fromJSON rejects bad input naming the field', () => {
  const encoder = TableEncoder.fit(people(), { label: 'y' });
  const json = JSON.parse(JSON.stringify(encoder.toJSON()));
  const back = TableEncoder.fromJSON(json);
  assert.deepEqual(back.outputNames, encoder.outputNames);
  assert.deepEqual(back.transform(people()), encoder.transform(people()));
  const bad: [string, (j: any) => void, RegExp][] = [
    ['null', () => null, /the table encoder must be an object, got null/],
    [
      'kind',
      (j) => {
        j.kind = 'Other';
      },
      /kind must be 'TableEncoder'/,
    ],
    [
      'version',
      (j) => {
        j.version = 2;
      },
      /version 2 is not supported/,
    ],
    [
      'unknown key',
      (j) => {
        j.extra = 1;
      },
      /unknown option 'extra'/,
    ],
    [
      'column kind',
      (j) => {
        j.columns[0].kind = 'image';
      },
      /columns\[0\]\.kind \('city'\) must be numeric, boolean, categorical or text, got "image"/,
    ],
    [
      'fill NaN',
      (j) => {
        j.columns[1].fill = 'x';
      },
      /columns\[1\]\.fill \('age'\) must be a finite f32 number or null/,
    ],
    [
      'duplicate category',
      (j) => {
        j.columns[0].categories = ['a', 'a'];
      },
      /categories repeats a name: 'a'/,
    ],
    [
      'empty categories',
      (j) => {
        j.columns[0].categories = [];
      },
      /categories \('city'\) must not be empty/,
    ],
    [
      'ngrams',
      (j) => {
        j.columns[3].ngrams = 3;
      },
      /ngrams \('notes'\) must be 1 or 2, got 3/,
    ],
    [
      'unknown column',
      (j) => {
        j.columns[1].name = 'weight';
      },
      /column 'weight' is not among sourceColumns/,
    ],
    [
      'label as feature',
      (j) => {
        j.label = ['age'];
      },
      /'age' is both the label and a feature column/,
    ],
    [
      'no inputs',
      (j) => {
        j.columns = [];
      },
      /makes no model inputs/,
    ],
    [
      'boolean fill',
      (j) => {
        j.columns[2].fill = 0.5;
      },
      /columns\[2\]\.fill \('member'\) must be 0 or 1, got 0.5/,
    ],
  ];
  for (const [name, edit, message] of bad) {
    const j = structuredClone(json);
    const replaced = edit(j);
    assert.throws(() => TableEncoder.fromJSON(replaced === undefined ? j : replaced), message, name);
  }
});

test('fit rejects bad options and impossible columns, naming them', () => {
  const t = people();
  assert.throws(() => TableEncoder.fit(t, { columns: { weight: 'numeric' } }), /columns names column 'weight', which the table lacks/);
  assert.throws(
    () => TableEncoder.fit(t, { columns: { age: 'number' as never } }),
    /columns\.age must be one of numeric, boolean, categorical, text, ignore, got "number"/,
  );
  assert.throws(() => TableEncoder.fit(t, { label: 'y', features: ['y'] }), /'y' is the label; it cannot also be a feature/);
  assert.throws(() => TableEncoder.fit(t, { drop: ['age'], features: ['age'] }), /'age' is both among the features and dropped/);
  assert.throws(
    () => TableEncoder.fit(t, { label: 'y', columns: { city: 'numeric' } }),
    (e: unknown) => e instanceof CsvError && /row 2, column 'city': value 'Paris' is not a finite number/.test(e.message),
  );
  assert.throws(
    () => TableEncoder.fit(t, { label: 'y', columns: { city: 'boolean' } }),
    /row 2, column 'city': value 'Paris' is not a boolean/,
  );
  assert.throws(
    () => TableEncoder.fit(parseTable('a,b,y\n1,NA,x\n2,,y\n'), { label: 'y', columns: { b: 'numeric' } }),
    /column 'b' is numeric \(declared\) but every training value is missing/,
  );
  assert.throws(
    () => TableEncoder.fit(parseTable('id,y\n1,x\n2,y\n'), { label: 'y' }),
    /no model inputs left: 'id' ignored \(named like an identifier\)/,
  );
  assert.throws(() => TableEncoder.fit(t, { impute: 'mode' as never }), /impute must be 'mean' or 'median'/);
  assert.throws(() => TableEncoder.fit(t, { colums: {} } as never), /unknown option 'colums'/);
  assert.throws(() => TableEncoder.fit(tableRows(t, []), {}), /needs at least one training row, got 0/);
});

test('cells that cannot be read at transform time name row, column and value', () => {
  const encoder = TableEncoder.fit(people(), { label: 'y' });
  const row = { city: 'Oslo', age: 'old', member: 'yes', notes: '' };
  assert.throws(
    () => encoder.transform(tableFromRecords([row])),
    (e: unknown) => e instanceof CsvError && e.row === 0 && e.column === 'age' && e.value === 'old',
  );
  assert.throws(
    () => encoder.transform(tableFromRecords([{ ...row, age: 1, member: 'maybe' }])),
    /column 'member': value 'maybe' is not a boolean/,
  );
  assert.throws(() => encoder.transform(tableFromRecords([{ ...row, age: '1e39' }])), /value '1e39' overflows f32/);
  const numeric = TableEncoder.numeric(['a', 'b']);
  assert.throws(
    () => numeric.transform(parseTable('a,b\n1,\n')),
    /row 2, column 'b': value '' is missing, and the model has no imputation for this column/,
  );
});

test('column names that are also Object.prototype keys are plain names', () => {
  const t = parseTable('constructor,toString,y\n1,a,x\n2,b,y\n3,a,x\n');
  assert.deepEqual(TableEncoder.fit(t, { label: 'y' }).outputNames, ['constructor', 'toString=a', 'toString=b', 'toString=<other>']);
  assert.deepEqual(TableEncoder.fit(t, { label: 'y', columns: { toString: 'ignore' as const } }).outputNames, ['constructor']);
});
