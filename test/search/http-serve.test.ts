// kiln serve's HTTP front, against a real server on an ephemeral port in front of a journal file:
// tokens (missing, wrong), CORS, request validation (each refusal's message), body limits, a
// browser-like client that asks and tells with fetch alone, long polls and server-sent events,
// a retried append written once, and a client that stops beating reaped and re-enqueued. The
// storage contracts themselves run through HttpStorage in shared-storage.test.ts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStudy } from '../../src/search/study.ts';
import { JournalFileStorage } from '../../src/search/storage/journal-file.ts';
import { HttpStorage, HttpStorageError } from '../../src/search/storage/http.ts';
import { serveStudies } from '../../src/search/storage/http-server.ts';
import { RandomSampler } from '../../src/search/samplers/random.ts';
import { kilnBundled } from '../cli/run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-serve-'));
const TOKEN = 'serve-token-0123456789abcdef';
const backend = new JournalFileStorage(join(dir, 'studies.jsonl'), { onWarning: () => undefined });
const server = await serveStudies(backend, {
  token: TOKEN,
  port: 0,
  maxBodyBytes: 4096,
  graceMs: 400,
  sampler: () => new RandomSampler({ seed: 5 }),
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});
const base = server.url;
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, 'content-type': 'application/json' };

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = json) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

await (await createStudy({ name: 'web', storage: backend, direction: 'minimize', seed: 3 })).flush();

test('requests without the token, or with another, are refused; CORS preflights are answered', async () => {
  const none = await call('GET', '/v1/studies', undefined, {});
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  assert.match(none.body.error, /send the token as Authorization: Bearer <token>/);
  const wrong = await call('GET', '/v1/studies', undefined, { authorization: 'Bearer serve-token-0123456789abcdeX' });
  assert.equal(wrong.status, 401);
  assert.match(wrong.body.error, /the token is not this server’s/);
  const short = await call('GET', '/v1/studies', undefined, { authorization: 'Bearer x' });
  assert.equal(short.status, 401);
  await assert.rejects(new HttpStorage(base, { token: 'wrong-token-but-long-enough', retryMs: 0 }).studies(), (err: unknown) => {
    assert.ok(err instanceof HttpStorageError && err.status === 401, String(err));
    assert.match(err.message, /HttpStorage\.studies: GET http:\/\/127\.0\.0\.1:\d+\/v1\/studies: 401 the token is not this server’s/);
    return true;
  });
  const pre = await fetch(`${base}/v1/studies/web/ask`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-headers')!, /authorization/);
  const ok = await call('GET', '/v1/studies');
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.studies, ['web']);
  assert.equal(ok.headers.get('access-control-allow-origin'), '*');
  assert.throws(() => new HttpStorage(base), /HttpStorage: no token: pass \{ token \} or put it in the URL/);
  assert.throws(() => new HttpStorage('ftp://x'), /not an HTTP URL \(scheme ftp:\)/);
  await assert.rejects(serveStudies(backend, { token: 'short' }), /token must be a string of at least 16 characters/);
});

