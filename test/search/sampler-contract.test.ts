// The contract every sampler meets: a seed fixes the trials (also in a fresh process),
// suggestions stay inside their distributions with the right types, conditional parameters
// appear only when active, and a batch asked at once does not depend on the order it runs in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createStudy } from '../../src/search/study.ts';
import { GRID, KINDS, SAMPLERS, mixedObjective, runContract } from './contract-fixtures.ts';

const SEED = 3;
const inProcess = new Map<string, Awaited<ReturnType<typeof runContract>>>();
const run = async (name: string) => {
  if (!inProcess.has(name)) inProcess.set(name, await runContract(name, SEED));
  return inProcess.get(name)!;
};

for (const name of Object.keys(SAMPLERS)) {
  const grid = SAMPLERS[name]!.grid === true;

  test(`${name}: the same seed gives the same trials; another seed other trials`, async () => {
    const a = await run(name);
    const b = await runContract(name, SEED);
    assert.deepEqual(b, a);
    const c = await runContract(name, SEED + 1);
    if (!(name === 'grid'))
      assert.notDeepEqual(
        c.map((t) => t.params),
        a.map((t) => t.params),
      );
  });

  test(`${name}: suggestions lie inside their distributions, with the right types`, async () => {
    for (const { params } of await run(name)) {
      assert.ok(KINDS.includes(params.kind as never) || GRID.kind.includes(params.kind as string), `kind ${params.kind}`);
      const lr = params.lr as number;
      assert.ok(lr >= 1e-4 && lr <= 1e-1, `lr ${lr}`);
      const units = params.units as number;
      assert.ok(Number.isInteger(units), `units ${units} is an integer`);
      if (grid) {
        assert.ok(GRID.units.includes(units) && GRID.lr.includes(lr), `grid point ${JSON.stringify(params)}`);
        continue;
      }
      assert.ok(units >= 8 && units <= 128 && units % 8 === 0, `units ${units} on its step-8 grid`);
      const layers = params.layers as number;
      assert.ok(Number.isInteger(layers) && layers >= 1 && layers <= 64, `layers ${layers}`);
      const drop = params.drop as number;
      const k = drop / 0.05;
      assert.ok(drop >= 0 && drop <= 0.5 && Math.abs(k - Math.round(k)) < 1e-9, `drop ${drop} on its 0.05 grid`);
    }
  });

  if (!grid) {
    test(`${name}: a conditional parameter appears exactly when its condition holds`, async () => {
      for (const { params } of await run(name)) assert.equal('momentum' in params, params.kind === 'b', JSON.stringify(params));
    });

    test(`${name}: a batch asked at once samples the same whatever order it runs in`, async () => {
      const batchRun = async (reverse: boolean) => {
        const study = await createStudy({ sampler: SAMPLERS[name]!.make(SEED), seed: SEED });
        await study.optimize(mixedObjective, { trials: 8 });
        const batch = study.askBatch(4);
        for (const trial of reverse ? batch.slice().reverse() : batch) await study.tell(trial, mixedObjective(trial));
        return study.trials.map((t) => t.params);
      };
      assert.deepEqual(await batchRun(true), await batchRun(false));
    });
  }
}

test('grid: visits every point once in the documented order, then optimize stops', async () => {
  const study = await createStudy({ sampler: SAMPLERS.grid!.make(0) });
  await study.optimize(
    (t) =>
      t.suggestInt('units', 16, 128) +
      (t.suggestCategorical('kind', GRID.kind) === 'a' ? 0 : 1) +
      t.suggestFloat('lr', 0.001, 0.01, { log: true }),
    { trials: 100 },
  );
  const expected = GRID.kind.flatMap((kind) => GRID.units.flatMap((units) => GRID.lr.map((lr) => ({ kind, units, lr }))));
  assert.deepEqual(
    study.trials.map((t) => t.params),
    expected,
  );
});

test('every sampler samples the same trials in a fresh process', async () => {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./contract-child.ts', import.meta.url)), String(SEED)],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(child.status, 0, child.stderr);
  const fresh = JSON.parse(child.stdout) as Record<string, unknown>;
  for (const name of Object.keys(SAMPLERS)) assert.deepEqual(fresh[name], await run(name), name);
});
