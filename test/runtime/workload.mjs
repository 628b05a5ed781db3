// The one workload every runtime runs against the built bundle. Plain JavaScript, so Node, Deno,
// Bun and a browser can all import it as is. It returns bytes: the test compares their SHA-256
// across runtimes, so every value that reaches them must be bit-for-bit reproducible.

// Inputs come from a 32-bit integer generator (exact in every engine); everything numeric after
// that happens inside the core.
function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

/** @param {typeof import('../../dist/index.d.ts')} kiln */
export async function workload(kiln) {
  await kiln.init();
  const next = lcg(20240601);
  const values = Float32Array.from({ length: 4099 }, () => (next() / 2 ** 32) * 8 - 4);
  const t = kiln.Tensor.from(values, [4099]);
  const out = new Uint8Array(t.read().buffer);
  t.dispose();
  return out;
}
