// The resident H5's first load: the JavaScript and CSS that the home page
// fetches, gzipped, stay under the 300 KB, and none of it is Element
// Plus (the staff console's library). The load time on a slow 3G profile is
// measured and printed for docs/web.md, never asserted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { context, launch } from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser && browser.close());

async function firstLoad(page, path, ready) {
  const files = new Map();
  page.on('response', async (r) => {
    const type = r.headers()['content-type'] || '';
    if (!/javascript|css/.test(type) && !/\.(m?js|css)(\?|$)/.test(r.url())) return;
    try {
      files.set(r.url(), await r.body());
    } catch {
      /* a redirect has no body */
    }
  });
  await page.goto(path);
  await ready(page);
  await page.waitForLoadState('networkidle');
  return files;
}

test('the resident first load is small and carries no Element Plus', async () => {
  const ctx = await context(browser, { mobile: true });
  const page = await ctx.newPage();
  const files = await firstLoad(page, '/', (p) => p.getByTestId('go-report').waitFor());
  let gz = 0;
  for (const body of files.values()) gz += gzipSync(body, { level: 9 }).length;
  console.log(`resident first load: ${files.size} files, ${(gz / 1024).toFixed(1)} KB gzipped JS+CSS`);
  assert.ok(gz <= 300 * 1024, `${gz} bytes gzipped`);
  // Element Plus components carry their names (ElButton, ElSelect ...).
  for (const [url, body] of files) assert.ok(!/\bEl(Button|Select|Table|Form)\b/.test(body.toString()), url);

  // Every resident page, lazily loaded: still no Element Plus.
  for (const path of ['/#/h5/report', '/#/h5/login', '/#/h5/cases', '/#/h5/public/GR000000000000']) {
    const p2 = await ctx.newPage();
    const f2 = await firstLoad(p2, path, (p) => p.locator('h1').first().waitFor());
    for (const [url, body] of f2) assert.ok(!/\bEl(Button|Select|Table|Form)\b/.test(body.toString()), `${path}: ${url}`);
    await p2.close();
  }
  await ctx.close();
});

test('slow 3G: the time until the resident home page is usable (recorded)', async () => {
  const ctx = await context(browser, { mobile: true });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  // Chrome DevTools' "Slow 3G" profile: 400 ms latency, 400 kbit/s down and up.
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 400, downloadThroughput: (400 * 1024) / 8, uploadThroughput: (400 * 1024) / 8,
  });
  const t0 = Date.now();
  await page.goto('/', { timeout: 60000 });
  await page.getByTestId('go-report').waitFor({ timeout: 60000 });
  console.log(`resident home usable on slow 3G after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const t1 = Date.now();
  await page.getByTestId('go-report').click();
  await page.getByTestId('submit').waitFor({ timeout: 60000 });
  console.log(`report page usable on slow 3G after a further ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  await ctx.close();
});
