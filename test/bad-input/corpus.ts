// The bad-input corpus: each case is one distinct malformed input, the error type it must raise
// and the pieces its message must name (what, where, the value). Cases are generated from tables;
// a category's test runs them all and reports every miss at once.
import assert from 'node:assert/strict';

export interface BadInput {
  name: string;
  run: () => unknown;
  /** The error class expected (checked with instanceof). */
  type: abstract new (...args: never[]) => Error;
  /** Each must appear in the message: strings literally, patterns by match. */
  names: readonly (string | RegExp)[];
}

/** Messages longer than this would mean a whole input was pasted into the error. */
const MAX_MESSAGE = 600;

async function check(c: BadInput): Promise<string | undefined> {
  let error: unknown;
  try {
    await c.run();
  } catch (e) {
    error = e;
  }
  if (error === undefined) return `${c.name}: accepted (no error)`;
  if (!(error instanceof c.type))
    return `${c.name}: ${(error as Error)?.name ?? typeof error} instead of ${c.type.name}: ${(error as Error)?.message ?? String(error)}`;
  const message = error.message;
  if (message.length > MAX_MESSAGE) return `${c.name}: message of ${message.length} characters`;
  if (/RuntimeError|unreachable|Cannot read properties|is not a function|undefined is not/.test(message))
    return `${c.name}: an engine message: ${message}`;
  for (const n of c.names) {
    const ok = typeof n === 'string' ? message.includes(n) : n.test(message);
    if (!ok) return `${c.name}: message does not name ${String(n)}: ${message}`;
  }
  return undefined;
}

/** Runs every case; fails once, listing every case that missed. */
export async function runCorpus(cases: readonly BadInput[], min: number): Promise<void> {
  assert.ok(cases.length >= min, `${cases.length} cases, expected at least ${min}`);
  const names = new Set(cases.map((c) => c.name));
  assert.equal(names.size, cases.length, 'case names are unique');
  const misses: string[] = [];
  for (const c of cases) {
    const miss = await check(c);
    if (miss) misses.push(miss);
  }
  assert.deepEqual(misses, [], `${misses.length} of ${cases.length} cases missed:\n${misses.join('\n')}`);
}
