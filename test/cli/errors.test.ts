// Bad input of every kind: one line `kiln: error: …` on stderr, nothing on stdout, the exit code
// (2 for command-line usage, 1 for data and files); stack traces only with --debug. The table
// runs against a bundle of the command line (quick to start); a few cases also through tsx.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSafetensors } from '../../src/io/safetensors.ts';
import { FIXTURES, kiln, kilnBundled as run, limited, type Run } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-errors-'));
const model = join(dir, 'iris.safetensors');
const foreign = join(dir, 'foreign.safetensors');
const truncated = join(dir, 'truncated.safetensors');
const quantized = join(dir, 'quantized.safetensors');
const fixture = (name: string) => join(FIXTURES, name);

before(async () => {
  const trained = await run(['train', '--data', 'iris', '--layers', '4', '--epochs', '2', '--out', model]);
  assert.equal(trained.code, 0, trained.stderr);
  const made = await run(['quantize', '--model', model, '--data', 'iris', '--out', quantized]);
  assert.equal(made.code, 0, made.stderr);
  writeFileSync(foreign, encodeSafetensors({ w: { dtype: 'F32', shape: [1], data: new Float32Array([1]) } }, { format: 'someone.else' }));
  writeFileSync(truncated, readFileSync(model).subarray(0, 100));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const USAGE = 2,
  FAILURE = 1;
const table: [name: string, args: string[], code: number, message: RegExp][] = [
  ['unknown flag', ['train', '--data', 'iris', '--bogus'], USAGE, /unknown option '--bogus'/],
  [
    'misspelt flag gets a suggestion, still one line',
    ['train', '--data', 'iris', '--epoch', '3'],
    USAGE,
    /unknown option '--epoch'.*Did you mean --epochs\?/,
  ],
  [
    'bad number',
    ['train', '--data', 'iris', '--epochs', 'ten'],
    USAGE,
    /'--epochs <n>' argument 'ten' is invalid\. Expected an integer >= 1\./,
  ],
  [
    'bad choice',
    ['train', '--data', 'iris', '--optimizer', 'rmsprop'],
    USAGE,
    /argument 'rmsprop' is invalid\. Allowed choices are gd, sgd, adam, adamw/,
  ],
  ['fraction out of range', ['eval', '--model', model, '--data', 'iris', '--test-split', '1.5'], USAGE, /Expected a number in \[0, 1\]/],
  ['bad layer widths', ['train', '--data', 'iris', '--layers', '16,x'], USAGE, /Expected comma-separated widths/],
  ['unknown command', ['frobnicate'], USAGE, /unknown command 'frobnicate'/],
  ['missing --data', ['train'], USAGE, /--data is required/],
  ['missing --model', ['info'], USAGE, /--model <file> is required/],
  [
    'flag of another optimizer',
    ['train', '--data', 'iris', '--momentum', '0.9'],
    USAGE,
    /--momentum and --nesterov apply to --optimizer sgd, not adam/,
  ],
  ['schedule without its parameter', ['train', '--data', 'iris', '--schedule', 'step'], USAGE, /--schedule step needs --step-size/],
  ['--label on a built-in data set', ['train', '--data', 'iris', '--label', '0'], USAGE, /--label applies to CSV files/],
  ['architecture flag on --model', ['train', '--data', 'iris', '--model', model, '--layers', '8'], USAGE, /--layers describes a new model/],
  ['prune without --sparsity', ['prune', '--model', model, '--data', 'iris'], USAGE, /--sparsity <fraction> is required/],
  [
    'neuron criterion on weights',
    ['prune', '--model', model, '--data', 'iris', '--sparsity', '0.5', '--criterion', 'apoz'],
    USAGE,
    /--criterion apoz ranks neurons/,
  ],
  [
    'early stopping in distill',
    ['distill', '--model', model, '--data', 'iris', '--early-stopping', '3'],
    USAGE,
    /--early-stopping is not available in distill/,
  ],
  [
    'training flag without --qat',
    ['quantize', '--model', model, '--data', 'iris', '--epochs', '3'],
    USAGE,
    /--epochs applies with --qat only/,
  ],
  [
    'int4 flag on an int8 scheme',
    ['quantize', '--model', model, '--data', 'iris', '--group-size', '32'],
    USAGE,
    /--group-size applies to --scheme int4, not int8-per-channel/,
  ],
  [
    'quantizing a quantized model',
    ['quantize', '--model', quantized, '--data', 'iris'],
    FAILURE,
    /quantized\.safetensors holds a quantized model \(int8-per-channel.*\); quantization needs the float model/,
  ],
  [
    'search space with an unknown name',
    ['search', '--data', 'iris', '--space', fixture('bad-space.json')],
    FAILURE,
    /bad-space\.json: unknown parameter 'learning_rate'; a search space may set lr, /,
  ],
  ['search without validation rows', ['search', '--data', 'iris', '--validation-split', '0'], USAGE, /--validation-split must be above 0/],
  [
    'pruner with two objectives',
    ['search', '--data', 'iris', '--objectives', 'accuracy,parameters', '--pruner', 'hyperband'],
    USAGE,
    /--pruner hyperband needs a single objective/,
  ],
  ['unknown objective', ['search', '--data', 'iris', '--objectives', 'speed'], USAGE, /--objectives: unknown objective 'speed'/],
  [
    'grid over a continuous space',
    ['search', '--data', 'iris', '--sampler', 'grid'],
    USAGE,
    /--sampler grid: grid sampler needs a space of plain categorical parameters; 'lr' is not one/,
  ],
  [
    'trial flag with the gradient strategy',
    ['search', '--data', 'iris', '--strategy', 'gradient', '--trials', '3'],
    USAGE,
    /--trials applies to --strategy trials, not gradient/,
  ],
  [
    'gradient flag with the trials strategy',
    ['search', '--data', 'iris', '--size-penalty', '0.1'],
    USAGE,
    /--size-penalty applies to --strategy gradient/,
  ],
  ['missing data file', ['train', '--data', join(dir, 'nope.csv')], FAILURE, /nope\.csv: no such file$/],
  ['ragged CSV', ['train', '--data', fixture('ragged.csv')], FAILURE, /ragged\.csv: parseTable: row 3 has 2 cells, expected 3/],
  ['word in a number column', ['train', '--data', fixture('words.csv')], FAILURE, /words\.csv: .*row 3, column 'b': value 'four' is not a/],
  [
    'unknown label column',
    ['train', '--data', fixture('blobs.csv'), '--label', 'colour'],
    FAILURE,
    /label column 'colour' not found in header \[x, kind, y\]/,
  ],
  ['missing model file', ['eval', '--model', join(dir, 'nope.safetensors'), '--data', 'iris'], FAILURE, /nope\.safetensors: no such file$/],
  ['not a model file', ['info', '--model', fixture('blobs.csv')], FAILURE, /blobs\.csv: not a kiln model file/],
  ['truncated model file', ['info', '--model', truncated], FAILURE, /truncated\.safetensors: not a kiln model file/],
  [
    'unknown model format',
    ['info', '--model', foreign],
    FAILURE,
    /foreign\.safetensors: model file: __metadata__\.format is "someone\.else", expected 'kiln\.sequential' \(or 'kiln\.quantized'\)$/,
  ],
  [
    '4-feature model on mnist',
    ['eval', '--model', model, '--data', 'mnist'],
    FAILURE,
    /mnist has 784 feature columns, the model takes 4 \(sepal_length/,
  ],
  [
    'model on a CSV of other columns',
    ['predict', '--model', model, '--data', fixture('blobs.csv'), '--label', 'kind'],
    FAILURE,
    /blobs\.csv: .*the input has no column 'sepal_length'/,
  ],
  [
    'eval without labels',
    ['eval', '--model', model, '--data', fixture('flowers-unlabeled.csv')],
    FAILURE,
    /no label column to score against/,
  ],
  [
    'binary task on three classes',
    ['train', '--data', 'iris', '--task', 'binary', '--epochs', '1'],
    FAILURE,
    /predicts 2 classes, the data has 3/,
  ],
];
const cases = table;

test('bad input: one error line, the right exit code, nothing on stdout', async (t) => {
  const runs = await limited(
    cases.map(
      ([, args]) =>
        () =>
          run(args),
    ),
  );
  for (const [i, [name, args, code, message]] of cases.entries()) {
    await t.test(name, () => {
      checkError(runs[i]!, `kiln ${args.join(' ')}`, code, message);
    });
  }
});

function checkError(result: Run, where: string, code: number, message: RegExp): void {
  assert.equal(result.code, code, `${where}: exit code (stderr: ${result.stderr})`);
  assert.equal(result.stdout, '', `${where}: stdout`);
  assert.match(result.stderr, /^kiln: error: [^\n]+\n$/, `${where}: one line`);
  assert.match(result.stderr.trimEnd(), message, where);
}

test('the same errors from the sources through tsx', async () => {
  const picked = cases.filter(([name]) => ['unknown flag', 'missing data file', 'unknown model format'].includes(name));
  const runs = await limited(
    picked.map(
      ([, args]) =>
        () =>
          kiln(args),
    ),
  );
  picked.forEach(([, args, code, message], i) => checkError(runs[i]!, `kiln ${args.join(' ')}`, code, message));
});

test('--debug adds the stack trace', async () => {
  const result = await run(['eval', '--model', model, '--data', 'mnist', '--debug']);
  assert.equal(result.code, FAILURE);
  const lines = result.stderr.trimEnd().split('\n');
  assert.match(lines[0]!, /^kiln: error: mnist has 784 feature columns/);
  assert.ok(
    lines.slice(1).some((l) => /^\s+at /.test(l)),
    result.stderr,
  );
});

test('--help of every command: usage, flags, examples, exit 0', async () => {
  const commands = ['train', 'eval', 'predict', 'info', 'bench', 'distill', 'prune', 'quantize'];
  const runs = await limited([() => run(['--help']), ...commands.map((c) => () => run([c, '--help']))]);
  for (const [i, help] of runs.entries()) {
    const name = i === 0 ? 'kiln' : `kiln ${commands[i - 1]}`;
    assert.equal(help.code, 0, name);
    assert.equal(help.stderr, '', name);
    assert.match(help.stdout, /^Usage: kiln/, name);
    assert.match(help.stdout, /Examples:\n {2}kiln /, name);
    for (const flag of ['--seed', '--json', '--debug']) if (i > 0) assert.ok(help.stdout.includes(flag), `${name} lists ${flag}`);
  }
});

test('no command: help on stderr, exit code 2', async () => {
  const result = await run([]);
  assert.equal(result.code, USAGE);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^Usage: kiln/);
});
