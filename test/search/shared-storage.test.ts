// Shared storages (journal file, PostgreSQL, Redis) under concurrency and failure, against real
// servers: processes hammering one study get unique dense trial numbers and lose or repeat no
// event; a worker killed mid-trial has its trial failed and re-enqueued and another finishes it;
// a stalled worker's trial is reaped after the grace period and its late tell is ignored and
// counted; a database that goes away mid-study is waited for and nothing is lost.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStudy, type Study } from '../../src/search/study.ts';
import { openStorage } from '../../src/search/storage/open.ts';
import { JournalFileStorage, JournalLockError } from '../../src/search/storage/journal-file.ts';
import { PostgresStorage } from '../../src/search/storage/postgres.ts';
import { RedisStorage } from '../../src/search/storage/redis.ts';
import { StorageUnavailableError } from '../../src/search/storage/retry.ts';
import { HttpStorage } from '../../src/search/storage/http.ts';
import { serveStudies } from '../../src/search/storage/http-server.ts';
import type { SharedStudyStorage } from '../../src/search/storage/storage.ts';
import { RandomSampler } from '../../src/search/samplers/random.ts';
import { service, uniqueName } from '../helpers/services.ts';
import { bundleForNode } from '../helpers/bundle.ts';
import type { ChildConfig } from './shared-child.ts';

