// What every inference engine (float layers, sparse, quantised) shares: feeding JS rows through
// in chunks, the finiteness check of those rows, and the output transform each task asks for.
import { ACT_SIGMOID } from '../../../assembly/codes.ts';
import { f32View, kernels } from '../wasm.ts';
import { assertFiniteRows } from './check.ts';

/** How raw outputs become predictions: as they are, softmax over each row, or a sigmoid. */
export type OutputTransform = 'raw' | 'softmax' | 'sigmoid';

/** Writes the transformed outputs of `rows` × `cols` values at `from` to `to` (they may be equal
 *  only for 'raw', which then does nothing). */
export function transformOutputs(to: number, from: number, rows: number, cols: number, output: OutputTransform): void {
  const k = kernels();
  if (output === 'softmax') k.f32_softmax_rows(to, from, rows, cols, 1);
  else if (output === 'sigmoid') k.f32_act_fwd(to, from, rows * cols, ACT_SIGMOID, 0);
  else if (to !== from) k.f32_copy(to, from, rows * cols);
}

/** One chunk's work: where its `batch` input rows go, and running them (returns the address of
 *  the batch × outputs results). */
export interface ChunkRunner {
  input(batch: number): number;
  run(batch: number): number;
}

/**
 * Predictions for the rows of `x` (n × inputs values), `chunk` rows at a time: each chunk is copied
 * straight into the engine's input buffer, checked finite when `where` names the caller (a
 * RangeError naming it, the row and the column), run, and its results copied out.
 */
export function predictInChunks(
  x: ArrayLike<number>,
  inputs: number,
  outputs: number,
  chunk: number,
  where: string | undefined,
  engine: (batch: number) => ChunkRunner,
): Float32Array {
  const n = x.length / inputs;
  const result = new Float32Array(n * outputs);
  for (let start = 0; start < n; start += chunk) {
    const batch = Math.min(chunk, n - start);
    const runner = engine(batch);
    const at = runner.input(batch);
    f32View(at, batch * inputs).set(
      start === 0 && batch === n ? x : Array.prototype.slice.call(x, start * inputs, (start + batch) * inputs),
    );
    if (where !== undefined) assertFiniteRows(where, at, batch * inputs, inputs, start);
    result.set(f32View(runner.run(batch), batch * outputs), start * outputs);
  }
  return result;
}