test('bad requests are 400s (or 404, 405, 413, 415) saying what to fix', async () => {
  const cases: [string, string, unknown, number, RegExp, Record<string, string>?][] = [
    ['POST', '/v1/studies/web/events', '{"batch":', 400, /the body is not valid JSON/],
    ['POST', '/v1/studies/web/events', [], 400, /the body must be a JSON object, got an array/],
    [
      'POST',
      '/v1/studies/web/events',
      { batch: 'abcdefgh', events: [], extra: 1 },
      400,
      /unknown field 'extra' \(known: batch, events, since\)/,
    ],
    ['POST', '/v1/studies/web/events', { batch: 'x', events: [{}] }, 400, /'batch' must be an id of 8 to 64 letters/],
    ['POST', '/v1/studies/web/events', { batch: 'abcdefgh', events: [] }, 400, /'events' must be a non-empty array/],
    [
      'POST',
      '/v1/studies/web/events',
      { batch: 'abcdefgh', events: [{ op: 'nope', study: 'web', number: 0 }] },
      400,
      /events\[0\]: unknown event 'nope'/,
    ],
    [
      'POST',
      '/v1/studies/web/events',
      { batch: 'abcdefgh', events: [{ op: 'enqueue', study: 'other', params: {} }] },
      400,
      /events\[0\] belongs to study 'other', not 'web'/,
    ],
    [
      'POST',
      '/v1/studies/web/events',
      { batch: 'abcdefgh', events: [] },
      415,
      /Content-Type: application\/json/,
      { ...auth, 'content-type': 'text/plain' },
    ],
    [
      'POST',
      '/v1/studies/web/events',
      { batch: 'abcdefgh', events: Array(300).fill({ op: 'enqueue', study: 'web', params: { x: 0 } }) },
      413,
      /limit is 4096/,
    ],
    ['GET', '/v1/studies/web/events?since=-1', undefined, 400, /query parameter 'since' must be an integer in 0 … /],
    ['GET', '/v1/studies/web/events?waitMs=99999', undefined, 400, /'waitMs' must be an integer in 0 … 25000, got '99999'/],
    ['POST', '/v1/studies/web/heartbeat', { numbers: [1.5] }, 400, /'numbers' must be a non-empty array of trial numbers/],
    ['POST', '/v1/studies/web/ask', { space: { x: { floot: [0, 1] } } }, 400, /space\.x: unknown parameter kind 'floot'/],
    ['POST', '/v1/studies/web/tell', { number: 'one', value: 1 }, 400, /'number' must be the trial number ask returned/],
    ['POST', '/v1/studies/web/tell', { number: 9999, value: 1 }, 404, /study 'web' has no trial 9999/],
    ['POST', '/v1/studies/missing/ask', {}, 404, /study 'missing' is not in the storage/],
    ['GET', '/v1/studies/missing', undefined, 404, /study 'missing' is not in the storage/],
    ['GET', '/v1/studies/web/ask', undefined, 405, /takes POST, not GET/],
    ['GET', '/v2/things', undefined, 404, /no route GET \/v2\/things/],
    ['GET', '/v1/studies/web/bogus', undefined, 404, /known after \/v1\/studies\/:name: events, stream/],
  ];
  for (const [method, path, body, status, message, headers] of cases) {
    const r = await call(method, path, body, headers);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, message, `${method} ${path}`);
  }
});

test('a browser-like client asks and tells with fetch alone; show reports it; a told trial cannot be told again', async () => {
  const space = { x: { float: [0, 1] }, kind: { categorical: ['a', 'b'] } };
  const told: number[] = [];
  for (let i = 0; i < 3; i++) {
    const ask = await call('POST', '/v1/studies/web/ask', { space });
    assert.equal(ask.status, 200, JSON.stringify(ask.body));
    assert.ok(ask.body.params.x >= 0 && ask.body.params.x <= 1 && ['a', 'b'].includes(ask.body.params.kind));
    assert.equal((await call('POST', '/v1/studies/web/heartbeat', { numbers: [ask.body.number] })).status, 200);
    const tell = await call('POST', '/v1/studies/web/tell', { number: ask.body.number, value: ask.body.params.x });
    assert.deepEqual(tell.body, { number: ask.body.number, state: 'complete', values: [ask.body.params.x], ignored: false });
    told.push(ask.body.number);
  }
  const fixed = await call('POST', '/v1/studies/web/ask', { space, fixed: { x: 0.25 } });
  assert.equal(fixed.body.params.x, 0.25);
  await call('POST', '/v1/studies/web/tell', { number: fixed.body.number, state: 'pruned' });
  const again = await call('POST', '/v1/studies/web/tell', { number: told[0], value: 1 });
  assert.equal(again.status, 409);
  assert.match(again.body.error, new RegExp(`trial ${told[0]} is already complete`));
  const show = await call('GET', '/v1/studies/web');
  assert.equal(show.body.complete, 3);
  assert.equal(show.body.pruned, 1);
  assert.equal(
    show.body.best.value,
    Math.min(...show.body.trialList.filter((t: { state: string }) => t.state === 'complete').map((t: { values: number[] }) => t.values[0])),
  );
  // The same trials through a kiln study over HttpStorage.
  const storage = new HttpStorage(base, { token: TOKEN });
  const study = await createStudy({ name: 'web', storage, loadIfExists: true });
  assert.deepEqual(
    study.trials.map((t) => t.state),
    ['complete', 'complete', 'complete', 'pruned'],
  );
  storage.close();
});

