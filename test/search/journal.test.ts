// Journal storage: a study killed with SIGKILL resumes without losing or repeating finished
// trials and samples on reproducibly; a partial last line is dropped with a warning; a damaged
// line anywhere else is an error naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStudy } from '../../src/search/study.ts';
import { JournalError, JournalFileStorage } from '../../src/search/storage/journal-file.ts';
import { RandomSampler } from '../../src/search/samplers/random.ts';
import { openStudy, slowObjective } from './journal-child.ts';

const child = fileURLToPath(new URL('./journal-child.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kiln-journal-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const summary = (trials: readonly { number: number; state: string; params: unknown; values: unknown }[]) =>
  trials.map((t) => ({ number: t.number, state: t.state, params: t.params, values: t.values }));

// Starts the child and SIGKILLs it once `after` trials have completed; resolves with the
// trials it reported complete.
function runAndKill(path: string, after: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, path, '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const done: number[] = [];
    let buffer = '';
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += d));
    proc.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('complete ')) done.push(Number(line.slice(9)));
        if (done.length === after) proc.kill('SIGKILL');
      }
    });
    proc.on('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve(done) : reject(new Error(`child ended without being killed: ${stderr}`)),
    );
  });
}

test(
  'a study killed with SIGKILL resumes: finished trials kept once, the running one failed, sampling reproducible',
  { timeout: 60_000 },
  async () => {
    const path = join(dir, 'killed.jsonl');
    const reported = await runAndKill(path, 6);
    assert.deepEqual(reported, [0, 1, 2, 3, 4, 5]);
    const copy = join(dir, 'killed-copy.jsonl');
    copyFileSync(path, copy);

    const study = await openStudy(path);
    const before = study.trials;
    const numbers = before.map((t) => t.number);
    assert.deepEqual(
      numbers,
      numbers.map((_, i) => i),
      'trial numbers count up from 0 without gaps or repeats',
    );
    for (const n of reported) assert.equal(before[n]!.state, 'complete', `trial ${n} reported complete stays complete`);
    for (const t of before.slice(reported.length)) {
      // Trials the kill cut short: at most the one running (the kill may land between trials, or
      // after its finish line was written but before the parent heard of it).
      assert.ok(t.state === 'failed' || t.state === 'complete', `trial ${t.number}: ${t.state}`);
      if (t.state === 'failed') assert.match(t.error ?? '', /^interrupted/);
    }
    assert.ok(before.length <= reported.length + 2);

    // Resume to 12 complete trials here and, from the copy, in a fresh process: same trials.
    const target = 12;
    await study.optimize(slowObjective, { trials: target - before.filter((t) => t.state === 'complete').length });
    const fresh = spawnSync(process.execPath, ['--import', 'tsx', child, copy, String(target)], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(fresh.status, 0, fresh.stderr);
    const freshTrials = JSON.parse(fresh.stdout.trim().split('\n').at(-1)!);
    assert.deepEqual(freshTrials, summary(study.trials));
    for (const t of before.filter((x) => x.state === 'complete'))
      assert.deepEqual(summary([study.trials[t.number]!])[0], summary([t])[0], `trial ${t.number} unchanged`);

    // A third opening sees the same, with nothing running.
    const reopened = await openStudy(path);
    assert.deepEqual(summary(reopened.trials), summary(study.trials));
  },
);

async function smallJournal(name: string): Promise<string> {
  const path = join(dir, name);
  const study = await createStudy({ name: 'small', storage: new JournalFileStorage(path), sampler: new RandomSampler({ seed: 1 }) });
  await study.optimize(
    (t) => {
      t.report(0.5, 0);
      return t.suggestFloat('x', 0, 1);
    },
    { trials: 3 },
  );
  return path;
}

test('a partial last line is dropped with a warning and cut off, so later appends stay valid', async () => {
  const path = await smallJournal('partial.jsonl');
  appendFileSync(path, '{"op":"trial","study":"small","numb');
  const warnings: string[] = [];
  const storage = new JournalFileStorage(path, { onWarning: (m) => warnings.push(m) });
  const study = await createStudy({ name: 'small', storage, loadIfExists: true, sampler: new RandomSampler({ seed: 1 }) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /partial\.jsonl ends with a partial line \(35 bytes/);
  assert.equal(study.trials.length, 3);
  await study.optimize((t) => t.suggestFloat('x', 0, 1), { trials: 1 });
  storage.close();
  const again = await createStudy({
    name: 'small',
    storage: new JournalFileStorage(path, { onWarning: (m) => warnings.push(m) }),
    loadIfExists: true,
  });
  assert.equal(again.trials.length, 4);
  assert.equal(warnings.length, 1, 'no second warning');
  assert.ok(readFileSync(path, 'utf8').endsWith('\n'));
});

test('a damaged line before the end is an error naming the file and line', async () => {
  const path = await smallJournal('damaged.jsonl');
  const lines = readFileSync(path, 'utf8').split('\n');
  for (const [bad, message] of [
    ['{"op":"param","study":"small",', /damaged\.jsonl line 3 is not valid JSON .*; the journal is corrupted/],
    ['{"op":"teleport","study":"small","number":0}', /damaged\.jsonl line 3: unknown event 'teleport'/],
    ['{"op":"report","study":"small","number":0,"step":-1,"value":1}', /damaged\.jsonl line 3: report event has bad step -1/],
  ] as const) {
    writeFileSync(path, [...lines.slice(0, 2), bad, ...lines.slice(3)].join('\n'));
    await assert.rejects(createStudy({ name: 'small', storage: new JournalFileStorage(path), loadIfExists: true }), (err: unknown) => {
      assert.ok(err instanceof JournalError);
      assert.equal(err.line, 3);
      assert.match(err.message, message);
      return true;
    });
  }
});

test('several studies share one journal; names are kept apart and reopening needs loadIfExists', async () => {
  const path = join(dir, 'shared.jsonl');
  const storage = new JournalFileStorage(path);
  const a = await createStudy({ name: 'a', storage, sampler: new RandomSampler({ seed: 1 }) });
  const b = await createStudy({ name: 'b', storage, direction: 'maximize', sampler: new RandomSampler({ seed: 2 }) });
  await a.optimize((t) => t.suggestFloat('x', 0, 1), { trials: 2 });
  await b.optimize((t) => t.suggestFloat('y', 0, 1), { trials: 3 });
  await assert.rejects(createStudy({ name: 'a', storage }), /already holds a study named 'a'; pass loadIfExists: true/);
  await assert.rejects(
    createStudy({ name: 'b', storage, loadIfExists: true, direction: 'minimize' }),
    /created with directions \[maximize\], got \[minimize\]/,
  );
  const b2 = await createStudy({ name: 'b', storage: new JournalFileStorage(path), loadIfExists: true });
  assert.deepEqual(b2.directions, ['maximize']);
  assert.deepEqual(summary(b2.trials), summary(b.trials));
  assert.equal((await createStudy({ name: 'a', storage: new JournalFileStorage(path), loadIfExists: true })).trials.length, 2);
});

test('NaN intermediate values and infinite constraints survive the journal', async () => {
  const path = join(dir, 'nonfinite.jsonl');
  const study = await createStudy({ name: 'nf', storage: new JournalFileStorage(path), constraints: () => [Infinity, -1] });
  await study.optimize(
    (t) => {
      t.report(NaN, 0);
      t.report(-Infinity, 1);
      return t.suggestFloat('x', 0, 1);
    },
    { trials: 1 },
  );
  const back = (await createStudy({ name: 'nf', storage: new JournalFileStorage(path), loadIfExists: true })).trials[0]!;
  assert.deepEqual(back.intermediate, { 0: NaN, 1: -Infinity });
  assert.deepEqual(back.constraints, [Infinity, -1]);
});
