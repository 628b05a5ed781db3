// A pool of kernel workers that lives as long as the core: `threads - 1` workers, each with its
// own instance of the threaded core over the one shared memory. `run` hands each worker its
// calls, runs the calling thread's own share, and returns when all are done, so a kernel call
// stays synchronous. The calling thread waits with Atomics.wait where the platform allows it
// (Node, Deno, Bun, workers) and spins on Atomics.load where it does not (a browser's main
// thread); either wait is short, since the caller works its own share first.
import type { CoreKernels } from '../kernels.generated.ts';
import {
  BY_CALLER,
  CALLS,
  CLAIM,
  FAILED,
  KERNELS_AT,
  MAX_ARGS,
  MAX_CALLS,
  OPEN,
  PENDING,
  POOL_KERNELS,
  READY,
  SEQ,
  SPIN_MS,
  STOP,
  argsBase,
  layout,
  slotBase,
  type PoolKernel,
} from './protocol.ts';
import { NODE_WORKER_SOURCE, WEB_WORKER_SOURCE, type WorkerStart } from './worker-source.ts';

/** One kernel call of a round. */
export interface PoolCall {
  kernel: PoolKernel;
  args: readonly number[];
}

interface Terminable {
  terminate(): unknown;
}

const READY_TIMEOUT_MS = 20_000;

type NodeWorkerClass = new (
  code: string,
  options: { eval: true; workerData: unknown },
) => Terminable & { unref(): void; on(event: 'error', listener: (e: Error) => void): void };
type WebWorkerClass = new (url: string, options?: { type: 'module' }) => Terminable & { postMessage(m: unknown): void; onerror: unknown };

export class KernelPool {
  /** Threads that run kernels: the workers and the calling thread. */
  readonly threads: number;
  /** Threads the split kernels use, at most `threads` (benchmarks compare counts with it). */
  active: number;
  readonly #workers: Terminable[] = [];
  readonly #ctl: Int32Array;
  readonly #args: Float64Array;
  readonly #local: CoreKernels;
  readonly #seq: number[];
  readonly #blockingWait: boolean;
  #failure: string | undefined;

  private constructor(threads: number, control: SharedArrayBuffer, local: CoreKernels) {
    this.threads = threads;
    this.active = threads;
    const { ctlInts, argsOffset, argsLength } = layout(threads - 1);
    this.#ctl = new Int32Array(control, 0, ctlInts);
    this.#args = new Float64Array(control, argsOffset, argsLength);
    this.#local = local;
    this.#seq = new Array<number>(threads - 1).fill(0);
    this.#blockingWait = canBlock(this.#ctl);
  }

