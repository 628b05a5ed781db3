// Binaryen (shipped with AssemblyScript) as an independent judge of WASM bytes. It runs in a plain
// Node child: loaded through the tsx test loader its 13 MB of JS would be re-transformed (~10 s).
import { spawnSync } from 'node:child_process';

const repoRoot = new URL('../../', import.meta.url);

function runBinaryen(body: string, bytes: Uint8Array): string {
  const script = `import binaryen from 'binaryen'; import { readFileSync } from 'node:fs';
    const mod = binaryen.readBinary(new Uint8Array(readFileSync(0)));
    try { ${body} } finally { mod.dispose(); }`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    input: bytes,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (run.status !== 0) throw new Error(`binaryen child failed (${run.status}): ${run.stderr}`);
  return run.stdout;
}

/** The module in WebAssembly text format, as binaryen prints it. */
export function disassemble(bytes: Uint8Array): string {
  return runBinaryen('process.stdout.write(mod.emitText());', bytes);
}

/** Whether binaryen's validator accepts the module with only MVP features, and with MVP + SIMD128. */
export function validity(bytes: Uint8Array): { mvp: boolean; simd128: boolean } {
  const out = runBinaryen(
    `
    mod.setFeatures(binaryen.Features.MVP); const mvp = mod.validate() === 1;
    mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128); const simd128 = mod.validate() === 1;
    process.stdout.write(JSON.stringify({ mvp, simd128 }));`,
    bytes,
  );
  return JSON.parse(out) as { mvp: boolean; simd128: boolean };
}
