// Studies behind `kiln serve`, over HTTP: the same log protocol as the storage the server fronts
// (PostgreSQL, Redis or a journal file), so browsers, edge functions and hosts without a route to
// the database join a study with nothing but fetch. Requests carry the shared token as a bearer
// token; appends carry a batch id, so a retry after a lost reply is not written twice.
import { encodeEvent, parseEvent, type StudyEvent } from '../events.ts';
import type { Heartbeats, SharedStudyStorage } from './storage.ts';
import { batchId, checkRetryOptions, checkStudyEvents, redactUrl, withRetry, type RetryOptions } from './retry.ts';

/** Options of `HttpStorage`. */
export interface HttpStorageOptions extends RetryOptions {
  /** The server's shared token (default: the password of the URL, as in http://:TOKEN@host:8080). */
  token?: string;
  /** Abort a request (other than a long poll) after this long (default 30 000 ms). */
  timeoutMs?: number;
}

const WHERE = 'HttpStorage';
/** The longest a server holds a long poll; clients wait in slices of this. */
export const MAX_WAIT_MS = 25_000;

/** An HTTP error the server answered with (4xx: the request is wrong; retrying will not help). */
export class HttpStorageError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'HttpStorageError';
  }
}

function transient(error: unknown): boolean {
  if (error instanceof HttpStorageError)
    return error.status === 429 || error.status === 502 || error.status === 503 || error.status === 504;
  const e = error as { name?: string; message?: string; cause?: { code?: string } };
  // fetch reports a refused or dropped connection as TypeError('fetch failed') with the cause.
  return e?.name === 'TypeError' || e?.name === 'TimeoutError' || /ECONNREFUSED|ECONNRESET|socket hang up/i.test(e?.message ?? '');
}

/** Checks an http:// or https:// URL, naming what is wrong. */
export function checkHttpUrl(url: unknown): URL {
  if (typeof url !== 'string' || url.length === 0)
    throw new TypeError(
      `${WHERE}: the URL must be a non-empty string (http://host:8080), got ${typeof url === 'string' ? "''" : typeof url}`,
    );
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`${WHERE}: '${redactUrl(url)}' is not a URL; expected http://host:8080 or https://host`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new TypeError(`${WHERE}: '${redactUrl(url)}' is not an HTTP URL (scheme ${u.protocol}); expected http://host:8080`);
  if (u.hostname === '') throw new TypeError(`${WHERE}: '${redactUrl(url)}' names no host; expected http://host:8080`);
  if (u.search !== '' || u.hash !== '')
    throw new TypeError(`${WHERE}: '${redactUrl(url)}' has a query or fragment; give the server's base URL (http://host:8080)`);
  return u;
}

/**
 * A study storage served by `kiln serve` (or `serveStudies`): any number of processes, browser
 * tabs and edge workers share its studies through the storage the server fronts.
 *
 * @example
 * const storage = new HttpStorage('http://search.example:8080', { token: 'a-long-shared-secret' });
 * const study = await createStudy({ name: 'mlp', storage, loadIfExists: true });
 * await study.optimize(objective, { trials: 20 });
 */
export class HttpStorage implements SharedStudyStorage {
  /** The server's base URL, without the token. */
  readonly url: string;
  #base: string;
  #token: string;
  #timeoutMs: number;
  #retry: Required<RetryOptions>;
  #closing = new AbortController();
  #closed = false;

