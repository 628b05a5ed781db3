// Distributed studies on one machine: worker processes sharing one study through a journal file,
// PostgreSQL, Redis or kiln serve over HTTP (InMemory as the one-process baseline). Workers are
// bundled once (KILN_BENCH_TSX=1 runs them through tsx) and start their clocks together.
// 1. Overhead: one worker, 1,000 trials of a free objective; per trial around trial 100 and
//    trial 1,000: the ask (claim + read back, the sampler included), the tell (finish + read
//    back), the sampler's (TPE) part, an incremental read on its own, and the CPU time.
// 2. Scaling: 1, 2, 4 workers (KILN_BENCH_WORKERS, e.g. 1,2,4,8) on 200 trials
//    (KILN_BENCH_SCALE_TRIALS) of an objective that waits 100 ms (I/O-bound) and one that
//    computes for 20 ms; steady-state trials per second: finishes between the 10% and the 90%
//    mark of the run over the time between them, so start-up, JIT warm-up and the tail (workers
//    running out of trials) are left out.
// 3. Chaos: 4 workers, one SIGKILLed every 2 s and restarted, 300 trials of a 200 ms wait
//    (KILN_BENCH_CHAOS_MS), heartbeats every 200 ms, grace 1 s: finished trials lost and
//    duplicated (both must be 0), trials reaped and re-enqueued. Alone:
//    KILN_BENCH_PARTS=chaos npm run bench -- distributed
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
import { StudyState } from '../src/search/study-state.ts';
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
const SCALE_TRIALS = Number(process.env.KILN_BENCH_SCALE_TRIALS ?? 200);
const WAIT_MS = Number(process.env.KILN_BENCH_WAIT_MS ?? 100);
const CHAOS_MS = Number(process.env.KILN_BENCH_CHAOS_MS ?? 200);
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
  asks: number[];
  tells: number[];
  sampler: number[];
  syncs: number[];
  cpu: number[];
  ends: number[];
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
  console.log(
    `### Overhead per trial (1 worker, TPE, ${fmt(TRIALS, 0)} trials of a free objective; ms, mean of 20 trials around the one named)\n`,
  );
  console.log(
    "ask = claim + read back + sampler; tell = finish + read back; storage = ask + tell − sampler; sync = an incremental read with nothing new, on its own (asks and tells read in the same round trip, so it is not part of the overhead); CPU = this process's CPU time in ask+tell (the rest is waiting for the storage and for a core)\n",
  );
  console.log('| storage | trial | ask | tell | sampler | storage | ask+tell | sync | CPU |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of [{ name: 'InMemory', url: () => 'memory', token: undefined }, ...storages]) {
    const url = s.url();
    const study = studyName('overhead');
    const [r] = (await runTogether([{ url, study, budget: TRIALS, objective: 'none', ms: 0, ...(s.token ? { token: s.token } : {}) }])) as [
      Result,
    ];
    await drop(url, study);
    for (const n of [100, TRIALS - 10]) {
      const [from, to] = [Math.max(0, n - 10), Math.min(r.asks.length, n + 10)];
      const m = (xs: number[]) => mean(xs.slice(from, to));
      const [ask, tell, sampler] = [m(r.asks), m(r.tells), m(r.sampler)];
      const cells = [ask, tell, sampler, ask + tell - sampler, ask + tell, m(r.syncs), m(r.cpu)];
      console.log(`| ${s.name} | ${n} | ${cells.map((c) => fmt(c, 2)).join(' | ')} |`);
    }
  }
}

// Steady-state trials per second of a run: the finishes between the 10% and the 90% mark over
// the time between them.
function steadyRate(results: (Result | null)[]): number {
  const ends = results.flatMap((r) => r?.ends ?? []).sort((a, b) => a - b);
  const [i, j] = [Math.floor(ends.length * 0.1), Math.ceil(ends.length * 0.9) - 1];
  return j > i ? ((j - i) * 1000) / (ends[j]! - ends[i]!) : NaN;
}

if (PARTS.includes('scaling')) {
  console.log(
    `\n### Scaling (${SCALE_TRIALS} trials; steady-state trials per second, the speed-up over 1 worker, and per trial the CPU time of ask+tell and the sampler's part, ms)\n`,
  );
  console.log(`| storage | objective | ${COUNTS.map((n) => `${n} worker${n > 1 ? 's' : ''}`).join(' | ')} |`);
  console.log(`|---|---|${COUNTS.map(() => '---:').join('|')}|`);
  for (const s of storages) {
    for (const [objective, ms] of [
      ['wait', WAIT_MS],
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
          Array.from({ length: n }, () => ({ url, study, budget: SCALE_TRIALS, objective, ms, ...(s.token ? { token: s.token } : {}) })),
        );
        await drop(url, study);
        const rate = steadyRate(results);
        if (n === COUNTS[0]) base = rate;
        const all = (k: 'cpu' | 'sampler') => mean(results.flatMap((r) => r?.[k] ?? []));
        cells.push(`${fmt(rate, 1)} (${fmt(rate / base, 2)}×; ${fmt(all('cpu'), 1)}, ${fmt(all('sampler'), 1)})`);
      }
      console.log(`| ${s.name} | ${objective} ${ms} ms | ${cells.join(' | ')} |`);
    }
  }
}

if (PARTS.includes('chaos')) {
  console.log(
    `\n### Chaos (4 workers, one SIGKILLed every ${KILL_MS / 1000} s and restarted, 300 trials of a ${CHAOS_MS} ms wait, heartbeat 200 ms, grace 1 s)\n`,
  );
  console.log(
    'reaped: trials of killed workers failed by another; re-run: their parameters claimed again from the queue; lost: reported complete by a worker but not complete in the log\n',
  );
  console.log('| storage | kills | trials | complete | reaped | re-enqueued | re-run | lost | completed twice | wall s |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of storages) {
    const url = s.url();
    const study = studyName('chaos');
    const job: WorkerJob = {
      url,
      study,
      budget: 300,
      objective: 'wait',
      ms: CHAOS_MS,
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
    const state = new StudyState();
    let trials = 0;
    let requeued = 0;
    for (const e of events) {
      if (e.op === 'trial') trials++;
      if (e.op === 'finish') {
        if (!finishes.has(e.number) && e.requeue) requeued++;
        finishes.set(e.number, [...(finishes.get(e.number) ?? []), e.state]);
      }
      state.apply(e);
    }
    // The first finish of a trial is its outcome.
    const complete = [...finishes].filter(([, f]) => f[0] === 'complete').map(([n]) => n);
    const reaped = [...finishes].filter(([, f]) => f[0] === 'failed').length;
    const lost = [...reported].filter((n) => finishes.get(n)?.[0] !== 'complete').length;
    const twice = [...finishes].filter(([, f]) => f.filter((x) => x === 'complete').length > 1).length;
    const rerun = requeued - state.queue.length;
    console.log(
      `| ${s.name} | ${kills} | ${trials} | ${complete.length} | ${reaped} | ${requeued} | ${rerun} | ${lost} | ${twice} | ${fmt(seconds, 1)} |`,
    );
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
