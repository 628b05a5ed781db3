// Runs the workload on the built bundle and reports the SHA-256 of its bytes. Uses only what every
// runtime has (WebCrypto, performance), so Node, Deno, Bun and a browser page share it.
import * as kiln from '../../dist/kiln.mjs';
import { workload } from './workload.mjs';

export async function report() {
  const start = performance.now();
  const bytes = await workload(kiln);
  const ms = performance.now() - start;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return { sha256: hex(digest), length: bytes.length, head: hex(bytes.subarray(0, 32)), ms: Math.round(ms) };
}
