// The leaders' dashboard (考评): the leader sees the rates, the rankings of
// the demo's streets, the hot-spot map and the trend; a number drills down to
// its cases; a recurring place is adopted as a topic; wall mode is remembered;
// the language switches; roles without eval.read see no entry. Each view
// passes axe.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GRID_POINT, apiAs, check, consoleLogin, context, launch } from './lib.mjs';

let browser;
let ctx;
let page;
before(async () => {
  browser = await launch();
  // The same category three times at one corner: a recurring place once the
  // sync (every 5 s) has counted them.
  const acceptor = await apiAs('acceptor');
  for (let i = 0; i < 3; i++) {
    await acceptor.post('/api/v1/cases', {
      channel: 'hotline', category_id: 47, title: `路口反复堆放垃圾 ${i + 1}`, description: '同一路口又堆满了垃圾。',
      lat: GRID_POINT.latitude + 0.0002, lon: GRID_POINT.longitude + 0.0002 + i * 0.00001, contact: '13800000000',
    });
  }
  await acceptor.dispose();
  const leader = await apiAs('leader');
  for (let i = 0; i < 60; i++) {
    const r = await leader.get('/api/v1/eval/recurring');
    if (r.places.length) break;
    await new Promise((res) => setTimeout(res, 500));
  }
  await leader.dispose();
  ctx = await context(browser);
  page = await ctx.newPage();
  await consoleLogin(page, 'leader');
});
after(() => browser && browser.close());

const RATE = /^(\d+\.\d{2}%|—)$/;

test('the leader opens the dashboard: rates, rankings, map, trend', async () => {
  await page.getByTestId('nav-dashboard').click();
  await page.getByRole('heading', { level: 1, name: /考评看板/ }).waitFor();
  const ranking = page.getByTestId('dash-ranking');
  await ranking.getByText('建外街道', { exact: true }).waitFor();
  await ranking.getByText('朝外街道', { exact: true }).waitFor();
  // 响应率, 解决率, 满意率 and the composite: a number or "—".
  for (const key of ['response_rate', 'resolution_rate', 'satisfaction_rate']) {
    const v = (await page.getByTestId(`rate-${key}`).getByTestId('rate-value').innerText()).trim();
    assert.match(v, RATE, key);
    assert.match(await page.getByTestId(`rate-${key}`).innerText(), /\d+ \/ \d+/);
  }
  assert.match((await page.getByTestId('rate-composite').getByTestId('rate-value').innerText()).trim(), /^(\d+\.\d{2}|—)$/);
  // Today's intake: the demo's cases were all reported today.
  assert.match((await page.getByTestId('kpi-today').locator('.dash-num').innerText()).trim(), /^[1-9]\d*$/);
  // The map: circles at the units' centroids, and the same numbers as a table.
  await page.getByTestId('dash-map').locator('path.leaflet-interactive').first().waitFor();
  assert.ok((await page.getByTestId('dash-map-table').locator('tbody tr').count()) > 0);
  // The trend: a chart with its numbers as text.
  await page.getByTestId('dash-trend-chart').locator('canvas').first().waitFor();
  assert.equal(await page.getByTestId('dash-trend-table').locator('tbody tr').count(), 5);
  assert.match(await page.getByTestId('dash-trend-chart').getAttribute('aria-label'), /上报 \d+ 件/);
  // Departments rank too.
  await page.getByTestId('dash-rank-level').getByText('部门').click();
  await ranking.getByText('城管', { exact: true }).waitFor();
  await check(page, 'dash-1-leader');
});

