// Child process for the journal tests: runs (or resumes) a study kept in a journal file and
// prints "complete <number>" after each finished trial, so the parent knows when to kill it.
import { createStudy } from '../../src/search/study.ts';
import { JournalFileStorage } from '../../src/search/storage/journal-file.ts';
import { TpeSampler } from '../../src/search/samplers/tpe.ts';
import type { Trial } from '../../src/search/trial.ts';

export function slowObjective(trial: Trial): number {
  const x = trial.suggestFloat('x', -5, 5);
  const n = trial.suggestInt('n', 1, 8);
  const kind = trial.suggestCategorical('kind', ['a', 'b']);
  // Long enough that a kill often lands inside a trial.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 15);
  return x * x + n + (kind === 'a' ? 0 : 0.5);
}

export const openStudy = async (path: string) =>
  createStudy({
    name: 'resumable',
    storage: new JournalFileStorage(path, { onWarning: () => undefined }),
    sampler: new TpeSampler({ seed: 4, nStartupTrials: 3 }),
    seed: 4,
    loadIfExists: true,
  });

if (process.argv[1]?.endsWith('journal-child.ts')) {
  const [path, total] = [process.argv[2]!, Number(process.argv[3])];
  const study = await openStudy(path);
  const remaining = total - study.trials.filter((t) => t.state === 'complete').length;
  await study.optimize(slowObjective, { trials: remaining, callbacks: [(_, t) => process.stdout.write(`complete ${t.number}\n`)] });
  process.stdout.write(
    JSON.stringify(study.trials.map((t) => ({ number: t.number, state: t.state, params: t.params, values: t.values }))) + '\n',
  );
}
