import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsvError, decodeCsvBytes, loadCsv, parseCsv } from '../../src/data/csv.ts';
import { loadTable, parseTable } from '../../src/data/table.ts';

const TEXT = 'x,y,label\n1,2,café\n3,4,thé\n5,6,café\n';
const utf16 = (s: string, bigEndian: boolean) => {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 * i + (bigEndian ? 1 : 0)] = c & 255;
    out[2 * i + (bigEndian ? 0 : 1)] = c >> 8;
  }
  return out;
};
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

test('UTF-8 (with or without BOM), UTF-16 LE/BE (with or without BOM), Latin-1 declared, and gzip all decode to the same text', async () => {
  const utf8 = new TextEncoder().encode(TEXT);
  const forms: [string, Uint8Array, Parameters<typeof decodeCsvBytes>[1]][] = [
    ['utf-8', utf8, undefined],
    ['utf-8 BOM', cat(Uint8Array.of(0xef, 0xbb, 0xbf), utf8), undefined],
    ['utf-16le BOM', cat(Uint8Array.of(0xff, 0xfe), utf16(TEXT, false)), undefined],
    ['utf-16be BOM', cat(Uint8Array.of(0xfe, 0xff), utf16(TEXT, true)), undefined],
    ['utf-16le sniffed', utf16(TEXT, false), undefined],
    ['utf-16be sniffed', utf16(TEXT, true), undefined],
    ['utf-16le declared', utf16(TEXT, false), 'utf-16le'],
    ['latin1 declared', latin1(TEXT), 'latin1'],
    ['gzip utf-8', new Uint8Array(gzipSync(utf8)), undefined],
    ['gzip utf-16le BOM', new Uint8Array(gzipSync(cat(Uint8Array.of(0xff, 0xfe), utf16(TEXT, false)))), undefined],
    ['gzip latin1', new Uint8Array(gzipSync(latin1(TEXT))), 'latin1'],
  ];
  for (const [name, bytes, encoding] of forms) assert.equal(await decodeCsvBytes(bytes, encoding), TEXT, name);
  const dir = mkdtempSync(join(tmpdir(), 'kiln-csv-'));
  writeFileSync(join(dir, 'a.csv.gz'), gzipSync(latin1(TEXT)));
  assert.deepEqual((await loadCsv(join(dir, 'a.csv.gz'), { encoding: 'latin1' })).classNames, ['café', 'thé']);
  assert.deepEqual((await loadTable(join(dir, 'a.csv.gz'), { encoding: 'latin1' })).rows[1], ['3', '4', 'thé']);
});

test('undeclared Latin-1 is an error naming the byte and the way out, never U+FFFD in a class name', async () => {
  await assert.rejects(
    decodeCsvBytes(latin1(TEXT)),
    (e: unknown) =>
      e instanceof CsvError &&
      e.message ===
        "parseCsv: the file is not valid utf-8 (byte 17, on row 2, is 0xe9); if the file is Latin-1 (ISO-8859-1), declare it with encoding 'latin1' (--encoding latin1)",
  );
  await assert.rejects(decodeCsvBytes(Uint8Array.of(0x1f, 0x8b, 1, 2, 3)), /starts like gzip \(1f 8b\) but does not decompress/);
  await assert.rejects(
    decodeCsvBytes(cat(Uint8Array.of(0xff, 0xfe), Uint8Array.of(0x41, 0, 0x42))),
    /utf-16le but has an odd number of bytes \(3\)/,
  );
  await assert.rejects(
    decodeCsvBytes(new Uint8Array(1), 'ebcdic' as never),
    /encoding must be one of utf-8, utf-16le, utf-16be, latin1, got "ebcdic"/,
  );
});

test('a trailing comma is called that and blames the right column', () => {
  assert.throws(
    () => parseCsv('a,b,label\n1,2,x\n3,4,y,\n'),
    (e: unknown) =>
      e instanceof CsvError &&
      e.row === 3 &&
      /row 3 has 4 cells, expected 3 like row 1; its last cell is empty: a trailing ',' after column 3 \('label'\)\?/.test(e.message),
  );
  assert.throws(
    () => parseTable('a,b,label,\n1,2,x\n'),
    /row 2 has 3 cells, expected 4 like row 1; row 1 ends with an empty cell: a trailing ',' after its column 3\?/,
  );
  assert.throws(
    () => parseCsv('a,b,label,\n1,2,x,\n3,4,y,\n'),
    (e: unknown) =>
      e instanceof CsvError &&
      e.column === 'column 4' &&
      /column 4 is empty in every row, header included: each line ends with a trailing ','/.test(e.message),
  );
});

test('duplicate header names and long cells: named, and clipped in messages', () => {
  assert.throws(() => parseCsv('a,b,a,label\n1,2,3,x\n4,5,6,y\n'), /header names column 1 and column 3 both 'a'/);
  const huge = 'z'.repeat(1_000_000);
  assert.throws(
    () => parseCsv(`a,label\n${huge},x\n1,y\n`, { header: true }),
    (e: unknown) => e instanceof CsvError && e.message.length < 300 && e.message.includes('(1000000 characters)'),
  );
});
