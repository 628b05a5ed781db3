// Serves the edge handler with Deno.serve, the way a worker platform would host it: the core is
// compiled once into a WebAssembly.Module and handed over, never compiled from bytes in the handler.
//   deno run --allow-read --allow-net=127.0.0.1 --config examples/edge/deno.json examples/edge/deno-serve.mjs <model file> [port]
import { createWorker } from './worker.mjs';

const [modelPath, port = '8787'] = Deno.args;
if (!modelPath) {
  console.error('usage: deno-serve.mjs <quantized model file> [port]');
  Deno.exit(2);
}
const wasm = await WebAssembly.compile(await Deno.readFile(new URL('../../dist/kiln.wasm', import.meta.url)));
const worker = createWorker({ wasm, model: await Deno.readFile(modelPath) });
Deno.serve(
  { hostname: '127.0.0.1', port: Number(port), onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}/`) },
  worker.fetch,
);
