// Distributed studies on one machine: worker processes sharing one study through a journal file,
// PostgreSQL or Redis (InMemory as the one-process baseline).
// 1. Overhead: one worker, 1,000 trials of a free objective; ask+tell time per trial around trial
//    100 and trial 1,000, split into the sampler's time (TPE) and the rest (storage, sync).
// 2. Scaling: 1, 2, 4 workers (KILN_BENCH_WORKERS, e.g. 1,2,4,8) on 100 trials of an objective
//    that waits 50 ms (I/O-bound) and one that computes for 20 ms; trials per second.
// 3. Chaos: 4 workers, one SIGKILLed every 2 s and restarted, 300 trials: finished trials lost
//    and duplicated (both must be 0).
// npm run bench -- distributed   (KILN_TEST_POSTGRES / KILN_TEST_REDIS name the servers;
//   KILN_BENCH_PARTS=overhead,scaling,chaos and KILN_BENCH_STORAGES=JournalFile,PostgreSQL,Redis
//   choose what runs; KILN_BENCH_KILL_MS sets the chaos run's kill interval, default 2000)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStorage } from '../src/search/storage/open.ts';
import type { SharedStudyStorage } from '../src/search/storage/storage.ts';
import { fmt } from './_stats.ts';
import type { WorkerJob } from './_distributed-worker.ts';

const WORKER = fileURLToPath(new URL('./_distributed-worker.ts', import.meta.url));
const POSTGRES = process.env.KILN_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS = process.env.KILN_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const COUNTS = (process.env.KILN_BENCH_WORKERS ?? '1,2,4').split(',').map(Number);
const PARTS = (process.env.KILN_BENCH_PARTS ?? 'overhead,scaling,chaos').split(',');
const CHOSEN = process.env.KILN_BENCH_STORAGES?.split(',');
const KILL_MS = Number(process.env.KILN_BENCH_KILL_MS ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-distributed-'));
let serial = 0;
const studyName = (what: string) => `bench-${what}-${process.pid}-${serial++}`;

const up = (url: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const u = new URL(url);
    const s = connect({ host: u.hostname, port: Number(u.port || port) });
    s.setTimeout(2000, () => (s.destroy(), resolve(false)));
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

const storages: { name: string; url: () => string }[] = [{ name: 'JournalFile', url: () => join(dir, `${serial}.jsonl`) }];
if (await up(POSTGRES, 5432)) storages.push({ name: 'PostgreSQL', url: () => POSTGRES });
else console.log(`(PostgreSQL at ${POSTGRES} unreachable: left out)`);
if (await up(REDIS, 6379)) storages.push({ name: 'Redis', url: () => REDIS });
else console.log(`(Redis at ${REDIS} unreachable: left out)`);

if (CHOSEN) storages.splice(0, storages.length, ...storages.filter((s) => CHOSEN.includes(s.name)));

interface Result {
  trials: number;
  seconds: number;
  overhead: number[];
  sampler: number[];
}

function runWorker(job: WorkerJob, onLine?: (line: string) => void): { done: Promise<Result | null>; kill(): void } {
  const proc = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffer = '';
  let result: Result | null = null;
  proc.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.startsWith('{')) result = JSON.parse(line);
      else onLine?.(line);
    }
  });
  return { done: new Promise((resolve) => proc.on('exit', () => resolve(result))), kill: () => proc.kill('SIGKILL') };
}

