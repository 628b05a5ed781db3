// What kind of data a column holds, inferred from the training rows by the rules documented on
// `inferColumnKind` (and in the README), or declared by the user.
import { CsvError } from './csv.ts';
import { textWords } from './text-grams.ts';
import { clip, isNumberText, rowText, type Table } from './table.ts';

/** How a column is read: a number, yes/no, one of a set of values, free text, or not at all. */
export type ColumnKind = 'numeric' | 'boolean' | 'categorical' | 'text' | 'ignore';

export const COLUMN_KINDS: readonly ColumnKind[] = Object.freeze(['numeric', 'boolean', 'categorical', 'text', 'ignore']);

/** Boolean words (compared lowercased): each maps to 1 or 0. */
export const BOOLEAN_WORDS: ReadonlyMap<string, 0 | 1> = new Map([
  ['true', 1],
  ['false', 0],
  ['yes', 1],
  ['no', 0],
  ['y', 1],
  ['n', 0],
  ['t', 1],
  ['f', 0],
]);

/** A column's kind and, for people, why it was chosen. */
export interface ColumnTyping {
  kind: ColumnKind;
  reason: string;
}

/** A string column whose cells average at least this many words is text. */
export const TEXT_MIN_WORDS = 3;
/** A column with at least this many training values, all distinct, is an identifier. */
export const ID_MIN_ROWS = 20;
/** A column with at least this share of numbers (but not all) holds typos, not categories: an error. */
export const MIXED_NUMERIC_SHARE = 0.5;

const ID_NAME = /^(id|.*[_\s-]id)$/i;

/** Number of words in a cell: runs of letters and digits. */
export const wordCount = (cell: string): number => textWords(cell).length;

/**
 * Infers a column's kind from its training cells, in this order:
 * 1. every cell missing: `ignore` (nothing to learn from);
 * 2. named `id` or ending in `_id`, ` id` or `-id` (any case): `ignore`;
 * 3. every present cell a number: `ignore` if they are at least 20 distinct integers spanning at
 *    most twice their count (a row number), else `numeric`;
 * 4. every present cell a boolean word (true/false, yes/no, y/n, t/f, any case): `boolean`;
 * 5. at least half of the present cells numbers: an error naming the first cell that is not (a
 *    typo, or a missing marker to declare);
 * 6. cells averaging at least 3 words: `text`;
 * 7. at least 20 present cells, all distinct: `ignore` (an identifier such as a name or a key);
 * 8. otherwise `categorical`.
 */
export function inferColumnKind(table: Table, column: number, isMissing: (cell: string) => boolean): ColumnTyping {
  const name = table.names[column]!;
  const present: string[] = [];
  const at: number[] = [];
  table.rows.forEach((row, i) => {
    const cell = row[column]!;
    if (!isMissing(cell)) {
      present.push(cell);
      at.push(i);
    }
  });
  if (present.length === 0) return { kind: 'ignore', reason: 'every training value is missing' };
  if (ID_NAME.test(name)) return { kind: 'ignore', reason: 'named like an identifier' };
  const numeric = present.filter(isNumberText).length;
  const distinct = new Set(present).size;
  if (numeric === present.length) {
    const values = present.map(Number);
    if (present.length >= ID_MIN_ROWS && distinct === present.length && values.every(Number.isInteger)) {
      const span = Math.max(...values) - Math.min(...values) + 1;
      if (span <= 2 * present.length) return { kind: 'ignore', reason: 'distinct consecutive integers, like a row number' };
    }
    return { kind: 'numeric', reason: 'numbers' };
  }
  if (present.every((c) => BOOLEAN_WORDS.has(c.toLowerCase()))) return { kind: 'boolean', reason: 'yes/no values' };
  if (numeric >= MIXED_NUMERIC_SHARE * present.length) {
    const k = present.findIndex((c) => !isNumberText(c));
    const i = at[k]!;
    throw new CsvError(
      `${rowText(table, i)}, column '${name}': value '${clip(present[k]!)}' is not a number, but ${numeric} of the ${present.length} training values are: ` +
        `fix the cell, add it to the missing markers, or declare the column categorical`,
      table.lines[i]!,
      name,
      clip(present[k]!),
    );
  }
  let words = 0;
  for (const c of present) words += wordCount(c);
  if (words >= TEXT_MIN_WORDS * present.length) return { kind: 'text', reason: `${(words / present.length).toFixed(1)} words per value` };
  if (present.length >= ID_MIN_ROWS && distinct === present.length)
    return { kind: 'ignore', reason: 'every value distinct, like an identifier' };
  return { kind: 'categorical', reason: `${distinct} distinct values` };
}
