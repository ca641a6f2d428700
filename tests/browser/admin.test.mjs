// The admin pages: categories and their limits, routing rules, users, the
// org tree. Each passes axe; each write goes through its form.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { check, consoleLogin, context, launch } from './lib.mjs';

let browser;
let ctx;
let page;
before(async () => {
  browser = await launch();
  ctx = await context(browser);
  page = await ctx.newPage();
  await consoleLogin(page, 'admin');
});
after(() => browser && browser.close());

const pickOption = async (trigger, name) => {
  await trigger.click();
  await page.getByRole('option', { name, exact: true }).click();
  await page.getByRole('listbox').waitFor({ state: 'hidden' });
};

test('categories: a limit is changed and saved', async () => {
  await page.getByRole('link', { name: '类别与时限' }).click();
  const table = page.getByTestId('category-table');
  // 市容环境 the event class (E01), not the component class (C03).
  await table.locator('tr', { hasText: 'E01' }).locator('.el-table__expand-icon').click();
  await table.getByText('乱堆物堆料').click();
  const side = page.getByTestId('category-limits');
  await side.getByRole('heading', { name: /乱堆物堆料/ }).waitFor();
  await check(page, 'admin-1-categories');
  const first = side.getByRole('spinbutton').first();
  const old = Number(await first.inputValue());
  await first.fill(String(old + 1));
  await first.press('Tab');
  await page.getByTestId('limits-save').click();
  await side.getByRole('status').filter({ hasText: '已保存' }).waitFor();
  assert.equal(Number(await first.inputValue()), old + 1);
});

test('routing rules: one is added, and a bad one is refused naming its field', async () => {
  await page.getByRole('link', { name: '派遣规则' }).click();
  await page.getByTestId('rule-table').locator('tbody tr').first().waitFor();
  const rows = await page.getByTestId('rule-table').locator('tbody tr').count();
  await check(page, 'admin-2-routing');
  // Nothing chosen: the server names the field under it.
  await page.getByTestId('rule-add').click();
  await page.getByTestId('rule-error').waitFor();
  await page.locator('.el-form-item__error').first().waitFor();
  await pickOption(page.getByTestId('r-category'), '街面秩序 / 露天烧烤');
  await page.getByTestId('r-unit').click();
  await page.keyboard.type('建外');
  await page.getByRole('option', { name: /^建外街道/ }).click();
  await pickOption(page.getByTestId('r-department'), '城管');
  await page.getByTestId('rule-add').click();
  await page.getByTestId('rule-table').locator('tbody tr').nth(rows).waitFor();
  await page.getByTestId('rule-table').getByText('建外街道').first().waitFor();
});

test('users: a short password is refused under its field, then the user is created', async () => {
  await page.getByRole('link', { name: '用户', exact: true }).click();
  await page.getByTestId('user-table').getByText('dispatcher', { exact: true }).waitFor();
  await check(page, 'admin-3-users');
  await page.getByTestId('u-username').fill('clerk01');
  await page.getByTestId('u-display').fill('窗口一号');
  await page.getByTestId('u-password').fill('short');
  await page.locator('#u-unit').click();
  await page.keyboard.type('朝阳');
  await page.getByRole('option', { name: /^朝阳区/ }).click();
  await page.getByTestId('user-create').click();
  const pw = page.locator('.el-form-item', { has: page.getByTestId('u-password') }).locator('.el-form-item__error');
  await pw.waitFor();
  await page.getByTestId('u-password').fill('a-long-enough-password');
  await page.getByTestId('user-create').click();
  await page.getByRole('status').filter({ hasText: 'clerk01' }).waitFor();
  await page.getByTestId('user-table').getByText('clerk01', { exact: true }).waitFor();
  // A role changed afterwards: clerk01 becomes a dispatcher.
  await page.getByTestId('edit-clerk01').click();
  await page.getByTestId('edit-dialog').locator('.el-select').first().click();
  await page.getByRole('option', { name: '派遣员', exact: true }).click();
  await check(page, 'admin-3b-user-edit');
  await page.getByTestId('e-save').click();
  await page.getByTestId('edit-dialog').waitFor({ state: 'hidden' });
  const row = page.getByTestId('user-table').locator('tr', { hasText: 'clerk01' });
  await row.getByText('派遣员', { exact: true }).waitFor();
});

test('the org tree opens level by level', async () => {
  await page.getByRole('link', { name: '组织架构' }).click();
  const tree = page.getByTestId('org-tree');
  await tree.getByText(/^朝阳区/).click();
  await tree.getByText(/^建外街道/).waitFor();
  await page.getByTestId('org-unit').getByRole('heading', { name: '朝阳区' }).waitFor();
  await check(page, 'admin-4-org');
  // A street is added below the district, then renamed; a bad code is
  // refused under its field first.
  await page.getByTestId('o-code').fill('12');
  await page.getByTestId('o-child-name').fill('测试街道');
  await page.getByTestId('o-add').click();
  await page.getByTestId('org-add').locator('.el-form-item__error').first().waitFor();
  await page.getByTestId('o-code').fill('110105999');
  await page.getByTestId('o-add').click();
  await page.getByRole('status').filter({ hasText: '测试街道' }).waitFor();
  await tree.getByText(/^测试街道/).click();
  await page.getByTestId('org-unit').getByRole('heading', { name: '测试街道' }).waitFor();
  await page.getByTestId('o-name').fill('测试街道（改名）');
  await page.getByTestId('o-rename').click();
  await page.getByTestId('org-unit').getByRole('heading', { name: '测试街道（改名）' }).waitFor();
  await tree.getByText(/^测试街道（改名）/).waitFor();
  await check(page, 'admin-5-org-edited');
  await ctx.close();
});
