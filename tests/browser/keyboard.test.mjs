// Everything works by keyboard: the resident reports and the staff sign in
// and act with Tab, Space and Enter only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, launch, password } from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser && browser.close());

// Tab until the focused element matches, at most `max` times.
async function tabTo(page, selector, max = 40) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => !!document.activeElement && document.activeElement.matches(s), selector)) return;
  }
  assert.fail(`Tab never reached ${selector}`);
}

test('a resident reaches every control of the report form by keyboard', async () => {
  const ctx = await context(browser, { mobile: true, geo: true });
  const page = await ctx.newPage();
  await page.goto('/');
  await page.getByTestId('go-report').waitFor();
  await tabTo(page, '[data-testid=go-report]');
  await page.keyboard.press('Enter');
  await page.getByTestId('category').waitFor();
  await tabTo(page, '[data-testid=category]');
  await page.keyboard.press('Enter');
  await page.getByTestId('category-unknown').waitFor();
  await tabTo(page, '[data-testid=category-unknown]');
  await page.keyboard.press('Enter');
  await page.getByTestId('category').filter({ hasText: '我不知道' }).waitFor();
  await tabTo(page, 'input[name=title]');
  await page.keyboard.type('井盖松动');
  await tabTo(page, 'textarea[name=description]');
  await page.keyboard.type('人行道上的井盖踩上去会晃。');
  await tabTo(page, '[data-testid=photo-gallery]');
  await tabTo(page, '[data-testid=use-gps]');
  await page.keyboard.press('Enter');
  await page.getByTestId('located').waitFor();
  await tabTo(page, 'input[name=contact]');
  await page.keyboard.type('13800000000');
  await tabTo(page, '[data-testid=submit]');
  await page.keyboard.press('Enter');
  await page.locator('[data-testid=report-done], [data-testid=duplicates]').first().waitFor();
  if (await page.getByTestId('duplicates').isVisible()) {
    await tabTo(page, '[data-testid=submit]');
    await page.keyboard.press('Enter');
  }
  await page.getByTestId('report-done').waitFor();
  // The elder switch and the language button answer keys too.
  await page.goto('/');
  await page.getByTestId('go-report').waitFor();
  await tabTo(page, '[data-testid=elder-toggle]');
  await page.keyboard.press('Space');
  await page.locator('html.elder').waitFor({ state: 'attached' });
  await page.keyboard.press('Enter');
  await page.locator('html:not(.elder)').waitFor({ state: 'attached' });
  await tabTo(page, '[data-testid=lang-toggle]');
  await page.keyboard.press('Enter');
  await page.locator('html[lang=en]').waitFor({ state: 'attached' });
  await ctx.close();
});

test('staff sign in and take an action by keyboard', async () => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  await page.goto('/console/#/login');
  await page.locator('input[name=username]').waitFor();
  await tabTo(page, 'input[name=username]');
  await page.keyboard.type('acceptor');
  await tabTo(page, 'input[name=password]');
  await page.keyboard.type(password('acceptor'));
  await page.keyboard.press('Enter');
  await page.getByTestId('whoami').waitFor();
  // The first case to accept, opened from the queue by keyboard.
  await page.getByTestId('queue-table').locator('tbody a').first().waitFor();
  await tabTo(page, '[data-testid=queue-table] tbody a');
  await page.keyboard.press('Enter');
  await page.getByTestId('action-form').waitFor();
  await tabTo(page, '[data-testid=action-submit]');
  await page.keyboard.press('Enter');
  await page.getByRole('status').filter({ hasText: '已办理' }).waitFor();
  await ctx.close();
});
