import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStudy } from '../../src/search/study.ts';
import { TpeSampler } from '../../src/search/samplers/tpe.ts';
import { MedianPruner } from '../../src/search/pruners/median.ts';
import { optimizeParallel } from '../../src/search/parallel/pool.ts';

const BRANIN = new URL('./fixtures/branin.mjs', import.meta.url);
const CRASH = new URL('./fixtures/crash.ts', import.meta.url);

// Independent f64 Branin, to check the values the workers sent back.
const branin = (x: number, y: number) => {
  const b = 5.1 / (4 * Math.PI ** 2);
  return (y - b * x * x + (5 / Math.PI) * x - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x) + 10;
};

async function run(seed: number, workers: number) {
  const study = await createStudy({
    sampler: new TpeSampler({ seed, constantLiar: true, nStartupTrials: 4 }),
    pruner: new MedianPruner({ nStartupTrials: 2 }),
  });
  const seen: number[] = [];
  await optimizeParallel(study, { module: BRANIN, workers, trials: 14, context: { steps: 4 }, callbacks: [(_, t) => seen.push(t.number)] });
  return { study, seen };
}

const summary = (s: Awaited<ReturnType<typeof run>>['study']) =>
  s.trials.map((t) => ({ n: t.number, state: t.state, params: t.params, values: t.values, intermediate: t.intermediate }));

test('optimizeParallel: two workers finish a study; values and reports match the objective', async () => {
  const { study, seen } = await run(7, 2);
  assert.equal(study.trials.length, 14);
  assert.deepEqual(
    seen.slice().sort((a, b) => a - b),
    Array.from({ length: 14 }, (_, i) => i),
  );
  let pruned = 0;
  for (const t of study.trials) {
    const v = branin(t.params.x as number, t.params.y as number);
    if (t.state === 'complete') {
      assert.ok(Math.abs(t.values![0]! - v) <= 1e-12 * Math.abs(v), `trial ${t.number}`);
      assert.equal(Object.keys(t.intermediate).length, 4);
      assert.equal(t.userAttrs.steps, 4);
    } else {
      assert.equal(t.state, 'pruned', `trial ${t.number}: ${t.error}`);
      pruned++;
    }
    const steps = Object.keys(t.intermediate).map(Number);
    for (const s of steps) assert.ok(Math.abs(t.intermediate[s]! - v * (1 + (4 - s) / 4)) <= 1e-12 * v);
  }
  assert.ok(pruned > 0, 'the median pruner stopped some trials');
  assert.ok(study.bestValue < 5, `best ${study.bestValue}`);
});

test('optimizeParallel: the same seed and worker count give the same trials, decisions and values', async () => {
  const a = await run(11, 3);
  const b = await run(11, 3);
  assert.deepEqual(summary(a.study), summary(b.study));
});

test('optimizeParallel: a crashing worker fails its trial, is replaced, and the study completes', async () => {
  const study = await createStudy({ sampler: new TpeSampler({ seed: 1 }) });
  await optimizeParallel(study, { module: CRASH, workers: 2, trials: 6, catch: (e) => e.name === 'RangeError' });
  const states = study.trials.map((t) => t.state);
  assert.deepEqual(states, ['complete', 'failed', 'complete', 'failed', 'complete', 'complete']);
  assert.match(study.trials[1]!.error!, /worker 1 crashed: lost the worker/);
  assert.equal(study.trials[3]!.error, 'bad trial');
  for (const t of study.trials.filter((t) => t.state === 'complete')) assert.equal(t.values![0], (t.params.x as number) ** 2);
});

test('optimizeParallel: an objective error stops the study unless caught; options are checked', async () => {
  const study = await createStudy({ sampler: new TpeSampler({ seed: 1 }) });
  await assert.rejects(optimizeParallel(study, { module: CRASH, workers: 2, trials: 6 }), /bad trial/);
  assert.equal(study.trials.length, 4);
  await assert.rejects(optimizeParallel(study, { module: './x.mjs', trials: 1 }), /module must be a URL/);
  await assert.rejects(optimizeParallel(study, { module: BRANIN, workers: 0, trials: 1 }), RangeError);
  await assert.rejects(
    optimizeParallel(study, { module: new URL('./fixtures/missing.mjs', import.meta.url), trials: 1 }),
    /worker 0 could not start/,
  );
});