  constructor(url: string, options: HttpStorageOptions = {}) {
    const u = checkHttpUrl(url);
    for (const key of Object.keys(options))
      if (!['token', 'timeoutMs', 'retryMs', 'onRetry'].includes(key))
        throw new TypeError(`${WHERE}: unknown option '${key}' (known: token, timeoutMs, retryMs, onRetry)`);
    const token = options.token ?? decodeURIComponent(u.password);
    if (typeof token !== 'string' || token === '')
      throw new TypeError(`${WHERE}: no token: pass { token } or put it in the URL (http://:TOKEN@host:8080)`);
    this.#token = token;
    u.username = u.password = '';
    this.#base = u.toString().replace(/\/$/, '');
    this.url = this.#base;
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0))
      throw new RangeError(`${WHERE}: timeoutMs must be a number > 0, got ${String(timeoutMs)}`);
    this.#timeoutMs = timeoutMs;
    this.#retry = checkRetryOptions(WHERE, options);
  }

  async #request<T>(what: string, method: 'GET' | 'POST', path: string, body?: unknown, waitMs = 0): Promise<T> {
    if (this.#closed) throw new Error(`${WHERE}: ${what} after close()`);
    const text = body === undefined ? undefined : JSON.stringify(body);
    return withRetry(`${WHERE}.${what}`, this.#base, this.#retry, transient, async () => {
      const signal = AbortSignal.any([this.#closing.signal, AbortSignal.timeout(this.#timeoutMs + waitMs)]);
      let res: Response;
      try {
        res = await fetch(`${this.#base}${path}`, {
          method,
          headers: { authorization: `Bearer ${this.#token}`, ...(text === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(text === undefined ? {} : { body: text }),
          signal,
        });
      } catch (error) {
        // Node's fetch says only 'fetch failed'; the cause says why (ECONNREFUSED, ECONNRESET).
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        if ((error as Error)?.name === 'TypeError' && cause)
          throw new TypeError(`fetch failed: ${cause.code ?? ''} ${cause.message ?? ''}`.trim(), { cause: error });
        throw error;
      }
      const reply = await res.text();
      if (!res.ok) {
        let message = reply;
        try {
          message = (JSON.parse(reply) as { error?: string }).error ?? reply;
        } catch {
          // Not JSON (a proxy's page): the text as it is.
        }
        throw new HttpStorageError(`${WHERE}.${what}: ${method} ${this.#base}${path}: ${res.status} ${message}`, res.status);
      }
      return JSON.parse(reply) as T;
    });
  }

  #study(study: string): string {
    if (typeof study !== 'string' || study === '') throw new TypeError(`${WHERE}: a study name must be a non-empty string`);
    return `/v1/studies/${encodeURIComponent(study)}`;
  }

  #parse(study: string, first: number, raw: unknown[]): StudyEvent[] {
    return raw.map((e, i) => parseEvent(`${WHERE} ${this.#base} study '${study}' event ${first + i + 1}`, e));
  }

  /** Every event, study by study, each in append order. */
  async load(): Promise<StudyEvent[]> {
    const out: StudyEvent[] = [];
    for (const study of await this.studies()) out.push(...(await this.readSince(study, 0)).events);
    return out;
  }

  async readSince(study: string, cursor: number): Promise<{ events: StudyEvent[]; cursor: number }> {
    const r = await this.#request<{ events: unknown[]; cursor: number }>(
      'readSince',
      'GET',
      `${this.#study(study)}/events?since=${cursor}`,
    );
    return { events: this.#parse(study, cursor, r.events), cursor: r.cursor };
  }

  async append(events: readonly StudyEvent[]): Promise<void> {
    for (let i = 0; i < events.length;) {
      const study = events[i]!.study;
      let j = i;
      while (j < events.length && events[j]!.study === study) j++;
      // One id for every attempt: the server answers a batch it has seen without writing it again.
      await this.#request('append', 'POST', `${this.#study(study)}/events`, {
        batch: batchId(),
        events: events.slice(i, j).map(encodeEvent),
      });
      i = j;
    }
  }

  async appendAndRead(study: string, events: readonly StudyEvent[], cursor: number): Promise<{ events: StudyEvent[]; cursor: number }> {
    checkStudyEvents(`${WHERE}.appendAndRead`, study, events);
    const r = await this.#request<{ events: unknown[]; cursor: number }>('append', 'POST', `${this.#study(study)}/events`, {
      batch: batchId(),
      events: events.map(encodeEvent),
      since: cursor,
    });
    return { events: this.#parse(study, cursor, r.events), cursor: r.cursor };
  }

  async heartbeat(study: string, numbers: readonly number[]): Promise<void> {
    if (numbers.length === 0) return;
    await this.#request('heartbeat', 'POST', `${this.#study(study)}/heartbeat`, { numbers });
  }

  async heartbeats(study: string): Promise<Heartbeats> {
    const r = await this.#request<{ now: number; beats: Record<string, number> }>('heartbeats', 'GET', `${this.#study(study)}/heartbeats`);
    return { now: r.now, beats: new Map(Object.entries(r.beats).map(([n, ms]) => [Number(n), ms])) };
  }

  async studies(): Promise<string[]> {
    return (await this.#request<{ studies: string[] }>('studies', 'GET', '/v1/studies')).studies;
  }

  /** Resolves when `study` has events after `cursor`, or after `timeoutMs` (long polls). */
  async waitForEvents(study: string, cursor: number, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (let left = timeoutMs; left > 0 && !this.#closed; left = until - Date.now()) {
      const waitMs = Math.min(MAX_WAIT_MS, Math.ceil(left));
      const r = await this.#request<{ count: number }>(
        'waitForEvents',
        'GET',
        `${this.#study(study)}/events?since=${cursor}&waitMs=${waitMs}&count=1`,
        undefined,
        waitMs,
      ).catch((error) => {
        if (this.#closed) return { count: 0 };
        throw error;
      });
      if (r.count > 0) return;
    }
  }

  /** Ends long polls in flight; later calls fail. */
  close(): void {
    this.#closed = true;
    this.#closing.abort();
  }
}
