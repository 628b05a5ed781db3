// csv-parse reads the global Buffer, which only Node and Bun provide. Bundled code gets the
// `buffer` package (a spec-compliant polyfill built on Uint8Array and Object.setPrototypeOf,
// which Deno allows, unlike the __proto__ writes in csv-parse's own browser build) instead.
export { Buffer } from 'buffer';
