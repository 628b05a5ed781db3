// Builds the core when a checkout has none yet (scripts that run the sources with tsx need the
// generated files, and a fresh clone's `npm ci` builds nothing: the package builds in `prepack`
// and `npm test`, so installs of the published package run no script at all).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const generated = ['src/core/embedded-wasm.generated.ts', 'src/core/kernels.generated.ts'];
if (!generated.every((f) => existsSync(new URL(`../${f}`, import.meta.url)))) {
  console.error('kiln: building the core first (npm run build:wasm)');
  const run = spawnSync('npm', ['run', 'build:wasm'], { stdio: 'inherit', shell: process.platform === 'win32' });
  process.exit(run.status ?? 1);
}