test('a number drills down to its cases, which link to the case page', async () => {
  await page.getByTestId('kpi-today').locator('.dash-num').click();
  const dialog = page.getByTestId('dash-drill');
  await dialog.getByRole('link').first().waitFor();
  await check(page, 'dash-2-drill');
  const href = await dialog.getByRole('link').first().getAttribute('href');
  assert.match(href, /#\/cases\/\d+$/);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
});

test('a recurring place is adopted as a topic with an owner and a plan', async () => {
  const list = page.getByTestId('dash-recurring');
  await list.locator('li').first().waitFor();
  await list.getByTestId('dash-adopt-open').first().click();
  const dialog = page.getByTestId('dash-adopt');
  await dialog.getByTestId('adopt-title').waitFor();
  await check(page, 'dash-3-adopt');
  await dialog.getByTestId('adopt-title').fill('路口垃圾反复堆放治理');
  await dialog.getByTestId('adopt-plan').fill('增设分类垃圾桶，物业每日两次清运，城管每周巡查。');
  await dialog.getByTestId('adopt-submit').click();
  await dialog.waitFor({ state: 'hidden' });
  const topic = page.getByTestId('dash-topics').locator('li', { hasText: '路口垃圾反复堆放治理' });
  await topic.waitFor();
  await topic.getByRole('progressbar').waitFor();
});

test('wall mode is remembered, and refresh and the language switch work', async () => {
  await page.getByTestId('dash-wall').click();
  await page.locator('.dash.dash-wall').waitFor();
  await check(page, 'dash-4-wall');
  await page.reload();
  await page.locator('.dash.dash-wall').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('gr.dashWall')), '1');
  await page.getByTestId('dash-wall').click();
  await page.locator('.dash.dash-wall').waitFor({ state: 'detached' });
  await page.getByTestId('dash-refresh').click();
  await page.getByTestId('dash-ranking').getByText('建外街道', { exact: true }).waitFor();
  await page.getByTestId('lang-toggle').click();
  await page.getByRole('heading', { level: 1, name: /Leaders' dashboard/ }).waitFor();
  await page.getByTestId('rate-response_rate').getByText('Response rate').waitFor();
  await check(page, 'dash-5-en');
  await page.getByTestId('lang-toggle').click();
  await page.getByRole('heading', { level: 1, name: /考评看板/ }).waitFor();
  await ctx.close();
});

test('ECharts loads with the dashboard only: not on the resident H5, not on the console queues', async () => {
  const c = await context(browser);
  const p = await c.newPage();
  const carriers = [];
  p.on('response', async (r) => {
    if (!/\.js(\?|$)/.test(r.url())) return;
    const body = await r.body().catch(() => Buffer.alloc(0));
    if (body.includes('_echarts_instance_')) carriers.push(r.url());
  });
  await p.goto('/');
  await p.locator('h1').first().waitFor();
  await p.waitForLoadState('networkidle');
  await consoleLogin(p, 'leader');
  await p.waitForLoadState('networkidle');
  assert.deepEqual(carriers, []);
  await p.getByTestId('nav-dashboard').click();
  await p.getByTestId('dash-trend-chart').locator('canvas').first().waitFor();
  assert.equal(carriers.length, 1);
  assert.match(carriers[0], /TrendChart/);
  await c.close();
});

test('a community worker sees their grids ranked, in at most 12 calls a refresh', async () => {
  const c = await context(browser);
  const p = await c.newPage();
  await consoleLogin(p, 'community_worker');
  const calls = [];
  p.on('request', (r) => {
    if (/\/api\/v1\/(eval\/|cases\/counts)/.test(r.url())) calls.push(r.url());
  });
  await p.getByTestId('nav-dashboard').click();
  await p.getByTestId('dash-ranking').getByText('南郎家园社区第1网格', { exact: true }).waitFor();
  await p.waitForLoadState('networkidle');
  // One extra rankings call per level tried (street, community) before grids.
  assert.ok(calls.length <= 14, calls.join('\n'));
  calls.length = 0;
  await p.getByTestId('dash-refresh').click();
  await p.waitForLoadState('networkidle');
  assert.ok(calls.length > 0 && calls.length <= 12, calls.join('\n'));
  await check(p, 'dash-6-community');
  await c.close();
});

test('department staff and a grid inspector see no dashboard entry', async () => {
  for (const user of ['department_staff', 'grid_inspector']) {
    const c = await context(browser);
    const p = await c.newPage();
    await consoleLogin(p, user);
    await p.getByRole('link', { name: '案件地图' }).waitFor();
    assert.equal(await p.getByTestId('nav-dashboard').count(), 0, user);
    await c.close();
  }
});