async function drop(url: string, study: string): Promise<void> {
  if (!/^(postgres|redis)/.test(url)) return;
  const s = openStorage(url) as SharedStudyStorage & { deleteStudy(n: string): Promise<void> };
  await s.deleteStudy(study);
  await s.close();
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

if (PARTS.includes('overhead')) {
  console.log('### Overhead per trial (1 worker, TPE, 1,000 trials of a free objective; ms)\n');
  console.log('| storage | ask+tell @100 | sampler @100 | storage+sync @100 | ask+tell @1000 | sampler @1000 | storage+sync @1000 |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const s of [{ name: 'InMemory', url: () => 'memory' }, ...storages]) {
    const url = s.url();
    const study = studyName('overhead');
    const r = (await runWorker({ url, study, budget: 1000, objective: 'none', ms: 0 }).done)!;
    await drop(url, study);
    const at = (from: number, to: number) => {
      const o = mean(r.overhead.slice(from, to));
      const p = mean(r.sampler.slice(from, to));
      return [fmt(o, 2), fmt(p, 2), fmt(o - p, 2)];
    };
    console.log(`| ${s.name} | ${[...at(90, 110), ...at(980, 1000)].join(' | ')} |`);
  }
}

if (PARTS.includes('scaling')) {
  console.log('\n### Scaling (100 trials; trials per second, and the speed-up over 1 worker)\n');
  console.log(`| storage | objective | ${COUNTS.map((n) => `${n} worker${n > 1 ? 's' : ''}`).join(' | ')} |`);
  console.log(`|---|---|${COUNTS.map(() => '---:').join('|')}|`);
  for (const s of storages) {
    for (const [objective, ms] of [
      ['wait', 50],
      ['compute', 20],
    ] as const) {
      const cells: string[] = [];
      let base = 0;
      for (const n of COUNTS) {
        const url = s.url();
        const study = studyName('scale');
        // The first worker creates the study; all count from when they start trials, so process
        // start-up is left out.
        const results = await Promise.all(Array.from({ length: n }, () => runWorker({ url, study, budget: 100, objective, ms }).done));
        await drop(url, study);
        const done = results.reduce((a, r) => a + (r?.trials ?? 0), 0);
        const rate = done / Math.max(...results.map((r) => r?.seconds ?? Infinity));
        if (n === COUNTS[0]) base = rate;
        cells.push(`${fmt(rate, 1)} (${fmt(rate / base, 2)}×)`);
      }
      console.log(`| ${s.name} | ${objective} ${ms} ms | ${cells.join(' | ')} |`);
    }
  }
}

if (PARTS.includes('chaos')) {
  console.log(`\n### Chaos (4 workers, one SIGKILLed every ${KILL_MS / 1000} s and restarted, 300 trials of a 20 ms wait)\n`);
  console.log('| storage | kills | trials | complete | reaped | reported complete but lost | completed twice | wall s |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of storages) {
    const url = s.url();
    const study = studyName('chaos');
    const job: WorkerJob = { url, study, budget: 300, objective: 'wait', ms: 20, heartbeatMs: 200, graceMs: 1000 };
    const reported = new Set<number>();
    const onLine = (line: string) => line.startsWith('done ') && reported.add(Number(line.slice(5)));
    const start = Date.now();
    const slots = Array.from({ length: 4 }, () => runWorker(job, onLine));
    let kills = 0;
    let finished = false;
    const killer = (async () => {
      for (let k = 0; !finished; k++) {
        await new Promise((r) => setTimeout(r, KILL_MS));
        if (finished) break;
        const i = k % slots.length;
        slots[i]!.kill();
        kills++;
        await slots[i]!.done;
        slots[i] = runWorker(job, onLine);
      }
    })();
    // Done when every worker in a slot exits on its own (the budget is met).
    for (;;) {
      const current = [...slots];
      await Promise.all(current.map((w) => w.done));
      if (current.every((w, i) => slots[i] === w)) break;
    }
    finished = true;
    await killer;
    const seconds = (Date.now() - start) / 1000;
    const storage = openStorage(url, { onWarning: () => undefined });
    const { events } = await storage.readSince(study, 0);
    await storage.close();
    await drop(url, study);
    const finishes = new Map<number, string[]>();
    let trials = 0;
    for (const e of events) {
      if (e.op === 'trial') trials++;
      if (e.op === 'finish') finishes.set(e.number, [...(finishes.get(e.number) ?? []), e.state]);
    }
    // The first finish of a trial is its outcome.
    const complete = [...finishes].filter(([, f]) => f[0] === 'complete').map(([n]) => n);
    const reaped = [...finishes].filter(([, f]) => f[0] === 'failed').length;
    const lost = [...reported].filter((n) => finishes.get(n)?.[0] !== 'complete').length;
    const twice = [...finishes].filter(([, f]) => f.filter((x) => x === 'complete').length > 1).length;
    console.log(`| ${s.name} | ${kills} | ${trials} | ${complete.length} | ${reaped} | ${lost} | ${twice} | ${fmt(seconds, 1)} |`);
  }
}
rmSync(dir, { recursive: true, force: true });
