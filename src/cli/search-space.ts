// Reading a --space file: the library's JSON search space, whose names the library checks
// (parseMlpSpace); errors name the file.
import { readFile } from 'node:fs/promises';
import type { SpaceSpec } from '../search/space.ts';
import type { parseMlpSpace as ParseMlpSpace } from '../model-search/space.ts';
import { CliError } from './errors.ts';

/** Reads and checks a --space file. */
export async function readSpaceFile(path: string, parseMlpSpace: typeof ParseMlpSpace): Promise<SpaceSpec> {
  const text = await readFile(path, 'utf8');
  try {
    return parseMlpSpace(JSON.parse(text));
  } catch (error) {
    throw new CliError(`${path}: ${(error as Error).message}`);
  }
}
