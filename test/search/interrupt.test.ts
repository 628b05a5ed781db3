// An abort signal stops optimize even when the objective never waits: timers (and so Ctrl-C
// handlers) get to run between trials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStudy } from '../../src/search/study.ts';

test('a timer-driven abort stops a study of synchronous trials within a few trials', async () => {
  const study = await createStudy({ seed: 1 });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 30);
  const busy = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  await study.optimize(
    (trial) => {
      busy(1);
      return trial.suggestFloat('x', 0, 1);
    },
    { trials: 3000, signal: controller.signal },
  );
  assert.ok(controller.signal.aborted);
  assert.ok(study.trials.length < 3000, `${study.trials.length} trials ran after the abort`);
  assert.ok(study.trials.every((t) => t.state === 'complete'));
});
