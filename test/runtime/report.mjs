// Runs the workload on the built bundle and reports the SHA-256 of its bytes, and of each named
// part so a disagreement points at the stage that differs. Uses only what every runtime has
// (WebCrypto, performance), so Node, Deno, Bun and a browser page share it.
import * as kiln from '../../dist/kiln.mjs';
import { concatParts, convBytes, csvBytes, workloadParts } from './workload.mjs';

const hex = (bytes) => Array.from(bytes, (x) => x.toString(16).padStart(2, '0')).join('');
const sha256 = async (bytes) => hex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));

/** `source`: where init() takes the core from (default: embedded). */
export async function report(source) {
  const start = performance.now();
  const parts = await workloadParts(kiln, source);
  const ms = performance.now() - start;
  const digests = {};
  for (const [name, bytes] of parts) digests[name] = (await sha256(bytes)).slice(0, 16);
  const all = concatParts(parts);
  let csv;
  try {
    csv = await sha256(csvBytes(kiln));
  } catch (error) {
    csv = `error: ${error && error.message}`;
  }
  let conv;
  try {
    conv = await sha256(await convBytes(kiln));
  } catch (error) {
    conv = `error: ${error && error.message}`;
  }
  return { sha256: await sha256(all), length: all.length, parts: digests, csv, conv, ms: Math.round(ms), core: kiln.coreInfo().summary };
}
