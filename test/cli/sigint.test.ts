// Ctrl-C in `kiln search` with short trials: the search stops within a trial or so, exits 130,
// and leaves a journal that reopens with every started trial finished.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './run.ts';

const lines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);
const ops = (path: string, op: string) => lines(path).filter((l) => JSON.parse(l).op === op).length;

test('SIGINT stops kiln search with short trials and leaves the journal consistent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sigint-'));
  const journal = join(dir, 'study.jsonl');
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'search', '--data', 'iris', '--epochs', '1', '--storage', journal];
  const child = spawn(process.execPath, [...args, '--trials', '2000'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Wait until some trials have finished, then interrupt.
  for (let waited = 0; ops(journal, 'finish') < 5; waited += 100) {
    assert.ok(waited < 120_000, `no trial finished in 2 minutes: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const finishedAtSignal = ops(journal, 'finish');
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /interrupted/);
  const started = ops(journal, 'trial');
  const finished = ops(journal, 'finish');
  assert.equal(finished, started, 'every started trial is finished in the journal');
  assert.ok(finished < 2000 && finished >= finishedAtSignal, `${finished} trials ran of 2000`);
  // The study reopens and runs on.
  const resumed = spawn(process.execPath, [...args, '--trials', '2', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  resumed.stdout.on('data', (d) => (out += d));
  const resumedCode = await new Promise<number | null>((resolve) => resumed.on('exit', resolve));
  assert.equal(resumedCode, 0, out);
  assert.equal(ops(journal, 'finish'), finished + 2);
});
