// Preprocessing in model files: a table encoder survives the round trip and predicts the same on
// raw rows in any column order; preprocessing that would silently change or break predictions
// is refused on load with a ModelFileError naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';
import { fit } from '../../src/train/fit.ts';
import { parseTable } from '../../src/data/table.ts';
import { splitTable } from '../../src/data/table-data.ts';
import { tableInputs } from '../../src/data/table-inputs.ts';
import { modelFromBytes, modelToBytes } from '../../src/io/model-file.ts';
import { decodeSafetensors, encodeSafetensors, ModelFileError } from '../../src/io/safetensors.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/tables/${name}`, import.meta.url), 'utf8');

async function tableModel(): Promise<Sequential> {
  const { train, encoder } = splitTable(parseTable(fixture('people.csv')), { label: 'y', testFraction: 0.34, seed: 1 });
  const model = new Sequential({ inputs: train.numFeatures, layers: [dense(4, 'relu'), dense(2)], seed: 2 });
  await fit(model, train, { epochs: 3, batchSize: 2 });
  model.setPreprocessing({ ...model.preprocessing, table: encoder.toJSON() });
  return model;
}

test('a table model round-trips through its file and predicts the same on raw rows in any order', async () => {
  const model = await tableModel();
  const loaded = modelFromBytes(modelToBytes(model));
  assert.deepEqual(loaded.preprocessing.table, model.preprocessing.table);
  const rows = parseTable(fixture('people.csv'));
  const expected = model.predict(tableInputs(model.preprocessing, rows).features);
  const reordered = tableInputs(loaded.preprocessing, parseTable(fixture('people-reordered.csv')));
  assert.deepEqual(loaded.predict(reordered.features), expected);
  assert.deepEqual(reordered.notes, ['ignored 1 column the model does not use: extra']);
  const records = [{ y: 'a', notes: 'great fast service', member: 'yes', age: 30, city: 'Paris', id: 1 }];
  assert.deepEqual(loaded.predict(tableInputs(loaded.preprocessing, records).features), expected.subarray(0, 2));
  // Without a header: by position, with a note; Lima (unseen) goes to <other>.
  const headerless = tableInputs(loaded.preprocessing, parseTable(fixture('people-no-header.csv')));
  assert.match(headerless.notes[0]!, /^no header: columns taken by position as in training \(id, city, age, member, notes, y\)$/);
  assert.deepEqual(loaded.predict(headerless.features).subarray(0, 2), expected.subarray(0, 2));
  assert.throws(
    () => tableInputs(loaded.preprocessing, parseTable('1,2,3\n')),
    /the rows have no header and 3 columns; .* to the 5 training columns \(id, city, age, member, notes\) or those 6 with the label/,
  );
  assert.throws(() => tableInputs(loaded.preprocessing, [{ city: 'Oslo' }]), /the input has no column 'age'/);
  model.dispose();
  loaded.dispose();
});

function withPreprocessing(bytes: Uint8Array, edit: (p: any) => unknown): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const p = JSON.parse(metadata.preprocessing!);
  const replaced = edit(p);
  return encodeSafetensors({ ...tensors }, { ...metadata, preprocessing: JSON.stringify(replaced === undefined ? p : replaced) });
}

test('preprocessing that would change or break predictions is refused on load, naming the field', async () => {
  const model = await tableModel();
  const good = modelToBytes(model);
  const n = model.inputs;
  const cases: [string, (p: any) => unknown, RegExp][] = [
    ['null', () => null, /preprocessing must be an object, got null/],
    ['array', () => [], /preprocessing must be an object, got an array/],
    [
      'unknown key',
      (p) => {
        p.scale = 1;
      },
      /preprocessing has unknown key 'scale'/,
    ],
    [
      'mean without std',
      (p) => {
        delete p.std;
      },
      /preprocessing has mean without std; standardisation needs both/,
    ],
    [
      'std without mean',
      (p) => {
        delete p.mean;
      },
      /preprocessing has std without mean/,
    ],
    [
      'tiny std',
      (p) => {
        p.std[3] = 1e-40;
      },
      /std\[3\] is 1e-40 .*overflows f32/,
    ],
    [
      'zero std',
      (p) => {
        p.std[0] = 0;
      },
      /std\[0\] must be > 0, got 0/,
    ],
    [
      'NaN mean',
      (p) => {
        p.mean[1] = 'NaN';
      },
      /mean\[1\] must be a finite number, got NaN/,
    ],
    [
      'short mean',
      (p) => {
        p.mean.pop();
      },
      new RegExp(`mean must have one value per input \\(${n}\\), got ${n - 1} values`),
    ],
    [
      'short featureNames',
      (p) => {
        p.featureNames.pop();
      },
      new RegExp(`featureNames has ${n - 1} names, the model has ${n} inputs`),
    ],
    [
      'long classNames',
      (p) => {
        p.classNames.push('c');
      },
      /classNames has 3 names, the model has 2 outputs/,
    ],
    [
      'numbers as names',
      (p) => {
        p.classNames = [1, 2];
      },
      /classNames must be an array of strings/,
    ],
    [
      'table of other width',
      (p) => {
        p.table.columns.pop();
      },
      /table makes \d+ inputs, the model has \d+/,
    ],
    [
      'bad table',
      (p) => {
        p.table.kind = 'x';
      },
      /preprocessing\.table: .*kind must be 'TableEncoder'/,
    ],
    [
      "names not the table's",
      (p) => {
        p.featureNames[0] = 'other';
      },
      /featureNames\[0\] is 'other', the table encoder names that input '.+'/,
    ],
  ];
  for (const [name, edit, message] of cases) {
    assert.throws(
      () => modelFromBytes(withPreprocessing(good, edit)),
      (e: unknown) => {
        assert.ok(e instanceof ModelFileError, `${name}: ${e}`);
        assert.match((e as Error).message, message, name);
        return true;
      },
    );
  }
  // The same checks guard a sparse file (a pruned model) and a regression model's classes.
  const regression = new Sequential({ inputs: 2, layers: [dense(1)], task: 'regression', preprocessing: { classNames: ['a'] } });
  assert.throws(() => modelFromBytes(modelToBytes(regression)), /classNames is given, but a regression model has no classes/);
  regression.dispose();
  model.dispose();
});
