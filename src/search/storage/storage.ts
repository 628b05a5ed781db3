// Where studies live. A storage keeps an ordered list of events (see ../events.ts) for any number
// of studies; a study replays its own events when opened and appends new ones as they happen.
import type { StudyEvent } from '../events.ts';

/**
 * A place to keep studies: events in append order. `append` must keep order and, for durable
 * stores, return (or resolve) only once the events would survive the process being killed.
 *
 * @example
 * const storage = new InMemoryStorage();
 * const study = await createStudy({ name: 'mlp', storage });
 */
export interface StudyStorage {
  /** Every event stored so far, in append order. */
  load(): StudyEvent[] | Promise<StudyEvent[]>;
  /** Appends events after all earlier ones. */
  append(events: readonly StudyEvent[]): void | Promise<void>;
}

/** Keeps events in this process only (the default). The study hands over fresh, JSON-safe event
 *  objects and never touches them again, so they are kept as they are. */
export class InMemoryStorage implements StudyStorage {
  #events: StudyEvent[] = [];

  load(): StudyEvent[] {
    return this.#events.slice();
  }

  append(events: readonly StudyEvent[]): void {
    this.#events.push(...events);
  }
}

/** What `SharedStudyStorage.heartbeats` returns: the storage's clock and each trial's last beat
 *  on it, in milliseconds. */
export interface Heartbeats {
  now: number;
  beats: Map<number, number>;
}

/**
 * A storage several processes (on several hosts) can share: an ordered log per study that each
 * process reads from where it left off. Trial numbers, the claiming of enqueued trials and the
 * first terminal event of a trial all follow from the log's order, so a storage only has to keep
 * one total order per study. Studies in such a storage ask with `askAsync` and keep heartbeats.
 *
 * @example
 * const storage = new PostgresStorage('postgres://kiln@db.example/kiln');
 * const study = await createStudy({ name: 'mlp', storage, loadIfExists: true });
 */
export interface SharedStudyStorage extends StudyStorage {
  /** The events of `study` after position `cursor` (0: from the start), and the position after
   *  them. Appends by any process that completed before the call are included. */
  readSince(study: string, cursor: number): Promise<{ events: StudyEvent[]; cursor: number }>;
  /** Appends events of `study` and returns what `readSince(study, cursor)` returns right after:
   *  every event after `cursor` up to and including these. Storages that can do both in one
   *  round trip have it; studies fall back to `append` then `readSince`. */
  appendAndRead?(
    study: string,
    events: readonly StudyEvent[],
    cursor: number,
    batch?: string,
  ): Promise<{ events: StudyEvent[]; cursor: number }>;
  /** Appends events of `study` once per `batch` id, across processes and restarts: a batch the
   *  storage holds already is not written again (`appendAndRead` with a `batch` does the same).
   *  `kiln serve` passes its clients' batch ids here, so a retry after a server restart is not
   *  a second copy. Storages without it are deduplicated in the server's memory only. */
  appendBatch?(study: string, events: readonly StudyEvent[], batch: string): Promise<void>;
  /** Marks trials as alive now, by the storage's clock. Without it, beats are `beat` events. */
  heartbeat?(study: string, numbers: readonly number[]): Promise<void>;
  /** The storage's clock and the last beat of each trial that has one. */
  heartbeats?(study: string): Promise<Heartbeats>;
  /** Resolves when `study` has events after `cursor`, or after `timeoutMs`. */
  waitForEvents?(study: string, cursor: number, timeoutMs: number): Promise<void>;
  /** The names of the studies the storage holds. */
  studies(): Promise<string[]>;
  /** Releases connections and files. */
  close(): void | Promise<void>;
}

/** Whether several processes can share this storage (it has `readSince`). */
export const isShared = (s: StudyStorage): s is SharedStudyStorage => typeof (s as Partial<SharedStudyStorage>).readSince === 'function';
