// Studies in a browser's IndexedDB: one object store of events under auto-incremented keys, so
// reading the store in key order replays them in append order. Each append is one readwrite
// transaction with strict durability; it resolves when the transaction commits.
import { encodeEvent, parseEvent, type StudyEvent } from '../events.ts';
import type { StudyStorage } from './storage.ts';

/** Options of `IndexedDbStorage`: database and object store names. */
export interface IndexedDbStorageOptions {
  /** Database name (default 'kiln-search'). */
  database?: string;
  /** Object store name (default 'events'). */
  store?: string;
  /** The IDBFactory to use (default globalThis.indexedDB); lets tests pass a fake. */
  factory?: IDBFactory;
}

const request = <T>(req: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

/**
 * IndexedDB storage for studies in browsers and workers.
 *
 * @example
 * const study = await createStudy({ name: 'mlp', storage: new IndexedDbStorage(), loadIfExists: true });
 */
export class IndexedDbStorage implements StudyStorage {
  readonly database: string;
  readonly store: string;
  #factory: IDBFactory | undefined;
  #db: Promise<IDBDatabase> | undefined;

  constructor(options: IndexedDbStorageOptions = {}) {
    for (const key of Object.keys(options)) {
      if (!['database', 'store', 'factory'].includes(key))
        throw new TypeError(`IndexedDbStorage: unknown option '${key}' (known: database, store, factory)`);
    }
    this.database = options.database ?? 'kiln-search';
    this.store = options.store ?? 'events';
    this.#factory = options.factory ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  }

  #open(): Promise<IDBDatabase> {
    const factory = this.#factory;
    if (!factory)
      return Promise.reject(new Error('IndexedDbStorage: this runtime has no indexedDB; use JournalFileStorage or InMemoryStorage'));
    this.#db ??= new Promise((resolve, reject) => {
      const req = factory.open(this.database, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(this.store)) req.result.createObjectStore(this.store, { autoIncrement: true });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error(`IndexedDbStorage: opening '${this.database}' is blocked by another open connection`));
    });
    return this.#db;
  }

  async load(): Promise<StudyEvent[]> {
    const db = await this.#open();
    const rows = await request(db.transaction(this.store, 'readonly').objectStore(this.store).getAll());
    return rows.map((row, i) => parseEvent(`IndexedDbStorage ${this.database}/${this.store} row ${i + 1}`, row));
  }

  async append(events: readonly StudyEvent[]): Promise<void> {
    const db = await this.#open();
    const tx = db.transaction(this.store, 'readwrite', { durability: 'strict' });
    const store = tx.objectStore(this.store);
    for (const e of events) store.add(encodeEvent(e));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDbStorage: transaction aborted'));
    });
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    if (this.#db) (await this.#db).close();
    this.#db = undefined;
  }
}
