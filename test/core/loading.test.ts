// Every way of handing the core to init()/initSync() in Node, and the refusal on engines that
// cannot run it. Node's fetch cannot read file: URLs, so URLs are served over loopback HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { init, initSync, compiledModule, type WasmSource } from '../../src/core/wasm.ts';
import { Tensor } from '../../src/core/tensor.ts';
import { UnsupportedRuntimeError } from '../../src/core/errors.ts';
import { validity } from '../runtime/binaryen.ts';

const bytes = new Uint8Array(readFileSync(new URL('../../build/kiln.wasm', import.meta.url)));
const exportNames = (m: WebAssembly.Module) => WebAssembly.Module.exports(m).map((e) => e.name);

let server: Server;
let base = '';
const served: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    served.push(req.url ?? '');
    if (req.url === '/kiln.wasm') res.writeHead(200, { 'content-type': 'application/wasm' }).end(bytes);
    else if (req.url === '/kiln-octets.wasm') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

// A loaded core must allocate, hold and return values; the module must be the kiln core.
function assertWorking(label: string): void {
  assert.ok(exportNames(compiledModule()).includes('mem_alloc'), `${label}: core exports mem_alloc`);
  const t = Tensor.from([1.5, -2, 3.25], [3]);
  assert.deepEqual([...t.read()], [1.5, -2, 3.25], `${label}: tensor round trip`);
  t.dispose();
}

const asyncSources: Array<[string, () => WasmSource]> = [
  ['nothing (embedded copy)', () => undefined],
  ['Uint8Array', () => bytes.slice()],
  ['ArrayBuffer', () => bytes.slice().buffer],
  [
    'Uint8Array at an offset in a larger buffer',
    () => {
      const big = new Uint8Array(bytes.length + 16);
      big.set(bytes, 8);
      return big.subarray(8, 8 + bytes.length);
    },
  ],
  ['WebAssembly.Module', () => new WebAssembly.Module(bytes)],
  ['Response (application/wasm)', () => new Response(bytes, { headers: { 'content-type': 'application/wasm' } })],
  ['Promise<Response>', () => Promise.resolve(new Response(bytes, { headers: { 'content-type': 'application/wasm' } }))],
  ['http URL string', () => `${base}/kiln.wasm`],
  ['http URL object', () => new URL('/kiln.wasm', base)],
];

for (const [label, source] of asyncSources) {
  test(`init() loads the core from ${label}`, async () => {
    await init(source());
    assertWorking(label);
  });
}

// WasmSource admits any ArrayBufferView and any Response, but V8 compiles only typed arrays and
// instantiateStreaming accepts only application/wasm; wasm.ts should fall back to bytes.
const bytesAs = (mime: string | undefined) => (mime ? new Response(bytes, { headers: { 'content-type': mime } }) : new Response(bytes));
for (const [label, source] of [
  ['a DataView', () => new DataView(bytes.slice().buffer)],
  ['a Response with no content type', () => bytesAs(undefined)],
  ['a URL served as application/octet-stream', () => `${base}/kiln-octets.wasm`],
] as Array<[string, () => WasmSource]>) {
  test(`init() loads the core from ${label}`, async () => {
    await init(source());
    assertWorking(label);
  });
}

test('init() with a URL fetches it', async () => {
  served.length = 0;
  await init(`${base}/kiln.wasm`);
  assert.deepEqual(served, ['/kiln.wasm']);
});

test('init() with a precompiled Module instantiates that very module', async () => {
  const module = new WebAssembly.Module(bytes);
  await init(module);
  assert.equal(compiledModule(), module);
});

test('init() rejects a URL that answers 404', async () => {
  await assert.rejects(init(`${base}/missing.wasm`));
});

test('init() names the URL and the HTTP status when the core cannot be fetched', async () => {
  await assert.rejects(init(`${base}/missing.wasm`), /404/);
});

for (const [label, source] of [
  ['nothing (embedded copy)', () => undefined],
  ['Uint8Array', () => bytes.slice()],
  ['ArrayBuffer', () => bytes.slice().buffer],
  ['WebAssembly.Module', () => new WebAssembly.Module(bytes)],
] as Array<[string, () => WasmSource]>) {
  test(`initSync() loads the core from ${label}`, () => {
    initSync(source());
    assertWorking(`initSync ${label}`);
  });
}

test('initSync() refuses sources that need fetching, naming init() instead', () => {
  for (const source of [`${base}/kiln.wasm`, new URL('/kiln.wasm', base), new Response(bytes)]) {
    assert.throws(
      () => initSync(source),
      (e: unknown) =>
        e instanceof TypeError && /initSync: source must be bytes or a WebAssembly\.Module \(use await init\(\)/.test(e.message),
    );
  }
});

// V8 cannot be made to drop SIMD, so the probe is checked in two halves: that the engine's answer
// drives the refusal (by standing in for WebAssembly.validate), and that the probe bytes really
// need SIMD128 (binaryen validates them with and without the feature).
test('an engine without SIMD128 gets UnsupportedRuntimeError naming the missing feature', async () => {
  const realValidate = WebAssembly.validate;
  const probes: Uint8Array<ArrayBuffer>[] = [];
  WebAssembly.validate = (b: BufferSource) => {
    probes.push(
      ArrayBuffer.isView(b) ? new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) : new Uint8Array(b.slice(0)),
    );
    return false;
  };
  try {
    const isSimdRefusal = (e: unknown) =>
      e instanceof UnsupportedRuntimeError && /lacks SIMD128/.test(e.message) && /Node >= 16\.4/.test(e.message);
    await assert.rejects(init(bytes), isSimdRefusal);
    assert.throws(() => initSync(bytes), isSimdRefusal);
  } finally {
    WebAssembly.validate = realValidate;
  }
  assert.ok(probes.length >= 2, 'the SIMD probe went through WebAssembly.validate');
  const probe = probes[0]!;
  assert.equal(realValidate(probe), true, 'this engine (with SIMD) accepts the probe');

  assert.deepEqual(validity(probe), { mvp: false, simd128: true }, 'the probe is valid with SIMD128 and invalid without it');
});

test('a runtime without WebAssembly gets UnsupportedRuntimeError', async () => {
  const realWasm = globalThis.WebAssembly;
  (globalThis as { WebAssembly?: unknown }).WebAssembly = undefined;
  try {
    await assert.rejects(init(bytes), (e: unknown) => e instanceof UnsupportedRuntimeError && /no WebAssembly/.test(e.message));
  } finally {
    globalThis.WebAssembly = realWasm;
  }
});
