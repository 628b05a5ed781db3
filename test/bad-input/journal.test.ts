// Damaged journal files: each a JournalError naming the file, the line and what is on it.
import { test } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalError, JournalFileStorage } from '../../src/search/storage/journal-file.ts';
import { createStudy } from '../../src/search/study.ts';
import { runCorpus, type BadInput } from './corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-bad-journal-'));

async function journalLines(): Promise<string[]> {
  const path = join(dir, 'good.jsonl');
  const study = await createStudy({ name: 's', storage: new JournalFileStorage(path), seed: 1 });
  await study.optimize((t) => t.suggestFloat('x', 0, 1) + t.suggestInt('n', 1, 4), { trials: 3 });
  await study.flush();
  const { readFileSync } = await import('node:fs');
  return readFileSync(path, 'utf8').split('\n').filter(Boolean);
}

test('damaged journal files: each a JournalError naming file, line and the bad content', async () => {
  const lines = await journalLines();
  const cases: BadInput[] = [];
  const MUTATIONS: [string, (line: string) => string, (string | RegExp)[]][] = [
    ['cut short', (l) => l.slice(0, Math.floor(l.length / 2)), ['is not valid JSON']],
    ['an array', () => '[1,2]', ['an event must be an object, got [1,2]']],
    ['null', () => 'null', ['an event must be an object, got null']],
    ['a number', () => '42', ['an event must be an object, got 42']],
    ['a string', () => '"finish"', ['an event must be an object, got "finish"']],
    ['an unknown op', (l) => l.replace(/"op":"[a-z]+"/, '"op":"zap"'), [/(unknown )?event 'zap'/]],
    ['binary noise', () => '\u0000\u0001\u0002', ['is not valid JSON']],
  ];
  // Every line but the last: a partial last line is what a killed writer leaves, and is cut off.
  for (const at of [1, 2, 4, Math.min(7, lines.length - 2)])
    for (const [what, mutate, names] of MUTATIONS) {
      const path = join(dir, `bad-${at}-${what.replace(/ /g, '-')}.jsonl`);
      writeFileSync(path, lines.map((l, i) => (i === at ? mutate(l) : l)).join('\n') + '\n');
      cases.push({
        name: `line ${at + 1} ${what}`,
        run: () => createStudy({ name: 's', storage: new JournalFileStorage(path), loadIfExists: true }),
        type: JournalError,
        names: [path, `line ${at + 1}`, ...names],
      });
    }
  // Lines that parse but say what cannot be: a trial no earlier line created, a value outside its
  // own distribution.
  const finish = lines.findIndex((l) => l.includes('"op":"finish"'));
  const param = lines.findIndex((l) => l.includes('"op":"param"') && l.includes('"name":"n"'));
  const SEMANTIC: [string, number, (line: string) => string, (string | RegExp)[]][] = [
    ['a finish of trial 99', finish, (l) => l.replace(/"number":\d+/, '"number":99'), ["'finish' refers to trial 99", 'create']],
    ['a param outside its range', param, (l) => l.replace(/"value":\d+/, '"value":9'), ["param 'n' has value 9", 'int [1, 4]']],
  ];
  for (const [what, at, mutate, names] of SEMANTIC) {
    const path = join(dir, `bad-${what.replace(/ /g, '-')}.jsonl`);
    writeFileSync(path, lines.map((l, i) => (i === at ? mutate(l) : l)).join('\n') + '\n');
    cases.push({
      name: what,
      run: () => createStudy({ name: 's', storage: new JournalFileStorage(path), loadIfExists: true }),
      type: JournalError,
      names: [path, `line ${at + 1}`, ...names],
    });
  }
  await runCorpus(cases, 30);
});
