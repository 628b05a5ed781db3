// Entry point for Node, Deno and Bun: one JSON line on stdout.
import { report } from './report.mjs';

console.log(JSON.stringify(await report()));
