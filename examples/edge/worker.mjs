// An edge handler in the module-worker shape (`{ fetch(request) }`) that Cloudflare Workers,
// Deno (`Deno.serve`) and Bun accept. It serves predictions from a quantized kiln model. The core
// arrives as a precompiled WebAssembly.Module, because Cloudflare-style runtimes forbid compiling
// WebAssembly from bytes at run time; the model file arrives as bytes.
//
//   GET  /          what the model is (scheme, bytes, classes, limits)
//   POST /predict   {"features": [[5.1, 3.5, 1.4, 0.2], ...]}  ->  {"classes": [...], "probabilities": [[...]]}
//
// Requests are checked against a strict schema before the model sees them: the body is at most
// `maxBodyBytes` (413 beyond), valid JSON, an object whose only key is `features`, an array of
// 1 to `maxRows` rows (413 beyond), each an array of exactly `inputs` finite JSON numbers. Nothing
// is coerced (null, booleans and strings are errors). Every 4xx answer is
// {"error": "<what, where, the value, what to send instead>"}; an unexpected failure is a 500
// without the engine's words.
//
// On Cloudflare (wrangler bundles .wasm imports as WebAssembly.Module and .bin as ArrayBuffer):
//   import wasm from 'kiln-ml/kiln.wasm';
//   import model from './iris.int8.safetensors.bin';
//   export default createWorker({ wasm, model });
import { init, quantizedModelFromBytes } from 'kiln-ml';

/** Default limits: 1 MiB of body and 1,000 rows per request. */
export const LIMITS = Object.freeze({ maxBodyBytes: 1 << 20, maxRows: 1000 });

const json = (body, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A request the handler refuses: the HTTP status and a message a client can act on. */
class RequestError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// A value as a client would recognise it in an error message, cut short when long.
function show(value) {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);

// Reads at most `limit` bytes of the body: a declared or actual larger body is a 413, decided
// before (or while) reading, so a huge body never fills memory.
async function readBody(request, limit) {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit)
    throw new RequestError(413, `the body is ${declared} bytes, more than the ${limit}-byte limit; send fewer rows per request`);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new RequestError(413, `the body is more than the ${limit}-byte limit; send fewer rows per request`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) bytes.set(c, (at += c.byteLength) - c.byteLength);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new RequestError(400, 'the body is not valid UTF-8; send JSON text');
  }
}

/** Checks a parsed body against the schema; returns the rows as one Float32Array. */
export function parseFeatures(body, inputs, maxRows) {
  const example = `{"features": [[${Array.from({ length: Math.min(inputs, 4) }, (_, i) => i + 0.5).join(', ')}${inputs > 4 ? ', …' : ''}]]}`;
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new RequestError(400, `the body must be a JSON object like ${example}, got ${kind(body)}`);
  const extra = Object.keys(body).filter((k) => k !== 'features');
  if (extra.length > 0) throw new RequestError(400, `unknown key ${show(extra[0])} in the body; the only key is "features"`);
  const rows = body.features;
  if (!Array.isArray(rows))
    throw new RequestError(400, `"features" must be an array of rows like ${example}, got ${kind(rows)} ${show(rows)}`);
  if (rows.length === 0) throw new RequestError(400, '"features" is empty; send at least one row');
  if (rows.length > maxRows)
    throw new RequestError(413, `"features" has ${rows.length} rows, more than the ${maxRows}-row limit; split the request`);
  const out = new Float32Array(rows.length * inputs);
  rows.forEach((row, i) => {
    if (!Array.isArray(row))
      throw new RequestError(400, `features[${i}] must be an array of ${inputs} numbers, got ${kind(row)} ${show(row)}`);
    if (row.length !== inputs) throw new RequestError(400, `features[${i}] has ${row.length} values, the model takes ${inputs}`);
    row.forEach((v, j) => {
      if (typeof v !== 'number')
        throw new RequestError(400, `features[${i}][${j}] must be a number, got ${kind(v)} ${show(v)} (no value is converted)`);
      // JSON.parse turns 1e999 into Infinity.
      if (!Number.isFinite(v)) throw new RequestError(400, `features[${i}][${j}] is ${v} (out of range); send finite numbers`);
      out[i * inputs + j] = v;
    });
  });
  return out;
}

/** A fetch handler over a precompiled core module and a quantized model file; `limits`
 *  overrides LIMITS. */
export function createWorker({ wasm, model, limits = {} }) {
  const { maxBodyBytes, maxRows } = { ...LIMITS, ...limits };
  let ready;
  const loaded = () =>
    (ready ??= (async () => {
      await init(wasm);
      return quantizedModelFromBytes(new Uint8Array(model));
    })());

  async function predict(request, net, classNames) {
    const text = await readBody(request, maxBodyBytes);
    let body;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new RequestError(400, `the body is not valid JSON (${error.message}); send {"features": [[...], ...]}`);
    }
    const features = parseFeatures(body, net.inputs, maxRows);
    const probs = net.predict(features);
    const classes = Array.from(net.predictClasses(features), (c) => classNames[c]);
    const rows = Array.from({ length: classes.length }, (_, i) => Array.from(probs.subarray(i * net.outputs, (i + 1) * net.outputs)));
    return json({ classes, probabilities: rows });
  }

  return {
    async fetch(request) {
      const { pathname } = new URL(request.url);
      const net = await loaded();
      const classNames = net.classNames ?? Array.from({ length: net.outputs }, (_, i) => String(i));
      if (pathname === '/' && request.method === 'GET')
        return json({ scheme: net.scheme, bytes: net.bytes, inputs: net.inputs, classes: classNames, limits: { maxBodyBytes, maxRows } });
      if (pathname === '/predict') {
        if (request.method !== 'POST') return json({ error: `${request.method} /predict: use POST with a JSON body` }, 405);
        try {
          return await predict(request, net, classNames);
        } catch (error) {
          if (error instanceof RequestError) return json({ error: error.message }, error.status);
          // Whatever failed inside is not the client's to read; the operator's log gets it.
          console.error(error);
          return json({ error: 'internal error while predicting' }, 500);
        }
      }
      return json({ error: `no route for ${request.method} ${pathname} (routes: GET /, POST /predict)` }, 404);
    },
  };
}
