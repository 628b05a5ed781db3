// Mixed-type tables: examples/data/customers.csv (categories, numbers with gaps, yes/no, free text,
// an id, missing labels) trained with every column through the table encoder, against the same
// network on the numeric columns alone, over five seeds; plus the cost of encoding raw rows.
// The recipe is the command line's: kiln train --data examples/data/customers.csv --label churned
//   --layers 32 --validation-split 0.1 --early-stopping 5 --seed <s> [--features tenure_months,monthly_fee,support_calls]
// npm run bench -- tables
import { readFileSync } from 'node:fs';
import { Sequential, adam, dense, evaluate, fit, parseTable, splitTable, tableInputs, type TableSplitOptions } from '../src/index.ts';
import { fmt, median } from './_stats.ts';

const table = parseTable(readFileSync(new URL('../examples/data/customers.csv', import.meta.url), 'utf8'));
const NUMERIC = ['tenure_months', 'monthly_fee', 'support_calls'];
const SEEDS = [1, 2, 3, 4, 5];

async function accuracy(
  seed: number,
  options: Partial<TableSplitOptions>,
): Promise<{ accuracy: number; inputs: number; model: Sequential }> {
  const { train, validation, test, encoder } = splitTable(table, {
    label: 'churned',
    testFraction: 0.2,
    validationFraction: 0.1,
    seed,
    ...options,
  });
  const model = new Sequential({ inputs: train.numFeatures, layers: [dense(32, 'relu'), dense(train.numClasses)], seed });
  await fit(model, train, { optimizer: adam(), epochs: 50, batchSize: 32, seed, validation: validation!, earlyStopping: { patience: 5 } });
  model.setPreprocessing({ ...model.preprocessing, table: encoder.toJSON() });
  const e = evaluate(model, test);
  if (e.task !== 'classification') throw new Error('expected classification');
  return { accuracy: e.accuracy, inputs: train.numFeatures, model };
}

console.log('seed  every column (inputs)   numeric columns only (inputs)');
const all: number[] = [],
  numeric: number[] = [];
let keep: Sequential | undefined;
for (const seed of SEEDS) {
  const a = await accuracy(seed, {});
  const b = await accuracy(seed, { features: NUMERIC });
  all.push(a.accuracy);
  numeric.push(b.accuracy);
  console.log(`${String(seed).padStart(4)}  ${fmt(a.accuracy, 4)} (${a.inputs})${' '.repeat(12)}${fmt(b.accuracy, 4)} (${b.inputs})`);
  b.model.dispose();
  if (keep) a.model.dispose();
  else keep = a.model;
}
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
console.log(`mean  ${fmt(mean(all), 4)}${' '.repeat(17)}${fmt(mean(numeric), 4)}   (+${fmt((mean(all) - mean(numeric)) * 100, 1)} points)`);

// Raw rows → inputs (typing is fixed; imputation, one-hot and the bag of words run per row).
const model = keep!;
const times: number[] = [];
for (let r = 0; r < 21; r++) {
  const t = performance.now();
  tableInputs(model.preprocessing, table);
  times.push(performance.now() - t);
}
const perRow = (median(times) * 1000) / table.rows.length;
console.log(
  `\nencoding ${table.rows.length} raw rows into ${model.inputs} inputs: ${fmt(median(times), 1)} ms (median of 21), ${fmt(perRow, 2)} µs per row`,
);
model.dispose();
