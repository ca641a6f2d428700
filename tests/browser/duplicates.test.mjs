// The resident's duplicate suggestion: a report with a point first asks for
// the open cases of its category nearby. Joining one sends `duplicate_of`:
// the report is recorded, merged into that case at once, and the resident
// becomes one of its reporters (docs/cases.md, "Duplicates"). "None of
// these" makes a case of its own.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAs, check, context, launch, residentLogin } from './lib.mjs';

// A point of 南郎家园社区第3网格, some 350 m south of GRID_POINT (the other
// tests' corner, farther than the 250 m of the duplicate check), and a
// category neither the demo data nor another test reports: only this file's
// cases are candidates here.
const POINT = { latitude: 39.9929, longitude: 116.35529 };
const CATEGORY = '报刊亭';
// The title names this run's case among the candidates should the file run
// twice against one server (the list shows titles, not codes).
const FIRST_TITLE = `报刊亭玻璃破碎 ${String(Date.now()).slice(-6)}`;

let browser;
let acceptor;
let categoryId;
let first; // the open public case the resident is offered
before(async () => {
  browser = await launch();
  acceptor = await apiAs('acceptor');
  const tree = (await acceptor.get('/api/v1/categories')).items;
  categoryId = tree.flatMap((m) => m.children || []).find((c) => c.name === CATEGORY).id;
  // Entered from the hotline, public: residents are offered public cases only.
  first = await acceptor.post('/api/v1/cases', {
    channel: 'hotline', category_id: categoryId, title: FIRST_TITLE, description: '报刊亭的玻璃碎了一地，容易划伤行人。',
    lat: POINT.latitude, lon: POINT.longitude, contact: '13800000000', is_public: true,
  });
});
after(async () => {
  if (acceptor) await acceptor.dispose();
  if (browser) await browser.close();
});

// A signed-in resident on a phone standing at POINT, with the report filled
// in: category, words and the device's position.
async function reportAtPoint(title) {
  const ctx = await context(browser, { mobile: true, geo: true });
  await ctx.setGeolocation(POINT);
  const page = await ctx.newPage();
  await residentLogin(page);
  await page.getByTestId('go-report').click();
  await page.getByTestId('category').click();
  await page.getByTestId('category-search').locator('input').fill('报刊');
  await page.getByRole('button', { name: CATEGORY }).click();
  await page.getByLabel('标题').fill(title);
  await page.getByLabel('问题描述').fill('路口报刊亭的玻璃碎了，碎片还在地上。');
  await page.getByTestId('use-gps').click();
  await page.getByTestId('located').waitFor();
  assert.match(await page.getByTestId('located').innerText(), /南郎家园社区第3网格/);
  return { ctx, page };
}

// The first submit asks for the open cases of the category at the point and
// offers them instead of reporting.
async function offered(page, name) {
  const asked = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/v1/cases/nearby');
  await page.getByTestId('submit').click();
  const q = new URL((await asked).url()).searchParams;
  assert.deepEqual([q.get('lat'), q.get('lon'), q.get('category_id')], [String(POINT.latitude), String(POINT.longitude), String(categoryId)]);
  const dups = page.getByTestId('duplicates');
  await page.locator('[data-testid=duplicates], [data-testid=report-done]').first().waitFor();
  assert.ok(await dups.isVisible(), 'the candidates come before the report is sent');
  await dups.getByRole('heading', { name: '附近已有这些诉求，是同一个问题吗？' }).waitFor();
  const row = dups.locator('.van-cell', { hasText: FIRST_TITLE });
  assert.equal(await row.count(), 1);
  // Its state and distance: the same point, nothing was accepted yet.
  assert.match(await row.innerText(), /待受理 · 0 m/);
  assert.equal((await page.getByTestId('submit').innerText()).trim(), '都不是，继续提交');
  await check(page, name);
  return row;
}

const reportPosted = (page) =>
  page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/cases' && r.request().method() === 'POST');

