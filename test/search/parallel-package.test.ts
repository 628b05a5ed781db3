// Parallel trials from the built package (dist/): the worker files it ships run both a user's
// objective module and the built-in MLP search, with no TypeScript loader involved.
import { test } from 'node:test';
import assert from 'node:assert/strict';

type Kiln = typeof import('../../src/index.ts');
const kiln = (await import(new URL('../../dist/kiln.mjs', import.meta.url).href)) as Kiln;

test('optimizeParallel runs a kiln objective module on 2 workers from dist/', async () => {
  const study = await kiln.createStudy({ direction: 'maximize', sampler: new kiln.TpeSampler({ seed: 3, constantLiar: true }) });
  await kiln.optimizeParallel(study, { module: new URL('./fixtures/package-objective.mjs', import.meta.url), workers: 2, trials: 4 });
  assert.equal(study.trials.filter((t) => t.state === 'complete').length, 4);
  assert.ok(study.bestValue! > 0.5, `best accuracy ${study.bestValue}`);
});

test('searchModel with 2 workers from dist/ returns a trained model', async () => {
  const { train, validation } = kiln.trainTestSplit(kiln.iris(), { testFraction: 0.2, validationFraction: 0.2, seed: 1 });
  const result = await kiln.searchModel(train, { validation: validation!, trials: 4, workers: 2, seed: 1, epochs: 5 });
  assert.equal(result.strategy, 'trials');
  assert.ok(result.model.predict([[5.1, 3.5, 1.4, 0.2]]).length === 3);
  result.model.dispose();
});
