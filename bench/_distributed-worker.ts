// One worker process of the distributed benchmark: joins a study in the storage a URL names and
// runs trials until the study has `budget` finished ones, timing each ask+tell (the storage and
// sampler overhead a trial pays) apart from the objective, and the sampler's own calls. Prints
// one JSON line at the end, and "done <n>" after each of its complete trials (for the chaos run).
import { createStudy } from '../src/search/study.ts';
import { openStorage } from '../src/search/storage/open.ts';
import { InMemoryStorage } from '../src/search/storage/storage.ts';
import { TpeSampler } from '../src/search/samplers/tpe.ts';
import type { Sampler } from '../src/search/samplers/sampler.ts';

export interface WorkerJob {
  url: string;
  study: string;
  budget: number;
  objective: 'none' | 'wait' | 'compute';
  ms: number;
  heartbeatMs?: number;
  graceMs?: number;
  token?: string;
}

const job = JSON.parse(process.argv[2]!) as WorkerJob;
let samplerMs = 0;
const tpe = new TpeSampler({ seed: 1 });
const timed: Sampler = {
  sampleRelative: (ctx, t) => {
    const t0 = performance.now();
    try {
      return tpe.sampleRelative(ctx, t);
    } finally {
      samplerMs += performance.now() - t0;
    }
  },
  sampleIndependent: (ctx, t, name, d) => {
    const t0 = performance.now();
    try {
      return tpe.sampleIndependent(ctx, t, name, d);
    } finally {
      samplerMs += performance.now() - t0;
    }
  },
};
const storage =
  job.url === 'memory'
    ? new InMemoryStorage()
    : openStorage(job.url, { onWarning: () => undefined, ...(job.token ? { token: job.token } : {}) });
const study = await createStudy({
  name: job.study,
  storage,
  loadIfExists: true,
  sampler: timed,
  requeue: true,
  ...(job.heartbeatMs ? { heartbeatMs: job.heartbeatMs } : {}),
  ...(job.graceMs ? { graceMs: job.graceMs } : {}),
});
// Ready: wait for the go (a line on stdin) so that every worker of a run starts its clock
// together; process start-up, which differs by seconds on a loaded machine, stays out.
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.pause();
process.stdin.unref?.();
// Per trial: the ask (claim and read back, sampler included), the tell (finish and read back),
// the sampler's part of the ask, an incremental read of the log on its own (the sync every ask
// and tell does in the same round trip, timed apart here and left out of the overhead), the
// process's CPU time in ask+tell (user + system: what the trial costs apart from waiting for
// the storage and for a core on a loaded machine) and when the tell returned (epoch ms, so the
// bench can take the steady-state rate across workers).
const asks: number[] = [];
const tells: number[] = [];
const sampler: number[] = [];
const syncs: number[] = [];
const cpu: number[] = [];
const ends: number[] = [];
const finished = () => study.trials.filter((t) => t.state === 'complete' || t.state === 'pruned').length;
const start = performance.now();
// Every tell reads the log back up to its finish (other workers' finishes included), so the
// budget check needs no read of its own.
await study.sync();
for (;;) {
  if (finished() >= job.budget) break;
  const t0 = performance.now();
  const s0 = samplerMs;
  const c0 = process.cpuUsage();
  const trial = await study.askAsync();
  const x = trial.suggestFloat('x', -5, 5);
  const y = trial.suggestFloat('y', -5, 5);
  const t1 = performance.now();
  const c1 = process.cpuUsage(c0);
  if (job.objective === 'wait') await new Promise((r) => setTimeout(r, job.ms));
  else if (job.objective === 'compute') for (const until = performance.now() + job.ms; performance.now() < until;);
  const t2 = performance.now();
  const c2 = process.cpuUsage();
  const record = await study.tell(trial, x * x + y * y);
  const t3 = performance.now();
  const c3 = process.cpuUsage(c2);
  asks.push(t1 - t0);
  tells.push(t3 - t2);
  sampler.push(samplerMs - s0);
  cpu.push((c1.user + c1.system + c3.user + c3.system) / 1000);
  ends.push(performance.timeOrigin + t3);
  if (record.state === 'complete') process.stdout.write(`done ${trial.number}\n`);
  if (job.objective === 'none') {
    const t4 = performance.now();
    await study.sync();
    syncs.push(performance.now() - t4);
  }
}
const seconds = (performance.now() - start) / 1000;
process.stdout.write(`${JSON.stringify({ trials: asks.length, seconds, asks, tells, sampler, syncs, cpu, ends })}\n`);
await study.close();
if ('close' in storage) await (storage as { close(): unknown }).close();
