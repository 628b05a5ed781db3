// Studies in PostgreSQL, shared by any number of processes on any hosts. One table holds the
// events of every study: (study, seq, batch, event jsonb). An append is one statement that bumps
// the study's row in the studies table (the row lock serialises appends to one study, so seq is
// gap-free and in commit order) and inserts the batch; a statement trigger NOTIFYs listeners.
// Heartbeats live in their own table, stamped with the database's clock, so hosts whose clocks
// disagree still agree on which trial is stale.
import type * as Pg from 'pg';
import { parseEvent, encodeEvent, type StudyEvent } from '../events.ts';
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

/** Options of `PostgresStorage`. */
export interface PostgresStorageOptions extends RetryOptions {
  /** Prefix of the tables (default 'kiln': kiln_events, kiln_studies, kiln_heartbeats, kiln_meta). */
  table?: string;
  /** Connections in the pool (default 4). */
  poolSize?: number;
  /** Wait for the WAL flush on every append (default true). false makes appends several times
   *  faster on slow disks; a crash of the database server (not of a worker) may then lose the
   *  last fraction of a second of events. */
  synchronousCommit?: boolean;
}

const SCHEMA_VERSION = 2;
// Events that end, enqueue or create something: their append waits for the WAL flush.
const DURABLE_OPS = new Set<StudyEvent['op']>(['finish', 'enqueue', 'study']);
// Batch ids of the last events read, by study and position, for the lost-log check.
const SEEN_KEPT = 1024;

interface EventRow {
  seq: string;
  batch: string | null;
  event: unknown;
}

/** The database no longer holds events this process read (it crashed and lost commits that did
 *  not wait for the disk): appending would build on a history that is gone. */
export class StudyLogLostError extends Error {
  override name = 'StudyLogLostError';
}
const WHERE = 'PostgresStorage';
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '40001',
  '40P01',
]);

function transient(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  if (e?.code && (TRANSIENT_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  return /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Client was closed|terminating connection/i.test(
    e?.message ?? '',
  );
}

/** Checks a postgres:// URL, naming what is wrong. */
export function checkPostgresUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length === 0)
    throw new TypeError(
      `${WHERE}: the connection string must be a non-empty string (postgres://user@host:5432/database), got ${typeof url === 'string' ? "''" : typeof url}`,
    );
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`${WHERE}: '${redactUrl(url)}' is not a URL; expected postgres://user@host:5432/database`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')
    throw new TypeError(
      `${WHERE}: '${redactUrl(url)}' is not a PostgreSQL URL (scheme ${u.protocol}); expected postgres://user@host:5432/database`,
    );
  if (u.hostname === '' && !u.searchParams.has('host'))
    throw new TypeError(`${WHERE}: '${redactUrl(url)}' names no host; expected postgres://user@host:5432/database`);
  if (u.port !== '' && !(Number(u.port) > 0 && Number(u.port) < 65536))
    throw new RangeError(`${WHERE}: '${redactUrl(url)}' has port ${u.port}, outside 1 … 65535`);
  return url;
}

/**
 * A PostgreSQL storage (npm `pg`, installed on demand): any number of worker processes on any
 * hosts share its studies. Tables are created on first use (versioned in `<table>_meta`).
 *
 * @example
 * const storage = new PostgresStorage('postgres://kiln@db.example:5432/kiln');
 * const study = await createStudy({ name: 'mlp', storage, loadIfExists: true, requeue: true });
 * await study.optimize(objective, { trials: 100 });
 * await storage.close();
 */
export class PostgresStorage implements SharedStudyStorage {
  readonly url: string;
  readonly table: string;
  #poolSize: number;
  #synchronous: boolean;
  #retry: Required<RetryOptions>;
  #pool: Promise<Pg.Pool> | undefined;
  #listener: Promise<Pg.Client> | undefined;
  #waiters = new Set<{ study: string; wake: () => void }>();
  #closed = false;
  #seen = new Map<string, string | null>();

