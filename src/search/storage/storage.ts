// Where studies live. A storage keeps an ordered list of events (see ../events.ts) for any number
// of studies; a study replays its own events when opened and appends new ones as they happen.
import { encodeEvent, parseEvent, type StudyEvent } from '../events.ts';

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

/** Keeps events in this process only (the default). Events are copied through JSON on the way
 *  in, so it stores exactly what a durable storage would. */
export class InMemoryStorage implements StudyStorage {
  #lines: string[] = [];

  load(): StudyEvent[] {
    return this.#lines.map((line, i) => parseEvent(`InMemoryStorage event ${i}`, JSON.parse(line)));
  }

  append(events: readonly StudyEvent[]): void {
    for (const e of events) this.#lines.push(JSON.stringify(encodeEvent(e)));
  }
}
