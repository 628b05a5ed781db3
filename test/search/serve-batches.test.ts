// kiln serve in front of PostgreSQL or Redis: a client's retry of an append (same batch id) that
// reaches a restarted server is not written a second time, with or without a read back; the
// storages keep the batch ids themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresStorage } from '../../src/search/storage/postgres.ts';
import { RedisStorage } from '../../src/search/storage/redis.ts';
import { serveStudies } from '../../src/search/storage/http-server.ts';
import type { SharedStudyStorage } from '../../src/search/storage/storage.ts';
import { createStudy } from '../../src/search/study.ts';
import { encodeEvent, type StudyEvent } from '../../src/search/events.ts';
import { service, uniqueName } from '../helpers/services.ts';

const TOKEN = 'test-token-0123456789abcdef';
const pgUrl = await service('PostgreSQL', 'the kiln serve batch tests on PostgreSQL');
const redisUrl = await service('Redis', 'the kiln serve batch tests on Redis');

const engines: {
  kind: string;
  url: string | undefined;
  open: (url: string) => SharedStudyStorage & { deleteStudy(s: string): Promise<void> };
}[] = [
  { kind: 'PostgreSQL', url: pgUrl, open: (url) => new PostgresStorage(url) },
  { kind: 'Redis', url: redisUrl, open: (url) => new RedisStorage(url) },
];

for (const { kind, url, open } of engines) {
  test(`kiln serve on ${kind}: a batch retried after a server restart is stored once`, { skip: !url }, async () => {
    const storage = open(url!);
    const name = uniqueName('serve-batch');
    try {
      const study = await createStudy({ name, storage });
      await study.close();
      const enqueue = (x: number): StudyEvent => ({ op: 'enqueue', study: name, params: { x } });
      const post = async (port: number, body: unknown) => {
        const res = await fetch(`http://127.0.0.1:${port}/v1/studies/${name}/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        assert.equal(res.status, 200, await res.clone().text());
        return (await res.json()) as { cursor?: number };
      };
      const plain = { batch: 'retried-plain-0001', events: [encodeEvent(enqueue(1))] };
      const reading = { batch: 'retried-read-0002', events: [encodeEvent(enqueue(2))], since: 0 };
      for (let restart = 0; restart < 2; restart++) {
        // A fresh server each time: nothing of the first one's memory survives.
        const server = await serveStudies(storage, { token: TOKEN, port: 0 });
        try {
          const port = Number(new URL(server.url).port);
          await post(port, plain);
          const read = await post(port, reading);
          assert.equal(read.cursor, 3, `the log after the append, ${restart === 0 ? 'first' : 'retried'}`);
        } finally {
          await server.close();
        }
      }
      const { events } = await storage.readSince(name, 0);
      assert.deepEqual(
        events.flatMap((e) => (e.op === 'enqueue' ? [e.params.x] : [])),
        [1, 2],
      );
    } finally {
      await storage.deleteStudy(name);
      await storage.close();
    }
  });
}
