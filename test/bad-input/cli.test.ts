// Bad command lines and files given to them: `kiln: error: <what, where, the value>` on stderr,
// nothing on stdout, exit code 2 for usage and 1 for data and files.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense } from '../../src/nn/layers/index.ts';
import { modelToBytes } from '../../src/io/model-file.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';
import { tensorChecksum } from '../../src/io/integrity.ts';
import { kilnBundled as run, limited } from '../cli/run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-bad-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Uint8Array) => (writeFileSync(join(dir, name), content), join(dir, name));

const rows = 'a,b,label\n' + Array.from({ length: 20 }, (_, i) => `${i % 7}.5,${i % 3},${i % 2 ? 'oui' : 'non'}`).join('\n') + '\n';
const latin1 = file(
  'latin1.csv',
  Uint8Array.from(rows.replace(/non/g, 'né'), (c) => c.charCodeAt(0)),
);
const gz = gzipSync(rows);
const brokenGz = file('broken.csv.gz', gz.subarray(0, gz.length >> 1));
const trailing = file('trailing.csv', rows.replace('\n1.5,1,oui', '\n1.5,1,oui,'));
const dupes = file('dupes.csv', rows.replace('a,b,label', 'a,a,label'));
const folder = join(dir, 'folder.csv');
mkdirSync(folder);
const model = new Sequential({ inputs: 2, layers: [dense(2)], seed: 1 });
const good = modelToBytes(model);
const flipped = good.slice();
flipped[flipped.length - 2]! ^= 1;
const corrupt = file('corrupt.safetensors', flipped);
const { tensors, metadata } = decodeSafetensors(good);
(tensors['layers.0.weight']!.data as Float32Array)[1] = NaN;
const nan = file('nan.safetensors', encodeSafetensors(tensors as never, { ...metadata, crc32: tensorChecksum(tensors) }));
model.dispose();

const USAGE = 2,
  FAILURE = 1;
const cases: [string, string[], number, RegExp][] = [
  [
    '--encoding unknown',
    ['train', '--data', latin1, '--encoding', 'ebcdic'],
    USAGE,
    /--encoding.*ebcdic.*utf-8, utf-16le, utf-16be, latin1/,
  ],
  [
    'Latin-1 undeclared',
    ['train', '--data', latin1, '--epochs', '1'],
    FAILURE,
    /latin1\.csv: reading the file: the file is not valid utf-8 \(byte \d+, on row \d+, is 0xe9\).*--encoding latin1/,
  ],
  [
    'broken gzip',
    ['train', '--data', brokenGz],
    FAILURE,
    /broken\.csv\.gz: reading the file: the file starts like gzip \(1f 8b\) but does not decompress/,
  ],
  [
    'trailing comma',
    ['train', '--data', trailing],
    FAILURE,
    /trailing\.csv: parseTable: row \d+ has 4 cells, expected 3 like row 1; its last cell is empty: a trailing ',' after column 3 \('label'\)/,
  ],
  ['duplicate header', ['train', '--data', dupes], FAILURE, /dupes\.csv: .*'a'/],
  // A folder is read as images, one sub-folder per class: without any, the error says so.
  [
    'data is a directory without images',
    ['train', '--data', folder],
    FAILURE,
    /folder\.csv: imageFolder: found 0 class folder\(s\) with images/,
  ],
  [
    '--out is a directory',
    ['train', '--data', 'iris', '--epochs', '1', '--out', dir],
    FAILURE,
    new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is a directory, not a file`),
  ],
  [
    '--out in a missing folder',
    ['train', '--data', 'iris', '--epochs', '1', '--out', join(dir, 'no', 'm.safetensors')],
    FAILURE,
    /no\/m\.safetensors: its folder does not exist/,
  ],
  [
    'flipped bit in a model',
    ['info', '--model', corrupt],
    FAILURE,
    /model file: checksum mismatch: __metadata__\.crc32 is [0-9a-f]{8}, the tensor data gives [0-9a-f]{8}/,
  ],
  [
    'NaN weight in a model',
    ['predict', '--model', nan, '--data', latin1, '--encoding', 'latin1'],
    FAILURE,
    /tensor 'layers\.0\.weight' holds NaN at index 1; weights must be finite/,
  ],
  ['--epochs 0', ['train', '--data', 'iris', '--epochs', '0'], USAGE, /--epochs.*0/],
  ['--test-split 2', ['train', '--data', 'iris', '--test-split', '2'], USAGE, /--test-split.*2/],
  ['--trials -1', ['search', '--data', 'iris', '--trials', '-1'], USAGE, /--trials.*-1/],
  ['--seed 1.5', ['train', '--data', 'iris', '--seed', '1.5'], USAGE, /--seed.*1\.5/],
];

test('bad command lines: one error line naming what, where and the value; the right exit code', async () => {
  const runs = await limited(
    cases.map(
      ([, args]) =>
        () =>
          run(args),
    ),
  );
  const misses: string[] = [];
  cases.forEach(([name, args, code, message], i) => {
    const r = runs[i]!;
    const line = r.stderr.trim();
    // Write errors come after training, whose progress went to stdout already.
    const quiet = name.startsWith('--out') || r.stdout === '';
    if (r.code !== code || !quiet || !/^kiln: error: /.test(line) || line.includes('\n') || !message.test(line))
      misses.push(`${name} (kiln ${args.join(' ')}): exit ${r.code}, stdout ${JSON.stringify(r.stdout.slice(0, 80))}, stderr ${line}`);
  });
  assert.deepEqual(misses, []);
  assert.ok(readFileSync(latin1).length > 0);
});
