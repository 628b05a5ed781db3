// An edge handler in the module-worker shape (`{ fetch(request) }`) that Cloudflare Workers,
// Deno (`Deno.serve`) and Bun accept. It serves predictions from a quantized kiln model. The core
// arrives as a precompiled WebAssembly.Module, because Cloudflare-style runtimes forbid compiling
// WebAssembly from bytes at run time; the model file arrives as bytes.
//
//   GET  /          what the model is (scheme, bytes, classes)
//   POST /predict   {"features": [[5.1, 3.5, 1.4, 0.2], ...]}  ->  {"classes": [...], "probabilities": [[...]]}
//
// On Cloudflare (wrangler bundles .wasm imports as WebAssembly.Module and .bin as ArrayBuffer):
//   import wasm from 'kiln/kiln.wasm';
//   import model from './iris.int8.safetensors.bin';
//   export default createWorker({ wasm, model });
import { init, quantizedModelFromBytes } from 'kiln';

const json = (body, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A fetch handler over a precompiled core module and a quantized model file. */
export function createWorker({ wasm, model }) {
  let ready;
  const loaded = () =>
    (ready ??= (async () => {
      await init(wasm);
      return quantizedModelFromBytes(new Uint8Array(model));
    })());

  return {
    async fetch(request) {
      const { pathname } = new URL(request.url);
      const net = await loaded();
      const classNames = net.classNames ?? Array.from({ length: net.outputs }, (_, i) => String(i));
      if (request.method === 'GET' && pathname === '/') {
        return json({ scheme: net.scheme, bytes: net.bytes, inputs: net.inputs, classes: classNames });
      }
      if (request.method === 'POST' && pathname === '/predict') {
        try {
          const { features } = await request.json();
          const probs = net.predict(features);
          const classes = Array.from(net.predictClasses(features), (c) => classNames[c]);
          const rows = Array.from({ length: classes.length }, (_, i) => Array.from(probs.subarray(i * net.outputs, (i + 1) * net.outputs)));
          return json({ classes, probabilities: rows });
        } catch (error) {
          return json({ error: error instanceof Error ? error.message : String(error) }, 400);
        }
      }
      return json({ error: `no route for ${request.method} ${pathname}` }, 404);
    },
  };
}
