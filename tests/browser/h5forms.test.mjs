// Bad input on the resident's report form, reported anonymously: the server's
// field errors appear under their fields, a lost network keeps what was typed,
// and a double click reports once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAs, check, context, launch } from './lib.mjs';

let browser;
let acceptorApi;
before(async () => {
  browser = await launch();
  acceptorApi = await apiAs('acceptor');
});
after(async () => {
  await acceptorApi.dispose();
  if (browser) await browser.close();
});

const reported = async () => (await acceptorApi.get('/api/v1/cases/counts')).reported;
const fieldError = (page, label) =>
  page.locator('.van-field', { has: page.getByLabel(label, { exact: true }) }).locator('.van-field__error-message');

test('an anonymous report: field errors, a lost network, a double click', async () => {
  const ctx = await context(browser, { mobile: true, geo: true });
  const page = await ctx.newPage();
  await page.goto('/#/h5/report');
  await page.getByLabel('问题描述').fill('公园东门的健身器材螺丝松动，摇晃得厉害。');
  await page.getByTestId('use-gps').click();
  await page.getByTestId('located').waitFor();

  // Open cases nearby are offered first; "none of these" goes on.
  await page.getByTestId('submit').click();
  await page.locator('[data-testid=duplicates], .van-field__error-message').first().waitFor();
  if (await page.getByTestId('duplicates').isVisible()) await page.getByTestId('submit').click();
  await fieldError(page, '标题').waitFor();
  assert.match(await fieldError(page, '标题').innerText(), /characters|required/);

  await page.getByLabel('标题').fill('健身器材松动');
  await page.getByTestId('submit').click();
  await fieldError(page, '手机号').waitFor();
  assert.match(await fieldError(page, '手机号').innerText(), /required/);
  await check(page, 'h5forms-1-field-errors');

  await page.getByLabel('手机号').fill('13800000000');
  // Private unless the reporter says otherwise (privacy by construction).
  assert.equal(await page.getByRole('checkbox', { name: /公开此诉求/ }).getAttribute('aria-checked'), 'false');
  await page.getByRole('checkbox', { name: /公开此诉求/ }).click();
  await page.route('**/api/v1/cases', (r) => (r.request().method() === 'POST' ? r.abort('internetdisconnected') : r.continue()));
  await page.getByTestId('submit').click();
  await page.getByTestId('form-error').filter({ hasText: '网络' }).waitFor();
  assert.equal(await page.getByLabel('标题').inputValue(), '健身器材松动');
  assert.equal(await page.getByLabel('手机号').inputValue(), '13800000000');
  await check(page, 'h5forms-2-network-lost');
  await page.unroute('**/api/v1/cases');

  const before = await reported();
  await page.getByTestId('submit').dblclick();
  await page.getByTestId('report-done').waitFor();
  assert.equal(await reported(), before + 1);
  // A public report's receipt leads to its public page.
  await page.getByRole('button', { name: '查看进度' }).click();
  await page.getByTestId('case-state').waitFor();
  assert.match(await page.getByTestId('case-state').innerText(), /待受理/);
  await check(page, 'h5forms-3-public-page');
  await ctx.close();
});
