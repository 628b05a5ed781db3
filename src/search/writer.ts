// Who wrote a trial into a shared log: host name, process id and a random part, so a claim token
// is unique to one study object in one process, and a reaper on the same host can tell at once
// that the process behind a trial is gone (without waiting out the heartbeat grace period).

/** The identity of one study object that writes to a shared storage. */
export interface WriterToken {
  /** `host/pid/random`; claims are `token/k`. */
  readonly token: string;
  readonly host: string;
  readonly pid: number;
  owns(claim: string): boolean;
}

type NodeProcess = { pid: number; kill(pid: number, signal: number): void; versions?: { node?: string } };
const nodeProcess = (): NodeProcess | undefined => (globalThis as { process?: NodeProcess }).process;

async function hostName(): Promise<string> {
  const proc = nodeProcess();
  if (!proc?.versions?.node) return 'web';
  // node:os only where there is one (Node, Deno, Bun); the package must load in browsers.
  const os = await import('node:os');
  return os.hostname().replaceAll('/', '_') || 'host';
}

function randomPart(): string {
  const bytes = new Uint8Array(6);
  // An identity, not a sampling decision: it must differ between processes, not repeat.
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A fresh writer identity for this process. */
export async function writerToken(): Promise<WriterToken> {
  const host = await hostName();
  const pid = nodeProcess()?.pid ?? 0;
  const token = `${host}/${pid}/${randomPart()}`;
  return { token, host, pid, owns: (claim) => claim.startsWith(`${token}/`) };
}

/** Whether the process that wrote `claim` is known to be gone: it ran on this host under another
 *  pid and no process has that pid now. False whenever that cannot be known. */
export function processIsGone(self: WriterToken, claim: string): boolean {
  const [host, pidText] = claim.split('/');
  const pid = Number(pidText);
  if (host !== self.host || self.host === 'web' || !Number.isSafeInteger(pid) || pid <= 0 || pid === self.pid) return false;
  try {
    nodeProcess()!.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as { code?: string }).code === 'ESRCH';
  }
}
