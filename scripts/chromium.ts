// Headless Chromium as the tests and benchmarks launch it: where it is installed and the flags
// that keep it from reaching the network or doing work of its own while it runs a page.
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
