// (b) The department returns a case (退单) with a reason and a photo; the
// dispatcher finds it in the returned queue, reads why, and dispatches again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GRID_POINT, act, apiAs, check, consoleLogin, context, launch, photo } from './lib.mjs';

let browser;
let id;
let code;
before(async () => {
  browser = await launch();
  // A dispatched case, set up through the API as the hotline would enter it.
  const acceptor = await apiAs('acceptor');
  const lead = await apiAs('shift_leader');
  const dispatcher = await apiAs('dispatcher');
  const depts = (await dispatcher.get('/api/v1/org/departments?limit=100')).items;
  const cgw = depts.find((d) => d.name === '城管').id;
  let c = await acceptor.post('/api/v1/cases', {
    channel: 'hotline', category_id: 47, title: '小区门口堆放建筑垃圾', description: '装修垃圾堆在门口三天了。',
    lat: GRID_POINT.latitude, lon: GRID_POINT.longitude, contact: '13800000000',
  });
  id = c.id;
  code = c.public_code;
  c = await acceptor.post(`/api/v1/cases/${id}/accept`, { version: c.version });
  c = await lead.post(`/api/v1/cases/${id}/file`, { version: c.version });
  await dispatcher.post(`/api/v1/cases/${id}/dispatch`, { version: c.version, department_id: cgw });
  await Promise.all([acceptor.dispose(), lead.dispose(), dispatcher.dispose()]);
});
after(() => browser && browser.close());

test('a returned case is dispatched again', async () => {
  const dctx = await context(browser);
  const dept = await dctx.newPage();
  await consoleLogin(dept, 'department_staff');
  await act(dept, id, 'return', async (p) => {
    await p.getByTestId('f-note').fill('建筑垃圾清运属市政职责，请改派。');
    await p.getByTestId('f-photos').setInputFiles(photo('evidence.png'));
    await check(p, 'return-1-department-form');
  });
  // The case has left the department: it may no longer read it.
  await dept.getByRole('alert').waitFor();
  await check(dept, 'return-1b-department-after');
  await dctx.close();

  const ctx = await context(browser);
  const page = await ctx.newPage();
  await consoleLogin(page, 'dispatcher');
  await page.getByTestId('queue-returned_or_disputed').click();
  await page.getByRole('link', { name: code }).click();
  await page.getByTestId('case-state').waitFor();
  assert.match(await page.getByTestId('case-state').innerText(), /已退单/);
  // The reason and the evidence are on the timeline for the dispatcher.
  await page.getByText('建筑垃圾清运属市政职责，请改派。').waitFor();
  await check(page, 'return-2-dispatcher-sees-return');
  await act(page, id, 'dispatch', async (p) => {
    await p.getByTestId('f-department').click();
    await p.getByRole('option', { name: '市政', exact: true }).click();
    await p.getByRole('listbox').waitFor({ state: 'hidden' });
  });
  assert.match(await page.getByTestId('case-state').innerText(), /已派遣/);
  await check(page, 'return-3-redispatched');
  await ctx.close();
});
