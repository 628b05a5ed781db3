// The edge example's request schema: every malformed request is a 4xx whose message names what,
// where and the value; none is coerced, none reaches the engine's words.
import { test } from 'node:test';
import assert from 'node:assert/strict';

// The example imports 'kiln' (the built bundle); the model is made with the same module.
const bundle = '../../dist/kiln.mjs';
const worker = '../../examples/edge/worker.mjs';

async function setup(limits = {}) {
  const kiln = await import(bundle);
  kiln.initSync({ threads: 1 });
  const data = kiln.iris();
  const model = new kiln.Sequential({ inputs: 4, layers: [kiln.dense(8, 'relu'), kiln.dense(3)], seed: 3 });
  await kiln.fit(model, data, { optimizer: kiln.adam({ lr: 0.05 }), epochs: 3, batchSize: 32 });
  const q = kiln.quantize(model, { scheme: 'int8-dynamic' });
  const bytes = kiln.quantizedModelToBytes(q);
  // The handler's init() starts a core of its own: free these first.
  q.dispose();
  model.dispose();
  const { createWorker, LIMITS } = await import(worker);
  const handler = createWorker({ wasm: kiln.compiledModule(), model: bytes, limits });
  return { kiln, handler, LIMITS };
}

const post = (body: string, headers: Record<string, string> = {}) =>
  new Request('http://edge.test/predict', { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

// [name, body, status, message pattern]: each a distinct malformed request.
const row = '[5.1, 3.5, 1.4, 0.2]';
const CASES: [string, string, number, RegExp][] = [
  ['empty body', '', 400, /not valid JSON .*send \{"features"/],
  ['not JSON', 'features=1', 400, /not valid JSON/],
  ['truncated JSON', '{"features": [[1, 2', 400, /not valid JSON/],
  ['JSON null', 'null', 400, /must be a JSON object like .*got null/],
  ['JSON array', `[${row}]`, 400, /must be a JSON object .*got an array/],
  ['JSON string', '"1234"', 400, /must be a JSON object .*got a string/],
  ['JSON number', '42', 400, /must be a JSON object .*got a number/],
  ['no features key', '{}', 400, /"features" must be an array of rows .*got a undefined nothing/],
  ['unknown key', `{"features": [${row}], "debug": true}`, 400, /unknown key "debug" in the body; the only key is "features"/],
  ['misspelled key', `{"feature": [${row}]}`, 400, /unknown key "feature"/],
  ['features null', '{"features": null}', 400, /"features" must be an array of rows .*got null null/],
  ['features a string', '{"features": "1234"}', 400, /"features" must be an array .*got a string "1234"/],
  ['features a number', '{"features": 5.1}', 400, /"features" must be an array .*got a number 5.1/],
  ['features an object', '{"features": {"a": 1}}', 400, /"features" must be an array .*got an object/],
  ['features empty', '{"features": []}', 400, /"features" is empty; send at least one row/],
  ['flat row, not nested', '{"features": [5.1, 3.5, 1.4, 0.2]}', 400, /features\[0\] must be an array of 4 numbers, got a number 5.1/],
  ['row a string', '{"features": ["1234"]}', 400, /features\[0\] must be an array of 4 numbers, got a string "1234"/],
  ['row null', `{"features": [${row}, null]}`, 400, /features\[1\] must be an array of 4 numbers, got null/],
  ['row an object', '{"features": [{"x": 1}]}', 400, /features\[0\] must be an array .*got an object/],
  ['short row', '{"features": [[5.1, 3.5, 1.4]]}', 400, /features\[0\] has 3 values, the model takes 4/],
  ['long row', '{"features": [[5.1, 3.5, 1.4, 0.2, 9]]}', 400, /features\[0\] has 5 values, the model takes 4/],
  ['empty row', `{"features": [${row}, []]}`, 400, /features\[1\] has 0 values, the model takes 4/],
  [
    'null cell',
    '{"features": [[5.1, null, 1.4, 0.2]]}',
    400,
    /features\[0\]\[1\] must be a number, got null null \(no value is converted\)/,
  ],
  ['boolean cell true', '{"features": [[true, 3.5, 1.4, 0.2]]}', 400, /features\[0\]\[0\] must be a number, got a boolean true/],
  ['boolean cell false', '{"features": [[5.1, 3.5, 1.4, false]]}', 400, /features\[0\]\[3\] must be a number, got a boolean false/],
  ['numeric string cell', '{"features": [[5.1, "3.5", 1.4, 0.2]]}', 400, /features\[0\]\[1\] must be a number, got a string "3.5"/],
  ['word cell', `{"features": [${row}, [5.1, 3.5, "wide", 0.2]]}`, 400, /features\[1\]\[2\] must be a number, got a string "wide"/],
  ['nested array cell', '{"features": [[5.1, [3.5], 1.4, 0.2]]}', 400, /features\[0\]\[1\] must be a number, got an array \[3.5\]/],
  ['object cell', '{"features": [[5.1, 3.5, {"v": 1}, 0.2]]}', 400, /features\[0\]\[2\] must be a number, got an object/],
  ['overflowing number', '{"features": [[5.1, 3.5, 1e999, 0.2]]}', 400, /features\[0\]\[2\] is Infinity \(out of range\)/],
  ['negative overflow', '{"features": [[-1e400, 3.5, 1.4, 0.2]]}', 400, /features\[0\]\[0\] is -Infinity/],
  [
    'long string cell is clipped',
    `{"features": [[5.1, "${'x'.repeat(5000)}", 1.4, 0.2]]}`,
    400,
    /got a string "x{39}… \(no value is converted\)$/,
  ],
];

test('malformed /predict requests are 4xx with actionable messages, never coerced', async () => {
  const { handler } = await setup();
  for (const [name, body, status, pattern] of CASES) {
    const res = await handler.fetch(post(body));
    const answer = (await res.json()) as { error?: string };
    assert.equal(res.status, status, `${name}: ${JSON.stringify(answer)}`);
    assert.match(answer.error ?? '', pattern, name);
    assert.doesNotMatch(answer.error ?? '', /kiln core|Tensor|QuantEngine|predict:/, `${name}: no engine message`);
    assert.ok((answer.error ?? '').length < 300, `${name}: the message is short`);
  }
});

test('body and row limits: 413 before the model runs; a good request still answers', async () => {
  const { handler, LIMITS, kiln } = await setup({ maxBodyBytes: 4096, maxRows: 10 });
  assert.deepEqual(LIMITS, { maxBodyBytes: 1 << 20, maxRows: 1000 });
  const big = `{"features": [${Array(400).fill(row).join(',')}]}`;
  // A declared length above the limit is refused before reading.
  let res = await handler.fetch(post(big, { 'content-length': String(big.length) }));
  assert.equal(res.status, 413);
  assert.match(((await res.json()) as { error: string }).error, /the body is \d+ bytes, more than the 4096-byte limit; send fewer rows/);
  res = await handler.fetch(post(big));
  assert.equal(res.status, 413, 'no length header: cut off while reading');
  // A streamed body is cut off while it streams in.
  const stream = new ReadableStream({
    start(c) {
      for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode(' '.repeat(1000)));
      c.close();
    },
  });
  res = await handler.fetch(new Request('http://edge.test/predict', { method: 'POST', body: stream, duplex: 'half' } as RequestInit));
  assert.equal(res.status, 413);
  assert.match(((await res.json()) as { error: string }).error, /more than the 4096-byte limit/);
  res = await handler.fetch(post(`{"features": [${Array(11).fill(row).join(',')}]}`));
  assert.equal(res.status, 413);
  assert.match(((await res.json()) as { error: string }).error, /"features" has 11 rows, more than the 10-row limit; split the request/);
  res = await handler.fetch(new Request('http://edge.test/predict'));
  assert.equal(res.status, 405);
  res = await handler.fetch(new Request('http://edge.test/nope'));
  assert.equal(res.status, 404);
  res = await handler.fetch(post(`{"features": [${row}, [6.7, 3.0, 5.2, 2.3]]}`));
  assert.equal(res.status, 200);
  const ok = (await res.json()) as { classes: string[]; probabilities: number[][] };
  assert.equal(ok.classes.length, 2);
  assert.ok(ok.classes.every((c) => kiln.iris().classNames.includes(c)));
  assert.ok(ok.probabilities.every((p) => Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5));
});