test('the resident joins the case nearby: the report is merged into it', async () => {
  const { ctx, page } = await reportAtPoint('路口报刊亭玻璃碎了');
  const row = await offered(page, 'duplicates-1-offered');

  const posted = reportPosted(page);
  await row.getByRole('button', { name: '是这个' }).click();
  const res = await posted;
  assert.equal(res.status(), 201);
  assert.equal(res.request().postDataJSON().duplicate_of, first.id);
  const mine = await res.json();
  assert.notEqual(mine.id, first.id);

  // The receipt: the report's own code, and the case it joined.
  const done = page.getByTestId('report-done');
  await done.waitFor();
  const text = await done.innerText();
  assert.match(text, /提交成功/);
  assert.match(text, new RegExp(`诉求编号：${mine.public_code}`));
  assert.match(text, new RegExp(`已并入诉求 ${first.public_code}，办理进度会通知您。`));
  await check(page, 'duplicates-2-joined');

  // Its own page says it was merged.
  await page.getByRole('button', { name: '查看进度' }).click();
  await page.getByTestId('case-state').waitFor();
  assert.equal(page.url().match(/cases\/(\d+)/)[1], String(mine.id));
  assert.match(await page.getByTestId('case-state').innerText(), /已合并/);
  // ... and leads to the case it joined, whose progress the resident follows.
  assert.match(await page.getByTestId('merged-into').innerText(), /已并入另一条同样的诉求/);
  await page.getByTestId('merged-into-link').click();
  await page.getByRole('heading', { name: FIRST_TITLE }).waitFor();
  assert.equal(page.url().match(/cases\/(\d+)/)[1], String(first.id));
  assert.match(await page.getByTestId('case-state').innerText(), /待受理/);
  assert.equal(await page.getByTestId('merged-into').count(), 0);
  await check(page, 'duplicates-2b-followed');

  // Under "my cases" the resident now finds the joined case beside the report.
  await page.goto('/#/h5/cases');
  await page.getByRole('heading', { name: '我的诉求' }).waitFor();
  const joined = page.locator('.van-cell--clickable', { hasText: first.public_code });
  await joined.waitFor();
  assert.match(await joined.innerText(), new RegExp(`${FIRST_TITLE}[\\s\\S]*待受理`));
  assert.match(await page.locator('.van-cell--clickable', { hasText: mine.public_code }).innerText(), /已合并/);
  await check(page, 'duplicates-3-my-cases');
  await joined.click();
  await page.getByRole('heading', { name: FIRST_TITLE }).waitFor();
  assert.match(await page.getByTestId('case-state').innerText(), /待受理/);

  // What the server stored, as the resident reads it ...
  const my = await (await page.request.get('/api/v1/my/cases?limit=50')).json();
  const byId = new Map(my.items.map((c) => [c.id, c]));
  assert.equal(byId.get(mine.id).state, 'merged');
  assert.equal(byId.get(mine.id).merged_into, first.id);
  assert.equal(byId.get(first.id).merged_into, null);
  // ... and as staff: the report is merged into the first case, which stays
  // open and names it on its timeline.
  const merged = await acceptor.get(`/api/v1/cases/${mine.id}`);
  assert.equal(merged.state, 'merged');
  assert.equal(merged.merged_into, first.id);
  assert.equal(merged.channel, 'web');
  const target = await acceptor.get(`/api/v1/cases/${first.id}`);
  assert.equal(target.state, 'reported');
  assert.equal(target.merged_into, null);
  const ev = target.timeline.filter((e) => e.action === 'merge');
  assert.equal(ev.length, 1);
  assert.deepEqual(ev[0].data, { merged: mine.id, merged_code: mine.public_code });
  await ctx.close();
});

test('"none of these": the report becomes a case of its own', async () => {
  const { ctx, page } = await reportAtPoint('报刊亭玻璃又碎了一块');
  await offered(page, 'duplicates-4-offered-again');

  const posted = reportPosted(page);
  await page.getByTestId('submit').click();
  const res = await posted;
  assert.equal(res.status(), 201);
  assert.equal(res.request().postDataJSON().duplicate_of, undefined);
  const mine = await res.json();
  assert.notEqual(mine.id, first.id);

  const done = page.getByTestId('report-done');
  await done.waitFor();
  const text = await done.innerText();
  assert.match(text, new RegExp(`诉求编号：${mine.public_code}`));
  assert.doesNotMatch(text, /已并入/);
  await check(page, 'duplicates-5-separate');
  await page.getByRole('button', { name: '查看进度' }).click();
  await page.getByTestId('case-state').waitFor();
  assert.match(await page.getByTestId('case-state').innerText(), /待受理/);
  assert.equal(await page.getByTestId('merged-into').count(), 0);

  // A case of its own, open; the first case did not gain it.
  const own = await acceptor.get(`/api/v1/cases/${mine.id}`);
  assert.equal(own.state, 'reported');
  assert.equal(own.merged_into, null);
  const target = await acceptor.get(`/api/v1/cases/${first.id}`);
  assert.equal(target.state, 'reported');
  assert.ok(!target.timeline.some((e) => e.action === 'merge' && e.data && e.data.merged === mine.id));
  await ctx.close();
});
