// kiln train --save-optimizer and --model: the optimizer state travels beside the model file and
// a later run resumes it (the update count goes on), unless flags describe a new optimizer; a
// state that no longer matches its model file is an error naming the file, never used silently.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '../../src/io/safetensors.ts';
import { kilnBundled, kilnJson } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-resume-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);
const steps = (file: string) => Number(decodeSafetensors(new Uint8Array(readFileSync(file))).metadata.steps);
const BASE = ['train', '--data', 'iris', '--batch-size', '32', '--seed', '1'];
const NEW = [...BASE, '--layers', '8'];
// 120 training rows in batches of 32: 4 updates per epoch.
const PER_EPOCH = 4;

test('train --save-optimizer, then train --model resumes the optimizer', async () => {
  const first = await kilnJson([...NEW, '--epochs', '3', '--lr', '0.01', '--out', at('a.safetensors'), '--save-optimizer']);
  assert.deepEqual(first.optimizerState, { resumed: null, out: at('a.optimizer.safetensors') });
  assert.equal(steps(at('a.optimizer.safetensors')), 3 * PER_EPOCH);

  const resumed = await kilnBundled([
    ...BASE,
    '--model',
    at('a.safetensors'),
    '--epochs',
    '4',
    '--out',
    at('b.safetensors'),
    '--save-optimizer',
  ]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /the adam optimizer resumes from .*a\.optimizer\.safetensors after 12 updates/);
  assert.equal(steps(at('b.optimizer.safetensors')), 7 * PER_EPOCH, 'the update count goes on from the saved state');
  // The saved settings came back: lr 0.01 though this run gave no --lr.
  const settings = JSON.parse(decodeSafetensors(new Uint8Array(readFileSync(at('b.optimizer.safetensors')))).metadata.settings!);
  assert.equal(settings.lr, 0.01);

  // Flags that describe an optimizer start a new one, and say so.
  const fresh = await kilnBundled([...BASE, '--model', at('a.safetensors'), '--epochs', '1', '--lr', '0.001']);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stderr, /--lr describes a new optimizer: the adam optimizer starts afresh/);
});

test('a state file that no longer matches its model is an error naming it; --save-optimizer needs --out', async () => {
  await kilnJson([...NEW, '--epochs', '2', '--out', at('c.safetensors'), '--save-optimizer']);
  await kilnJson([...NEW, '--epochs', '2', '--seed', '2', '--out', at('d.safetensors')]);
  // d's weights with c's optimizer state beside them.
  copyFileSync(at('c.optimizer.safetensors'), at('d.optimizer.safetensors'));
  const stale = await kilnBundled([...BASE, '--model', at('d.safetensors'), '--epochs', '1']);
  assert.equal(stale.code, 1);
  assert.match(
    stale.stderr,
    /d\.optimizer\.safetensors: optimizer state file: it was saved with other weights.*delete it to start the optimizer afresh/,
  );
  // Writing a model beside an old state says the state no longer matches.
  const over = await kilnBundled([...NEW, '--epochs', '1', '--out', at('c.safetensors')]);
  assert.match(over.stderr, /c\.optimizer\.safetensors is from an earlier run and does not match/);
  const noOut = await kilnBundled([...NEW, '--epochs', '1', '--save-optimizer']);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /--save-optimizer writes beside the model file: give --out <file>/);
  assert.ok(!existsSync(at('undefined.optimizer.safetensors')));
});