  constructor(url: string, options: PostgresStorageOptions = {}) {
    this.url = checkPostgresUrl(url);
    for (const key of Object.keys(options)) {
      if (!['table', 'poolSize', 'synchronousCommit', 'retryMs', 'onRetry'].includes(key))
        throw new TypeError(`${WHERE}: unknown option '${key}' (known: table, poolSize, synchronousCommit, retryMs, onRetry)`);
    }
    const table = options.table ?? 'kiln';
    if (typeof table !== 'string' || !/^[a-z_][a-z0-9_]{0,40}$/.test(table))
      throw new TypeError(
        `${WHERE}: table must be a lower-case SQL name of at most 41 characters ([a-z_][a-z0-9_]*), got ${JSON.stringify(table)}`,
      );
    this.table = table;
    const size = options.poolSize ?? 4;
    if (!Number.isSafeInteger(size) || size < 1 || size > 100)
      throw new RangeError(`${WHERE}: poolSize must be an integer in 1 … 100, got ${String(size)}`);
    this.#poolSize = size;
    if (options.synchronousCommit !== undefined && typeof options.synchronousCommit !== 'boolean')
      throw new TypeError(`${WHERE}: synchronousCommit must be a boolean, got ${typeof options.synchronousCommit}`);
    this.#synchronous = options.synchronousCommit ?? true;
    this.#retry = checkRetryOptions(WHERE, options);
  }

  #run<T>(what: string, op: (pool: Pg.Pool) => Promise<T>, before?: (pool: Pg.Pool) => Promise<{ done: T } | undefined>): Promise<T> {
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

