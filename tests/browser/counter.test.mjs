// (c) Counter entry for a resident without a phone, with the form behaviour
// the issue asks for: the server's field errors next to their fields, a lost
// network that keeps what was typed, and a double click that submits once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAs, check, consoleLogin, context, launch } from './lib.mjs';

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

test('a counter clerk enters a case for a resident without a phone', async () => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  await consoleLogin(page, 'acceptor');
  await page.getByRole('link', { name: '热线/窗口代录' }).click();
  await page.getByTestId('entry-form').waitFor();
  await check(page, 'counter-1-entry');

  // Nothing typed: the server's errors appear under their fields.
  await page.getByTestId('entry-submit').click();
  const titleItem = page.locator('.el-form-item', { has: page.getByTestId('entry-title') });
  await titleItem.locator('.el-form-item__error').waitFor();
  // The server's reason, under the title field (its text is the server's).
  assert.match(await titleItem.locator('.el-form-item__error').innerText(), /characters|required/);
  await check(page, 'counter-2-field-errors');

  await page.getByTestId('entry-counter').click();
  await page.getByTestId('entry-nophone').click();
  assert.equal(await page.getByTestId('entry-contact').count(), 0);
  await page.getByTestId('entry-title').fill('楼前路灯不亮');
  await page.getByTestId('entry-description').fill('王大爷到窗口反映：5号楼前路灯一周不亮，老人夜里出行不便。');
  await page.getByTestId('entry-address').fill('南郎家园5号楼前');

  // The network fails: a message, and everything typed is still there.
  await page.route('**/api/v1/cases', (r) => (r.request().method() === 'POST' ? r.abort('internetdisconnected') : r.continue()));
  await page.getByTestId('entry-submit').click();
  await page.getByTestId('entry-error').filter({ hasText: '网络' }).waitFor();
  assert.equal(await page.getByTestId('entry-title').inputValue(), '楼前路灯不亮');
  assert.equal(await page.getByTestId('entry-address').inputValue(), '南郎家园5号楼前');
  await check(page, 'counter-3-network-lost');
  await page.unroute('**/api/v1/cases');

  // Back online: a double click submits once.
  const before = await reported();
  await page.getByTestId('entry-submit').dblclick();
  const done = page.getByTestId('entry-done');
  await done.waitFor();
  assert.match(await done.innerText(), /GR\d{12}/);
  assert.equal(await reported(), before + 1);
  await check(page, 'counter-4-entered');

  await done.getByRole('link').click();
  await page.getByTestId('case-state').waitFor();
  assert.match(await page.locator('.el-descriptions').innerText(), /窗口/);
  assert.match(await page.locator('.el-descriptions').innerText(), /南郎家园5号楼前/);
  await check(page, 'counter-5-case');
  await ctx.close();
});
