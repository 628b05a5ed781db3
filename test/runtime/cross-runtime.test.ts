// The same seeded workload over the built bundle must give the same bytes in Node, Deno, Bun and
// headless Chromium, on the single-thread core and on the threaded core with any thread count, and
// so must a small convolutional network's training run (digested apart, so the workload's own
// digest keeps its parts). Every runtime must be present: a missing one fails the suite.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { runIn, type Report, type RuntimeName } from './runtimes.ts';

const RUNTIMES: RuntimeName[] = ['node', 'node-1-thread', 'node-4-threads', 'deno', 'bun', 'chromium', 'chromium-isolated'];
const TIMEOUT_MS = 45_000;
const results = new Map<RuntimeName, PromiseSettledResult<Report>>();

before(async () => {
  assert.ok(existsSync(new URL('../../dist/kiln.mjs', import.meta.url)), 'dist/kiln.mjs is missing: run npm run build (npm test does)');
  const settled = await Promise.allSettled(RUNTIMES.map((r) => runIn(r, TIMEOUT_MS)));
  RUNTIMES.forEach((r, i) => results.set(r, settled[i]!));
});

for (const runtime of RUNTIMES) {
  test(`the workload runs in ${runtime}`, (t) => {
    const r = results.get(runtime)!;
    if (r.status === 'rejected') throw r.reason;
    t.diagnostic(`${runtime}: sha256 ${r.value.sha256}, ${r.value.length} bytes, ${r.value.ms} ms, ${r.value.core}`);
  });
}

// Which core each run used, so the comparison below covers both builds.
const EXPECTED_CORE: Partial<Record<RuntimeName, RegExp>> = {
  'node-1-thread': /^single-thread core: 1 thread asked$/,
  'node-4-threads': /^threaded core, 4 threads on worker_threads/,
  chromium: /^single-thread core: a core source was given$/,
  'chromium-isolated': /^threaded core, \d+ threads on Web Workers/,
};
for (const [runtime, pattern] of Object.entries(EXPECTED_CORE)) {
  test(`${runtime} runs the core it should`, () => {
    const r = results.get(runtime as RuntimeName)!;
    if (r.status === 'rejected') throw r.reason;
    assert.match(r.value.core, pattern);
  });
}

test('Node, Deno, Bun and Chromium produce identical bytes on either core', () => {
  const reports = RUNTIMES.map((r) => [r, results.get(r)!] as const);
  const missing = reports.filter(([, r]) => r.status === 'rejected').map(([name]) => name);
  assert.deepEqual(missing, [], `runtimes that did not report: ${missing.join(', ')}`);
  const values = reports.map(([name, r]) => [name, (r as PromiseFulfilledResult<Report>).value] as const);
  const table = values.map(([name, v]) => `${name.padEnd(9)} ${v.sha256} ${v.length} B ${v.ms} ms`);
  // On a disagreement, the parts show which stage of the workload first differs.
  for (const part of Object.keys(values[0]![1].parts)) {
    table.push(`  ${part.padEnd(12)} ${values.map(([name, v]) => `${name} ${v.parts[part] ?? '-'}`).join('  ')}`);
  }
  console.log(table.join('\n'));
  const digests = new Set(values.map(([, v]) => v.sha256));
  assert.equal(digests.size, 1, `the runtimes disagree:\n${table.join('\n')}`);
  assert.ok(values[0]![1].length > 0, 'the workload returned bytes');
});

test('parseCsv and the table encoder give the same bytes in every runtime', () => {
  const csv = RUNTIMES.map((r) => {
    const s = results.get(r)!;
    return `${r}: ${s.status === 'fulfilled' ? s.value.csv : 'no report'}`;
  });
  assert.equal(new Set(csv.map((line) => line.split(': ').slice(1).join(': '))).size, 1, csv.join('\n'));
  assert.ok(!csv[0]!.includes('error'), csv.join('\n'));
});

test('a convolutional network trains to the same bytes in every runtime', () => {
  const conv = RUNTIMES.map((r) => {
    const s = results.get(r)!;
    return `${r}: ${s.status === 'fulfilled' ? s.value.conv : 'no report'}`;
  });
  assert.equal(new Set(conv.map((line) => line.split(': ').slice(1).join(': '))).size, 1, conv.join('\n'));
  assert.ok(!conv[0]!.includes('error') && !conv[0]!.includes('undefined'), conv.join('\n'));
});
