// Shared by the browser tests: Debian's chromium through playwright-core,
// axe-core in every page, screenshots in build/browser-artifacts/.
// tests/browser/run.sh starts the server and sets GR_BASE.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium, request } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const base = process.env.GR_BASE || 'http://127.0.0.1:8080';
const artifacts = new URL('../../build/browser-artifacts/', import.meta.url).pathname;
mkdirSync(artifacts, { recursive: true });

export const password = (u) => `demo-${u}-2026`;
// A point inside the demo grid inspector's grid (南郎家园社区第1网格).
export const GRID_POINT = { latitude: 39.99605, longitude: 116.35529 };
// A 1×1 PNG: a photo the server accepts (magic bytes checked, metadata stripped).
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
export const photo = (name = 'photo.png') => ({ name, mimeType: 'image/png', buffer: PNG });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.GR_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}

// A phone-sized resident context or a desktop staff context.
export async function context(browser, { mobile = false, geo = false } = {}) {
  const opts = { baseURL: base, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', reducedMotion: 'reduce' };
  if (mobile) Object.assign(opts, { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  else opts.viewport = { width: 1366, height: 900 };
  if (geo) Object.assign(opts, { geolocation: GRID_POINT, permissions: ['geolocation'] });
  const ctx = await browser.newContext(opts);
  // Generous: on a shared machine an ASan server, chromium and the rest of
  // the build compete for two cores. A wait is not a timing assertion.
  ctx.setDefaultTimeout(45000);
  ctx.setDefaultNavigationTimeout(45000);
  return ctx;
}

// axe-core finds no WCAG 2.1 A/AA violation on the page as it is now; a
// full-page screenshot named `name` is saved either way.
export async function check(page, name) {
  await page.screenshot({ path: `${artifacts}${name}.png`, fullPage: true });
  await page.evaluate(axeSource);
  const r = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
  );
  const found = r.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${(n.failureSummary || '').replace(/\s+/g, ' ')}`).join('\n    ')}`);
  assert.deepEqual(found, [], `axe on ${name}:\n${found.join('\n')}`);
}

export async function residentLogin(page, user = 'resident') {
  await page.goto('/#/h5/login');
  await page.locator('input[name=username]').fill(user);
  await page.locator('input[name=password]').fill(password(user));
  await page.locator('button[type=submit]').click();
  await page.getByTestId('go-report').waitFor();
}

export async function consoleLogin(page, user) {
  await page.goto('/console/#/login');
  await page.locator('input[name=username]').fill(user);
  await page.locator('input[name=password]').fill(password(user));
  await page.locator('button[type=submit]').click();
  await page.getByTestId('whoami').waitFor();
}

// A staff member takes one action on a case through its form in the console.
export async function act(page, caseId, action, fill) {
  const url = `/console/#/cases/${caseId}`;
  // The same URL again is only a hash change: reload to read the case afresh.
  if (page.url().endsWith(url)) await page.reload();
  else await page.goto(url);
  await page.getByTestId(`action-${action}`).click();
  if (fill) await fill(page);
  await page.getByTestId('action-submit').click();
  await page.getByRole('status').filter({ hasText: '已办理' }).waitFor();
}

// An API client (cookie jar + CSRF) for setting up cases without the pages.
export async function apiAs(user) {
  const ctx = await request.newContext({ baseURL: base });
  const r = await ctx.post('/api/v1/auth/login', { data: { username: user, password: password(user) } });
  assert.equal(r.status(), 200, `login ${user}`);
  const csrf = (await r.json()).csrf_token;
  const call = async (method, path, data) => {
    const res = await ctx.fetch(path, { method, data, headers: { 'X-CSRF-Token': csrf } });
    const body = await res.json().catch(() => null);
    if (!res.ok()) throw new Error(`${method} ${path}: ${res.status()} ${JSON.stringify(body)}`);
    return body;
  };
  return { get: (p) => call('GET', p), post: (p, d) => call('POST', p, d), dispose: () => ctx.dispose() };
}
