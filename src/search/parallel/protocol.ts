// Messages between the study's thread and its trial workers, and the one synchronous channel:
// a worker that must wait for an answer (a suggestion, a pruning decision) blocks on a
// SharedArrayBuffer until the study's thread writes the answer there as JSON. Each question
// carries a sequence number that its answer echoes: a worker wakes for its own answer only
// (Atomics.wait also returns for a notify meant for an earlier answer that arrives late), and
// the study's thread writes one answer per question (a second one, or one for a question the
// worker no longer waits on, is dropped).
import type { Distribution, ParamValue } from '../distributions.ts';

export type ToWorker =
  | { kind: 'init'; wasm: WebAssembly.Module; objective: string; shared: SharedArrayBuffer; context: unknown }
  | { kind: 'trial'; number: number; params: Record<string, ParamValue>; distributions: Record<string, Distribution> };

export interface ErrorInfo {
  name: string;
  message: string;
}

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'fatal'; error: ErrorInfo }
  | Question
  | { kind: 'attr'; key: string; value: unknown }
  | { kind: 'progress'; data: unknown }
  | { kind: 'done'; result: unknown; artifact?: unknown }
  | { kind: 'failed'; error: ErrorInfo }
  | { kind: 'pruned' };

/** An answer: a value, or the message of the error the study's thread raised. */
export type Answer = { value: unknown } | { error: string };

/** What a worker asks and waits for, before its sequence number is added. */
export type Unasked = { kind: 'suggest'; name: string; distribution: Distribution } | { kind: 'report'; value: number; step: number };

/** A message that waits for an answer. */
export type Question = Unasked & { seq: number };

// Layout: i32 sequence number of the question last answered (0: none yet), i32 byte length,
// then the UTF-8 JSON of { seq, answer }.
const HEADER_BYTES = 8;
export const SHARED_BYTES = 1 << 16;

/**
 * The study's thread's end of one worker's channel: it answers each question once, the one the
 * worker waits on. A worker started afresh gets a fresh channel (its numbers start again at 1).
 */
export class AnswerChannel {
  readonly shared = new SharedArrayBuffer(SHARED_BYTES);
  #waiting: number | undefined;

  /** Notes that the worker asked `seq` and now waits for its answer. */
  asked(seq: number): void {
    this.#waiting = seq;
  }

  /** Writes the answer to question `seq` and wakes the worker; false (and nothing written) when
   *  the worker does not wait on `seq` (answered already, or a later question is pending). */
  answer(seq: number, answer: Answer): boolean {
    if (this.#waiting !== seq) return false;
    this.#waiting = undefined;
    let bytes = new TextEncoder().encode(JSON.stringify({ seq, answer }));
    if (bytes.length > this.shared.byteLength - HEADER_BYTES)
      bytes = new TextEncoder().encode(
        JSON.stringify({
          seq,
          answer: { error: `answer of ${bytes.length} bytes exceeds the ${this.shared.byteLength - HEADER_BYTES}-byte channel` },
        }),
      );
    const ctrl = new Int32Array(this.shared, 0, 2);
    new Uint8Array(this.shared, HEADER_BYTES, bytes.length).set(bytes);
    Atomics.store(ctrl, 1, bytes.length);
    // The sequence number goes last: once the worker sees it, length and bytes are in place.
    Atomics.store(ctrl, 0, seq);
    Atomics.notify(ctrl, 0);
    return true;
  }
}

/** The worker's end: posts a question and blocks until the answer to that very question. */
export class QuestionChannel {
  #seq = 0;
  readonly #ctrl: Int32Array;

  constructor(
    readonly shared: SharedArrayBuffer,
    readonly post: (m: FromWorker) => void,
  ) {
    this.#ctrl = new Int32Array(shared, 0, 2);
  }

  ask(question: Unasked): unknown {
    const seq = ++this.#seq;
    this.post({ ...question, seq });
    // Wake-ups for earlier answers (a late notify) find another number there: wait again.
    for (let seen = Atomics.load(this.#ctrl, 0); seen !== seq; seen = Atomics.load(this.#ctrl, 0)) Atomics.wait(this.#ctrl, 0, seen);
    const length = Atomics.load(this.#ctrl, 1);
    // TextDecoder refuses views over shared memory: copy out first.
    const got = JSON.parse(new TextDecoder().decode(new Uint8Array(this.shared, HEADER_BYTES, length).slice())) as {
      seq: number;
      answer: Answer;
    };
    if (got.seq !== seq) throw new Error(`trial worker: question ${seq} got the answer to question ${got.seq}`);
    if ('error' in got.answer) throw new Error(got.answer.error);
    return got.answer.value;
  }
}

export function errorInfo(error: unknown): ErrorInfo {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}
