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
