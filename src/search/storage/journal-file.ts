// Studies in an append-only file of JSON lines (Node, Deno and Bun). Every event is one line
// written with a single write() on a file opened for appending, then fsync'd, so a process killed
// at any instant leaves at most one partial line, at the end. Loading drops that line with a
// warning (and cuts it off the file, so the next line starts clean); a bad line anywhere else
// means the file was damaged some other way and is an error naming the line.
import { encodeEvent, parseEvent, type StudyEvent } from '../events.ts';
import type { StudyStorage } from './storage.ts';

type Fs = typeof import('node:fs');

/** A journal file that cannot be read back: names the file and the line. */
export class JournalError extends Error {
  constructor(message: string, readonly path: string, readonly line: number) {
    super(message);
    this.name = 'JournalError';
  }
}

/** Options of `JournalFileStorage`. */
export interface JournalFileOptions {
  /** Receives the warning about a partial last line (default: console.warn). */
  onWarning?: (message: string) => void;
}

/**
 * Append-only JSON-lines storage for studies; several studies may share one file.
 *
 * @example
 * const storage = new JournalFileStorage('runs/search.jsonl');
 * const study = await createStudy({ name: 'mlp', storage, loadIfExists: true });
 */
export class JournalFileStorage implements StudyStorage {
  readonly path: string;
  #fs: Fs | undefined;
  #fd: number | undefined;
  #warn: (message: string) => void;

  constructor(path: string, options: JournalFileOptions = {}) {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError(`JournalFileStorage: path must be a non-empty string, got ${typeof path === 'string' ? "''" : typeof path}`);
    for (const key of Object.keys(options)) if (key !== 'onWarning') throw new TypeError(`JournalFileStorage: unknown option '${key}' (known: onWarning)`);
    this.path = path;
    this.#warn = options.onWarning ?? ((m) => console.warn(m));
  }

  async #loadFs(): Promise<Fs> {
    // Imported on first use: the package must load in browsers, which have no node:fs.
    this.#fs ??= await import('node:fs');
    return this.#fs;
  }

  async load(): Promise<StudyEvent[]> {
    const fs = await this.#loadFs();
    if (!fs.existsSync(this.path)) return [];
    const bytes = fs.readFileSync(this.path);
    const end = bytes.lastIndexOf(0x0a) + 1;
    if (end < bytes.length) {
      this.#warn(`JournalFileStorage: ${this.path} ends with a partial line (${bytes.length - end} bytes, from a process that was killed while writing); ignoring it`);
      fs.truncateSync(this.path, end);
    }
    const lines = bytes.subarray(0, end).toString('utf8').split('\n');
    lines.pop();
    const events: StudyEvent[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${this.path} line ${i + 1}`;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (err) {
        throw new JournalError(`JournalFileStorage: ${where} is not valid JSON (${(err as Error).message}); the journal is corrupted`, this.path, i + 1);
      }
      try {
        events.push(parseEvent(where, raw));
      } catch (err) {
        throw new JournalError(`JournalFileStorage: ${(err as Error).message}; the journal is corrupted`, this.path, i + 1);
      }
    });
    return events;
  }

  append(events: readonly StudyEvent[]): void | Promise<void> {
    if (!this.#fs) return this.#loadFs().then(() => this.append(events));
    const fs = this.#fs;
    this.#fd ??= fs.openSync(this.path, 'a');
    for (const e of events) {
      fs.writeSync(this.#fd, `${JSON.stringify(encodeEvent(e))}\n`);
      fs.fsyncSync(this.#fd);
    }
  }

  /** Closes the file; a later append reopens it. */
  close(): void {
    if (this.#fd !== undefined) this.#fs!.closeSync(this.#fd);
    this.#fd = undefined;
  }
}
