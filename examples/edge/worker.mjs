// A minimal edge handler: the module-worker shape (`export default { fetch }`) that Cloudflare
// Workers, Deno (`deno serve`) and Bun (`bun run`) all accept. On its first request an isolate
// trains a small Iris classifier (seeded, about 100 ms), then answers predictions from memory.
//
//   GET  /          what the model is
//   POST /predict   {"features": [[5.1, 3.5, 1.4, 0.2], ...]}  ->  {"classes": [...], "probabilities": [[...]]}
//
// The core is embedded in kiln's bundle, so init() needs no file or network access. Platforms that
// forbid compiling WebAssembly from bytes at run time (Cloudflare) import the module instead:
//   import wasm from 'kiln/kiln.wasm';  ...  await init(wasm);
import { init, iris, Sequential, dense, fit, adam } from 'kiln';

let ready;

function model() {
  ready ??= (async () => {
    await init();
    const data = iris();
    const net = new Sequential({ inputs: 4, layers: [dense(16, 'relu'), dense(3)], seed: 1 });
    await fit(net, data, { optimizer: adam({ lr: 0.02 }), epochs: 30, batchSize: 16 });
    return { net, classNames: data.classNames };
  })();
  return ready;
}

const json = (body, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const { net, classNames } = await model();
    if (request.method === 'GET' && pathname === '/') {
      return json({ model: net.toConfig(), parameters: net.parameterCount, classes: classNames });
    }
    if (request.method === 'POST' && pathname === '/predict') {
      let features;
      try {
        ({ features } = await request.json());
        const probs = net.predict(features);
        const classes = Array.from(net.predictClasses(features), (c) => classNames[c]);
        const rows = Array.from({ length: classes.length }, (_, i) => Array.from(probs.subarray(i * 3, i * 3 + 3)));
        return json({ classes, probabilities: rows });
      } catch (error) {
        return json({ error: error instanceof Error ? error.message : String(error) }, 400);
      }
    }
    return json({ error: `no route for ${request.method} ${pathname}` }, 404);
  },
};
