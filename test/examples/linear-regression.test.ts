// The design note's two worked examples reach the least-squares solution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradientDescentExample } from '../../examples/linear-regression-gd.ts';
import { randomSearchExample } from '../../examples/linear-regression-random-search.ts';

for (const seed of [0, 1, 2]) {
  test(`gradient descent lands within 1e-6 of the closed form (seed ${seed})`, async () => {
    const { found, exact } = await gradientDescentExample(seed);
    assert.ok(Math.abs(found.slope - exact.slope) < 1e-6, `slope ${found.slope} vs ${exact.slope}`);
    assert.ok(Math.abs(found.intercept - exact.intercept) < 1e-6, `intercept ${found.intercept} vs ${exact.intercept}`);
  });
  test(`random search lands within 1e-4 of the closed form (seed ${seed})`, () => {
    const { found, exact } = randomSearchExample(seed);
    assert.ok(Math.abs(found.slope - exact.slope) < 1e-4, `slope ${found.slope} vs ${exact.slope}`);
    assert.ok(Math.abs(found.intercept - exact.intercept) < 1e-4, `intercept ${found.intercept} vs ${exact.intercept}`);
  });
}
