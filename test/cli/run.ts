// Runs the kiln command line in a child process, as a user would, and collects what it printed:
// through tsx from the sources, or from one esbuild bundle of src/cli/main.ts built the way
// dist/cli.mjs is, which starts several times faster (most cases use it to keep the suite quick).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundleForNode } from '../helpers/bundle.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures/cli/', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export type Runner = (args: readonly string[]) => Promise<Run>;

/** `node --import tsx src/cli/main.ts ...args` from the repository root (where tsx resolves). */
export const kiln: Runner = (args) => spawnNode(['--import', 'tsx', 'src/cli/main.ts', ...args]);

let bundle: Promise<string> | undefined;

/** `node <bundle> ...args`: the same command line bundled once per test process (removed at
 *  exit), which starts several times faster than through tsx. */
export const kilnBundled: Runner = async (args) => spawnNode([await (bundle ??= bundleForNode(`${ROOT}src/cli/main.ts`)), ...args]);

function spawnNode(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The single JSON object a successful `--json` run printed (fails on anything else). */
export async function kilnJson(args: readonly string[], runner: Runner = kilnBundled): Promise<Record<string, any>> {
  const run = await runner([...args, '--json']);
  if (run.code !== 0) throw new Error(`kiln ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  const lines = run.stdout.trim().split('\n');
  if (lines.length !== 1) throw new Error(`kiln ${args.join(' ')} --json printed ${lines.length} lines, expected one JSON object`);
  return JSON.parse(lines[0]!) as Record<string, any>;
}

/** Runs `jobs` with at most `limit` children at a time (the suite shares two cores); the
 *  results come back in the jobs' order, typed per job. */
export async function limited<const J extends readonly (() => Promise<unknown>)[]>(
  jobs: J,
  limit = 3,
): Promise<{ -readonly [K in keyof J]: Awaited<ReturnType<J[K]>> }> {
  const results: unknown[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results as { -readonly [K in keyof J]: Awaited<ReturnType<J[K]>> };
}
