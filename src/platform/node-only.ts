// What the browser build (dist/kiln.browser.mjs) holds in place of each Node built-in. kiln reaches
// Node built-ins only through `import()` inside the functions that need them (reading and writing
// files, worker threads, host names), so in a browser bundle such an import becomes this module:
// loading it rejects that one call with an error saying what to do instead, and bundlers see no
// `node:*` import to resolve or polyfill. The build (scripts/bundle.mjs) makes one module per
// built-in that calls `nodeOnly` with its name.
import { UnsupportedRuntimeError } from '../core/errors.ts';

export function nodeOnly(builtin: string): never {
  throw new UnsupportedRuntimeError(
    `kiln: ${builtin} is not available in the browser build; files and worker threads need Node, Deno or Bun (in a browser, pass URLs, bytes or Dataset objects)`,
  );
}
