// Studies in an append-only file of JSON lines (Node, Deno and Bun), shared by any number of
// processes on one host (or one local file system). Each append takes a lock file beside the
// journal, writes its events with a single write() on a descriptor opened for appending, fsyncs
// and lets go, so the lines of concurrent writers never interleave and every process reads the
// same order. A process killed while writing leaves at most one partial line, at the end; the
// next writer (or the first reader) cuts it off, with a warning, under the lock. A bad line
// anywhere else means the file was damaged some other way and is an error naming file and line.
import { encodeEvent, parseEvent, type StudyEvent } from '../events.ts';
import type { SharedStudyStorage } from './storage.ts';

type Fs = typeof import('node:fs');

/** A journal file that cannot be read back: names the file and the line. */
export class JournalError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'JournalError';
  }
}

/** Another process held a journal's lock for longer than the wait allowed: names the holder. */
export class JournalLockError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly holder: string,
  ) {
    super(message);
    this.name = 'JournalLockError';
  }
}

/** Options of `JournalFileStorage`. */
export interface JournalFileOptions {
  /** Receives the warning about a partial last line (default: console.warn). */
  onWarning?: (message: string) => void;
  /** How long an append waits for another process's lock before failing (default 10 000 ms). */
  lockTimeoutMs?: number;
}

interface Holder {
  pid: number;
  host: string;
  at: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Append-only JSON-lines storage for studies; several studies, and several processes on one
 * host, may share one file.
 *
 * @example
 * const storage = new JournalFileStorage('runs/search.jsonl');
 * const study = await createStudy({ name: 'mlp', storage, loadIfExists: true });
 */
export class JournalFileStorage implements SharedStudyStorage {
  readonly path: string;
  readonly lockPath: string;
  #fs: Fs | undefined;
  #host = '';
  #fd: number | undefined;
  #warn: (message: string) => void;
  #lockTimeoutMs: number;
  // What has been read: byte offset and line count of the complete lines, their events in file
  // order, and per study.
  #offset = 0;
  #line = 0;
  #all: StudyEvent[] = [];
  #byStudy = new Map<string, StudyEvent[]>();
  // Trials created so far per study, so that a line naming a trial no earlier line created is
  // refused here, where file and line are known, rather than later in the replay.
  #trialCount = new Map<string, number>();
  #tailChecked = false;

  constructor(path: string, options: JournalFileOptions = {}) {
    if (typeof path !== 'string' || path.length === 0)
      throw new TypeError(`JournalFileStorage: path must be a non-empty string, got ${typeof path === 'string' ? "''" : typeof path}`);
    for (const key of Object.keys(options))
      if (key !== 'onWarning' && key !== 'lockTimeoutMs')
        throw new TypeError(`JournalFileStorage: unknown option '${key}' (known: onWarning, lockTimeoutMs)`);
    const timeout = options.lockTimeoutMs ?? 10_000;
    if (typeof timeout !== 'number' || !(timeout >= 0))
      throw new RangeError(`JournalFileStorage: lockTimeoutMs must be a number >= 0, got ${String(timeout)}`);
    this.path = path;
    this.lockPath = `${path}.lock`;
    this.#warn = options.onWarning ?? ((m) => console.warn(m));
    this.#lockTimeoutMs = timeout;
  }

  async #loadFs(): Promise<Fs> {
    // Imported on first use: the package must load in browsers, which have no node:fs.
    if (!this.#fs) {
      this.#host = (await import('node:os')).hostname();
      this.#fs = await import('node:fs');
    }
    return this.#fs;
  }

  /** Every event in the file, in file order. */
  async load(): Promise<StudyEvent[]> {
    await this.#scan();
    return this.#all.slice();
  }

  async readSince(study: string, cursor: number): Promise<{ events: StudyEvent[]; cursor: number }> {
    await this.#scan();
    const list = this.#byStudy.get(study) ?? [];
    return { events: list.slice(cursor), cursor: list.length };
  }

