// Messages between the study's thread and its trial workers, and the one synchronous channel:
// a worker that must wait for an answer (a suggestion, a pruning decision) blocks on a
// SharedArrayBuffer until the study's thread writes the answer there as JSON.
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
  | { kind: 'suggest'; name: string; distribution: Distribution }
  | { kind: 'report'; value: number; step: number }
  | { kind: 'attr'; key: string; value: unknown }
  | { kind: 'progress'; data: unknown }
  | { kind: 'done'; result: unknown; artifact?: unknown }
  | { kind: 'failed'; error: ErrorInfo }
  | { kind: 'pruned' };

/** An answer: a value, or the message of the error the study's thread raised. */
export type Answer = { value: unknown } | { error: string };

// Layout: i32 flag (0 waiting, 1 answered), i32 byte length, then the UTF-8 JSON answer.
const HEADER_BYTES = 8;
export const SHARED_BYTES = 1 << 16;

export function writeAnswer(shared: SharedArrayBuffer, answer: Answer): void {
  let bytes = new TextEncoder().encode(JSON.stringify(answer));
  if (bytes.length > shared.byteLength - HEADER_BYTES)
    bytes = new TextEncoder().encode(
      JSON.stringify({ error: `answer of ${bytes.length} bytes exceeds the ${shared.byteLength - HEADER_BYTES}-byte channel` }),
    );
  const ctrl = new Int32Array(shared, 0, 2);
  new Uint8Array(shared, HEADER_BYTES, bytes.length).set(bytes);
  Atomics.store(ctrl, 1, bytes.length);
  Atomics.store(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
}

/** Posts `message` and blocks this worker until the answer is written. */
export function ask(shared: SharedArrayBuffer, post: (m: FromWorker) => void, message: FromWorker): unknown {
  const ctrl = new Int32Array(shared, 0, 2);
  Atomics.store(ctrl, 0, 0);
  post(message);
  Atomics.wait(ctrl, 0, 0);
  const length = Atomics.load(ctrl, 1);
  // TextDecoder refuses views over shared memory: copy out first.
  const answer = JSON.parse(new TextDecoder().decode(new Uint8Array(shared, HEADER_BYTES, length).slice())) as Answer;
  if ('error' in answer) throw new Error(answer.error);
  return answer.value;
}

export function errorInfo(error: unknown): ErrorInfo {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}
