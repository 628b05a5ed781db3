// Ask/tell with a JSON search space and a journal file: the loop that a CLI, a queue of remote
// workers or any other driver can run. Kill it at any moment and run it again: finished trials
// are kept, a trial that was running is marked failed, and the search carries on.
// node --import tsx examples/search-ask-tell.ts [journal.jsonl]
import { createStudy, GpSampler, JournalFileStorage, parseSpace, sampleSpace } from '../src/search/index.ts';

const space = parseSpace({
  x: { float: [-5, 10] },
  y: { float: [0, 15] },
  shape: { categorical: ['branin', 'bowl'] },
  scale: { float: [0.1, 10], log: true, if: { shape: 'bowl' } },
});

function evaluate(p: Record<string, unknown>): number {
  const [x, y] = [p.x as number, p.y as number];
  if (p.shape === 'bowl') return (p.scale as number) * ((x - 1) ** 2 + (y - 2) ** 2) + 0.5;
  const b = 5.1 / (4 * Math.PI ** 2);
  return (y - b * x * x + (5 / Math.PI) * x - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x) + 10;
}

const path = process.argv[2] ?? 'search-ask-tell.jsonl';
const study = await createStudy({
  name: 'ask-tell',
  storage: new JournalFileStorage(path),
  sampler: new GpSampler({ seed: 0 }),
  loadIfExists: true,
});
const done = study.trials.filter((t) => t.state === 'complete').length;
console.log(`${path}: ${study.trials.length} trials stored, ${done} complete`);

// Batches of 4: asked together (each knows the others are pending), evaluated, then told.
while (study.trials.filter((t) => t.state === 'complete').length < 40) {
  const batch = await study.askBatchAsync(4, space);
  for (const trial of batch) await study.tell(trial, evaluate(trial.params));
}
console.log(`best ${study.bestValue.toFixed(5)}`, study.bestParams);
console.log(study.toCSV().split('\n').slice(0, 4).join('\n'));
