// Shared storages live behind a network: a database restarting, a failover or a dropped
// connection must not lose a study. Every storage call goes through `withRetry`, which retries
// errors the driver classes as transient with exponential backoff for up to `retryMs`, then gives
// up with a `StorageUnavailableError` naming the storage and the last cause. Appends carry a batch
// id and check it before retrying, so an append whose reply was lost is not written twice.

/** A shared storage that could not be reached for longer than its retry budget. */
export class StorageUnavailableError extends Error {
  constructor(
    message: string,
    readonly url: string,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'StorageUnavailableError';
  }
}

/** How a shared storage retries: total budget and a hook told of each retry. */
export interface RetryOptions {
  /** Give up after retrying for this long (default 60 000 ms; 0 fails at the first error). */
  retryMs?: number;
  /** Told of each retry (default: one console.warn per outage). */
  onRetry?: (message: string, attempt: number, error: unknown) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The URL with any password hidden, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

export function checkRetryOptions(where: string, options: RetryOptions): Required<RetryOptions> {
  const retryMs = options.retryMs ?? 60_000;
  if (typeof retryMs !== 'number' || !(retryMs >= 0))
    throw new RangeError(`${where}: retryMs must be a number >= 0, got ${String(retryMs)}`);
  if (options.onRetry !== undefined && typeof options.onRetry !== 'function') throw new TypeError(`${where}: onRetry must be a function`);
  let warned = false;
  const onRetry =
    options.onRetry ??
    ((message: string, attempt: number) => {
      if (attempt === 1 && !warned) console.warn(message);
      warned = attempt === 1 ? true : warned;
    });
  return { retryMs, onRetry };
}

/**
 * Runs `op`, retrying transient failures (50 ms doubling to 2 s) until `retryMs` has passed.
 * `before` runs ahead of every retry (an append checks whether its batch already landed).
 */
export async function withRetry<T>(
  where: string,
  url: string,
  options: Required<RetryOptions>,
  isTransient: (error: unknown) => boolean,
  op: () => Promise<T>,
  before?: () => Promise<{ done: T } | undefined>,
): Promise<T> {
  const start = Date.now();
  let delay = 50;
  for (let attempt = 0; ; attempt++) {
    try {
      if (attempt > 0 && before) {
        const landed = await before();
        if (landed) return landed.done;
      }
      return await op();
    } catch (error) {
      if (!isTransient(error)) throw error;
      const elapsed = Date.now() - start;
      const cause = (error as Error)?.message || String(error);
      if (elapsed + delay > options.retryMs) {
        throw new StorageUnavailableError(
          `${where}: ${redactUrl(url)} unreachable for ${(elapsed / 1000).toFixed(1)} s (${attempt + 1} attempts): ${cause}`,
          redactUrl(url),
          error,
        );
      }
      options.onRetry(
        `${where}: ${redactUrl(url)}: ${cause}; retrying for up to ${Math.round(options.retryMs / 1000)} s`,
        attempt + 1,
        error,
      );
      await sleep(delay);
      delay = Math.min(2_000, delay * 2);
    }
  }
}

/** A random id for an append batch (not a sampling decision: it only has to be unique). */
export function batchId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A batch id given by a caller (`kiln serve` passes its clients'): the form `batchId` makes. */
export function checkBatchId(where: string, batch: unknown): string {
  if (typeof batch !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(batch))
    throw new TypeError(`${where}: a batch id must be 8 to 64 letters, digits, '_' or '-', got ${JSON.stringify(batch)}`);
  return batch;
}

/** Refuses a batch with an event of another study: one append writes one study's log. */
export function checkStudyEvents(where: string, study: string, events: readonly { study: string }[]): void {
  if (events.some((e) => e.study !== study)) throw new RangeError(`${where}: every event must belong to study '${study}'`);
}

/** Imports an optional dependency, or says which package to install. */
export async function importOptional<T>(name: string, who: string): Promise<T> {
  try {
    const mod = (await import(name)) as { default?: T } & T;
    return (mod.default ?? mod) as T;
  } catch (error) {
    const code = (error as { code?: string })?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new Error(`${who} needs the npm package '${name}' (an optional dependency of kiln): npm install ${name}`);
    throw error;
  }
}