test('a long poll wakes on an append; the event stream delivers events as they land; a retried batch is written once', async () => {
  await (await createStudy({ name: 'poll', storage: backend })).flush();
  const { cursor } = (await call('GET', '/v1/studies/poll/events?since=0')).body;
  const started = Date.now();
  const poll = call('GET', `/v1/studies/poll/events?since=${cursor}&waitMs=10000`);
  const stream = await fetch(`${base}/v1/studies/poll/stream?since=${cursor}&token=${TOKEN}`);
  assert.equal(stream.headers.get('content-type'), 'text/event-stream');
  const enqueue = { batch: 'retried-batch-1', events: [{ op: 'enqueue', study: 'poll', params: { x: 0.5 } }] };
  await new Promise((r) => setTimeout(r, 150));
  assert.equal((await call('POST', '/v1/studies/poll/events', enqueue)).status, 200);
  assert.equal((await call('POST', '/v1/studies/poll/events', enqueue)).status, 200, 'the retry is answered');
  const woke = await poll;
  assert.ok(Date.now() - started < 9_000, 'woken by the append, not the timeout');
  assert.deepEqual(woke.body.events, enqueue.events);
  assert.equal(woke.body.cursor, cursor + 1);
  const reader = stream.body!.getReader();
  let text = '';
  while (!text.includes('event: events')) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  assert.match(text, new RegExp(`id: ${cursor + 1}\\nevent: events\\ndata: \\{"events":\\[\\{"op":"enqueue"`));
  const all = (await call('GET', '/v1/studies/poll/events?since=0')).body.events;
  assert.equal(all.filter((e: { op: string }) => e.op === 'enqueue').length, 1, 'the retried batch is stored once');
});

test('a client that stops beating has its trial reaped after the grace period, re-enqueued, and its late tell ignored', async () => {
  await (await createStudy({ name: 'gone', storage: backend })).flush();
  const space = { x: { float: [0, 1] } };
  const ask = await call('POST', '/v1/studies/gone/ask', { space });
  const deadline = Date.now() + 10_000;
  let state = 'running';
  while (state === 'running' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    state = (await call('GET', '/v1/studies/gone')).body.trialList[ask.body.number].state;
  }
  assert.equal(state, 'failed');
  const late = await call('POST', '/v1/studies/gone/tell', { number: ask.body.number, value: 0.1 });
  assert.equal(late.status, 200);
  assert.equal(late.body.ignored, true);
  assert.equal(late.body.state, 'failed', 'the first terminal event wins');
  const next = await call('POST', '/v1/studies/gone/ask', { space });
  assert.equal(next.body.params.x, ask.body.params.x, 're-enqueued with its parameters');
  await call('POST', '/v1/studies/gone/tell', { number: next.body.number, value: next.body.params.x });
  const show = (await call('GET', '/v1/studies/gone')).body;
  assert.equal(show.ignoredTells, 1);
  assert.match(show.trialList[ask.body.number].error, /^stale: no heartbeat/);
});

test('kiln serve needs a token and a storage', async () => {
  const noToken = await kilnBundled(['serve', '--storage', join(dir, 'x.jsonl')]);
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /--token \(or KILN_SERVE_TOKEN\) is required/);
  const short = await kilnBundled(['serve', '--storage', join(dir, 'x.jsonl'), '--token', 'abc']);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /--token: at least 16 characters/);
});
