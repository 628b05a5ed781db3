// Parameter names are data: names that are also Object.prototype members must work like any other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStudy } from '../../src/search/study.ts';
import { RandomSampler } from '../../src/search/samplers/random.ts';
import { TpeSampler } from '../../src/search/samplers/tpe.ts';

const NAMES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];

for (const [kind, sampler] of [
  ['random', () => new RandomSampler({ seed: 1 })],
  ['tpe', () => new TpeSampler({ seed: 1, nStartupTrials: 3 })],
] as const) {
  test(`parameters named like Object.prototype members work (${kind} sampler)`, async () => {
    const study = await createStudy({ sampler: sampler(), seed: 1 });
    await study.optimize(
      (trial) =>
        NAMES.reduce(
          (sum, name, i) => sum + (i % 2 === 0 ? trial.suggestFloat(name, -1, 1) : trial.suggestInt(name, 0, 3)) ** 2,
          trial.suggestCategorical('kind', ['a', 'b']) === 'a' ? 0 : 0.5,
        ),
      { trials: 8 },
    );
    assert.equal(study.trials.length, 8);
    for (const t of study.trials) {
      assert.equal(t.state, 'complete');
      for (const name of NAMES) assert.ok(Object.hasOwn(t.params, name), `${name} in trial ${t.number}`);
    }
    const fixed = study.ask({ constructor: 0.25 });
    assert.equal(fixed.suggestFloat('constructor', -1, 1), 0.25);
    assert.ok(Number.isInteger(fixed.suggestInt('toString', 0, 3)));
  });
}
