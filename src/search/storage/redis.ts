// Studies in Redis, shared by any number of processes on any hosts. A study is a list of JSON
// events (`<prefix>:{<study>}:log`): RPUSH gives the total order, LRANGE from an offset reads
// incrementally. Appends run as one Lua script that also records the batch id (so a retried
// append whose reply was lost is not written twice); heartbeats are a hash stamped by Redis's
// own clock (TIME) inside a script. Durability is Redis's: with persistence off a Redis restart
// loses every study, so run it with appendonly yes (appendfsync everysec or always).
import type { Redis as RedisClient, RedisOptions } from 'ioredis';
import { encodeEvent, parseEvent, type StudyEvent } from '../events.ts';
import type { Heartbeats, SharedStudyStorage } from './storage.ts';
import {
  batchId,
  checkBatchId,
  checkRetryOptions,
  checkStudyEvents,
  importOptional,
  redactUrl,
  withRetry,
  type RetryOptions,
} from './retry.ts';

/** Options of `RedisStorage`. */
export interface RedisStorageOptions extends RetryOptions {
  /** Prefix of every key (default 'kiln'). */
  prefix?: string;
}

const WHERE = 'RedisStorage';
const BATCH_TTL_S = 86_400;

// KEYS: log, studies set, batch marker. ARGV: study, batch ttl, events…
const APPEND = `
if not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[2]) then return -1 end
redis.call('SADD', KEYS[2], ARGV[1])
return redis.call('RPUSH', KEYS[1], unpack(ARGV, 3))`;
// The same, then the log from a cursor, in one round trip. ARGV: study, batch ttl, cursor, events….
// A batch seen before (a retry after a lost reply) returns false: the caller reads instead.
const APPEND_READ = `
if not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[2]) then return false end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('RPUSH', KEYS[1], unpack(ARGV, 4))
return redis.call('LRANGE', KEYS[1], ARGV[3], -1)`;
// KEYS: beats hash. ARGV: trial numbers. Stamped with Redis's clock, in ms.
const BEAT = `
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], ms) end
return ms`;
const BEATS = `
local t = redis.call('TIME')
return {tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), redis.call('HGETALL', KEYS[1])}`;

type Scripted = RedisClient & {
  kilnAppend(log: string, studies: string, batch: string, study: string, ttl: number, ...events: string[]): Promise<number>;
  kilnAppendRead(
    log: string,
    studies: string,
    batch: string,
    study: string,
    ttl: number,
    cursor: number,
    ...events: string[]
  ): Promise<string[] | null>;
  kilnBeat(beats: string, ...numbers: number[]): Promise<number>;
  kilnBeats(beats: string): Promise<[number, string[]]>;
};

function transient(error: unknown): boolean {
  const e = error as { code?: string; name?: string; message?: string };
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(e?.code ?? '')) return true;
  return (
    e?.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|LOADING|BUSY|TRYAGAIN|READONLY|Stream isn't writeable/i.test(e?.message ?? '')
  );
}

/** Checks a redis:// URL, naming what is wrong. */
export function checkRedisUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length === 0)
    throw new TypeError(
      `${WHERE}: the URL must be a non-empty string (redis://host:6379/0), got ${typeof url === 'string' ? "''" : typeof url}`,
    );
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`${WHERE}: '${redactUrl(url)}' is not a URL; expected redis://host:6379/0`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new TypeError(`${WHERE}: '${redactUrl(url)}' is not a Redis URL (scheme ${u.protocol}); expected redis://host:6379/0`);
  if (u.hostname === '') throw new TypeError(`${WHERE}: '${redactUrl(url)}' names no host; expected redis://host:6379/0`);
  if (u.port !== '' && !(Number(u.port) > 0 && Number(u.port) < 65536))
    throw new RangeError(`${WHERE}: '${redactUrl(url)}' has port ${u.port}, outside 1 … 65535`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db))
    throw new TypeError(`${WHERE}: '${redactUrl(url)}' names database '${db}'; Redis databases are numbers (redis://host:6379/0)`);
  return url;
}

