// `kiln serve`: an HTTP front on a shared storage (Node's http), so browsers and edge workers join
// a study with fetch. Two levels, one log:
// - the log itself (`HttpStorage` speaks it): events since N (long poll or server-sent events),
//   append, heartbeat, heartbeats, the list of studies;
// - ask/tell for clients without kiln: the server asks a trial from a JSON search space with the
//   study's sampler and hands it out; the client beats it and tells the result. The server's
//   reaper fails trials whose client stopped beating, as for any other worker.
// Every request but a CORS preflight carries the shared token (Authorization: Bearer …), compared
// in constant time. Bodies are JSON, size-limited; bad requests are 400s that say what to fix.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { encodeEvent, parseEvent, type StudyEvent } from '../events.ts';
import { summarizeStudy } from '../export.ts';
import { parseSpace, sampleSpace } from '../space.ts';
import { createStudy, type Study } from '../study.ts';
import type { Sampler } from '../samplers/sampler.ts';
import { MAX_WAIT_MS } from './http.ts';
import type { SharedStudyStorage } from './storage.ts';

/** Options of `serveStudies`. */
export interface ServeOptions {
  /** The shared token clients send as `Authorization: Bearer <token>` (at least 16 characters). */
  token: string;
  /** Port to listen on (default 8080; 0 picks a free one). */
  port?: number;
  /** Address to listen on (default '127.0.0.1'; '0.0.0.0' for every interface). */
  host?: string;
  /** The Access-Control-Allow-Origin browsers see (default '*': the token, not cookies, authorises). */
  corsOrigin?: string;
  /** Largest request body accepted (default 1 MiB). */
  maxBodyBytes?: number;
  /** Trials asked over HTTP: failed when their client has not beaten for this long (default 60 000 ms). */
  graceMs?: number;
  /** Put the parameters of reaped trials back on the queue (default true). */
  requeue?: boolean;
  /** The sampler of studies asked over HTTP (default: TPE seeded by the study). */
  sampler?: (study: string) => Sampler;
  /** Told of each request: method, path, status, milliseconds. */
  onRequest?: (method: string, path: string, status: number, ms: number) => void;
}

/** A running server: its address and how to stop it. */
export interface StudyServer {
  /** http://host:port (the port chosen, when 0 was asked). */
  readonly url: string;
  readonly port: number;
  /** Stops listening, ends long polls and streams, closes the studies it opened (not the storage). */
  close(): Promise<void>;
}

const WHERE = 'serveStudies';
const SERVE_KEYS = ['token', 'port', 'host', 'corsOrigin', 'maxBodyBytes', 'graceMs', 'requeue', 'sampler', 'onRequest'];
const SEEN_BATCHES = 10_000;

/** A request the server refuses, with the status and a message saying what to fix. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const bad = (message: string) => new Refusal(400, message);

function integer(name: string, text: string | null, low: number, high: number, fallback: number): number {
  if (text === null) return fallback;
  const v = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(v) || v < low || v > high)
    throw bad(`query parameter '${name}' must be an integer in ${low} … ${high}, got '${text}'`);
  return v;
}

function object(where: string, body: unknown, keys: readonly string[]): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw bad(`${where}: the body must be a JSON object, got ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}`);
  for (const key of Object.keys(body)) if (!keys.includes(key)) throw bad(`${where}: unknown field '${key}' (known: ${keys.join(', ')})`);
  return body as Record<string, unknown>;
}

function trialNumbers(where: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > 10_000 || !v.every((n) => Number.isSafeInteger(n) && n >= 0))
    throw bad(`${where}: 'numbers' must be a non-empty array of trial numbers (integers >= 0), got ${JSON.stringify(v)?.slice(0, 80)}`);
  return v as number[];
}

/**
 * Serves the studies of a shared storage over HTTP until `close()`. Node only (it uses node:http).
 *
 * Routes (JSON; every one but OPTIONS needs `Authorization: Bearer <token>`):
 * `GET /v1/studies`, `GET /v1/studies/:name` (counts, best, trials),
 * `GET /v1/studies/:name/events?since=N[&waitMs=M]` (long poll), `GET /v1/studies/:name/stream?since=N`
 * (server-sent events; EventSource may pass `?token=`), `POST /v1/studies/:name/events`
 * `{ batch, events, since? }` (with `since`, the reply carries the log from there), `POST /v1/studies/:name/heartbeat` `{ numbers }`, `GET /v1/studies/:name/heartbeats`,
 * `POST /v1/studies/:name/ask` `{ space?, fixed? }` → `{ number, params }`,
 * `POST /v1/studies/:name/tell` `{ number, value | values | state, constraints?, error? }`.
 *
 * @example
 * const server = await serveStudies(new PostgresStorage('postgres://kiln@db/kiln'), { token: 'a-long-shared-secret', port: 8080 });
 * // elsewhere: new HttpStorage('http://host:8080', { token: 'a-long-shared-secret' })
 * await server.close();
 */
