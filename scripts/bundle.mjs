// Bundles the host with the embedded core: an ESM build for browsers, Deno, Bun, Node and
// workers, and a CJS build for require().
import { build } from 'esbuild';

const common = { entryPoints: ['src/index.ts'], bundle: true, platform: 'neutral', target: 'es2022', sourcemap: true, logLevel: 'warning' };
await build({ ...common, format: 'esm', outfile: 'dist/kiln.mjs' });
await build({ ...common, format: 'cjs', outfile: 'dist/kiln.cjs' });