/**
 * A Redis storage (npm `ioredis`, installed on demand): any number of worker processes on any
 * hosts share its studies. Needs Redis persistence (AOF) for studies to survive a Redis restart.
 *
 * @example
 * const storage = new RedisStorage('redis://cache.example:6379/0');
 * const study = await createStudy({ name: 'mlp', storage, loadIfExists: true });
 */
export class RedisStorage implements SharedStudyStorage {
  readonly url: string;
  readonly prefix: string;
  #retry: Required<RetryOptions>;
  #client: Promise<Scripted> | undefined;
  #closed = false;

  constructor(url: string, options: RedisStorageOptions = {}) {
    this.url = checkRedisUrl(url);
    for (const key of Object.keys(options)) {
      if (!['prefix', 'retryMs', 'onRetry'].includes(key))
        throw new TypeError(`${WHERE}: unknown option '${key}' (known: prefix, retryMs, onRetry)`);
    }
    const prefix = options.prefix ?? 'kiln';
    if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(prefix))
      throw new TypeError(`${WHERE}: prefix must be 1 to 64 letters, digits, '_', '.' or '-', got ${JSON.stringify(prefix)}`);
    this.prefix = prefix;
    this.#retry = checkRetryOptions(WHERE, options);
  }

  // Keys of one study share a hash tag, so they live on one node of a cluster.
  #key(study: string, what: 'log' | 'beats' | `batch:${string}`): string {
    return `${this.prefix}:{${study}}:${what}`;
  }

  #connect(): Promise<Scripted> {
    this.#client ??= (async () => {
      const { Redis } = await importOptional<typeof import('ioredis')>('ioredis', WHERE);
      const options: RedisOptions = {
        lazyConnect: true,
        // Commands fail fast while disconnected; withRetry owns the backoff and the budget.
        maxRetriesPerRequest: 1,
        retryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
      };
      const client = new Redis(this.url, options) as Scripted;
      // Connection errors surface through the commands; without a listener ioredis logs them.
      // The last one says why a connect failed (the command itself only says 'closed').
      let lastError: unknown;
      client.on('error', (error) => (lastError = error));
      client.defineCommand('kilnAppend', { numberOfKeys: 3, lua: APPEND });
      client.defineCommand('kilnAppendRead', { numberOfKeys: 3, lua: APPEND_READ });
      client.defineCommand('kilnBeat', { numberOfKeys: 1, lua: BEAT });
      client.defineCommand('kilnBeats', { numberOfKeys: 1, lua: BEATS });
      try {
        await client.connect();
      } catch (error) {
        client.disconnect();
        throw lastError ?? error;
      }
      return client;
    })();
    return this.#client.catch((error) => {
      this.#client = undefined;
      throw error;
    });
  }

  #run<T>(what: string, op: (client: Scripted) => Promise<T>, before?: (client: Scripted) => Promise<{ done: T } | undefined>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error(`${WHERE}: ${what} after close()`));
    return withRetry(
      `${WHERE}.${what}`,
      this.url,
      this.#retry,
      transient,
      async () => op(await this.#connect()),
      before && (async () => before(await this.#connect())),
    );
  }

  #parse(study: string, index: number, text: string): StudyEvent {
    const where = `${WHERE} ${this.#key(study, 'log')} item ${index}`;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new TypeError(`${where} is not valid JSON (${(error as Error).message})`);
    }
    return parseEvent(where, raw);
  }

  /** Every event, study by study, each in append order. */
  async load(): Promise<StudyEvent[]> {
    const out: StudyEvent[] = [];
    for (const study of await this.studies()) out.push(...(await this.readSince(study, 0)).events);
    return out;
  }

  async readSince(study: string, cursor: number): Promise<{ events: StudyEvent[]; cursor: number }> {
    const items = await this.#run('readSince', (c) => c.lrange(this.#key(study, 'log'), cursor, -1));
    return { events: items.map((text, i) => this.#parse(study, cursor + i, text)), cursor: cursor + items.length };
  }

  async append(events: readonly StudyEvent[]): Promise<void> {
    for (let i = 0; i < events.length;) {
      const study = events[i]!.study;
      let j = i;
      while (j < events.length && events[j]!.study === study) j++;
      const lines = events.slice(i, j).map((e) => JSON.stringify(encodeEvent(e)));
      const batch = this.#key(study, `batch:${batchId()}`);
      // The script refuses a batch id it has seen, so a retry after a lost reply is a no-op.
      await this.#run('append', (c) =>
        c.kilnAppend(this.#key(study, 'log'), `${this.prefix}:studies`, batch, study, BATCH_TTL_S, ...lines),
      );
      i = j;
    }
  }

  /** Appends once per batch id (see `SharedStudyStorage.appendBatch`): the id's marker key lives
   *  a day, so a retry within that time is not written again. */
  async appendBatch(study: string, events: readonly StudyEvent[], batch: string): Promise<void> {
    checkStudyEvents(`${WHERE}.appendBatch`, study, events);
    const lines = events.map((e) => JSON.stringify(encodeEvent(e)));
    const key = this.#key(study, `batch:${checkBatchId(WHERE, batch)}`);
    await this.#run('append', (c) => c.kilnAppend(this.#key(study, 'log'), `${this.prefix}:studies`, key, study, BATCH_TTL_S, ...lines));
  }

  async appendAndRead(
    study: string,
    events: readonly StudyEvent[],
    cursor: number,
    given?: string,
  ): Promise<{ events: StudyEvent[]; cursor: number }> {
    checkStudyEvents(`${WHERE}.appendAndRead`, study, events);
    const lines = events.map((e) => JSON.stringify(encodeEvent(e)));
    const batch = this.#key(study, `batch:${given === undefined ? batchId() : checkBatchId(WHERE, given)}`);
    // Appended and read in one script: atomic, so the read ends with these events.
    const items = await this.#run('append', (c) =>
      c.kilnAppendRead(this.#key(study, 'log'), `${this.prefix}:studies`, batch, study, BATCH_TTL_S, cursor, ...lines),
    );
    if (items === null) return this.readSince(study, cursor);
    return { events: items.map((text, i) => this.#parse(study, cursor + i, text)), cursor: cursor + items.length };
  }

  async heartbeat(study: string, numbers: readonly number[]): Promise<void> {
    if (numbers.length === 0) return;
    await this.#run('heartbeat', (c) => c.kilnBeat(this.#key(study, 'beats'), ...numbers));
  }

  async heartbeats(study: string): Promise<Heartbeats> {
    const [now, flat] = await this.#run('heartbeats', (c) => c.kilnBeats(this.#key(study, 'beats')));
    const beats = new Map<number, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) beats.set(Number(flat[i]), Number(flat[i + 1]));
    return { now: Number(now), beats };
  }

  async studies(): Promise<string[]> {
    return (await this.#run('studies', (c) => c.smembers(`${this.prefix}:studies`))).sort();
  }

  /** Resolves when `study` has events after `cursor`, or after `timeoutMs` (polls every 100 ms). */
  async waitForEvents(study: string, cursor: number, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ((await this.#run('waitForEvents', (c) => c.llen(this.#key(study, 'log')))) <= cursor && Date.now() < until) {
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(0, until - Date.now()))));
    }
  }

  /** Deletes a study's events and heartbeats. */
  async deleteStudy(study: string): Promise<void> {
    await this.#run('deleteStudy', async (c) => {
      await c.del(this.#key(study, 'log'), this.#key(study, 'beats'));
      await c.srem(`${this.prefix}:studies`, study);
    });
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.then((c) => c.quit()).catch(() => undefined);
  }
}
