// Child process of the sampler contract suite: prints the trials of every sampler for one seed.
import { SAMPLERS, runContract } from './contract-fixtures.ts';

const seed = Number(process.argv[2] ?? 1);
const out: Record<string, unknown> = {};
for (const name of Object.keys(SAMPLERS)) out[name] = await runContract(name, seed);
process.stdout.write(JSON.stringify(out));
