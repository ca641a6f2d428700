// Base data: a data steward finds a person by ID number, sees them masked,
// shows them in full only after giving a purpose, and opens the household
// and the building. The person is synthetic: the ID number is the public
// worked example of GB 11643 (reference/china_standards.md).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GRID_POINT, apiAs, check, consoleLogin, context, launch } from './lib.mjs';

const ID = '11010519491231002X';
let browser;
before(async () => {
  browser = await launch();
  const steward = await apiAs('data_steward');
  const b = await steward.post('/api/v1/basedata/buildings', {
    district: '朝阳区', street: '建外街道', road: '南郎家园', house_number: '9号', building: '9号楼',
    lat: GRID_POINT.latitude, lon: GRID_POINT.longitude, use: 'residential', floors: 6,
  });
  const h = await steward.post('/api/v1/basedata/houses', {
    building_id: b.id, unit: '1单元', floor: 2, room: '201', use: 'residential', ownership: 'private', occupancy: 'occupied',
  });
  await steward.post('/api/v1/basedata/people', {
    name: '王测试', id_number: ID, residency: 'registered', house_id: h.id, relation: 'householder', phone: '13800000000',
    care_tags: ['elderly_alone'],
  });
  await steward.dispose();
});
after(() => browser && browser.close());

test('a person is found by ID number, masked until a purpose is given', async () => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  await consoleLogin(page, 'data_steward');
  await page.getByRole('link', { name: '基础数据' }).click();
  await page.getByTestId('bd-id').fill(ID);
  await page.getByTestId('bd-submit').click();
  const row = page.getByTestId('bd-people').locator('tbody tr').first();
  await row.waitFor();
  assert.match(await row.innerText(), /王\*\*/);
  assert.match(await row.innerText(), /110105\*+002X/);
  await check(page, 'basedata-1-search');

  await row.getByRole('link').click();
  await page.getByTestId('bd-person').waitFor();
  assert.equal(await page.getByTestId('bd-person-name').innerText(), '王**');
  // No purpose, no full values.
  await page.getByTestId('bd-reveal-submit').click();
  await page.locator('.el-form-item__error').filter({ hasText: '目的' }).waitFor();
  assert.equal(await page.getByTestId('bd-person-name').innerText(), '王**');
  await check(page, 'basedata-2-person-masked');
  await page.getByTestId('bd-purpose').fill('核实独居老人走访登记');
  await page.getByTestId('bd-reveal-submit').click();
  await page.getByTestId('bd-revealed').waitFor();
  assert.equal(await page.getByTestId('bd-person-name').innerText(), '王测试');
  assert.equal(await page.getByTestId('bd-person-id').innerText(), ID);
  await check(page, 'basedata-3-person-revealed');

  // The household (以房管人) and the building.
  await page.getByRole('link', { name: '同户人员' }).click();
  await page.getByTestId('bd-place-people').getByText('王**').waitFor();
  await check(page, 'basedata-4-household');
  await page.getByRole('link', { name: '查看楼栋' }).click();
  await page.getByRole('heading', { name: /南郎家园 9号 9号楼/ }).waitFor();
  await page.getByTestId('bd-place-people').getByText('王**').waitFor();
  await check(page, 'basedata-5-building');
  await ctx.close();
});
