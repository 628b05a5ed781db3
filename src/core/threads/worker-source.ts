// The kernel worker's code, as text: it runs from a Node `eval` worker or a Web Worker made from
// a Blob, so the package needs no extra file and every bundler sees the same bytes. The worker
// makes its own instance of the threaded core over the shared memory, packs into its own GEMM
// scratch, signals READY, then loops: poll a while, then wait, for its slot's sequence number to
// move, claim the round (unless the caller already has), run the calls, decrement PENDING
// (waking the caller when it reaches 0). It never allocates: the calling thread owns the
// allocator.
import * as protocol from './protocol.ts';
import type { Layout } from './protocol.ts';

/** What a worker receives: everything it needs, all structured-cloneable. */
export interface WorkerStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  /** This worker's slot (0-based; the calling thread has none). */
  slot: number;
  layout: Layout;
  scratch: number;
  /** The worker's int8 tile block (i8_gemm_tile_bytes). */
  tile: number;
}

// The protocol's numbers, as the worker text reads them (K.SEQ, K.CLAIM, …, K.KERNELS).
const { HEADER_INTS, MAX_ARGS, MAX_CALLS, SLOT_INTS } = protocol;
const constants = { ...protocol, KERNELS: protocol.POOL_KERNELS };

// Plain ES2017, no imports: it is compiled inside the worker from this text.
const START = `
const K = ${JSON.stringify(constants)};
const slotBase = (w) => ${HEADER_INTS} + w * ${SLOT_INTS};
const argsBase = (w, c) => (w * ${MAX_CALLS} + c) * ${MAX_ARGS};
function start(d) {
  const { ctlInts, argsOffset, argsLength } = d.layout;
  const ctl = new Int32Array(d.control, 0, ctlInts);
  const args = new Float64Array(d.control, argsOffset, argsLength);
  const abort = (msg, file, line, col) => { throw new Error('kiln core abort at ' + line + ':' + col); };
  const exports = new WebAssembly.Instance(d.module, { env: { memory: d.memory, abort } }).exports;
  exports.f32_gemm_use_scratch(d.scratch);
  exports.i8_gemm_use_tile(d.tile);
  const fns = K.KERNELS.map((name) => exports[name]);
  const base = slotBase(d.slot);
  Atomics.add(ctl, K.READY, 1);
  Atomics.notify(ctl, K.READY);
  let seq = 0;
  for (;;) {
    // Poll for the next round for SPIN_MS (the clock read every 256 polls), then sleep.
    let now = Atomics.load(ctl, base + K.SEQ);
    const until = performance.now() + K.SPIN_MS;
    for (let i = 1; now === seq && ((i & 255) !== 0 || performance.now() < until); i++) now = Atomics.load(ctl, base + K.SEQ);
    if (now === seq) {
      Atomics.wait(ctl, base + K.SEQ, seq);
      continue;
    }
    if (now === K.STOP) return;
    seq = now;
    // The caller runs a round itself when this worker has not started it in time.
    if (Atomics.compareExchange(ctl, base + K.CLAIM, K.OPEN, K.BY_WORKER) !== K.OPEN) continue;
    try {
      const calls = ctl[base + K.CALLS];
      for (let c = 0; c < calls; c++) {
        const at = argsBase(d.slot, c);
        fns[ctl[base + K.KERNELS_AT + c]](...args.subarray(at, at + K.MAX_ARGS));
      }
    } catch (error) {
      Atomics.store(ctl, K.FAILED, d.slot + 1);
    }
    if (Atomics.sub(ctl, K.PENDING, 1) === 1) Atomics.notify(ctl, K.PENDING);
  }
}
`;

/** For node:worker_threads with `eval: true` (a CommonJS script; the start data is workerData). */
export const NODE_WORKER_SOURCE = `${START}\nstart(require('node:worker_threads').workerData);\n`;

/** For a Web Worker (classic or module): the start data is the first message. */
export const WEB_WORKER_SOURCE = `${START}\nself.onmessage = (e) => { self.onmessage = null; start(e.data); };\n`;
