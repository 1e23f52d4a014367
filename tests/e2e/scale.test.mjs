// The Push page at MSP scale: a server whose demo has 1,700 accounts (`serve --demo
// --demo-accounts 1700`, about 10,000 preview lines), started by `.ci/e2e` and passed in
// BASE_URL. Checks that the page shows one page of companies and no line until one is
// opened, and reports figures — never asserts them: the time to the summary and to the
// companies, to open a company, to filter and to page; the DOM's size, the JS heap, and
// the main thread's long tasks. The figures go to the console and to scale.json.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ARTIFACTS, BASE_URL, companyName, openBrowser, scenario, shot, until, visible } from './harness.mjs';

const DEMO = { tenant: 'demo', email: 'admin@demo.billbridge.local', password: 'demo-password' };
const MIN_LINES = 10_000;

const env = {};
const figures = {};

before(async () => {
  Object.assign(env, await openBrowser());
  console.log(`testing ${BASE_URL} at scale; screenshots in ${ARTIFACTS}`);
});

after(async () => {
  await env.browser?.close();
  if (Object.keys(figures).length > 0) {
    writeFileSync(resolve(ARTIFACTS, 'scale.json'), `${JSON.stringify(figures, null, 2)}\n`);
    console.log('\nPush page with %d preview lines (%d companies):', figures.lines, figures.companies);
    for (const [what, value] of Object.entries(figures)) console.log(`  ${what.padEnd(34)} ${value}`);
  }
});

/** Milliseconds `action` takes until `done` holds. */
async function timed(action, done) {
  const start = performance.now();
  await action();
  await done();
  return Math.round(performance.now() - start);
}

/** The page's size and the main thread's blocked time since the observer started. */
async function pageFigures(page) {
  return page.evaluate(() => ({
    elements: document.querySelectorAll('*').length,
    heapMB: Math.round((performance.memory?.usedJSHeapSize ?? 0) / 1e5) / 10,
    longTasks: window.__longTasks.length,
    longestTaskMs: Math.round(Math.max(0, ...window.__longTasks)),
  }));
}

test(
  'the Push page stays small and usable with 10,000 preview lines',
  { timeout: 180_000 },
  scenario(
    env,
    'scale-push',
    async (page) => {
      await page.addInitScript(() => {
        window.__longTasks = [];
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
        }).observe({ type: 'longtask', buffered: true });
      });
      await page.goto('/login');
      await page.getByLabel('Tenant', { exact: true }).fill(DEMO.tenant);
      await page.getByLabel('Email', { exact: true }).fill(DEMO.email);
      await page.getByLabel('Password', { exact: true }).fill(DEMO.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL('**/billing');

      // Opening the page: the plan is computed (ConnectWise read for every company), then shown.
      const summary = page.getByText(/^\d+ lines: \d+ to update, \d+ to create, \d+ to retire, \d+ unchanged, \d+ skipped\.$/);
      const list = page.getByRole('region', { name: 'Companies', exact: true });
      const collapsed = list.getByRole('button', { expanded: false });
      let computed = 0;
      figures.openPageMs = await timed(
        async () => {
          const response = page.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('query PreviewPush('), {
            timeout: 120_000,
          });
          const started = performance.now();
          await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Push', exact: true }).click();
          await response;
          computed = Math.round(performance.now() - started);
        },
        async () => {
          await visible(summary, 120_000);
          await visible(collapsed.first(), 60_000);
        },
      );
      figures.serverPreviewMs = computed;
      figures.renderAfterPreviewMs = figures.openPageMs - computed;
      const sentence = await summary.innerText();
      figures.lines = Number(/^(\d+) lines/.exec(sentence)[1]);
      assert.ok(figures.lines >= MIN_LINES, `the scaled demo plans at least ${MIN_LINES} lines: ${sentence}`);
      const count = await list.getByText(/^\d+ companies with matching lines/).innerText();
      figures.companies = Number(/^(\d+)/.exec(count)[1]);
      assert.ok(figures.companies > 1000, count);
      // One page of companies, and not one line until a company is opened.
      assert.equal(await collapsed.count(), 50, 'fifty companies a page');
      assert.equal(await page.getByRole('row').count(), 0, 'no line is rendered before a company is opened');
      Object.assign(figures, Object.fromEntries(Object.entries(await pageFigures(page)).map(([k, v]) => [`${k} (opened)`, v])));
      await shot(page, 'scale-01-push');

      // Opening a company: its lines, from the cached plan.
      const first = collapsed.first();
      const name = companyName(await first.innerText());
      figures.openCompanyMs = await timed(
        () => first.click(),
        () => visible(page.getByRole('table', { name: `Additions for ${name}`, exact: true })),
      );
      const rows = await page.getByRole('table', { name: `Additions for ${name}`, exact: true }).getByRole('row').count();
      assert.ok(rows > 1 && rows <= 101, `one page of the company's lines (${rows - 1})`);

      // All lines instead of changes only: the companies are counted again on the server.
      const show = page.getByLabel('Show', { exact: true });
      const before = count;
      figures.filterAllLinesMs = await timed(
        () => show.selectOption('ALL'),
        () => until('the companies to be counted again', async () => (await list.getByText(/^\d+ companies with matching lines/).innerText()) !== before, 60_000),
      );
      // The next page of companies.
      const firstName = async () => companyName(await list.getByRole('button', { expanded: false }).first().innerText());
      const page1 = await firstName();
      figures.nextPageMs = await timed(
        () => list.getByRole('button', { name: 'Next page', exact: true }).last().click(),
        () => until('the second page of companies', async () => (await firstName()) !== page1),
      );
      Object.assign(figures, Object.fromEntries(Object.entries(await pageFigures(page)).map(([k, v]) => [`${k} (after use)`, v])));
      assert.ok(figures['elements (after use)'] < 5_000, `the page stays small: ${figures['elements (after use)']} elements`);
      await shot(page, 'scale-02-push-paged');
    },
    { gate: true },
  ),
);