  // The pool and the schema, once; a failed attempt is forgotten so the next call tries again.
  #connect(): Promise<Pg.Pool> {
    this.#pool ??= (async () => {
      const pg = await importOptional<typeof Pg>('pg', WHERE);
      const pool = new pg.Pool({
        connectionString: this.url,
        max: this.#poolSize,
        connectionTimeoutMillis: 10_000,
        ...(this.#synchronous ? {} : { options: '-c synchronous_commit=off' }),
      });
      // An idle connection dropping (server restart) is reported here; the next query reconnects.
      pool.on('error', () => undefined);
      try {
        await this.#migrate(pool);
      } catch (error) {
        await pool.end().catch(() => undefined);
        throw error;
      }
      return pool;
    })();
    return this.#pool.catch((error) => {
      this.#pool = undefined;
      throw error;
    });
  }

  async #migrate(pool: Pg.Pool): Promise<void> {
    const t = this.table;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // Several processes starting at once: one creates, the others wait and find it done.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${t}_schema`]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${t}_meta (key text PRIMARY KEY, value text NOT NULL)`);
      const { rows } = await client.query<{ value: string }>(`SELECT value FROM ${t}_meta WHERE key = 'schema'`);
      const version = rows[0] ? Number(rows[0].value) : 0;
      if (version > SCHEMA_VERSION)
        throw new Error(
          `${WHERE}: tables ${t}_* in ${redactUrl(this.url)} have schema version ${version}; this kiln reads version ${SCHEMA_VERSION}: upgrade kiln`,
        );
      if (version === 0) {
        await client.query(
          `CREATE TABLE ${t}_studies (study text PRIMARY KEY, next_seq bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
        );
        await client.query(
          `CREATE TABLE ${t}_events (study text NOT NULL, seq bigint NOT NULL, batch text, event jsonb NOT NULL, PRIMARY KEY (study, seq))`,
        );
        await client.query(
          `CREATE TABLE ${t}_heartbeats (study text NOT NULL, number integer NOT NULL, beat timestamptz NOT NULL, PRIMARY KEY (study, number))`,
        );
        await client.query(`CREATE FUNCTION ${t}_notify() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN PERFORM pg_notify('${t}_events', s.study) FROM (SELECT DISTINCT study FROM new_rows) s; RETURN NULL; END $$`);
        await client.query(
          `CREATE TRIGGER ${t}_events_notify AFTER INSERT ON ${t}_events REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${t}_notify()`,
        );
      }
      if (version < 2) {
        // Version 2: batches found by id, so an append given a batch id it holds is not repeated.
        await client.query(`CREATE INDEX IF NOT EXISTS ${t}_events_batch ON ${t}_events (study, batch)`);
      }
      if (version < SCHEMA_VERSION)
        await client.query(
          `INSERT INTO ${t}_meta (key, value) VALUES ('schema', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
          [String(SCHEMA_VERSION)],
        );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  #parse(study: string, seq: number, raw: unknown): StudyEvent {
    return parseEvent(`${WHERE} ${this.table}_events study '${study}' seq ${seq}`, raw);
  }

  /** Every event, study by study, each in append order. */
  async load(): Promise<StudyEvent[]> {
    const { rows } = await this.#run('load', (pool) =>
      pool.query<{ study: string; seq: string; event: unknown }>(`SELECT study, seq, event FROM ${this.table}_events ORDER BY study, seq`),
    );
    return rows.map((r) => this.#parse(r.study, Number(r.seq), r.event));
  }

  async readSince(study: string, cursor: number): Promise<{ events: StudyEvent[]; cursor: number }> {
    // Named statements: parsed and planned once per connection. The primary key (study, seq)
    // serves the range scan.
    const { rows } = await this.#run('readSince', (pool) =>
      pool.query<EventRow>({
        name: `${this.table}_read`,
        text: `SELECT seq, batch, event FROM ${this.table}_events WHERE study = $1 AND seq > $2 ORDER BY seq`,
        values: [study, cursor],
      }),
    );
    return this.#read(study, cursor, rows);
  }

  #read(study: string, cursor: number, rows: EventRow[]): { events: StudyEvent[]; cursor: number } {
    const events = rows.map((r) => this.#parse(study, Number(r.seq), r.event));
    const last = rows.at(-1);
    if (!last) return { events, cursor };
    this.#seen.set(`${study}\n${last.seq}`, last.batch);
    if (this.#seen.size > SEEN_KEPT) this.#seen.delete(this.#seen.keys().next().value!);
    return { events, cursor: Number(last.seq) };
  }

  async append(events: readonly StudyEvent[]): Promise<void> {
    // Events of one study go in one statement; a batch naming several studies goes study by study.
    for (let i = 0; i < events.length;) {
      const study = events[i]!.study;
      let j = i;
      while (j < events.length && events[j]!.study === study) j++;
      await this.#appendTo(study, events.slice(i, j));
      i = j;
    }
  }

  /** Appends once per batch id (see `SharedStudyStorage.appendBatch`). */
  async appendBatch(study: string, events: readonly StudyEvent[], batch: string): Promise<void> {
    checkStudyEvents(`${WHERE}.appendBatch`, study, events);
    await this.#appendTo(study, events, checkBatchId(WHERE, batch));
  }

  async #appendTo(study: string, events: readonly StudyEvent[], given?: string): Promise<void> {
    const t = this.table;
    const batch = given ?? batchId();
    const once = given === undefined ? '' : `WHERE NOT EXISTS (SELECT 1 FROM ${t}_events WHERE study = $1 AND batch = $3)`;
    const json = JSON.stringify(events.map(encodeEvent));
    await this.#run(
      'append',
      (pool) =>
        pool
          .query({
            name: `${t}_append${given === undefined ? '' : '_once'}`,
            text: `WITH s AS (
         INSERT INTO ${t}_studies AS s (study, next_seq) SELECT $1::text, $2::bigint ${once}
         ON CONFLICT (study) DO UPDATE SET next_seq = s.next_seq + EXCLUDED.next_seq
         RETURNING next_seq)
       INSERT INTO ${t}_events (study, seq, batch, event)
       SELECT $1, s.next_seq - $2 + e.ord, $3, e.value FROM s, jsonb_array_elements($4::jsonb) WITH ORDINALITY AS e(value, ord)`,
            values: [study, events.length, batch, json],
          })
          .then(() => undefined),
      async (pool) => {
        // The previous attempt may have committed before its reply was lost.
        const { rowCount } = await pool.query(`SELECT 1 FROM ${t}_events WHERE study = $1 AND batch = $2 LIMIT 1`, [study, batch]);
        return rowCount ? { done: undefined } : undefined;
      },
    );
  }

  /**
   * Appends and reads back in one round trip: the insert and the read go as one simple-query
   * message in one transaction. The insert waits for the study's row lock, which every earlier
   * appender held until it committed, and under read committed the read takes a fresh snapshot:
   * it sees every event up to these, and none is missing in between.
   *
   * Only batches that finish a trial, enqueue one or create a study wait for the WAL flush. The
   * rest (a trial's claim, its parameters, reports, attributes) commit without waiting: the WAL
   * is written in commit order, so the next durable commit (this trial's finish, or anyone's)
   * makes them durable too, and a client process killed after the commit loses nothing. What a
   * crash of the database server itself can lose is the last fraction of a second of such
   * commits: trials asked and not finished, exactly what a killed worker leaves. A client whose
   * view the database lost is told so: each append checks that the event at `cursor` is still
   * the one this process read there, and refuses with `StudyLogLostError` if not (a lost claim's
   * trial number may have gone to another trial).
   */
  async appendAndRead(
    study: string,
    events: readonly StudyEvent[],
    cursor: number,
    given?: string,
  ): Promise<{ events: StudyEvent[]; cursor: number }> {
    checkStudyEvents(`${WHERE}.appendAndRead`, study, events);
    if (!Number.isSafeInteger(cursor) || cursor < 0)
      throw new RangeError(`${WHERE}.appendAndRead: cursor must be an integer >= 0, got ${cursor}`);
    const t = this.table;
    const batch = given === undefined ? batchId() : checkBatchId(WHERE, given);
    const json = JSON.stringify(events.map(encodeEvent));
    const n = events.length;
    const durable = this.#synchronous && events.some((e) => DURABLE_OPS.has(e.op));
    const seen = cursor > 0 ? this.#seen.get(`${study}\n${cursor}`) : undefined;
    const rows = await this.#run(
      'append',
      async (pool) => {
        const client = await pool.connect();
        try {
          const name = client.escapeLiteral(study);
          const conditions = [
            ...(seen === undefined
              ? []
              : [
                  `EXISTS (SELECT 1 FROM ${t}_events WHERE study = ${name} AND seq = ${cursor} AND batch ${seen === null ? 'IS NULL' : `= ${client.escapeLiteral(seen)}`})`,
                ]),
            ...(given === undefined ? [] : [`NOT EXISTS (SELECT 1 FROM ${t}_events WHERE study = ${name} AND batch = '${batch}')`]),
          ];
          const guard = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
          // A batch id given by the caller that the log holds already: read, do not write again.
          const again = given === undefined ? '' : ` SELECT 1 FROM ${t}_events WHERE study = ${name} AND batch = '${batch}' LIMIT 1;`;
          const results = (await client.query(`BEGIN;${durable ? '' : ' SET LOCAL synchronous_commit TO off;'}${again}
       WITH s AS (
         INSERT INTO ${t}_studies AS s (study, next_seq) SELECT ${name}, ${n} ${guard}
         ON CONFLICT (study) DO UPDATE SET next_seq = s.next_seq + EXCLUDED.next_seq
         RETURNING next_seq)
       INSERT INTO ${t}_events (study, seq, batch, event)
       SELECT ${name}, s.next_seq - ${n} + e.ord, '${batch}', e.value FROM s, jsonb_array_elements(${client.escapeLiteral(json)}::jsonb) WITH ORDINALITY AS e(value, ord);
       SELECT seq, batch, event FROM ${t}_events WHERE study = ${name} AND seq > ${cursor} ORDER BY seq; COMMIT;`)) as unknown as Pg.QueryResult<EventRow>[];
          const [held, inserted, read] =
            given === undefined ? [undefined, ...results.slice(durable ? 1 : 2)] : results.slice(durable ? 1 : 2);
          if (given !== undefined && held!.rowCount) return read!.rows;
          if (inserted!.rowCount !== n)
            throw new StudyLogLostError(
              `${WHERE}: study '${study}' in ${redactUrl(this.url)} no longer holds event ${cursor} as this process read it: the database lost recent events (a crash of the server loses trials asked and not finished); reopen the study`,
            );
          return read!.rows;
        } finally {
          client.release();
        }
      },
      async (pool) => {
        // The previous attempt may have committed before its reply was lost: then read.
        const { rowCount } = await pool.query(`SELECT 1 FROM ${t}_events WHERE study = $1 AND batch = $2 LIMIT 1`, [study, batch]);
        return rowCount ? { done: undefined } : undefined;
      },
    );
    if (rows === undefined) return this.readSince(study, cursor);
    return this.#read(study, cursor, rows);
  }

  async heartbeat(study: string, numbers: readonly number[]): Promise<void> {
    if (numbers.length === 0) return;
    if (!numbers.every((n) => Number.isSafeInteger(n) && n >= 0))
      throw new RangeError(`${WHERE}.heartbeat: trial numbers must be integers >= 0, got ${numbers.join(', ')}`);
    // A beat need not survive a database crash (the next one follows), so it does not wait for
    // the WAL flush: one round trip, no fsync. Simple-query protocol for the SET LOCAL, hence
    // the literals (escaped name, checked integers).
    await this.#run('heartbeat', async (pool) => {
      const client = await pool.connect();
      try {
        await client.query(`BEGIN; SET LOCAL synchronous_commit TO off;
          INSERT INTO ${this.table}_heartbeats (study, number, beat) SELECT ${client.escapeLiteral(study)}, n, clock_timestamp() FROM unnest(ARRAY[${numbers.join(',')}]::int[]) AS n
          ON CONFLICT (study, number) DO UPDATE SET beat = EXCLUDED.beat; COMMIT;`);
      } finally {
        client.release();
      }
    });
  }

  async heartbeats(study: string): Promise<Heartbeats> {
    const { rows } = await this.#run('heartbeats', (pool) =>
      pool.query<{ now: string; number: number | null; ms: string | null }>(
        `SELECT extract(epoch FROM c.now) * 1000 AS now, h.number, extract(epoch FROM h.beat) * 1000 AS ms
       FROM (SELECT clock_timestamp() AS now) c LEFT JOIN ${this.table}_heartbeats h ON h.study = $1`,
        [study],
      ),
    );
    const beats = new Map<number, number>();
    for (const r of rows) if (r.number !== null) beats.set(r.number, Number(r.ms));
    return { now: Number(rows[0]!.now), beats };
  }

  async studies(): Promise<string[]> {
    const { rows } = await this.#run('studies', (pool) =>
      pool.query<{ study: string }>(`SELECT study FROM ${this.table}_studies ORDER BY study`),
    );
    return rows.map((r) => r.study);
  }

  /** Deletes a study's events and heartbeats. */
  async deleteStudy(study: string): Promise<void> {
    const t = this.table;
    await this.#run('deleteStudy', async (pool) => {
      await pool.query(`DELETE FROM ${t}_events WHERE study = $1`, [study]);
      await pool.query(`DELETE FROM ${t}_heartbeats WHERE study = $1`, [study]);
      await pool.query(`DELETE FROM ${t}_studies WHERE study = $1`, [study]);
    });
  }

  /** Resolves when `study` has events after `cursor` (woken by NOTIFY), or after `timeoutMs`. */
  async waitForEvents(study: string, cursor: number, timeoutMs: number): Promise<void> {
    let waiter: { study: string; wake: () => void } | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const woken = new Promise<void>((resolve) => {
      waiter = { study, wake: resolve };
      timer = setTimeout(resolve, timeoutMs);
    });
    this.#waiters.add(waiter!);
    try {
      try {
        await this.#listen();
      } catch {
        // No listener (database away): the timeout still ends the wait.
      }
      // Events that landed before LISTEN took effect would send no notification.
      const { rows } = await this.#run('waitForEvents', (pool) =>
        pool.query<{ n: string | null }>(`SELECT next_seq AS n FROM ${this.table}_studies WHERE study = $1`, [study]),
      );
      if (Number(rows[0]?.n ?? 0) > cursor) return;
      await woken;
    } finally {
      clearTimeout(timer);
      this.#waiters.delete(waiter!);
    }
  }

  #listen(): Promise<Pg.Client> {
    this.#listener ??= (async () => {
      const pg = await importOptional<typeof Pg>('pg', WHERE);
      const client = new pg.Client({ connectionString: this.url });
      const forget = () => {
        if (this.#listener === promise) this.#listener = undefined;
        client.end().catch(() => undefined);
      };
      client.on('error', forget);
      client.on('end', forget);
      client.on('notification', (msg) => {
        for (const w of this.#waiters) if (w.study === msg.payload) w.wake();
      });
      await client.connect();
      await client.query(`LISTEN ${this.table}_events`);
      return client;
    })();
    const promise = this.#listener;
    return promise.catch((error) => {
      if (this.#listener === promise) this.#listener = undefined;
      throw error;
    });
  }

  /** Closes the pool and the listening connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const [pool, listener] = [this.#pool, this.#listener];
    this.#pool = this.#listener = undefined;
    for (const w of this.#waiters) w.wake();
    await Promise.all([pool?.then((p) => p.end()).catch(() => undefined), listener?.then((c) => c.end()).catch(() => undefined)]);
  }
}
