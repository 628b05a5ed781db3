// npm run bench -- <name>...: runs bench/<name>.ts for each name given (all when none).
import { readdirSync } from 'node:fs';

const available = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.ts') && !['index.ts'].includes(f) && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));
const asked = process.argv.slice(2);
const unknown = asked.filter((n) => !available.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
for (const name of asked.length ? asked : available) {
  console.log(`\n## ${name}\n`);
  await import(`./${name}.ts`);
}
