// Headless Chromium for the browser tests: the flags every test launches it with and, for the
// report's tests, a page served from memory at a fixed address that records and refuses every
// other request and collects console errors and page errors.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS } from '../../scripts/chromium.ts';

export { CHROMIUM, CHROMIUM_ARGS };

export async function launch(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS], timeout: 30_000 });
}

export interface OpenedReport {
  page: Page;
  errors: string[];
  requests: string[];
}

/** Opens `html` in a new page of `browser` at the given viewport (default 1280×800). */
export async function openReport(
  browser: Browser,
  html: string,
  viewport: { width: number; height: number; isMobile?: boolean } = { width: 1280, height: 800 },
): Promise<OpenedReport> {
  const { isMobile = false, ...size } = viewport;
  const context = await browser.newContext({ viewport: size, isMobile, hasTouch: isMobile });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  const address = 'http://report.test/report.html';
  // Every request goes through here: the page itself is served, anything else is recorded and refused.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url === address) return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
    requests.push(url);
    return route.abort();
  });
  await page.goto(address, { waitUntil: 'load' });
  return { page, errors, requests };
}