  /** Starts `threads - 1` workers with node:worker_threads (Node, Deno, Bun) and blocks until
   *  all are ready: they start without this thread's event loop. */
  static startNodeSync(
    Worker: NodeWorkerClass,
    threads: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    local: CoreKernels,
  ): KernelPool {
    const pool = KernelPool.#make(threads, local);
    for (let slot = 0; slot < threads - 1; slot++) {
      const worker = new Worker(NODE_WORKER_SOURCE, { eval: true, workerData: pool.#start(slot, module, memory) });
      // The workers must not keep a finished program alive.
      worker.unref();
      worker.on('error', (e) => (pool.#failure = e.message));
      pool.#workers.push(worker);
    }
    let ready: number;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while ((ready = Atomics.load(pool.#ctl, READY)) < threads - 1 && pool.#failure === undefined && Date.now() < deadline) {
      Atomics.wait(pool.#ctl, READY, ready, 50);
    }
    pool.#checkStarted();
    return pool;
  }

  /** Starts `threads - 1` Web Workers and resolves once all are ready. */
  static async startWeb(
    Worker: WebWorkerClass,
    threads: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    local: CoreKernels,
  ): Promise<KernelPool> {
    const pool = KernelPool.#make(threads, local);
    const url = URL.createObjectURL(new Blob([WEB_WORKER_SOURCE], { type: 'text/javascript' }));
    try {
      for (let slot = 0; slot < threads - 1; slot++) {
        const worker = new Worker(url, { type: 'module' });
        // Where the platform allows it, the workers must not keep a finished program alive.
        (worker as { unref?: () => void }).unref?.();
        worker.onerror = (e: { message?: string; preventDefault?(): void }) => {
          e.preventDefault?.();
          pool.#failure = e.message ?? 'worker error';
        };
        worker.postMessage(pool.#start(slot, module, memory));
        pool.#workers.push(worker);
      }
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (Atomics.load(pool.#ctl, READY) < threads - 1 && pool.#failure === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    } finally {
      URL.revokeObjectURL(url);
    }
    pool.#checkStarted();
    return pool;
  }

  static #make(threads: number, local: CoreKernels): KernelPool {
    const { argsOffset, argsLength } = layout(threads - 1);
    return new KernelPool(threads, new SharedArrayBuffer(argsOffset + argsLength * 8), local);
  }

  #start(slot: number, module: WebAssembly.Module, memory: WebAssembly.Memory): WorkerStart {
    // Each worker packs GEMM operands into a scratch block of its own and keeps the int8 tiles in
    // another, held for the pool's life: the core's static ones belong to the calling thread.
    const scratch = this.#local.mem_alloc(this.#local.f32_gemm_scratch_bytes());
    const tile = this.#local.mem_alloc(this.#local.i8_gemm_tile_bytes());
    return { module, memory, control: this.#ctl.buffer as SharedArrayBuffer, slot, layout: layout(this.threads - 1), scratch, tile };
  }

  #checkStarted(): void {
    const ready = Atomics.load(this.#ctl, READY);
    if (ready === this.threads - 1) return;
    this.terminate();
    throw new Error(this.#failure ?? `${ready} of ${this.threads - 1} kernel workers started within ${READY_TIMEOUT_MS / 1000} s`);
  }

  /** Runs `rounds[t]` on thread t (0: the calling thread) and returns when every thread is done.
   *  Calls of one thread run in order; threads must write disjoint memory. */
  run(rounds: readonly (readonly PoolCall[])[]): void {
    if (rounds.length > this.threads) throw new RangeError(`KernelPool.run: ${rounds.length} rounds for ${this.threads} threads`);
    let busy = 0;
    for (let t = 1; t < rounds.length; t++) if (rounds[t]!.length > 0) busy++;
    Atomics.store(this.#ctl, PENDING, busy);
    for (let t = 1; t < rounds.length; t++) {
      const calls = rounds[t]!;
      if (calls.length === 0) continue;
      if (calls.length > MAX_CALLS) throw new RangeError(`KernelPool.run: ${calls.length} calls for one thread, at most ${MAX_CALLS}`);
      const slot = t - 1;
      const base = slotBase(slot);
      calls.forEach((call, c) => {
        if (call.args.length > MAX_ARGS)
          throw new RangeError(`KernelPool.run: ${call.kernel} with ${call.args.length} arguments, at most ${MAX_ARGS}`);
        this.#ctl[base + KERNELS_AT + c] = POOL_KERNELS.indexOf(call.kernel);
        this.#args.set(call.args, argsBase(slot, c));
      });
      this.#ctl[base + CALLS] = calls.length;
      Atomics.store(this.#ctl, base + CLAIM, OPEN);
      // Wrapping past 2^31 would reach STOP; the sequence only has to differ from the last one.
      this.#seq[slot] = (this.#seq[slot]! + 1) & 0x3fffffff;
      Atomics.store(this.#ctl, base + SEQ, this.#seq[slot]!);
      Atomics.notify(this.#ctl, base + SEQ);
    }
    let error: unknown;
    const runHere = (calls: readonly PoolCall[]) => {
      try {
        for (const call of calls) (this.#local[call.kernel] as (...args: number[]) => void)(...call.args);
      } catch (e) {
        error ??= e;
      }
    };
    runHere(rounds[0] ?? []);
    // A worker that has not started its round by now is not running (a spinning one takes it
    // within microseconds): run that round here rather than wait for the system to schedule it.
    // The calls are the same, on the same memory, so the bytes are too.
    if ((rounds[0]?.length ?? 0) > 0) {
      for (let t = 1; t < rounds.length; t++) {
        if (rounds[t]!.length === 0) continue;
        if (Atomics.compareExchange(this.#ctl, slotBase(t - 1) + CLAIM, OPEN, BY_CALLER) !== OPEN) continue;
        runHere(rounds[t]!);
        Atomics.sub(this.#ctl, PENDING, 1);
      }
    }
    this.#waitIdle();
    const failed = Atomics.exchange(this.#ctl, FAILED, 0);
    if (error !== undefined) throw error;
    if (failed !== 0)
      throw new Error(`kiln: a kernel failed on worker thread ${failed} (${rounds[failed]!.map((c) => c.kernel).join(', ')})`);
  }

  #waitIdle(): void {
    // Poll for SPIN_MS first (see SPIN_MS): the workers usually finish within it.
    const until = performance.now() + SPIN_MS;
    let pending: number;
    for (let i = 1; (pending = Atomics.load(this.#ctl, PENDING)) !== 0; i++) {
      if (this.#blockingWait && (i & 255) === 0 && performance.now() >= until) Atomics.wait(this.#ctl, PENDING, pending);
    }
  }

  /** Stops the workers (the core they serve is being replaced). */
  terminate(): void {
    for (let slot = 0; slot < this.threads - 1; slot++) {
      Atomics.store(this.#ctl, slotBase(slot) + SEQ, STOP);
      Atomics.notify(this.#ctl, slotBase(slot) + SEQ);
    }
    for (const w of this.#workers) void w.terminate();
    this.#workers.length = 0;
  }
}

// Atomics.wait throws on a browser's main thread; everywhere else the caller may block.
function canBlock(ctl: Int32Array): boolean {
  try {
    Atomics.wait(ctl, FAILED, 1, 0);
    return true;
  } catch {
    return false;
  }
}