const childPath = fileURLToPath(new URL('./shared-child.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kiln-shared-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Child {
  proc: ChildProcess;
  /** Resolves with the first line matching, from the child's output so far or to come. */
  line(pattern: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: string | null; stderr: string }>;
  lines: string[];
}

// The child bundled once: it starts several times faster than through tsx (the file starts 24).
const childBundle = await bundleForNode(childPath);

function spawnChild(config: ChildConfig): Child {
  const proc = spawn(process.execPath, [childBundle, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  let buffer = '';
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  proc.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const l = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(l);
      for (const w of waiters.splice(0)) w.pattern.test(l) ? w.resolve(l) : waiters.push(w);
    }
  });
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return {
    proc,
    lines,
    exited,
    line: (pattern) => {
      const seen = lines.find((l) => pattern.test(l));
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// Every trial's events exactly once: one param and one finish per complete trial.
async function checkLog(storage: SharedStudyStorage, name: string, expectFinishes: number): Promise<void> {
  const { events } = await storage.readSince(name, 0);
  const finishes = events.filter((e) => e.op === 'finish');
  assert.equal(finishes.length, expectFinishes, 'one finish per trial');
  const params = events.filter((e) => e.op === 'param').map((e) => (e as { number: number }).number);
  assert.equal(new Set(params).size, params.length, 'no param event repeated');
}

interface Backend {
  kind: string;
  url(): string;
  open(url: string, extra?: object): SharedStudyStorage;
  drop(name: string): Promise<void>;
  port?: number;
}

const journal: Backend = {
  kind: 'journal file',
  url: () => join(dir, `${uniqueName('j')}.jsonl`),
  open: (url) => new JournalFileStorage(url, { onWarning: () => undefined }),
  drop: async () => undefined,
};
const backends: Backend[] = [journal];
const pgUrl = await service('PostgreSQL', 'the PostgreSQL storage tests');
if (pgUrl) {
  backends.push({
    kind: 'PostgreSQL',
    url: () => pgUrl,
    port: Number(new URL(pgUrl).port || 5432),
    open: (url, extra = {}) => new PostgresStorage(url, extra),
    drop: async (name) => {
      const s = new PostgresStorage(pgUrl);
      await s.deleteStudy(name);
      await s.close();
    },
  });
}
// kiln serve in front of a journal file: every contract above holds through HTTP too (the
// journal has no heartbeat table, so the server's beat events and clock are used).
const TOKEN = 'test-token-0123456789abcdef';
const served = await serveStudies(new JournalFileStorage(join(dir, 'served.jsonl'), { onWarning: () => undefined }), {
  token: TOKEN,
  port: 0,
});
after(() => served.close());
backends.push({
  kind: 'HTTP (kiln serve)',
  url: () => `http://:${TOKEN}@127.0.0.1:${served.port}`,
  port: served.port,
  open: (url, extra = {}) => new HttpStorage(url, extra),
  drop: async () => undefined,
});
const redisUrl = await service('Redis', 'the Redis storage tests');
if (redisUrl) {
  backends.push({
    kind: 'Redis',
    url: () => redisUrl,
    port: Number(new URL(redisUrl).port || 6379),
    open: (url, extra = {}) => new RedisStorage(url, extra),
    drop: async (name) => {
      const s = new RedisStorage(redisUrl);
      await s.deleteStudy(name);
      await s.close();
    },
  });
}

// The storages run side by side, two at a time (each one's tests in order): most of the time
// goes to waiting for child processes, heartbeats and grace periods, not to the cores.
describe('shared storages', { concurrency: 2 }, () => {
  for (const backend of backends) {
    describe(backend.kind, { concurrency: 1 }, () => {
      test(
        '4 processes hammering one study: unique dense numbers, enqueued trials claimed once, every event once',
        { timeout: 120_000 },
        async () => {
          const url = backend.url();
          const name = uniqueName('hammer');
          try {
            const storage = backend.open(url);
            const setup = await createStudy({ name, storage });
            for (let i = 0; i < 8; i++) setup.enqueueTrial({ x: i / 100 });
            await setup.flush();
            const children = Array.from({ length: 4 }, () => spawnChild({ url, study: name, trials: 12, sleepMs: 0 }));
            const ends = await Promise.all(
              children.map(async (c) => {
                const exit = await c.exited;
                assert.equal(exit.code, 0, exit.stderr);
                return JSON.parse((await c.line(/^end /)).slice(4)) as { mine: number[]; ignoredTells: number };
              }),
            );
            const claimed = ends.flatMap((e) => e.mine).sort((a, b) => a - b);
            assert.deepEqual(
              claimed,
              Array.from({ length: 48 }, (_, i) => i),
              'each number claimed by exactly one process',
            );
            const study = await createStudy({ name, storage: backend.open(url), loadIfExists: true });
            assert.equal(study.trials.length, 48);
            assert.ok(study.trials.every((t) => t.state === 'complete' && t.values![0] === t.params.x));
            assert.deepEqual(
              study.trials.slice(0, 8).map((t) => t.params.x),
              Array.from({ length: 8 }, (_, i) => i / 100),
              'the first 8 trials took the 8 queued points, each once',
            );
            assert.equal(study.ignoredTells, 0);
            await checkLog(storage, name, 48);
            await storage.close();
            await (study.storage as SharedStudyStorage).close();
          } finally {
            await backend.drop(name);
          }
        },
      );

      test(
        'a worker killed mid-trial fails at once (its process is gone); a stalled one after the grace period; both re-enqueued and finished by another; the zombie tell ignored',
        { timeout: 60_000 },
        async () => {
          const url = backend.url();
          const name = uniqueName('kill');
          try {
            const storage = backend.open(url);
            await (await createStudy({ name, storage })).flush();
            const killed = spawnChild({ url, study: name, trials: 1, sleepMs: 60_000, heartbeatMs: 100, graceMs: 2_000, requeue: true });
            // Its first beat is due a second after its ask, so SIGSTOP (sent on 'start') does not
            // catch it holding a journal file's lock, which would stop every writer.
            const stalled = spawnChild({ url, study: name, trials: 1, sleepMs: 2_500, heartbeatMs: 1_000, graceMs: 2_000, requeue: true });
            const [k, s] = (await Promise.all([killed, stalled].map(async (c) => Number((await c.line(/^start /)).slice(6))))) as [
              number,
              number,
            ];
            killed.proc.kill('SIGKILL');
            stalled.proc.kill('SIGSTOP');
            await killed.exited;
            const study = await createStudy({
              name,
              storage,
              loadIfExists: true,
              requeue: true,
              heartbeatMs: 100,
              graceMs: 2_000,
              sampler: new RandomSampler({ seed: 9 }),
            });
            const dead = study.trials[k]!;
            assert.equal(dead.state, 'failed');
            assert.match(dead.error!, /^interrupted: .* \(.* pid \d+\)$/);
            assert.equal(study.trials[s]!.state, 'running', 'not reaped before its grace period');
            await until('the reaper', async () => (await study.reap()).includes(s));
            const reaped = study.trials[s]!;
            assert.equal(reaped.state, 'failed');
            assert.match(reaped.error!, /^stale: no heartbeat for \d+\.\d s \(grace 2 s\)$/);
            await study.optimize((t) => t.suggestFloat('x', 0, 1), { trials: 2 });
            assert.deepEqual(
              study.trials.slice(-2).map((t) => [t.state, t.params.x]),
              [
                ['complete', dead.params.x],
                ['complete', reaped.params.x],
              ],
              're-enqueued with their parameters, in reaping order',
            );
            stalled.proc.kill('SIGCONT');
            const exit = await stalled.exited;
            assert.equal(exit.code, 0, exit.stderr);
            // (The stalled worker may also have been reaping the killed one's trial when it stopped: a
            // second reaper's finish is ignored and counted too.)
            assert.ok(JSON.parse((await stalled.line(/^end /)).slice(4)).ignoredTells >= 1, 'the zombie sees its tell ignored');
            await study.sync();
            const finishes = (await storage.readSince(name, 0)).events.filter((e) => e.op === 'finish' && e.number === s) as {
              state: string;
            }[];
            assert.deepEqual(
              finishes.map((e) => e.state),
              ['failed', 'complete'],
              "the reaper's finish, then the zombie's tell",
            );
            assert.ok(study.ignoredTells >= 1);
            assert.equal(study.trials[s]!.state, 'failed', 'the first terminal event wins');
            await study.close();
            await storage.close();
          } finally {
            await backend.drop(name);
          }
        },
      );

      if (backend.port !== undefined) {
        test(
          'the database going away mid-study: calls wait and retry with backoff, nothing is lost or doubled',
          { timeout: 60_000 },
          async () => {
            const proxy = await tcpProxy(backend.port!);
            const url = backend.url().replace(`:${backend.port}`, `:${proxy.port}`);
            const name = uniqueName('outage');
            const retries: string[] = [];
            const storage = backend.open(url, { retryMs: 20_000, onRetry: (m: string) => retries.push(m) });
            try {
              const study = await createStudy({ name, storage, sampler: new RandomSampler({ seed: 3 }) });
              let outage: Promise<void> | undefined;
              await study.optimize(
                async (t) => {
                  const x = t.suggestFloat('x', 0, 1);
                  if (t.number === 5) outage = proxy.outage(1_500);
                  await sleep(10);
                  return x;
                },
                { trials: 20 },
              );
              await outage;
              assert.ok(retries.length > 0, 'the outage was noticed and retried');
              assert.match(
                retries[0]!,
                new RegExp(
                  `${{ Redis: 'RedisStorage', PostgreSQL: 'PostgresStorage' }[backend.kind] ?? 'HttpStorage'}\\.\\w+: .*:${proxy.port}.*; retrying for up to 20 s`,
                ),
              );
              const fresh = backend.open(backend.url());
              const back = await createStudy({ name, storage: fresh, loadIfExists: true });
              assert.deepEqual(
                back.trials.map((t) => [t.number, t.state]),
                study.trials.map((t) => [t.number, 'complete']),
              );
              assert.equal(back.trials.length, 20);
              await checkLog(fresh, name, 20);
              await fresh.close();
            } finally {
              await storage.close();
              proxy.close();
              await backend.drop(name);
            }
          },
        );

        test('an unreachable server is a clear error after the retry budget', async () => {
          const url = backend.url().replace(`:${backend.port}`, ':1');
          const storage = backend.open(url, { retryMs: 300, onRetry: () => undefined });
          await assert.rejects(createStudy({ name: 'nowhere', storage }), (err: unknown) => {
            assert.ok(err instanceof StorageUnavailableError, String(err));
            assert.match(
              err.message,
              /Storage\.readSince: (postgres|redis|http):\/\/.*:1\/?.* unreachable for \d+\.\d s \(\d+ attempts\): .*(ECONNREFUSED|fetch failed)/,
            );
            return true;
          });
          await storage.close();
        });
      }
    });
  }
});

test('malformed storage URLs are clear errors', () => {
  const cases: [string, RegExp][] = [
    ['postgres://', /PostgresStorage: 'postgres:\/\/' names no host/],
    ['postgres://db:99999/x', /not a URL|port 99999, outside 1 … 65535/],
    ['redis://cache:6379/abc', /RedisStorage: 'redis:\/\/cache:6379\/abc' names database 'abc'; Redis databases are numbers/],
    ['mysql://u:secret@db/x', /openStorage: unknown storage scheme 'mysql:\/\/' in 'mysql:\/\/u:\*\*\*@db\/x' \(known: postgres/],
    ['', /openStorage: the storage must be a URL/],
  ];
  for (const [url, message] of cases) assert.throws(() => openStorage(url), message, url);
  assert.throws(() => new PostgresStorage('postgres://h/d', { table: 'Robert; DROP' }), /table must be a lower-case SQL name/);
  assert.throws(() => new RedisStorage('redis://h', { prefix: 'a b' }), /prefix must be 1 to 64 letters/);
  assert.ok(openStorage('file:///tmp/x.jsonl') instanceof JournalFileStorage);
});

test('journal file: a lock held by a live process is waited for, then a clear error naming the holder', async () => {
  const path = join(dir, 'locked.jsonl');
  writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.ppid, host: hostname(), at: Date.now() }));
  const storage = new JournalFileStorage(path, { lockTimeoutMs: 200 });
  await assert.rejects(storage.append([{ op: 'study', study: 's', directions: ['minimize'], seed: 0, at: 0 }]), (err: unknown) => {
    assert.ok(err instanceof JournalLockError);
    assert.match(
      err.message,
      new RegExp(
        `locked\\.jsonl is locked by pid ${process.ppid} on .* since .*\\(waited 200 ms\\); if that process is gone, delete .*locked\\.jsonl\\.lock`,
      ),
    );
    return true;
  });
  // A lock left by a process that is gone is taken over.
  writeFileSync(`${path}.lock`, JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), at: Date.now() }));
  const warnings: string[] = [];
  const study = await createStudy({ name: 's', storage: new JournalFileStorage(path, { onWarning: (m) => warnings.push(m) }) });
  assert.match(warnings[0]!, /was left by pid 4194311, which is gone; taking it over/);
  assert.equal(study.trials.length, 0);
});

test('ask() on a shared storage says to use askAsync', async () => {
  const study: Study = await createStudy({ name: 'sync-ask', storage: new JournalFileStorage(join(dir, 'ask.jsonl')) });
  assert.throws(
    () => study.ask(),
    /Study 'sync-ask'\.ask: the study is in a shared storage, where a trial's number comes from the storage; use await study\.askAsync\(\)/,
  );
});

// A TCP proxy to a local server whose `outage` drops every connection and refuses new ones for
// a while: the database going away, as a client sees it.
async function tcpProxy(target: number): Promise<{ port: number; outage(ms: number): Promise<void>; close(): void }> {
  const sockets = new Set<Socket>();
  let server: Server;
  const listen = (port: number) =>
    new Promise<number>((resolve) => {
      server = createServer((client) => {
        const upstream = connect({ host: '127.0.0.1', port: target });
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const port = await listen(0);
  return {
    port,
    async outage(ms) {
      await new Promise<void>((resolve) => server.close(() => resolve()) && sockets.forEach((s) => s.destroy()));
      await sleep(ms);
      await listen(port);
    },
    close: () => {
      server.close();
      sockets.forEach((s) => s.destroy());
    },
  };
}
