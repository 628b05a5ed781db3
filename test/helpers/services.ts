// The real PostgreSQL and Redis the storage tests talk to. URLs come from KILN_TEST_POSTGRES /
// KILN_TEST_REDIS (or the *_URL spellings); when a server does not answer, the test file prints
// one line saying what it skipped, unless KILN_REQUIRE_SERVICES=1 (CI), where that is a failure.
import { connect } from 'node:net';

export const POSTGRES_URL =
  process.env.KILN_TEST_POSTGRES ?? process.env.KILN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.KILN_TEST_REDIS ?? process.env.KILN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function reachable(url: string, port: number): Promise<string | undefined> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || port) });
    const done = (problem?: string) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(2_000, () => done('no answer within 2 s'));
    socket.once('connect', () => done());
    socket.once('error', (err) => done((err as { code?: string }).code ?? err.message));
  });
}

/** The URL when the service answers; otherwise undefined after printing what is skipped (or
 *  throws, when KILN_REQUIRE_SERVICES=1). */
export async function service(kind: 'PostgreSQL' | 'Redis', what: string): Promise<string | undefined> {
  const url = kind === 'PostgreSQL' ? POSTGRES_URL : REDIS_URL;
  const problem = await reachable(url, kind === 'PostgreSQL' ? 5432 : 6379);
  if (problem === undefined) return url;
  const variable = kind === 'PostgreSQL' ? 'KILN_TEST_POSTGRES' : 'KILN_TEST_REDIS';
  if (process.env.KILN_REQUIRE_SERVICES === '1')
    throw new Error(`${kind} at ${url} is unreachable (${problem}) and KILN_REQUIRE_SERVICES=1: ${what} must run`);
  console.log(`# skipped ${what}: ${kind} at ${url} is unreachable (${problem}); set ${variable} to a server to run them`);
  return undefined;
}

/** A name no other run of the tests uses at the same time. */
export const uniqueName = (what: string) => `${what}-${process.pid}-${Date.now().toString(36)}`;
