// Whether the threaded core can run here, with how many threads, and why (one line for the API
// and `kiln info`). Threads need shared memory and Atomics, a way to start workers, and, to keep
// a kernel call synchronous, workers that start without the caller's event loop (Node's
// worker_threads) or an asynchronous `init()` that waits for them (Web Workers: browsers, Deno,
// Bun). Cores made inside a worker stay single-threaded, so parallel trials (`workers`) and
// threaded kernels never multiply: a program uses either the main thread's kernel threads or one
// thread per trial worker.

/** Which core runs and why. */
export interface CoreInfo {
  /** Threads that run kernels (1: the single-thread core). */
  threads: number;
  /** One line saying which core runs and why. */
  summary: string;
}

export type Route = 'node' | 'web';
export type Plan = { threads: 1; summary: string } | { threads: number; route: Route; why: string };

/** Most threads a pool starts on its own (more only when asked with `threads`). */
export const MAX_DEFAULT_THREADS = 16;
export const MAX_THREADS = 64;

interface NodeProcess {
  versions?: Record<string, string | undefined>;
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

const g = globalThis as unknown as {
  process?: NodeProcess;
  Deno?: unknown;
  Worker?: unknown;
  Blob?: unknown;
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  WorkerGlobalScope?: abstract new () => unknown;
  self?: unknown;
};

function isNode(): boolean {
  const v = g.process?.versions;
  return v?.node !== undefined && v.bun === undefined && g.Deno === undefined;
}

/** node:worker_threads through process.getBuiltinModule (Node >= 20.16, Deno, Bun), which works
 *  synchronously and keeps the bundle free of Node imports; undefined where it is missing. */
export function nodeModules(): { Worker: unknown; isMainThread: boolean; cores: number } | undefined {
  const get = g.process?.getBuiltinModule;
  if (typeof get !== 'function') return undefined;
  try {
    const wt = get('node:worker_threads') as { Worker?: unknown; isMainThread: boolean } | undefined;
    if (typeof wt?.Worker !== 'function') return undefined;
    return { Worker: wt.Worker, isMainThread: wt.isMainThread, cores: cpuCount() };
  } catch {
    return undefined;
  }
}

function cpuCount(): number {
  try {
    const os = g.process!.getBuiltinModule!('node:os') as { availableParallelism?: () => number; cpus: () => unknown[] };
    return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    return g.navigator?.hardwareConcurrency ?? 1; // Deno without --allow-sys
  }
}

function inWebWorker(): boolean {
  return typeof g.WorkerGlobalScope === 'function' && g.self instanceof g.WorkerGlobalScope;
}

/** KILN_THREADS in the environment (Node, Deno, Bun), else undefined. */
function envThreads(): string | undefined {
  try {
    return g.process?.env?.KILN_THREADS;
  } catch {
    return undefined; // Deno without --allow-env
  }
}

/** The plan for a core loaded with `threads` asked (undefined: the default), synchronously or not. */
export function planThreads(asked: number | undefined, sync: boolean): Plan {
  const fromEnv = envThreads();
  if (asked === undefined && fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS)
      throw new RangeError(`kiln: KILN_THREADS must be an integer from 1 to ${MAX_THREADS}, got '${fromEnv}'`);
    asked = n;
  }
  const single = (why: string): Plan => ({ threads: 1, summary: `single-thread core: ${why}` });
  if (asked === 1) return single('1 thread asked');
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') {
    return single(
      g.crossOriginIsolated === false
        ? 'the page is not cross-origin isolated, so it has no SharedArrayBuffer (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)'
        : 'this runtime has no SharedArrayBuffer and Atomics',
    );
  }
  if (g.crossOriginIsolated === false)
    return single(
      'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
    );
  let route: Route;
  let cores: number;
  let main: boolean;
  const node = nodeModules();
  if (node) {
    route = 'node';
    cores = node.cores;
    main = node.isMainThread;
  } else {
    if (isNode()) return single('this Node has no process.getBuiltinModule (Node >= 20.16 runs the threaded core)');
    if (typeof g.Worker !== 'function' || typeof g.Blob !== 'function') return single('this runtime has no Web Workers');
    if (sync) return single('here the threaded core starts only from await init(), not initSync()');
    route = 'web';
    cores = g.navigator?.hardwareConcurrency ?? 1;
    main = !inWebWorker();
  }
  if (asked === undefined) {
    if (!main) return single("a core made inside a worker thread stays single-threaded (the main thread's core owns the kernel threads)");
    if (cores < 2) return single('one core available');
    const threads = Math.min(cores, MAX_DEFAULT_THREADS);
    return { threads, route, why: `${cores} cores available` };
  }
  return { threads: asked, route, why: `${asked} threads asked, ${cores} cores available` };
}
