// Calls a kernel by name with arrays copied into WASM memory and reads every array back.
import { Tensor, scope } from '../../src/core/tensor.ts';
import { kernelByName } from '../../src/core/wasm.ts';

/** Calls `name` with each Float32Array argument copied into WASM memory (numbers pass as they
 *  are); returns the array arguments as the kernel left them, in order. */
export function call(name: string, args: readonly (Float32Array | number)[]): Float32Array[] {
  return scope(() => {
    const tensors = args.map((a) => (typeof a === 'number' ? a : Tensor.from(a.length ? a : new Float32Array(1))));
    kernelByName(name)(...tensors.map((t) => (typeof t === 'number' ? t : t.ptr)));
    return tensors.flatMap((t, i) => (typeof t === 'number' ? [] : [t.read().subarray(0, (args[i] as Float32Array).length)]));
  });
}

/** The bit patterns of f32 values, for bit-for-bit comparisons. */
export const bits = (x: Float32Array): number[] => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));
