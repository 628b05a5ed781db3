// Distributed studies on one machine: worker processes sharing one study through a journal file,
// PostgreSQL, Redis or kiln serve over HTTP (InMemory as the one-process baseline). Workers are
// bundled once (KILN_BENCH_TSX=1 runs them through tsx) and start their clocks together.
// 1. Overhead: one worker, 1,000 trials of a free objective; ask+tell time per trial around trial
//    100 and trial 1,000, split into the sampler's time (TPE) and the rest (storage, sync).
// 2. Scaling: 1, 2, 4 workers (KILN_BENCH_WORKERS, e.g. 1,2,4,8) on 100 trials of an objective
//    that waits 50 ms (I/O-bound) and one that computes for 20 ms; trials per second.
// 3. Chaos: 4 workers, one SIGKILLed every 2 s and restarted, 300 trials: finished trials lost
//    and duplicated (both must be 0).
// npm run bench -- distributed   (KILN_TEST_POSTGRES / KILN_TEST_REDIS name the servers;
//   KILN_BENCH_PARTS=overhead,scaling,chaos and KILN_BENCH_STORAGES=JournalFile,PostgreSQL,Redis,HTTP
//   choose what runs; KILN_BENCH_KILL_MS sets the chaos run's kill interval, default 2000)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStorage } from '../src/search/storage/open.ts';
import { serveStudies, type StudyServer } from '../src/search/storage/http-server.ts';
import { bundleForNode } from '../test/helpers/bundle.ts';
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
const TRIALS = Number(process.env.KILN_BENCH_TRIALS ?? 1000);
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

const storages: { name: string; url: () => string; token?: string }[] = [{ name: 'JournalFile', url: () => join(dir, `${serial}.jsonl`) }];
const pgUp = await up(POSTGRES, 5432);
if (pgUp) storages.push({ name: 'PostgreSQL', url: () => POSTGRES });
else console.log(`(PostgreSQL at ${POSTGRES} unreachable: left out)`);
if (await up(REDIS, 6379)) storages.push({ name: 'Redis', url: () => REDIS });
else console.log(`(Redis at ${REDIS} unreachable: left out)`);
// kiln serve in front of PostgreSQL (else the journal), in this process.
const TOKEN = 'bench-token-0123456789abcdef';
let server: StudyServer | undefined;
if (!CHOSEN || CHOSEN.includes('HTTP')) {
  const backend = openStorage(pgUp ? POSTGRES : join(dir, 'served.jsonl'));
  server = await serveStudies(backend, { token: TOKEN, port: 0 });
  storages.push({ name: 'HTTP', url: () => server!.url, token: TOKEN });
}

if (CHOSEN) storages.splice(0, storages.length, ...storages.filter((s) => CHOSEN.includes(s.name)));
// One bundle of the worker: it starts several times faster than through tsx.
const bundle = process.env.KILN_BENCH_TSX ? undefined : await bundleForNode(WORKER);
console.log(
  `load average at start: ${loadavg()
    .map((l) => fmt(l, 2))
    .slice(0, 2)
    .join(', ')} (1, 5 min) on ${cpus().length} cores\n`,
);

interface Result {
  trials: number;
  seconds: number;
  overhead: number[];
  sampler: number[];
  cpu: number[];
}

// A worker process; it joins the study, says 'ready' and starts trials on go() (at once when
// `go` is true: the chaos run's restarted workers).
function runWorker(
  job: WorkerJob,
  onLine?: (line: string) => void,
  go = false,
): { ready: Promise<void>; go(): void; done: Promise<Result | null>; kill(): void } {
  const proc = spawn(process.execPath, [...(bundle ? [bundle] : ['--import', 'tsx', WORKER]), JSON.stringify(job)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const start = () => proc.stdin.end('go\n');
  let buffer = '';
  let result: Result | null = null;
  let isReady: () => void;
  const ready = new Promise<void>((resolve) => (isReady = resolve));
  proc.stdin.on('error', () => undefined);
  proc.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.startsWith('{')) result = JSON.parse(line);
      else if (line === 'ready') {
        isReady();
        if (go) start();
      } else onLine?.(line);
    }
  });
  const done = new Promise<Result | null>((resolve) => proc.on('exit', () => resolve(result)));
  void done.then(() => isReady());
  return { ready, go: start, done, kill: () => proc.kill('SIGKILL') };
}

// Workers start together: all join the study, then all get the go.
async function runTogether(jobs: WorkerJob[]): Promise<(Result | null)[]> {
  const workers = jobs.map((job) => runWorker(job));
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.go();
  return Promise.all(workers.map((w) => w.done));
}

async function drop(url: string, study: string): Promise<void> {
  if (/^http/.test(url) && pgUp) url = POSTGRES;
  if (!/^(postgres|redis)/.test(url)) return;
  const s = openStorage(url) as SharedStudyStorage & { deleteStudy(n: string): Promise<void> };
  await s.deleteStudy(study);
  await s.close();
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

if (PARTS.includes('overhead')) {
  console.log('### Overhead per trial (1 worker, TPE, 1,000 trials of a free objective; ms)\n');
  console.log(
    "storage+sync = ask+tell − sampler; CPU = this process's CPU time in ask+tell, sampler included (the rest is waiting for the storage and for a core)\n",
  );
  console.log(
    '| storage | ask+tell @100 | sampler @100 | storage+sync @100 | CPU @100 | ask+tell @1000 | sampler @1000 | storage+sync @1000 | CPU @1000 |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of [{ name: 'InMemory', url: () => 'memory', token: undefined }, ...storages]) {
    const url = s.url();
    const study = studyName('overhead');
    const [r] = (await runTogether([{ url, study, budget: TRIALS, objective: 'none', ms: 0, ...(s.token ? { token: s.token } : {}) }])) as [
      Result,
    ];
    await drop(url, study);
    const at = (n: number) => {
      const [from, to] = [Math.max(0, n - 10), Math.min(r.overhead.length, n + 10)];
      const o = mean(r.overhead.slice(from, to));
      const p = mean(r.sampler.slice(from, to));
      return [fmt(o, 2), fmt(p, 2), fmt(o - p, 2), fmt(mean(r.cpu.slice(from, to)), 2)];
    };
    console.log(`| ${s.name} | ${[...at(100), ...at(TRIALS - 10)].join(' | ')} |`);
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
        const results = await runTogether(
          Array.from({ length: n }, () => ({ url, study, budget: 100, objective, ms, ...(s.token ? { token: s.token } : {}) })),
        );
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
    const job: WorkerJob = {
      url,
      study,
      budget: 300,
      objective: 'wait',
      ms: 20,
      heartbeatMs: 200,
      graceMs: 1000,
      ...(s.token ? { token: s.token } : {}),
    };
    const reported = new Set<number>();
    const onLine = (line: string) => line.startsWith('done ') && reported.add(Number(line.slice(5)));
    const start = Date.now();
    const slots = Array.from({ length: 4 }, () => runWorker(job, onLine, true));
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
        slots[i] = runWorker(job, onLine, true);
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
    const storage = openStorage(url, { onWarning: () => undefined, ...(s.token ? { token: s.token } : {}) });
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
await server?.close();
console.log(
  `\nload average at end: ${loadavg()
    .map((l) => fmt(l, 2))
    .slice(0, 2)
    .join(', ')} (1, 5 min)`,
);
rmSync(dir, { recursive: true, force: true });
