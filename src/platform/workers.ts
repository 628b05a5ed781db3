// Threads the way the running platform makes them: node:worker_threads in Node, Web Workers
// (module type) in browsers, Deno and Bun. The rest of kiln sees only `spawnWorker` and
// `parentChannel`, never the runtime. node:worker_threads is imported on first use, so bundles
// that never start a worker still load in a browser.

/** What a started worker tells its owner. `exit` may not come on the Web (it has no such event). */
export interface WorkerEvents {
  message(data: unknown): void;
  error(error: Error): void;
  exit(code: number): void;
}

export interface WorkerHandle {
  post(message: unknown): void;
  terminate(): Promise<void>;
}

/** The worker's side: messages to and from the thread that started it. */
export interface ParentChannel {
  post(message: unknown): void;
  onMessage(listener: (data: unknown) => void): void;
}

interface WebWorkerLike {
  postMessage(message: unknown): void;
  terminate(): void;
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message?: string; preventDefault?(): void }) => void) | null;
}

const g = globalThis as unknown as {
  process?: { versions?: Record<string, string | undefined>; execArgv?: string[] };
  Deno?: unknown;
  Worker?: new (url: URL | string, options: { type: 'module' }) => WebWorkerLike;
  WorkerGlobalScope?: abstract new () => unknown;
  self?: { postMessage(m: unknown): void; addEventListener(t: 'message', l: (e: { data: unknown }) => void): void };
};

/** Node itself (not Deno's or Bun's Node layers, which also run Web Workers natively). */
function isNode(): boolean {
  const v = g.process?.versions;
  return v?.node !== undefined && v.bun === undefined && g.Deno === undefined;
}

/** Whether workers can answer a synchronous question through shared memory (browsers need
 *  cross-origin isolation for SharedArrayBuffer). */
export function sharedMemoryAvailable(): boolean {
  return typeof SharedArrayBuffer === 'function' && typeof Atomics === 'object';
}

/**
 * Starts a module worker on `entry`. In Node, `typescript` loads tsx into the worker (resolved
 * from the working directory) so `.ts` entries and modules run from source.
 */
export async function spawnWorker(entry: URL, events: WorkerEvents, options: { typescript?: boolean } = {}): Promise<WorkerHandle> {
  if (isNode()) {
    const { Worker } = await import('node:worker_threads');
    // Node 20 ignores `--import tsx` for a worker's own entry, so a TypeScript worker starts from
    // a one-line script that registers tsx's hooks in the worker and then imports the entry.
    const worker = options.typescript
      ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true })
      : new Worker(entry);
    worker.on('message', (data) => events.message(data));
    worker.on('error', (error) => events.error(error));
    worker.on('exit', (code) => events.exit(code));
    return { post: (m) => worker.postMessage(m), terminate: async () => void (await worker.terminate()) };
  }
  if (typeof g.Worker !== 'function')
    throw new Error('kiln: this runtime has no Worker; parallel trials need node:worker_threads or Web Workers');
  const worker = new g.Worker(entry, { type: 'module' });
  worker.onmessage = (e) => events.message(e.data);
  worker.onerror = (e) => {
    e.preventDefault?.();
    events.error(new Error(e.message ?? 'worker error'));
  };
  return { post: (m) => worker.postMessage(m), terminate: async () => worker.terminate() };
}

/** Inside a worker: the channel to the thread that started it. */
export async function parentChannel(): Promise<ParentChannel> {
  const web = typeof g.WorkerGlobalScope === 'function' && g.self instanceof g.WorkerGlobalScope;
  if (!web && isNode()) {
    const { parentPort } = await import('node:worker_threads');
    if (!parentPort) throw new Error('kiln: parentChannel() must run inside a worker');
    return { post: (m) => parentPort.postMessage(m), onMessage: (l) => void parentPort.on('message', l) };
  }
  const self = g.self!;
  return { post: (m) => self.postMessage(m), onMessage: (l) => self.addEventListener('message', (e) => l(e.data)) };
}
