// The other forms of the loop in the console: reject, merge, cancel, extend
// and approve, escalate and decide, and a failed verification (rework).
// Cases are set up through the API; every action is taken through its form.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GRID_POINT, act, apiAs, check, consoleLogin, context, launch } from './lib.mjs';

let browser;
let api;
let cgw;
before(async () => {
  browser = await launch();
  api = {};
  for (const u of ['acceptor', 'shift_leader', 'dispatcher', 'department_staff']) api[u] = await apiAs(u);
  cgw = (await api.dispatcher.get('/api/v1/org/departments?limit=100')).items.find((d) => d.name === '城管').id;
});
after(async () => {
  for (const a of Object.values(api || {})) await a.dispose();
  if (browser) await browser.close();
});

let n = 0;
async function reportCase(title) {
  n += 1;
  return api.acceptor.post('/api/v1/cases', {
    channel: 'hotline', category_id: 47, title, description: `${title}（测试 ${n}）`,
    lat: GRID_POINT.latitude + n * 0.00001, lon: GRID_POINT.longitude, contact: '13800000000',
  });
}
async function dispatched(title) {
  let c = await reportCase(title);
  c = await api.acceptor.post(`/api/v1/cases/${c.id}/accept`, { version: c.version });
  c = await api.shift_leader.post(`/api/v1/cases/${c.id}/file`, { version: c.version });
  return api.dispatcher.post(`/api/v1/cases/${c.id}/dispatch`, { version: c.version, department_id: cgw });
}
const state = async (page) => page.getByTestId('case-state').innerText();

async function staff(user) {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  await consoleLogin(page, user);
  return { ctx, page };
}

test('reject, merge and cancel', async () => {
  const a = await reportCase('占道堆放');
  const b = await reportCase('占道堆放（重复）');
  const r = await reportCase('不属于受理范围的诉求');
  const acc = await staff('acceptor');
  // A reason is required to reject: the server's error shows under the note.
  await acc.page.goto(`/console/#/cases/${r.id}`);
  await acc.page.getByTestId('action-reject').click();
  await acc.page.getByTestId('action-submit').click();
  const noteItem = acc.page.locator('.el-form-item', { has: acc.page.getByTestId('f-note') });
  await noteItem.locator('.el-form-item__error').waitFor();
  await check(acc.page, 'actions-1-reject-needs-note');
  await act(acc.page, r.id, 'reject', (p) => p.getByTestId('f-note').fill('属于民事纠纷，已告知当事人通过调解途径解决。'));
  assert.match(await state(acc.page), /不予受理/);
  await act(acc.page, b.id, 'merge', (p) => p.locator('#f-into').fill(String(a.id)));
  assert.match(await state(acc.page), /已合并/);
  await acc.ctx.close();
  const lead = await staff('shift_leader');
  await act(lead.page, a.id, 'cancel', (p) => p.getByTestId('f-note').fill('测试数据，作废。'));
  assert.match(await state(lead.page), /已作废/);
  await lead.ctx.close();
});

test('an extension is asked for and approved; a failed check sends it to rework', async () => {
  const c = await dispatched('人行道护栏倾斜');
  const dept = await staff('department_staff');
  await act(dept.page, c.id, 'sign');
  // 响应: the department records that it reached the reporter.
  await act(dept.page, c.id, 'respond', (p) => p.getByTestId('f-note').fill('已电话联系诉求人，约定明日处理。'));
  await dept.page.getByText('已联系诉求人').first().waitFor();
  const until = new Date(Date.now() + 10 * 86400000);
  const local = new Date(until.getTime() + 8 * 3600000).toISOString().slice(0, 19).replace('T', ' ');
  await act(dept.page, c.id, 'extend', async (p) => {
    const input = p.locator('#f-until');
    await input.fill(local);
    await input.press('Enter');
    await p.getByTestId('f-note').fill('需要厂家更换护栏配件，约需十天。');
    await check(p, 'actions-2-extend-form');
  });
  assert.match(await state(dept.page), /已签收/);
  const lead = await staff('shift_leader');
  await act(lead.page, c.id, 'approve-extension');
  await lead.page.getByText('批准延期').first().waitFor();
  await lead.ctx.close();
  await act(dept.page, c.id, 'handle', (p) => p.getByTestId('f-note').fill('已临时加固。'));
  await dept.ctx.close();
  const insp = await staff('grid_inspector');
  await act(insp.page, c.id, 'verify', async (p) => {
    await p.getByTestId('f-failed').click();
    await p.getByTestId('f-note').fill('护栏仍然倾斜，需要更换。');
  });
  assert.match(await state(insp.page), /返工/);
  await insp.ctx.close();
});

test('a dispute is escalated and decided', async () => {
  let c = await dispatched('绿化带内堆放建筑垃圾');
  c = await api.department_staff.post(`/api/v1/cases/${c.id}/return`, { version: c.version, note: '绿化带属园林部门管理。' });
  const disp = await staff('dispatcher');
  await act(disp.page, c.id, 'escalate', (p) => p.getByTestId('f-note').fill('部门间有争议，请值班长会商。'));
  assert.match(await state(disp.page), /争议/);
  await disp.ctx.close();
  const lead = await staff('shift_leader');
  await act(lead.page, c.id, 'decide', async (p) => {
    await p.getByTestId('f-department').click();
    await p.getByRole('option', { name: '城管', exact: true }).click();
    await p.getByRole('listbox').waitFor({ state: 'hidden' });
    await p.getByTestId('f-note').fill('建筑垃圾由城管清运，园林配合。');
  });
  assert.match(await state(lead.page), /已派遣/);
  await check(lead.page, 'actions-3-decided');
  await lead.ctx.close();
});
