// (e) Every page, signed out and signed in, passes axe-core (WCAG 2.1 A/AA)
// and is saved as a screenshot.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAs, check, consoleLogin, context, launch, residentLogin } from './lib.mjs';

let browser;
let caseId;
let publicCode;
before(async () => {
  browser = await launch();
  const acceptor = await apiAs('acceptor');
  const list = await acceptor.get('/api/v1/cases?limit=50');
  const c = list.items.find((i) => i.state === 'signed');
  caseId = c.id;
  publicCode = c.public_code;
  await acceptor.dispose();
});
after(() => browser && browser.close());

test('resident pages pass axe', async () => {
  const ctx = await context(browser, { mobile: true });
  const page = await ctx.newPage();
  await page.goto('/');
  await page.getByRole('heading', { name: '有事您说话' }).waitFor();
  await check(page, 'h5-home');
  await page.goto('/#/h5/login');
  await page.getByLabel('用户名').waitFor();
  await check(page, 'h5-login');
  await page.goto('/#/h5/report');
  await page.getByLabel('标题').waitFor();
  await check(page, 'h5-report-anonymous');
  await page.getByTestId('category').click();
  await page.getByTestId('category-unknown').waitFor();
  await check(page, 'h5-category-picker');
  await page.goto(`/#/h5/public/${publicCode}`);
  await page.getByTestId('case-state').waitFor();
  await check(page, 'h5-public-case');
  await page.goto('/#/h5/public/GR000000000000');
  await page.getByRole('alert').waitFor();
  await check(page, 'h5-public-case-missing');
  await residentLogin(page);
  await page.goto('/#/h5/cases');
  await page.getByRole('heading', { name: '我的诉求' }).waitFor();
  await page.locator('.van-cell').first().waitFor();
  await check(page, 'h5-my-cases');
  await page.locator('.van-cell').first().click();
  await page.getByTestId('case-state').waitFor();
  await check(page, 'h5-my-case');
  await ctx.close();
});

test('console pages pass axe', async () => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  await page.goto('/console/');
  await page.getByRole('heading', { name: '工作人员登录' }).waitFor();
  await check(page, 'console-login');
  await consoleLogin(page, 'shift_leader');
  await page.getByTestId('queue-table').locator('tbody tr').first().waitFor();
  await check(page, 'console-queues');
  await page.goto(`/console/#/cases/${caseId}`);
  await page.getByTestId('case-state').waitFor();
  await page.getByTestId('deadline').waitFor();
  await check(page, 'console-case');
  await page.goto('/console/#/entry');
  await page.getByTestId('entry-form').waitFor();
  await check(page, 'console-entry');
  assert.ok(true);
  await ctx.close();
});

test('the console map shows the cases clustered over the boundaries', async () => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  await consoleLogin(page, 'dispatcher');
  await page.getByRole('link', { name: '案件地图' }).click();
  await page.getByTestId('map-count').filter({ hasText: /共 [1-9]\d* 件/ }).waitFor();
  await page.locator('.marker-cluster, path.leaflet-interactive').first().waitFor();
  await check(page, 'console-map');
  // Filtered by state: only the closed ones.
  await page.getByTestId('m-state').click();
  await page.getByRole('option', { name: '已结案', exact: true }).click();
  await page.getByRole('listbox').waitFor({ state: 'hidden' });
  const before = await page.getByTestId('map-count').innerText();
  await page.getByTestId('map-apply').click();
  await page.getByTestId('map-count').filter({ hasNotText: before }).waitFor();
  await ctx.close();
});
