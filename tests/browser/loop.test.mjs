// (a) The closed loop through the pages: a resident reports with a photo, the
// acceptor accepts, the shift leader files (filing is the shift leader's, see
// docs/cases.md), the dispatcher dispatches to 城管, the department signs and
// handles with a photo, the grid inspector verifies, the shift leader closes,
// and the resident rates. Every page on the way passes axe.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { act, check, consoleLogin, context, launch, photo, residentLogin } from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser && browser.close());

async function staff(user) {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  await consoleLogin(page, user);
  return { ctx, page };
}

test('a report goes round the whole loop and is rated', async () => {
  // The resident reports, on a phone, with a photo and the device's position.
  const rctx = await context(browser, { mobile: true, geo: true });
  const rp = await rctx.newPage();
  await residentLogin(rp);
  await rp.getByTestId('go-report').click();
  await rp.getByTestId('category').click();
  await rp.getByTestId('category-search').locator('input').fill('堆物');
  await rp.getByRole('button', { name: '乱堆物堆料' }).click();
  await rp.getByLabel('标题').fill('楼道口乱堆杂物');
  await rp.getByLabel('问题描述').fill('3号楼楼道口堆放大量纸箱和旧家具，影响通行。');
  await rp.getByTestId('photo-gallery').setInputFiles(photo('pile.png'));
  await assert.doesNotReject(rp.getByRole('img', { name: '照片 1' }).waitFor());
  await rp.getByTestId('use-gps').click();
  await rp.getByTestId('located').waitFor();
  assert.match(await rp.getByTestId('located').innerText(), /南郎家园社区第1网格/);
  // Without tiles the map still shows the grids around the pin (their
  // boundaries, fetched without signing in) besides the pin itself.
  await rp.locator('.gr-map path').nth(2).waitFor();
  assert.ok((await rp.locator('.gr-map path').count()) >= 3);
  await check(rp, 'loop-1-resident-report-filled');
  await rp.getByTestId('submit').click();
  // "Is it one of these?" comes first when open cases of the category lie near.
  await rp.locator('[data-testid=report-done], [data-testid=duplicates]').first().waitFor();
  if (await rp.getByTestId('duplicates').isVisible()) {
    await check(rp, 'loop-1b-resident-duplicates');
    await rp.getByTestId('submit').click();
  }
  const done = rp.getByTestId('report-done');
  await done.waitFor();
  assert.match(await done.innerText(), /GR\d{12}/);
  await check(rp, 'loop-2-resident-submitted');
  await rp.getByRole('button', { name: '查看进度' }).click();
  await rp.getByTestId('case-state').waitFor();
  const id = Number(rp.url().match(/cases\/(\d+)/)[1]);
  assert.ok(id > 0);
  assert.match(await rp.getByTestId('case-state').innerText(), /待受理/);
  // The resident adds information; it joins the timeline.
  await rp.getByLabel('补充信息', { exact: true }).fill('杂物堆在1单元门口。');
  await rp.getByRole('button', { name: '补充信息' }).click();
  await rp.getByText('杂物堆在1单元门口。').waitFor();

  // The acceptor sees the photo and accepts.
  const acc = await staff('acceptor');
  await acc.page.goto('/console/#/cases/' + id);
  await acc.page.getByRole('img', { name: /^照片 \d+$/ }).first().waitFor();
  await check(acc.page, 'loop-3-acceptor-case');
  await act(acc.page, id, 'accept');
  assert.match(await acc.page.getByTestId('case-state').innerText(), /已受理/);
  await acc.ctx.close();

  const lead = await staff('shift_leader');
  await act(lead.page, id, 'file');
  assert.match(await lead.page.getByTestId('case-state').innerText(), /已立案/);

  const disp = await staff('dispatcher');
  await act(disp.page, id, 'dispatch', async (p) => {
    await p.getByTestId('f-department').click();
    await p.getByRole('option', { name: '城管', exact: true }).click();
    await p.getByRole('listbox').waitFor({ state: 'hidden' });
    await check(p, 'loop-4-dispatcher-form');
  });
  assert.match(await disp.page.getByTestId('case-state').innerText(), /已派遣/);
  await disp.ctx.close();

  const dept = await staff('department_staff');
  await act(dept.page, id, 'sign');
  assert.match(await dept.page.getByTestId('case-state').innerText(), /已签收/);
  await act(dept.page, id, 'handle', async (p) => {
    await p.getByTestId('f-note').fill('已清理楼道杂物，通道恢复畅通。');
    await p.getByTestId('f-photos').setInputFiles(photo('cleared.png'));
  });
  assert.match(await dept.page.getByTestId('case-state').innerText(), /已处置/);
  await dept.page.getByText('已清理楼道杂物，通道恢复畅通。').waitFor();
  await check(dept.page, 'loop-5-department-handled');
  await dept.ctx.close();

  const insp = await staff('grid_inspector');
  await act(insp.page, id, 'verify', async (p) => {
    await p.getByTestId('f-passed').click();
  });
  assert.match(await insp.page.getByTestId('case-state').innerText(), /已核查/);
  await insp.ctx.close();

  await act(lead.page, id, 'close');
  assert.match(await lead.page.getByTestId('case-state').innerText(), /已结案/);
  await check(lead.page, 'loop-6-closed');
  await lead.ctx.close();

  // The resident sees it closed, with the department's result, and rates it.
  await rp.reload();
  await rp.getByTestId('case-state').waitFor();
  assert.match(await rp.getByTestId('case-state').innerText(), /已结案/);
  await rp.getByTestId('rate-form').waitFor();
  await check(rp, 'loop-7-resident-rate');
  await rp.getByRole('radio', { name: '满意', exact: true }).click();
  await rp.getByRole('radio', { name: '已解决', exact: true }).click();
  await rp.getByLabel('评价说明').fill('处理及时，谢谢。');
  const rated = rp.waitForRequest((r) => r.url().endsWith('/rate') && r.method() === 'POST');
  await rp.getByTestId('rate-submit').click();
  // The reporter's "solved" goes with the rating (the 12345 resolution rate).
  assert.equal((await rated).postDataJSON().resolved, true);
  await rp.getByTestId('rate-form').waitFor({ state: 'detached' });
  assert.match(await rp.getByTestId('case-rating').innerText(), /满意/);
  await check(rp, 'loop-8-resident-rated');
  await rctx.close();
});
