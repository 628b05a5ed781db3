// Child process for the shared-storage tests: joins a study in the storage a URL names and runs
// trials, printing "start <n>" once a trial's parameters are stored and "done <n> <state>" after
// each, then "end <json>" with what it saw.
import { createStudy } from '../../src/search/study.ts';
import { openStorage } from '../../src/search/storage/open.ts';
import { RandomSampler } from '../../src/search/samplers/random.ts';

export interface ChildConfig {
  url: string;
  study: string;
  trials: number;
  sleepMs: number;
  heartbeatMs?: number;
  graceMs?: number;
  requeue?: boolean;
}

const config = JSON.parse(process.argv[2]!) as ChildConfig;
const storage = openStorage(config.url, { onWarning: () => undefined });
const study = await createStudy({
  name: config.study,
  storage,
  loadIfExists: true,
  sampler: new RandomSampler({ seed: process.pid }),
  ...(config.heartbeatMs ? { heartbeatMs: config.heartbeatMs } : {}),
  ...(config.graceMs ? { graceMs: config.graceMs } : {}),
  requeue: config.requeue ?? false,
});
const mine: number[] = [];
await study.optimize(
  async (trial) => {
    const x = trial.suggestFloat('x', 0, 1);
    await study.flush();
    mine.push(trial.number);
    process.stdout.write(`start ${trial.number}\n`);
    if (config.sleepMs > 0) await new Promise((r) => setTimeout(r, config.sleepMs));
    return x;
  },
  { trials: config.trials, callbacks: [(_, t) => process.stdout.write(`done ${t.number} ${t.state}\n`)] },
);
await study.sync();
process.stdout.write(`end ${JSON.stringify({ mine, ignoredTells: study.ignoredTells })}\n`);
await study.close();
await storage.close();