  async studies(): Promise<string[]> {
    await this.#scan();
    return [...this.#byStudy.keys()].filter((name) => this.#byStudy.get(name)!.some((e) => e.op === 'study'));
  }

  async waitForEvents(study: string, cursor: number, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      await this.#scan();
      if ((this.#byStudy.get(study)?.length ?? 0) > cursor || Date.now() >= until) return;
      await sleep(Math.min(100, Math.max(0, until - Date.now())));
    }
  }

  // Reads the complete lines added since the last read. A partial line at the end is another
  // process's write in flight (left for the next read) or a killed writer's remains: the first
  // read of a file checks which, under the lock, and cuts remains off.
  async #scan(): Promise<void> {
    const fs = await this.#loadFs();
    if (!fs.existsSync(this.path)) return;
    if (!this.#tailChecked) {
      this.#tailChecked = true;
      await this.#withLock(() => this.#cutTornTail());
    }
    const fd = fs.openSync(this.path, 'r');
    let bytes: Uint8Array;
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.#offset) return;
      bytes = new Uint8Array(size - this.#offset);
      let got = 0;
      while (got < bytes.length) {
        const n = fs.readSync(fd, bytes, got, bytes.length - got, this.#offset + got);
        if (n === 0) break;
        got += n;
      }
      bytes = bytes.subarray(0, got);
    } finally {
      fs.closeSync(fd);
    }
    const end = bytes.lastIndexOf(0x0a) + 1;
    if (end === 0) return;
    const lines = new TextDecoder().decode(bytes.subarray(0, end)).split('\n');
    lines.pop();
    for (const line of lines) {
      this.#line++;
      if (line.trim() === '') continue;
      const event = this.#parse(line, this.#line);
      this.#checkTrialReference(event, this.#line);
      this.#all.push(event);
      let list = this.#byStudy.get(event.study);
      if (!list) this.#byStudy.set(event.study, (list = []));
      list.push(event);
    }
    this.#offset += end;
  }

  #checkTrialReference(event: StudyEvent, line: number): void {
    const created = this.#trialCount.get(event.study) ?? 0;
    if (event.op === 'trial') this.#trialCount.set(event.study, created + 1);
    else if ('number' in event && event.number >= created)
      throw new JournalError(
        `JournalFileStorage: ${this.path} line ${line}: '${event.op}' refers to trial ${event.number} of study '${event.study}', ` +
          `but the lines before it create ${created} trial${created === 1 ? '' : 's'}; the journal is corrupted`,
        this.path,
        line,
      );
  }

  #parse(line: string, number: number): StudyEvent {
    const where = `${this.path} line ${number}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new JournalError(
        `JournalFileStorage: ${where} is not valid JSON (${(err as Error).message}); the journal is corrupted`,
        this.path,
        number,
      );
    }
    try {
      return parseEvent(where, raw);
    } catch (err) {
      throw new JournalError(`JournalFileStorage: ${(err as Error).message}; the journal is corrupted`, this.path, number);
    }
  }

  // Under the lock no write is in flight, so a partial last line is a killed writer's.
  #cutTornTail(): void {
    const fs = this.#fs!;
    if (!fs.existsSync(this.path)) return;
    const fd = fs.openSync(this.path, 'r');
    let size: number;
    let tail: Uint8Array;
    try {
      size = fs.fstatSync(fd).size;
      if (size === 0) return;
      // The last line is rarely long; read back until a newline is found.
      let span = Math.min(size, 1 << 16);
      for (;;) {
        tail = new Uint8Array(span);
        fs.readSync(fd, tail, 0, span, size - span);
        if (tail.lastIndexOf(0x0a) >= 0 || span === size) break;
        span = Math.min(size, span * 4);
      }
    } finally {
      fs.closeSync(fd);
    }
    const end = size - tail.length + tail.lastIndexOf(0x0a) + 1;
    if (end === size) return;
    this.#warn(
      `JournalFileStorage: ${this.path} ends with a partial line (${size - end} bytes, from a process that was killed while writing); ignoring it`,
    );
    fs.truncateSync(this.path, end);
  }

  async append(events: readonly StudyEvent[]): Promise<void> {
    if (events.length === 0) return;
    const fs = await this.#loadFs();
    const text = events.map((e) => `${JSON.stringify(encodeEvent(e))}\n`).join('');
    await this.#withLock(() => {
      this.#cutTornTail();
      this.#fd ??= fs.openSync(this.path, 'a');
      // One write per append: with O_APPEND and the lock, lines of different processes never mix.
      fs.writeSync(this.#fd, text);
      fs.fsyncSync(this.#fd);
    });
    this.#tailChecked = true;
  }

  async #withLock<T>(work: () => T): Promise<T> {
    const fs = this.#fs!;
    const start = Date.now();
    let wait = 1;
    for (;;) {
      let fd: number | undefined;
      try {
        fd = fs.openSync(this.lockPath, 'wx');
      } catch (err) {
        if ((err as { code?: string }).code !== 'EEXIST') throw err;
      }
      if (fd !== undefined) {
        try {
          fs.writeSync(fd, JSON.stringify({ pid: process.pid, host: this.#host, at: Date.now() } satisfies Holder));
        } finally {
          fs.closeSync(fd);
        }
        try {
          return work();
        } finally {
          fs.rmSync(this.lockPath, { force: true });
        }
      }
      const holder = this.#holder();
      if (holder ? this.#holderIsGone(holder) : this.#unnamedAndOld()) {
        this.#warn(
          `JournalFileStorage: ${this.lockPath} was left by ${holder ? `pid ${holder.pid}, which is gone` : 'a process killed while taking it'}; taking it over`,
        );
        // Renamed first so that of several processes taking over, one removes it.
        const aside = `${this.lockPath}.stale-${process.pid}`;
        try {
          fs.renameSync(this.lockPath, aside);
          fs.rmSync(aside, { force: true });
        } catch {
          // Another process took it over first.
        }
        continue;
      }
      if (Date.now() - start >= this.#lockTimeoutMs) {
        const who = holder
          ? `pid ${holder.pid} on ${holder.host} since ${new Date(holder.at).toISOString()}`
          : 'a process that did not say who it is';
        throw new JournalLockError(
          `JournalFileStorage: ${this.path} is locked by ${who} (waited ${this.#lockTimeoutMs} ms); if that process is gone, delete ${this.lockPath}`,
          this.path,
          who,
        );
      }
      await sleep(wait);
      wait = Math.min(50, wait * 2);
    }
  }

  #holder(): Holder | undefined {
    try {
      const h = JSON.parse(this.#fs!.readFileSync(this.lockPath, 'utf8')) as Holder;
      return typeof h?.pid === 'number' && typeof h.host === 'string' ? h : undefined;
    } catch {
      return undefined;
    }
  }

  // A lock file without a holder is one whose taker was killed between creating and writing it
  // (or is writing it now: hence the age).
  #unnamedAndOld(): boolean {
    try {
      return Date.now() - this.#fs!.statSync(this.lockPath).mtimeMs > 5_000;
    } catch {
      return false;
    }
  }

  #holderIsGone(h: Holder): boolean {
    if (h.host !== this.#host || h.pid === process.pid) return false;
    try {
      process.kill(h.pid, 0);
      return false;
    } catch (err) {
      return (err as { code?: string }).code === 'ESRCH';
    }
  }

  /** Closes the file; a later append reopens it. */
  close(): void {
    if (this.#fd !== undefined) this.#fs!.closeSync(this.#fd);
    this.#fd = undefined;
  }
}
