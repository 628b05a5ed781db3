// IndexedDbStorage against a minimal in-memory IDBFactory written here to the standard's event
// order (upgradeneeded before success, request callbacks after the call returns, complete after
// the transaction's requests). The real thing is exercised by the browser runtime test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IndexedDbStorage } from '../../src/search/storage/indexeddb.ts';
import { createStudy } from '../../src/search/study.ts';
import { RandomSampler } from '../../src/search/samplers/random.ts';

type Handler = ((this: unknown) => void) | null;
const later = (fn: () => void) => setTimeout(fn, 0);

function fakeFactory() {
  const databases = new Map<string, Map<string, unknown[]>>();
  const opened: string[] = [];
  const request = <T>(run: () => T) => {
    const req = { result: undefined as T | undefined, error: null, onsuccess: null as Handler, onerror: null as Handler };
    later(() => {
      req.result = run();
      req.onsuccess?.call(req);
    });
    return req;
  };
  const factory = {
    open(name: string, version: number) {
      opened.push(`${name}@${version}`);
      const req = {
        result: undefined as unknown,
        error: null,
        onsuccess: null as Handler,
        onerror: null as Handler,
        onupgradeneeded: null as Handler,
        onblocked: null as Handler,
      };
      later(() => {
        const fresh = !databases.has(name);
        const stores = databases.get(name) ?? new Map<string, unknown[]>();
        databases.set(name, stores);
        req.result = {
          objectStoreNames: { contains: (s: string) => stores.has(s) },
          createObjectStore: (s: string, options: { autoIncrement: boolean }) => {
            assert.deepEqual(options, { autoIncrement: true });
            stores.set(s, []);
          },
          transaction(store: string, mode: string, options?: { durability: string }) {
            if (mode === 'readwrite') assert.deepEqual(options, { durability: 'strict' });
            const rows = stores.get(store)!;
            const tx = { error: null, oncomplete: null as Handler, onerror: null as Handler, onabort: null as Handler };
            const pending: unknown[] = [];
            later(() =>
              later(() => {
                rows.push(...pending);
                tx.oncomplete?.call(tx);
              }),
            );
            return Object.assign(tx, {
              objectStore: () => ({
                getAll: () => request(() => rows.map((r) => structuredClone(r))),
                add: (row: unknown) => pending.push(structuredClone(row)),
              }),
            });
          },
          close: () => undefined,
        };
        if (fresh) req.onupgradeneeded?.call(req);
        req.onsuccess?.call(req);
      });
      return req;
    },
  };
  return { factory: factory as unknown as IDBFactory, databases, opened };
}

test('IndexedDbStorage stores events in order under auto-incremented keys and replays them', async () => {
  const { factory, databases, opened } = fakeFactory();
  const storage = new IndexedDbStorage({ factory, database: 'kiln-test' });
  const study = await createStudy({ name: 's', storage, sampler: new RandomSampler({ seed: 1 }) });
  await study.optimize(
    (t) => {
      t.report(NaN, 0);
      return t.suggestFloat('x', 0, 1);
    },
    { trials: 3 },
  );
  assert.deepEqual(opened, ['kiln-test@1']);
  assert.equal(databases.get('kiln-test')!.get('events')!.length, 1 + 3 * 4);
  await storage.close();
  const again = await createStudy({ name: 's', storage: new IndexedDbStorage({ factory, database: 'kiln-test' }), loadIfExists: true });
  assert.deepEqual(
    again.trials.map((t) => [t.params.x, t.values, t.intermediate[0]]),
    study.trials.map((t) => [t.params.x, t.values, NaN]),
  );
});

test('IndexedDbStorage without indexedDB says so; unknown options are rejected', async () => {
  const storage = new IndexedDbStorage({ factory: undefined });
  if (!('indexedDB' in globalThis))
    await assert.rejects(Promise.resolve(storage.load()), /this runtime has no indexedDB; use JournalFileStorage or InMemoryStorage/);
  assert.throws(() => new IndexedDbStorage({ name: 'x' } as never), /unknown option 'name' \(known: database, store, factory\)/);
});