export async function serveStudies(storage: SharedStudyStorage, options: ServeOptions): Promise<StudyServer> {
  if (options === null || typeof options !== 'object') throw new TypeError(`${WHERE}: options must be an object with at least a token`);
  for (const key of Object.keys(options))
    if (!SERVE_KEYS.includes(key)) throw new TypeError(`${WHERE}: unknown option '${key}' (known: ${SERVE_KEYS.join(', ')})`);
  if (typeof storage?.readSince !== 'function')
    throw new TypeError(`${WHERE}: storage must be a shared storage (PostgreSQL, Redis, journal file)`);
  const { token } = options;
  if (typeof token !== 'string' || token.length < 16)
    throw new RangeError(
      `${WHERE}: token must be a string of at least 16 characters (e.g. openssl rand -hex 24), got ${typeof token === 'string' ? `${token.length} characters` : typeof token}`,
    );
  const port = options.port ?? 8080;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535)
    throw new RangeError(`${WHERE}: port must be an integer in 0 … 65535, got ${String(port)}`);
  const host = options.host ?? '127.0.0.1';
  const corsOrigin = options.corsOrigin ?? '*';
  const maxBodyBytes = options.maxBodyBytes ?? 1 << 20;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1024)
    throw new RangeError(`${WHERE}: maxBodyBytes must be an integer >= 1024, got ${String(maxBodyBytes)}`);
  const graceMs = options.graceMs ?? 60_000;
  if (typeof graceMs !== 'number' || !(graceMs >= 100))
    throw new RangeError(`${WHERE}: graceMs must be a number >= 100, got ${String(graceMs)}`);
  const http = await import('node:http');
  const { createHash, timingSafeEqual } = await import('node:crypto');
  const digest = (s: string) => createHash('sha256').update(s).digest();
  const expected = digest(token);
  // Hashes have one length, so the comparison takes the same time whatever was sent.
  const authorised = (sent: string | undefined) => sent !== undefined && timingSafeEqual(digest(sent), expected);

  const closing = new AbortController();
  const studies = new Map<string, Promise<Study>>();
  const batches = new Map<string, Promise<void>>();
  // Storages without a heartbeat table (journal files): beats are `beat` events, read back here.
  const beatLogs = new Map<string, { cursor: number; beats: Map<number, number> }>();

  const openStudy = (name: string): Promise<Study> => {
    let study = studies.get(name);
    if (!study) {
      study = (async () => {
        const { events } = await storage.readSince(name, 0);
        if (!events.some((e) => e.op === 'study'))
          throw new Refusal(404, `study '${name}' is not in the storage (GET /v1/studies lists what is)`);
        const heartbeatMs = Math.max(50, Math.floor(graceMs / 4));
        return createStudy({
          name,
          storage,
          loadIfExists: true,
          heartbeatMs,
          graceMs: Math.max(graceMs, 2 * heartbeatMs),
          requeue: options.requeue ?? true,
          ...(options.sampler ? { sampler: options.sampler(name) } : {}),
        });
      })();
      studies.set(name, study);
      study.catch(() => studies.delete(name));
    }
    return study;
  };

  const readJson = (req: IncomingMessage): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const type = req.headers['content-type'] ?? '';
      if (!/^application\/json\b/i.test(type)) {
        reject(new Refusal(415, `send the body as JSON with Content-Type: application/json (got '${type}')`));
        return;
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > maxBodyBytes) {
        reject(new Refusal(413, `the body is ${declared} bytes; the limit is ${maxBodyBytes} (split the events into several appends)`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) {
          reject(new Refusal(413, `the body is over ${maxBodyBytes} bytes, the limit (split the events into several appends)`));
          req.destroy();
        } else chunks.push(chunk);
      });
      req.on('error', reject);
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve(JSON.parse(text));
        } catch (error) {
          reject(bad(`the body is not valid JSON: ${(error as Error).message}`));
        }
      });
    });

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  // A client retrying after a lost reply sends the same batch id: answered, not written twice.
  // Storages that keep batch ids (PostgreSQL, Redis) are given the client's, so a retry that
  // reaches a restarted server is not written twice either; the map here covers the others and
  // retries arriving while the first attempt is still on its way. With `since`, the reply also
  // carries the log from there (one round trip for ask and tell).
  const appendOnce = async (study: string, batch: string, events: StudyEvent[], since: number | undefined) => {
    const key = `${study}\n${batch}`;
    const seen = batches.get(key);
    if (seen) {
      await seen;
      return since === undefined ? undefined : storage.readSince(study, since);
    }
    const read =
      since !== undefined && storage.appendAndRead
        ? storage.appendAndRead(study, events, since, storage.appendBatch ? batch : undefined)
        : Promise.resolve(storage.appendBatch ? storage.appendBatch(study, events, batch) : storage.append(events)).then(() =>
            since === undefined ? undefined : storage.readSince(study, since),
          );
    const done = read.then(() => undefined);
    batches.set(key, done);
    done.catch(() => batches.delete(key));
    if (batches.size > SEEN_BATCHES) batches.delete(batches.keys().next().value!);
    return read;
  };

  const waitFor = async (study: string, cursor: number, waitMs: number): Promise<void> => {
    if (storage.waitForEvents) await storage.waitForEvents(study, cursor, waitMs);
    else await new Promise((r) => setTimeout(r, waitMs));
  };

  const heartbeats = async (study: string) => {
    if (storage.heartbeats) {
      const h = await storage.heartbeats(study);
      return { now: h.now, beats: Object.fromEntries(h.beats) };
    }
    let log = beatLogs.get(study);
    if (!log) beatLogs.set(study, (log = { cursor: 0, beats: new Map() }));
    const { events, cursor } = await storage.readSince(study, log.cursor);
    for (const e of events) if (e.op === 'beat') log.beats.set(e.number, e.at);
    log.cursor = cursor;
    return { now: Date.now(), beats: Object.fromEntries(log.beats) };
  };

  const stream = async (req: IncomingMessage, res: ServerResponse, study: string, since: number) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let open = true;
    req.on('close', () => (open = false));
    let cursor = since;
    while (open && !closing.signal.aborted) {
      const r = await storage.readSince(study, cursor);
      if (r.events.length > 0) {
        cursor = r.cursor;
        res.write(`id: ${cursor}\nevent: events\ndata: ${JSON.stringify({ events: r.events.map(encodeEvent), cursor })}\n\n`);
      } else {
        res.write(': waiting\n\n');
        await Promise.race([
          waitFor(study, cursor, MAX_WAIT_MS),
          new Promise((r) => closing.signal.addEventListener('abort', r, { once: true })),
        ]);
      }
    }
    res.end();
  };

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter((p) => p !== '');
    if (parts[0] !== 'v1' || parts[1] !== 'studies' || parts.length > 4)
      throw new Refusal(404, `no route ${method} ${url.pathname} (routes start with /v1/studies)`);
    const allow = (...methods: string[]) => {
      if (!methods.includes(method)) throw new Refusal(405, `${url.pathname} takes ${methods.join(' or ')}, not ${method}`);
    };
    if (parts.length === 2) {
      allow('GET');
      return send(res, 200, { studies: await storage.studies() });
    }
    let study: string;
    try {
      study = decodeURIComponent(parts[2]!);
    } catch {
      throw bad(`the study name in ${url.pathname} is not valid percent-encoding`);
    }
    if (study.length > 200) throw bad(`study names are at most 200 characters, got ${study.length}`);
    const action = parts[3];
    const since = () =>
      integer('since', url.searchParams.get('since') ?? req.headers['last-event-id']?.toString() ?? null, 0, Number.MAX_SAFE_INTEGER, 0);
    if (action === undefined) {
      allow('GET');
      const summary = summarizeStudy(study, (await storage.readSince(study, 0)).events);
      if (!summary) throw new Refusal(404, `study '${study}' is not in the storage (GET /v1/studies lists what is)`);
      return send(res, 200, summary);
    }
    if (action === 'events' && method === 'GET') {
      const cursor = since();
      const waitMs = integer('waitMs', url.searchParams.get('waitMs'), 0, MAX_WAIT_MS, 0);
      const countOnly = integer('count', url.searchParams.get('count'), 0, 1, 0) === 1;
      let r = await storage.readSince(study, cursor);
      if (r.events.length === 0 && waitMs > 0) {
        await waitFor(study, cursor, waitMs);
        r = await storage.readSince(study, cursor);
      }
      if (countOnly) return send(res, 200, { count: r.events.length, cursor: r.cursor });
      return send(res, 200, { events: r.events.map(encodeEvent), cursor: r.cursor });
    }
    if (action === 'events') {
      allow('GET', 'POST');
      const body = object(`POST ${url.pathname}`, await readJson(req), ['batch', 'events', 'since']);
      if (body.since !== undefined && !(Number.isSafeInteger(body.since) && (body.since as number) >= 0))
        throw bad(`'since' must be a log position (an integer >= 0), got ${JSON.stringify(body.since)}`);
      if (typeof body.batch !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(body.batch))
        throw bad(
          `'batch' must be an id of 8 to 64 letters, digits, '_' or '-' (the same on every retry), got ${JSON.stringify(body.batch)}`,
        );
      if (!Array.isArray(body.events) || body.events.length === 0) throw bad(`'events' must be a non-empty array of study events`);
      const events: StudyEvent[] = [];
      body.events.forEach((raw, i) => {
        let e: StudyEvent;
        try {
          e = parseEvent(`events[${i}]`, raw);
        } catch (error) {
          throw bad((error as Error).message);
        }
        if (e.study !== study) throw bad(`events[${i}] belongs to study '${e.study}', not '${study}' of the path`);
        events.push(e);
      });
      const read = await appendOnce(study, body.batch, events, body.since as number | undefined);
      return send(
        res,
        200,
        read ? { appended: events.length, events: read.events.map(encodeEvent), cursor: read.cursor } : { appended: events.length },
      );
    }
    if (action === 'stream') {
      allow('GET');
      return stream(req, res, study, since());
    }
    if (action === 'heartbeat') {
      allow('POST');
      const numbers = trialNumbers(`POST ${url.pathname}`, object(`POST ${url.pathname}`, await readJson(req), ['numbers']).numbers);
      if (storage.heartbeat) await storage.heartbeat(study, numbers);
      else await storage.append(numbers.map((number) => ({ op: 'beat', study, number, at: Date.now() })));
      return send(res, 200, { beaten: numbers.length });
    }
    if (action === 'heartbeats') {
      allow('GET');
      return send(res, 200, await heartbeats(study));
    }
    if (action === 'ask') {
      allow('POST');
      const where = `POST ${url.pathname}`;
      const body = object(where, await readJson(req), ['space', 'fixed']);
      if (body.space !== undefined) {
        try {
          parseSpace(body.space);
        } catch (error) {
          throw bad(`${where}: ${(error as Error).message}`);
        }
      }
      if (body.fixed !== undefined && (body.fixed === null || typeof body.fixed !== 'object' || Array.isArray(body.fixed)))
        throw bad(`${where}: 'fixed' must be an object of parameter values`);
      const s = await openStudy(study);
      await s.reap();
      const trial = await s.askAsync(body.fixed as Record<string, never> | undefined);
      s.release(trial);
      try {
        if (body.space !== undefined) sampleSpace(trial, body.space as never);
      } catch (error) {
        await s.tell(trial, { state: 'failed', error: (error as Error).message });
        throw bad(`${where}: ${(error as Error).message}`);
      }
      await s.flush();
      const t = s.trials[trial.number]!;
      return send(res, 200, { number: trial.number, params: t.params });
    }
    if (action === 'tell') {
      allow('POST');
      const where = `POST ${url.pathname}`;
      const body = object(where, await readJson(req), ['number', 'value', 'values', 'state', 'constraints', 'error']);
      if (!Number.isSafeInteger(body.number) || (body.number as number) < 0)
        throw bad(`${where}: 'number' must be the trial number ask returned, got ${JSON.stringify(body.number)}`);
      const number = body.number as number;
      const s = await openStudy(study);
      await s.sync();
      const t = s.trials[number];
      if (!t) throw new Refusal(404, `${where}: study '${study}' has no trial ${number}`);
      const { number: _, ...result } = body;
      for (const key of ['value', 'values', 'constraints'] as const)
        if (result[key] !== undefined) result[key] = decodeNumbers(where, key, result[key]);
      let told;
      try {
        told = t.state === 'running' || s.isLost(number) ? await s.tell(number, result as never) : undefined;
      } catch (error) {
        if (error instanceof TypeError || error instanceof RangeError) throw bad(error.message);
        throw error;
      }
      if (!told) throw new Refusal(409, `${where}: trial ${number} is already ${t.state}`);
      const ignored = s.isLost(number);
      return send(res, 200, {
        number,
        state: told.state,
        values: told.values?.map((v) => (Number.isFinite(v) ? v : String(v))) ?? null,
        ignored,
      });
    }
    throw new Refusal(
      404,
      `no route ${method} ${url.pathname} (known after /v1/studies/:name: events, stream, heartbeat, heartbeats, ask, tell)`,
    );
  };

  const server: Server = http.createServer((req, res) => {
    const start = Date.now();
    const url = new URL(req.url ?? '/', 'http://kiln');
    res.setHeader('access-control-allow-origin', corsOrigin);
    res.setHeader('vary', 'origin');
    res.on('finish', () => options.onRequest?.(req.method ?? 'GET', url.pathname, res.statusCode, Date.now() - start));
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': 'authorization, content-type, last-event-id',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    const header = req.headers.authorization;
    const sent = header?.startsWith('Bearer ')
      ? header.slice(7)
      : url.pathname.endsWith('/stream')
        ? (url.searchParams.get('token') ?? undefined)
        : undefined;
    if (!authorised(sent)) {
      res.setHeader('www-authenticate', 'Bearer');
      send(res, 401, {
        error:
          header === undefined && sent === undefined ? 'send the token as Authorization: Bearer <token>' : 'the token is not this server’s',
      });
      req.resume();
      return;
    }
    route(req, res, url).catch((error: unknown) => {
      const refusal = error instanceof Refusal;
      if (!res.headersSent)
        send(res, refusal ? error.status : 503, {
          error: refusal ? error.message : `storage: ${(error as Error)?.message ?? String(error)}`,
        });
      else res.end();
      req.resume();
    });
  });
  server.keepAliveTimeout = MAX_WAIT_MS + 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    async close() {
      closing.abort();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of studies.values()) await s.then((x) => x.close()).catch(() => undefined);
      studies.clear();
    },
  };
}

// JSON has no NaN or Infinity: values may come as the strings 'NaN', 'Infinity', '-Infinity'.
function decodeNumbers(where: string, key: string, v: unknown): unknown {
  const one = (x: unknown) => (x === 'NaN' ? NaN : x === 'Infinity' ? Infinity : x === '-Infinity' ? -Infinity : x);
  if (Array.isArray(v)) return v.map(one);
  if (typeof v === 'number' || typeof v === 'string') return one(v);
  throw bad(`${where}: '${key}' must be a number or an array of numbers, got ${JSON.stringify(v)}`);
}
