// readBytes / readText over every kind of source the platform layer accepts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readBytes, readText } from '../../src/platform/read.ts';

const TEXT = '\uFEFFa,b\n1,é\n';
let dir = '';
let file = '';
let server: Server;
let base = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-read-'));
  file = join(dir, 'data.csv');
  writeFileSync(file, TEXT);
  server = createServer((req, res) => {
    if (req.url === '/data.csv') res.writeHead(200, { 'content-type': 'text/csv' }).end(TEXT);
    else res.writeHead(404, 'Not Found').end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

const expected = new TextEncoder().encode(TEXT);

for (const [label, source] of [
  ['a path', () => file],
  ['a file: URL', () => pathToFileURL(file)],
  ['a file: URL string', () => pathToFileURL(file).href],
  ['an http URL', () => new URL('/data.csv', base)],
  ['an http URL string', () => `${base}/data.csv`],
  ['a data: URL', () => `data:text/csv;base64,${Buffer.from(TEXT).toString('base64')}`],
] as Array<[string, () => string | URL]>) {
  test(`readBytes and readText read ${label}`, async () => {
    assert.deepEqual(await readBytes(source()), expected);
    assert.equal(await readText(source()), 'a,b\n1,é\n', 'UTF-8 decoded, byte-order mark dropped');
  });
}

test('an HTTP error names the URL and the status', async () => {
  await assert.rejects(readBytes(`${base}/missing.csv`), new RegExp(`GET ${base}/missing\\.csv answered 404 Not Found`));
});

test('a missing file rejects with the file system error', async () => {
  await assert.rejects(readBytes(join(dir, 'missing.csv')), /ENOENT/);
});
