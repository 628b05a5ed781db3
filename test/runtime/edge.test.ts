// The edge example's fetch handler, called with Requests as a worker runtime would, against the
// built package (it imports 'kiln' by name).
import { test } from 'node:test';
import assert from 'node:assert/strict';

interface Handler { fetch(request: Request): Promise<Response> }
const { default: worker } = (await import('../../examples/edge/worker.mjs' as string)) as { default: Handler };

const post = (body: unknown) => worker.fetch(new Request('http://edge.test/predict', { method: 'POST', body: JSON.stringify(body) }));

test('GET / describes the model', async () => {
  const res = await worker.fetch(new Request('http://edge.test/'));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const body = (await res.json()) as { classes: string[]; parameters: number };
  assert.deepEqual(body.classes, ['setosa', 'versicolor', 'virginica']);
  assert.equal(body.parameters, 4 * 16 + 16 + 16 * 3 + 3);
});

test('POST /predict classifies Iris flowers', async () => {
  // Rows 1, 51 and 101 of the UCI file: one of each species.
  const res = await post({ features: [[5.1, 3.5, 1.4, 0.2], [7.0, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]] });
  assert.equal(res.status, 200);
  const { classes, probabilities } = (await res.json()) as { classes: string[]; probabilities: number[][] };
  assert.deepEqual(classes, ['setosa', 'versicolor', 'virginica']);
  for (const row of probabilities) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `probabilities sum to 1: ${row}`);
});

test('bad input gets 400 with the validation message, unknown routes 404', async () => {
  const bad = await post({ features: [[1, 2]] });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /row 0 has 2 features, expected 4/);
  const missing = await worker.fetch(new Request('http://edge.test/nothing'));
  assert.equal(missing.status, 404);
});
