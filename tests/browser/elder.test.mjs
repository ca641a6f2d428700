// (d) Elder mode and the language switch: both remembered across reloads,
// and the pages still pass axe in each.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { check, consoleLogin, context, launch } from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser && browser.close());

const fontSize = (loc) => loc.evaluate((e) => parseFloat(getComputedStyle(e).fontSize));

test('elder mode: larger text, plainer words, one step per screen, remembered', async () => {
  const ctx = await context(browser, { mobile: true });
  const page = await ctx.newPage();
  await page.goto('/');
  const lead = page.locator('main p').first();
  await lead.waitFor();
  const normal = await fontSize(lead);
  await page.getByTestId('elder-toggle').click();
  await page.locator('html.elder').waitFor({ state: 'attached' });
  assert.ok((await fontSize(lead)) >= normal * 1.2, 'text is larger');
  assert.match(await lead.innerText(), /拍个照/);
  await check(page, 'elder-1-home');

  await page.reload();
  await page.locator('html.elder').waitFor({ state: 'attached' });
  await page.getByTestId('go-report').click();
  await page.getByText('第 1 步，共 4 步').waitFor();
  await page.getByLabel('出了什么事').waitFor();
  assert.equal(await page.getByTestId('use-gps').isVisible(), false, 'the place is a later step');
  const target = await page.getByTestId('next').boundingBox();
  assert.ok(target.height >= 48, `targets are large (${target.height}px)`);
  await check(page, 'elder-2-report-step1');
  await page.getByTestId('next').click();
  await page.getByTestId('next').click();
  await page.getByTestId('use-gps').waitFor();
  await check(page, 'elder-3-report-step3');

  await page.getByTestId('elder-toggle').click();
  await page.locator('html:not(.elder)').waitFor({ state: 'attached' });
  await page.reload();
  await page.locator('html:not(.elder)').waitFor({ state: 'attached' });
  await ctx.close();
});

test('the language switch changes the pages and is remembered', async () => {
  const ctx = await context(browser, { mobile: true });
  const page = await ctx.newPage();
  await page.goto('/');
  await page.getByRole('heading', { name: '有事您说话' }).waitFor();
  await page.getByTestId('lang-toggle').click();
  await page.getByRole('heading', { name: 'Tell us' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.reload();
  await page.getByRole('heading', { name: 'Tell us' }).waitFor();
  await page.getByTestId('go-report').click();
  await page.getByRole('heading', { name: 'Report a problem' }).waitFor();
  await page.getByLabel('Description').waitFor();
  await check(page, 'lang-1-report-en');
  await ctx.close();

  // The staff console has the same switch.
  const sctx = await context(browser);
  const con = await sctx.newPage();
  await consoleLogin(con, 'dispatcher');
  await con.getByRole('link', { name: '工作队列' }).waitFor();
  await con.getByTestId('lang-toggle').click();
  await con.getByRole('link', { name: 'Work queues' }).waitFor();
  await con.getByTestId('queues').getByText('To dispatch').waitFor();
  await con.reload();
  await con.getByRole('link', { name: 'Work queues' }).waitFor();
  await check(con, 'lang-2-console-en');
  await con.getByTestId('lang-toggle').click();
  await con.getByRole('link', { name: '工作队列' }).waitFor();
  await sctx.close();
});
