// ONNX Runtime Web (wasm backend, one thread) in Node, loaded as the benchmarks load it: the
// independent implementation that exported files are run in and imported files compared with.
import { ortWasm } from '../../bench/_peers.ts';

/** Runs `model` on rows [n, inputs] (or [n, ...row shape]) and returns its first output (f32)
 *  and that output's dims. */
export async function runOrt(
  model: Uint8Array,
  rows: Float32Array,
  row: number | readonly number[],
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const shape = typeof row === 'number' ? [row] : row;
  const inputs = shape.reduce((p, d) => p * d, 1);
  const ort = await ortWasm();
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  try {
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', rows, [rows.length / inputs, ...shape]) };
    const out = await session.run(feeds);
    const t = out[session.outputNames[0]!]!;
    return { data: t.data as Float32Array, dims: t.dims };
  } finally {
    await session.release();
  }
}
