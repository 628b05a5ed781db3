// Reading a file or URL the way the running platform can: fetch for http(s), data: and blob: URLs
// (every runtime, browsers included), node:fs for paths and file: URLs (Node, Deno, Bun). node:fs
// is imported on first use only, so bundles that never read a file still load in a browser.

const SCHEME = /^[a-z][a-z0-9+.-]+:/i; // two letters at least: "C:\data.csv" is a Windows path

/** The bytes of a file path, a file: URL, or a URL the runtime can fetch. */
export async function readBytes(source: string | URL): Promise<Uint8Array> {
  const url = source instanceof URL ? source : SCHEME.test(source) ? new URL(source) : undefined;
  if (url && url.protocol !== 'file:') {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url.href} answered ${response.status} ${response.statusText}`.trimEnd());
    return new Uint8Array(await response.arrayBuffer());
  }
  const { readFile } = await import('node:fs/promises');
  return new Uint8Array(await readFile(url ?? (source as string)));
}

/** The text of a file or URL, decoded as UTF-8 (a leading byte-order mark is dropped). */
export async function readText(source: string | URL): Promise<string> {
  return new TextDecoder('utf-8').decode(await readBytes(source));
}
