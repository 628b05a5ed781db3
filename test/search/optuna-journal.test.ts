// Optuna journal files: one written by Optuna 3.1 itself (fixtures/optuna-3.1-journal.log, with
// the trials Optuna reported in optuna-3.1-expected.json) imports with the same trials, and a kiln
// study exported and imported back is unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createStudy } from '../../src/search/study.ts';
import { InMemoryStorage } from '../../src/search/storage/storage.ts';
import { fromOptunaJournal, toOptunaJournal } from '../../src/search/optuna-journal.ts';
import { RandomSampler } from '../../src/search/samplers/random.ts';
import { TrialPruned } from '../../src/search/trial.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const STATE = { COMPLETE: 'complete', PRUNED: 'pruned', FAIL: 'failed', RUNNING: 'running' } as const;

test("a journal Optuna wrote imports with Optuna's trials; its waiting trial becomes the queue", async () => {
  const storage = new InMemoryStorage();
  storage.append(fromOptunaJournal(fixture('optuna-3.1-journal.log'), { study: 'mlp', as: 'warm' }));
  const study = await createStudy({ name: 'warm', storage, loadIfExists: true, sampler: new RandomSampler({ seed: 1 }) });
  const expected = (
    JSON.parse(fixture('optuna-3.1-expected.json')) as {
      number: number;
      state: keyof typeof STATE;
      params: object;
      values: number[] | null;
      intermediate: Record<string, number>;
      user_attrs: object;
    }[]
  ).filter((t) => t.state !== ('WAITING' as string));
  assert.equal(study.trials.length, expected.length);
  for (const e of expected) {
    const t = study.trials[e.number]!;
    assert.equal(t.state, STATE[e.state], `trial ${e.number}`);
    assert.deepEqual(t.params, e.params);
    assert.deepEqual(t.values, e.values);
    assert.deepEqual(t.intermediate, Object.fromEntries(Object.entries(e.intermediate).map(([k, v]) => [Number(k), v])));
    assert.deepEqual(t.userAttrs, e.user_attrs);
  }
  assert.equal(study.directions[0], 'minimize');
  const next = study.ask();
  assert.equal(next.suggestFloat('lr', 1e-4, 1e-1, { log: true }), 0.01, 'the enqueued trial comes first');
  assert.equal(next.suggestInt('units', 16, 256, { log: true }), 64);
});

test('a kiln study survives export to the Optuna journal format and import back', async () => {
  const study = await createStudy({
    name: 'rt',
    sampler: new RandomSampler({ seed: 2 }),
    constraints: (t) => [(t.params.x as number) - 0.5],
  });
  await study.optimize(
    (t) => {
      const x = t.suggestFloat('x', 0, 1);
      t.suggestInt('n', 1, 9, { step: 2 });
      t.suggestFloat('lr', 1e-3, 1, { log: true });
      t.suggestCategorical('kind', ['a', 7, true, null]);
      t.report(NaN, 0);
      t.report(x, 3);
      t.setUserAttr('note', { deep: [1, 'two'] });
      if (t.number === 1) throw new TrialPruned();
      if (t.number === 2) throw new Error('boom');
      return x;
    },
    { trials: 5, catch: true },
  );
  study.enqueueTrial({ x: 0.25 });
  const text = toOptunaJournal('rt', study.storage.load() as never);
  assert.match(text.split('\n')[0]!, /^\{"op_code":0,"worker_id":"kiln-export-0","study_name":"rt","directions":\[1\]\}$/);
  assert.match(text, /"intermediate_value":NaN/, 'NaN written as Python does');
  const storage = new InMemoryStorage();
  storage.append(fromOptunaJournal(text));
  const again = await createStudy({ name: 'rt', storage, loadIfExists: true });
  const strip = (ts: typeof study.trials) => ts.map(({ startedAt, finishedAt, durationMs, ...rest }) => rest);
  assert.deepEqual(strip(again.trials), strip(study.trials));
  assert.equal(again.ask().suggestFloat('x', 0, 1), 0.25);
});

test('bad Optuna journals are errors naming the line', () => {
  const good = fixture('optuna-3.1-journal.log').split('\n');
  assert.throws(() => fromOptunaJournal(fixture('optuna-3.1-journal.log')), /the file holds 2 studies \(other, mlp\); name one/);
  assert.throws(() => fromOptunaJournal(good.join('\n'), { study: 'nope' }), /no study named 'nope' \(found: other, mlp\)/);
  assert.throws(
    () => fromOptunaJournal([good[0], '{"op_code": 5, "trial_id": 9}'].join('\n')),
    /Optuna journal line 2: trial_id 9 was never created/,
  );
  assert.throws(() => fromOptunaJournal([good[0], '{"op_code": 42}'].join('\n')), /line 2: unknown op_code 42/);
  assert.throws(
    () =>
      fromOptunaJournal(
        [
          good[0],
          good[1],
          '{"op_code": 5, "trial_id": 0, "param_name": "y", "param_value_internal": 2, "distribution": "{\\"name\\": \\"BetaDistribution\\"}"}',
        ].join('\n'),
        { study: 'other' },
      ),
    /line 3: y: unknown distribution "BetaDistribution"/,
  );
  assert.throws(
    () => fromOptunaJournal('{"op_code": 0, "study_name": "s", "directions": [3]}'),
    /line 1: directions must be a list of 1 \(minimize\) or 2 \(maximize\), got \[3\]/,
  );
  assert.throws(() => fromOptunaJournal('{"op_code": 0, "study'), /line 1 is not valid JSON/);
});
