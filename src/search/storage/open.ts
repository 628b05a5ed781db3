// One way to name a storage, from the API, the CLI (--storage) and the KILN_STORAGE variable:
// postgres:// and postgresql:// URLs, redis:// and rediss:// URLs, http:// and https:// URLs
// (`kiln serve`), file:// URLs and plain paths (journal files).
import type { SharedStudyStorage } from './storage.ts';
import { JournalFileStorage, type JournalFileOptions } from './journal-file.ts';
import { PostgresStorage, type PostgresStorageOptions } from './postgres.ts';
import { RedisStorage, type RedisStorageOptions } from './redis.ts';
import { HttpStorage, type HttpStorageOptions } from './http.ts';

/** Options `openStorage` passes on to the storage it makes. */
export type OpenStorageOptions = JournalFileOptions & PostgresStorageOptions & RedisStorageOptions & HttpStorageOptions;

const pick = <T extends object>(options: object, keys: readonly (keyof T)[]): T =>
  Object.fromEntries(Object.entries(options).filter(([k]) => (keys as readonly string[]).includes(k))) as T;

/**
 * The shared storage a URL names: `postgres://…` (PostgresStorage), `redis://…` (RedisStorage),
 * `http(s)://…` (HttpStorage, a `kiln serve`), `file://…` or a path (JournalFileStorage).
 *
 * @example
 * const storage = openStorage(process.env.KILN_STORAGE ?? 'runs/search.jsonl');
 * const study = await createStudy({ name: 'mlp', storage, loadIfExists: true });
 */
export function openStorage(url: string, options: OpenStorageOptions = {}): SharedStudyStorage {
  if (typeof url !== 'string' || url.trim() === '')
    throw new TypeError(
      `openStorage: the storage must be a URL (postgres://…, redis://…) or a journal file path, got ${typeof url === 'string' ? "''" : typeof url}`,
    );
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql')
    return new PostgresStorage(
      url,
      pick<PostgresStorageOptions>(options, ['table', 'poolSize', 'synchronousCommit', 'retryMs', 'onRetry']),
    );
  if (scheme === 'redis' || scheme === 'rediss')
    return new RedisStorage(url, pick<RedisStorageOptions>(options, ['prefix', 'retryMs', 'onRetry']));
  if (scheme === 'http' || scheme === 'https')
    return new HttpStorage(url, pick<HttpStorageOptions>(options, ['token', 'timeoutMs', 'retryMs', 'onRetry']));
  if (scheme === 'file')
    return new JournalFileStorage(
      decodeURIComponent(new URL(url).pathname),
      pick<JournalFileOptions>(options, ['onWarning', 'lockTimeoutMs']),
    );
  if (scheme !== undefined)
    throw new TypeError(
      `openStorage: unknown storage scheme '${scheme}://' in '${url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')}' (known: postgres://, postgresql://, redis://, rediss://, http://, https://, file://, or a journal file path)`,
    );
  return new JournalFileStorage(url, pick<JournalFileOptions>(options, ['onWarning', 'lockTimeoutMs']));
}
