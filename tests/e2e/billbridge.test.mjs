// billbridge in a real browser: the demo tenant, signed in once, walked through in order
// in one browser context — sign-in, the Add Billing Mapping cascade, the level
// suggestion, deleting a mapping, the push preview, a push with its progress, the run's
// skipped lines, the accounts, an API token's life, a remapped plan whose pushed
// additions the next push retires, and an import of the demo's usage export.
//
// Elements are found by role, label and text as `.ui-contract.md` names them (never by
// CSS class), and every step waits for the state it needs; nothing sleeps.
//
// Run with `.ci/e2e` (it starts `billbridge serve --demo` and sets BASE_URL).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ARTIFACTS,
  BASE_URL,
  gone,
  graphqlWithToken,
  openBrowser,
  rowByHeaders,
  scenario,
  selectOptionMatching,
  shot,
  tableRows,
  until,
  visible,
} from './harness.mjs';

const DEMO = { tenant: 'demo', email: 'admin@demo.billbridge.local', password: 'demo-password' };
const SERVICE = 'Intronis Backup';
const PRODUCT = 'Intronis Backup Plan';

/** The push preview's summary sentence. */
const PLAN_SENTENCE = /^\d+ lines: \d+ to update, \d+ to create, \d+ to retire, \d+ unchanged, \d+ skipped\.$/;

/** A monthly amount as the SPA writes it in the en-GB browser: 2 decimals, no currency. */
const AMOUNT = String.raw`\d{1,3}(?:,\d{3})*\.\d{2}`;
/** What a plan or a run means a month, before the lines; its change signed (+ or −). */
const MONEY_SENTENCE = new RegExp(String.raw`^Monthly change: ([+−]?)(${AMOUNT}) \(from (${AMOUNT}) to (${AMOUNT})\)\.$`);
/** A line's or a company's monthly amount: before → after, and the change when there is one. */
const MONTHLY = new RegExp(String.raw`^${AMOUNT} → ${AMOUNT}(?: \([+−]${AMOUNT}\))?`);

/** An account cell: the accounts, then the subscriptions they serve on the next line. */
const accountsOf = (cell) => (cell ?? '').split('\n')[0];

const env = {};
let runId = null; // the run started in "push now", opened again from History

before(async () => {
  Object.assign(env, await openBrowser());
  console.log(`testing ${BASE_URL}; screenshots in ${ARTIFACTS}`);
});

after(async () => {
  await env.browser?.close();
});

const heading = (page, name) => page.getByRole('heading', { level: 1, name, exact: true });
const mainNav = (page) => page.getByRole('navigation', { name: 'Main' });

/** Goes to a page through the Main navigation and waits for its h1. */
async function navigate(page, link, title = link) {
  await mainNav(page).getByRole('link', { name: link, exact: true }).click();
  await visible(heading(page, title));
}

/** The Billing Setup page of a service, from the Billing page's table. */
async function openBillingSetup(page, service) {
  await navigate(page, 'Billing');
  await page.getByRole('link', { name: service, exact: true }).click();
  await visible(heading(page, `Billing Setup — ${service}`));
  const table = page.getByRole('table', { name: 'Billing mappings' });
  await visible(table);
  return table;
}

/** The row of the Billing mappings table for a product and plan (or `(All plans)`). */
function mappingRow(table, product, plan) {
  return table
    .getByRole('row')
    .filter({ hasText: product })
    .filter({ has: table.page().getByRole('cell', { name: plan, exact: true }) });
}

/** The innermost section of the page whose h2 is `name`. */
function section(page, name) {
  return page.locator('section', { has: page.getByRole('heading', { level: 2, name, exact: true }) }).last();
}

/**
 * Opens the Add Billing Mapping dialog and walks the cascade up to the Level field,
 * checking that each control is enabled only once the previous one has a value.
 */
async function startMapping(page, plan) {
  await page.getByRole('button', { name: 'Add Billing Mapping' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add Billing Mapping' });
  await visible(dialog);

  const type = dialog.getByLabel('Type', { exact: true });
  const product = dialog.getByLabel('Product/Services', { exact: true });
  const uniqueId = dialog.getByLabel('Unique ID/Plan', { exact: true });
  const level = dialog.getByLabel('Level', { exact: true });
  const usage = dialog.getByRole('radiogroup', { name: 'Usage Value' });
  const confirm = dialog.getByRole('button', { name: 'Confirm', exact: true });

  // The cascade: each control waits for the one before it.
  await visible(type);
  for (const [control, what] of [
    [product, 'Product/Services'],
    [uniqueId, 'Unique ID/Plan'],
    [level, 'Level'],
    [confirm, 'Confirm'],
  ]) {
    assert.equal(await control.isEnabled(), false, `${what} is enabled before a Type is chosen`);
  }
  // The read-only service is not offered.
  const types = await type.locator('option').allInnerTexts();
  assert.ok(types.includes(SERVICE) && !types.includes('Content Shield'), `Type choices: ${types}`);

  await selectOptionMatching(type, SERVICE);
  await selectOptionMatching(product, PRODUCT);
  await until('Unique ID/Plan to be enabled', () => uniqueId.isEnabled());
  const plans = await uniqueId.locator('option').allInnerTexts();
  assert.equal(plans[0].trim(), '(All plans)', 'the first Unique ID/Plan option is (All plans)');
  await selectOptionMatching(uniqueId, new RegExp(`^${plan}\\b`));
  await until('Level to be enabled', () => level.isEnabled());
  await visible(usage);
  assert.equal(await confirm.isEnabled(), false, 'Confirm is enabled before a level and usage value');
  return { dialog, level, usage, confirm };
}

test(
  '1. sign in: a wrong password is refused on /login; the right one lands on /billing',
  { timeout: 60_000 },
  scenario(env, 'sign-in', async (page) => {
    await page.goto('/');
    await page.waitForURL('**/login');
    await visible(page.getByRole('button', { name: 'Sign in' }));
    await page.getByLabel('Tenant', { exact: true }).fill(DEMO.tenant);
    await page.getByLabel('Email', { exact: true }).fill(DEMO.email);
    await shot(page, '01-login');

    await page.getByLabel('Password', { exact: true }).fill('not-the-demo-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = await visible(page.getByRole('alert'));
    assert.match(await alert.innerText(), /wrong|invalid|incorrect/i, 'the alert says the credentials are wrong');
    assert.equal(new URL(page.url()).pathname, '/login', 'a refused sign-in stays on /login');
    await shot(page, '02-login-refused');

    await page.getByLabel('Password', { exact: true }).fill(DEMO.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/billing');
    await visible(heading(page, 'Billing'));
    const banner = page.getByRole('banner');
    await until('the banner to name the tenant and the role', async () => {
      const text = await banner.innerText();
      return text.includes('demo') && text.includes('ADMIN');
    });
    await visible(mainNav(page));
    // The services table, with the read-only service marked.
    await visible(page.getByRole('link', { name: SERVICE, exact: true }));
    const contentShield = page.getByRole('row').filter({ hasText: 'Content Shield' });
    await visible(contentShield.getByText('Read-only', { exact: true }));
    await shot(page, '03-billing');
  }, { gate: true }),
);

test(
  '2. add a mapping through the whole cascade and see it in the Billing mappings table',
  { timeout: 60_000 },
  scenario(env, 'add-mapping', async (page) => {
    const table = await openBillingSetup(page, SERVICE);
    await shot(page, '04-billing-setup');
    await shot(page, 'billing-setup'); // for README
    const row = mappingRow(table, PRODUCT, 'IB-250');
    assert.equal(await row.count(), 0, 'the demo has no IB-250 mapping yet');

    const { dialog, level, usage, confirm } = await startMapping(page, 'IB-250');
    await level.fill('Silver');
    await usage.getByRole('radio', { name: 'Total usage', exact: true }).check();
    // The worked example for the chosen plan is shown with the choices.
    await visible(usage.getByText(/GB/).first());
    await until('Confirm to be enabled', () => confirm.isEnabled());
    await shot(page, '05-cascade-dialog');
    await confirm.click();
    await gone(dialog);

    await visible(row);
    const cells = await rowByHeaders(table, row);
    assert.equal(cells['Product'], PRODUCT);
    assert.equal(cells['Unique ID/Plan'], 'IB-250');
    assert.equal(cells['Level'], 'Silver');
    assert.match(cells['Usage Value'], /total usage/i);
    // Silver is cross-referenced in ConnectWise for storage only: the other metrics are flagged.
    assert.match(cells['Warnings'], /Silver[\s\S]*LocalBackup/, `warnings: ${cells['Warnings']}`);
    assert.doesNotMatch(cells['Warnings'], /BackupUsage/, 'storage (BackupUsage) is cross-referenced');
    assert.equal(await mappingRow(table, PRODUCT, 'IB-250').count(), 1, 'one IB-250 row');
  }),
);

test(
  '3. a level that differs only in case gets the server’s suggestion, which can be applied',
  { timeout: 60_000 },
  scenario(env, 'level-suggestion', async (page) => {
    const table = await openBillingSetup(page, SERVICE);
    const row = mappingRow(table, PRODUCT, 'IB-100');
    assert.equal(await row.count(), 0, 'the demo has no IB-100 mapping yet');

    const { dialog, level, usage, confirm } = await startMapping(page, 'IB-100');
    await level.fill('premium');
    await usage.getByRole('radio', { name: 'Additional usage', exact: true }).check();
    await confirm.click();

    // The server refuses it; the dialog stays open with the near match by the Level field.
    await visible(dialog.getByText('Did you mean “Premium”?', { exact: true }));
    assert.equal(await level.getAttribute('aria-invalid'), 'true', 'the Level field is marked invalid');
    await shot(page, '06-level-suggestion');
    await dialog.getByRole('button', { name: 'Use “Premium”', exact: true }).click();
    await until('the Level field to read Premium', async () => (await level.inputValue()) === 'Premium');
    await gone(dialog.getByText('Did you mean “Premium”?', { exact: true }));
    // Applying may save at once or leave it to Confirm.
    if (await confirm.isVisible()) await confirm.click();
    await gone(dialog);

    await visible(row);
    const cells = await rowByHeaders(table, row);
    assert.equal(cells['Unique ID/Plan'], 'IB-100');
    assert.equal(cells['Level'], 'Premium');
    assert.match(cells['Usage Value'], /additional usage/i);
  }),
);

test(
  '4. delete a mapping: trash can, confirm, and it is gone',
  { timeout: 60_000 },
  scenario(env, 'delete-mapping', async (page) => {
    const table = await openBillingSetup(page, SERVICE);
    const row = mappingRow(table, PRODUCT, 'IB-250');
    await visible(row);
    const rowsBefore = await table.getByRole('row').count();

    await page.getByRole('button', { name: `Delete mapping for ${PRODUCT} / IB-250`, exact: true }).click();
    const confirm = page.getByRole('alertdialog').or(page.getByRole('dialog'));
    await visible(confirm);
    assert.match(await confirm.innerText(), /IB-250/, 'the confirmation names the mapping');
    await shot(page, '07-delete-confirm');
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await gone(confirm);

    await gone(row);
    assert.equal(await table.getByRole('row').count(), rowsBefore - 1, 'exactly one row went');
    // The demo's own mappings are still there.
    await visible(mappingRow(table, PRODUCT, 'IB-500'));
    await visible(mappingRow(table, PRODUCT, 'IB-1TB'));
    await visible(mappingRow(table, PRODUCT, '(All plans)'));
  }),
);

test(
  '5. preview the push, grouped by company',
  { timeout: 60_000 },
  scenario(env, 'push-preview', async (page) => {
    await navigate(page, 'Push');
    await visible(page.getByRole('button', { name: 'Refresh preview', exact: true }));
    // Companies of the demo as group headings, each with its lines: before → after.
    const acme = page.getByRole('heading', { name: 'Acme Dental', exact: true });
    await visible(acme);
    const acmeLines = await tableRows(page.getByRole('table', { name: 'Additions for Acme Dental' }));
    assert.ok(acmeLines.length > 0, 'Acme Dental has lines');
    assert.ok(
      acmeLines.some((l) => /→/.test(l['Quantity'] ?? Object.values(l).join(' '))),
      `Acme Dental's lines show before → after: ${JSON.stringify(acmeLines)}`,
    );
    // Under each line's accounts, the subscription it serves; its monthly amount (the demo's
    // catalog has prices).
    assert.ok(
      acmeLines.every((l) => /\n\S/.test(l['Accounts'])) && acmeLines.some((l) => /\nIntronis Backup Plan \/ IB-/.test(l['Accounts'])),
      `Acme Dental's lines name their subscription: ${JSON.stringify(acmeLines.map((l) => l['Accounts']))}`,
    );
    assert.ok(
      acmeLines.some((l) => MONTHLY.test(l['Monthly']) && /\(\+/.test(l['Monthly'])),
      `an Acme Dental line bills more a month: ${JSON.stringify(acmeLines.map((l) => l['Monthly']))}`,
    );
    // The money before the lines: the first push adds to what the demo's companies are billed.
    const money = await visible(page.getByText(/^Monthly change: /));
    const moneyText = await money.innerText();
    const [, sign, change, from, to] = MONEY_SENTENCE.exec(moneyText) ?? [];
    assert.equal(sign, '+', `the preview's monthly change is positive: ${moneyText}`);
    const amount = (a) => Number(a.replaceAll(',', ''));
    assert.ok(amount(change) > 0, moneyText);
    assert.ok(Math.abs(amount(from) + amount(change) - amount(to)) < 0.015, `from + change = to: ${moneyText}`);
    const firstTable = page.getByRole('table', { name: /^Additions for / }).first();
    assert.ok(
      await money.evaluate((el, table) => Boolean(el.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING), await firstTable.elementHandle()),
      'the money is shown before the lines',
    );
    // A company whose amount changes shows it by its heading.
    const acmeMoney = await visible(page.getByRole('region', { name: 'Acme Dental', exact: true }).getByText(/^Monthly: /));
    assert.match(await acmeMoney.innerText(), new RegExp(String.raw`^Monthly: ${AMOUNT} → ${AMOUNT} \(\+${AMOUNT}\)$`));

    const companies = await page.getByRole('heading', { level: 3 }).allInnerTexts();
    assert.ok(companies.length >= 40, `the preview is grouped by company (saw ${companies.length} groups)`);
    assert.deepEqual(
      companies.filter((c) => c !== 'No ConnectWise company'),
      [...companies.filter((c) => c !== 'No ConnectWise company')].sort((a, b) => a.localeCompare(b)),
      'companies in alphabetical order',
    );
    // The account claimed by two companies is skipped, with its reason and the fix.
    const quartz = page.getByRole('row').filter({ hasText: 'quartz-labs' }).first();
    await visible(quartz);
    assert.match(await quartz.innerText(), /Several ConnectWise companies claim the account/);
    assert.match(await quartz.innerText(), /How to fix/);
    await shot(page, '08-push-preview');
  }),
);

test(
  '6. push now: the progress bar reaches the end and a summary shows the result',
  { timeout: 120_000 },
  scenario(env, 'push-now', async (page) => {
    if (!(await heading(page, 'Push').isVisible())) await navigate(page, 'Push');
    // Record every value the progress bar shows: the demo's push is quick, so a poll
    // from outside could miss the steps between the first and the last.
    await page.evaluate(() => {
      const seen = [];
      window.__pushProgress = seen;
      const record = () => {
        const bar = [...document.querySelectorAll('[role="progressbar"]')].find(
          (el) => el.getAttribute('aria-label') === 'Push progress',
        );
        if (!bar) return;
        const v = [Number(bar.getAttribute('aria-valuenow')), Number(bar.getAttribute('aria-valuemax'))];
        const last = seen[seen.length - 1];
        if (!last || last[0] !== v[0] || last[1] !== v[1]) seen.push(v);
      };
      new MutationObserver(record).observe(document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['aria-valuenow', 'aria-valuemax'],
      });
    });
    await page.getByRole('button', { name: 'Push now', exact: true }).click();

    const summary = page.getByRole('status').filter({ hasText: /SUCCEEDED|PARTIAL|FAILED|CANCELLED/ });
    await visible(summary, 90_000);

    const link = summary.getByRole('link', { name: 'View run', exact: true });
    const href = await link.getAttribute('href');
    const m = /\/history\/(\d+)$/.exec(href ?? '');
    assert.ok(m, `View run links to /history/:id (got ${href})`);
    runId = m[1];

    const text = await summary.innerText();
    assert.match(text, /SUCCEEDED/, `the demo push succeeds: ${text}`);
    const counts = /(\d+) written, (\d+) unchanged, (\d+) skipped, (\d+) failed of (\d+) lines/.exec(text);
    assert.ok(counts, `the summary has the counts: ${text}`);
    const [written, unchanged, skipped, failed, total] = counts.slice(1).map(Number);
    assert.equal(written + unchanged + skipped + failed, total, 'the counts add up');
    assert.ok(written > 0 && skipped > 0 && failed === 0, `written ${written}, skipped ${skipped}, failed ${failed}`);
    // Quantities are set, not added: once the preview has refreshed after the push,
    // nothing is left to write.
    const planLine = page.getByText(PLAN_SENTENCE);
    const expected = `${total} lines: 0 to update, 0 to create, 0 to retire, ${written} unchanged, ${skipped} skipped.`;
    let shown = '';
    try {
      await until(`the preview to read "${expected}"`, async () => (shown = await planLine.innerText()) === expected);
    } catch {
      assert.equal(shown, expected, 'the preview after the push has nothing left to write');
    }

    await shot(page, '09-push-done');

    const seen = await page.evaluate(() => window.__pushProgress);
    assert.ok(seen.length > 0, 'a progress bar named Push progress was shown');
    const [now, max] = seen[seen.length - 1];
    assert.ok(max > 10, `the demo push has more than 10 lines (saw ${JSON.stringify(seen)})`);
    assert.equal(now, max, `the progress bar reached its end (aria-valuenow == aria-valuemax; saw ${JSON.stringify(seen)})`);
    assert.equal(max, total, 'the bar counts the lines the summary counts');
    for (let i = 1; i < seen.length; i++) {
      assert.ok(seen[i][0] >= seen[i - 1][0], `progress never goes back: ${JSON.stringify(seen)}`);
    }
  }),
);

test(
  '7. open the run from History and find the skipped lines with their reasons',
  { timeout: 60_000 },
  scenario(env, 'run-skipped', async (page) => {
    assert.ok(runId, 'scenario 6 started a run');
    await navigate(page, 'History');
    const runLink = page.getByRole('link', { name: `Run ${runId}`, exact: true });
    await visible(runLink);
    await shot(page, '10-history');
    await runLink.click();
    await page.waitForURL(`**/history/${runId}`);
    await visible(heading(page, `Run ${runId}`));
    // The run's money, as the preview showed it.
    assert.match(await (await visible(page.getByText(/^Monthly change: /))).innerText(), MONEY_SENTENCE);
    await shot(page, '11-run');

    const table = page.getByRole('table', { name: 'Run lines' });
    await visible(table);
    const all = await tableRows(table);
    assert.ok(all.some((l) => /^Written/.test(l['Outcome'])), 'the unfiltered run has written lines');

    await selectOptionMatching(page.getByLabel('Outcome', { exact: true }), 'Skipped');
    const lines = await until('only skipped lines to be listed', async () => {
      const rows = await tableRows(table);
      return rows.length > 0 && rows.every((l) => /^Skipped/.test(l['Outcome'])) ? rows : null;
    });
    const byAccount = (name) => lines.filter((l) => accountsOf(l['Accounts']) === name);
    // quartz-labs is claimed by two companies; zenith-media has no company in ConnectWise;
    // redwood-capital has two billable backup agreements; tidewater-marine's only one is
    // Expired; maple-pediatrics' local-backup addition is DoNotBill (a person's choice).
    const skippedFor = (name, reason) =>
      assert.ok(
        byAccount(name).some((l) => reason.test(l['Outcome'])),
        `${name} has a line skipped with ${reason}: ${JSON.stringify(byAccount(name))}`,
      );
    skippedFor('quartz-labs', /Several ConnectWise companies claim the account/);
    skippedFor('zenith-media', /Account not linked to a ConnectWise company/);
    skippedFor('redwood-capital', /Two or more billable agreements of the type/);
    skippedFor('tidewater-marine', /No billable agreement of the cross-referenced type\..*is Expired/s);
    skippedFor('maple-pediatrics', /An addition billbridge may not change already bills the product\..*is DoNotBill/s);
    // A company without one is shown as such; a skipped line has no quantity change.
    // An unlinked or claimed account has one skipped line per metric of its product.
    assert.ok(byAccount('quartz-labs').every((l) => l['Company'] === '—' && l['Quantity'] === '—' && l['Monthly'] === '—'));
    assert.ok(lines.every((l) => /How to fix: \S/.test(l['Outcome'])), 'every skipped line says how to fix it');
    const quartzRow = page.getByRole('row').filter({ hasText: 'quartz-labs' }).first();
    await visible(quartzRow);
    await quartzRow.scrollIntoViewIfNeeded();
    await shot(page, '12-run-skipped');

    // Billing shows it as each service's last push, linking back to the run.
    await navigate(page, 'Billing');
    const services = page.getByRole('table', { name: 'Services' });
    const intronis = services.getByRole('row').filter({ has: page.getByRole('link', { name: SERVICE, exact: true }) });
    const last = await rowByHeaders(services, await visible(intronis));
    assert.match(last['Last push'], /SUCCEEDED/);
    const runHref = await intronis.getByRole('link').filter({ hasNotText: SERVICE }).getAttribute('href');
    assert.equal(runHref, `/history/${runId}`, 'the last push links to the run');
  }),
);

test(
  '7b. accounts: paged, searched, and one opened',
  { timeout: 60_000 },
  scenario(env, 'accounts', async (page) => {
    await navigate(page, 'Accounts');
    const table = page.getByRole('table', { name: 'Accounts' });
    await visible(table);
    const first = await tableRows(table);
    assert.ok(first.length >= 10 && first.length < 50, `the 50 accounts are paged (first page: ${first.length})`);
    await shot(page, '13-accounts');
    // The last account alphabetically is on a later page.
    assert.ok(!first.some((a) => a['Account'] === 'zenith-media'));
    await page.getByRole('button', { name: 'Next page', exact: true }).click();
    await visible(table.getByRole('link', { name: 'zenith-media', exact: true }));
    await page.getByRole('button', { name: 'Previous page', exact: true }).click();
    await visible(table.getByRole('link', { name: first[0]['Account'], exact: true }));

    await page.getByLabel('Search accounts', { exact: true }).fill('quartz');
    const found = await until('the search to leave only quartz-labs', async () => {
      const rows = await tableRows(table);
      return rows.length === 1 && rows[0]['Account'] === 'quartz-labs' ? rows : null;
    });
    assert.match(found[0]['ConnectWise link'], /ambiguous|several|two/i, 'quartz-labs is shown as ambiguous');
    await table.getByRole('link', { name: 'quartz-labs', exact: true }).click();
    await page.waitForURL(/\/accounts\/[^/]+$/);
    await visible(heading(page, 'quartz-labs'));
    await visible(page.getByText('Ambiguous', { exact: true }));
    await visible(page.getByRole('heading', { level: 2, name: 'Usage over time', exact: true }));
    // The push of scenario 6 skipped it, and the account page says why.
    const pushed = await tableRows(await visible(page.getByRole('table', { name: 'Last pushed' })));
    assert.ok(pushed.length > 0, 'the account page lists the last pushed lines');
    for (const l of pushed) assert.match(l['Outcome'], /Several ConnectWise companies claim the account/);
    await shot(page, '14-account');

    // jade-architects' storage addition is cancelled from next month: the push added its
    // successor, starting that day, so the two never bill at once.
    await navigate(page, 'Accounts');
    await page.getByLabel('Search accounts', { exact: true }).fill('jade');
    await until('the search to leave only jade-architects', async () => {
      const rows = await tableRows(table);
      return rows.length === 1 && rows[0]['Account'] === 'jade-architects';
    });
    await table.getByRole('link', { name: 'jade-architects', exact: true }).click();
    await visible(heading(page, 'jade-architects'));
    const jade = await tableRows(await visible(page.getByRole('table', { name: 'Last pushed' })));
    const storage = jade.filter((l) => /^BackupUsage\b/.test(l['Metric / level']));
    const now = new Date();
    const nextMonth = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' }).format(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1),
    );
    assert.equal(storage.length, 1, `one storage line: ${JSON.stringify(jade)}`);
    assert.match(storage[0]['Quantity'], new RegExp(`^none → \\S+\\nstarts ${nextMonth}$`), JSON.stringify(storage[0]));
    assert.match(storage[0]['Outcome'], /^Written\b[\s\S]*when addition \d+ \(cancelled from then\) stops billing/, JSON.stringify(storage[0]));
    await page.getByRole('table', { name: 'Last pushed' }).getByRole('row').filter({ hasText: 'BackupUsage' }).first().scrollIntoViewIfNeeded();
    await shot(page, '14b-account-successor');
  }),
);

test(
  '8. an API token: created and shown once, works as a bearer, revoked, then refused',
  { timeout: 60_000 },
  scenario(env, 'api-token', async (page) => {
    await navigate(page, 'Settings');
    for (const name of ['ConnectWise connection', 'Push schedule', 'Push settings', 'API tokens', 'Users', 'Audit log']) {
      await visible(page.getByRole('heading', { level: 2, name, exact: true }));
    }
    await visible(section(page, 'ConnectWise connection').getByRole('button', { name: 'Test connection', exact: true }));
    // The mappings added and deleted in scenarios 2–4 are in the audit log, by the admin.
    const audit = await tableRows(await visible(page.getByRole('table', { name: 'Audit log' })));
    const mine = audit.filter((e) => e['Who'] === DEMO.email);
    assert.ok(mine.some((e) => /added mapping/.test(e['What changed'])), `audit log: ${JSON.stringify(audit.slice(0, 5))}`);
    assert.ok(mine.some((e) => /deleted mapping/.test(e['What changed'])), 'the deletion is in the audit log');
    await shot(page, '15-settings');

    const tokens = section(page, 'API tokens');
    const name = `e2e token ${Date.now()}`;
    await tokens.getByLabel('Token name', { exact: true }).fill(name);
    await selectOptionMatching(tokens.getByLabel('Role', { exact: true }), /viewer/i);
    await tokens.getByRole('button', { name: 'Create token', exact: true }).click();
    const field = await visible(page.getByLabel('New API token', { exact: true }));
    const token = await until('the new token to be shown', async () => (await field.inputValue()).trim());
    assert.match(token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/, 'the token is a JWT');
    assert.equal(await field.getAttribute('readonly'), '', 'the token field is read-only');
    await shot(page, '16-api-token-created');

    // It really works, from outside the browser.
    const ok = await graphqlWithToken(token, '{ levels { name } }');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.errors, undefined, JSON.stringify(ok.body.errors));
    assert.ok(ok.body.data.levels.some((l) => l.name === 'Premium'), 'the token reads the tenant');

    const row = page.getByRole('table', { name: 'API tokens' }).getByRole('row').filter({ hasText: name });
    await visible(row);
    assert.match(await row.innerText(), /VIEWER/i, 'the new token is listed with its role');
    await row.getByRole('button', { name: `Revoke ${name}`, exact: true }).click();
    const confirm = page.getByRole('alertdialog').or(page.getByRole('dialog'));
    await visible(confirm);
    await confirm.getByRole('button', { name: 'Revoke', exact: true }).click();
    await gone(confirm);
    await visible(row.getByText('Revoked', { exact: true }));
    // The call made with it above is recorded as its last use.
    const listed = await rowByHeaders(page.getByRole('table', { name: 'API tokens' }), row);
    assert.match(listed['Last used'], /\d{4}/, `the token's last use is shown: ${JSON.stringify(listed)}`);
    assert.equal(await page.getByRole('button', { name: `Revoke ${name}` }).count(), 0, 'a revoked token has no Revoke button');
    await shot(page, '17-api-token-revoked');

    const refused = await graphqlWithToken(token, '{ levels { name } }');
    const code = refused.body?.errors?.[0]?.extensions?.code;
    assert.ok(
      refused.status === 401 || code === 'UNAUTHENTICATED',
      `a revoked token is refused (HTTP ${refused.status}, ${JSON.stringify(refused.body)})`,
    );
  }),
);

test(
  '8b. remap → retire: IB-500 moves from Gold to level 1, and the preview retires the Gold additions pushed in 6',
  { timeout: 90_000 },
  scenario(env, 'remap-retire', async (page) => {
    // The demo's push settings set an addition no mapping wants to 0.
    await navigate(page, 'Settings');
    const settings = section(page, 'Push settings');
    const retireMode = settings.getByRole('radiogroup', { name: 'When no mapping wants an addition billbridge wrote' });
    await visible(retireMode);
    assert.equal(await retireMode.getByRole('radio', { name: 'Set it to 0', exact: true }).isChecked(), true, 'retire mode is ZERO');
    await visible(settings.getByRole('radiogroup', { name: 'When a person changed an addition in ConnectWise' }));
    await settings.scrollIntoViewIfNeeded();
    await shot(page, '18-push-settings');

    // Billing Setup: the demo maps IB-500 to Gold, which scenario 6 pushed.
    const table = await openBillingSetup(page, SERVICE);
    const row = mappingRow(table, PRODUCT, 'IB-500');
    await visible(row);
    assert.equal((await rowByHeaders(table, row))['Level'], 'Gold', 'the demo maps IB-500 to Gold');
    await page.getByRole('button', { name: `Edit mapping for ${PRODUCT} / IB-500`, exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit Billing Mapping' });
    await visible(dialog);
    const level = dialog.getByLabel('Level', { exact: true });
    assert.equal(await level.inputValue(), 'Gold', 'the dialog starts from the mapping’s level');
    await level.fill('1');
    const confirm = dialog.getByRole('button', { name: 'Confirm', exact: true });
    await until('Confirm to be enabled', () => confirm.isEnabled());
    await confirm.click();
    await gone(dialog);
    await until('the IB-500 row to read level 1', async () => (await rowByHeaders(table, row))['Level'] === '1');

    // The preview: every Gold addition billbridge wrote for IB-500's accounts is retired,
    // set from what it bills to 0.
    await navigate(page, 'Push');
    const summary = await visible(page.getByText(PLAN_SENTENCE));
    const toRetire = Number(/(\d+) to retire/.exec(await summary.innerText())[1]);
    assert.ok(toRetire > 0, `the summary counts lines to retire: ${await summary.innerText()}`);
    const retired = [];
    for (const additions of await page.getByRole('table', { name: /^Additions for / }).all()) {
      const company = ((await additions.getAttribute('aria-label')) ?? '').replace(/^Additions for /, '');
      for (const l of await tableRows(additions)) if (/^Retire\b/.test(l['Action'])) retired.push({ company, ...l });
    }
    assert.equal(retired.length, toRetire, `one Retire line per line to retire: ${JSON.stringify(retired)}`);
    for (const l of retired) {
      assert.match(l['Quantity'], /^\S+ → 0$/, `a retire sets the addition to 0: ${JSON.stringify(l)}`);
      assert.doesNotMatch(l['Quantity'], /^0 → 0$/, 'an addition already at 0 is not retired');
      assert.match(l['Action'], /no mapping wants addition \d+/, `the line says why: ${JSON.stringify(l)}`);
      // Products, when named, are Gold ones: nothing at level 1 is retired.
      assert.doesNotMatch(l['Agreement / product'], /IB-[A-Z]+-(L1|SILVER|PREMIUM)\b/, JSON.stringify(l));
    }
    // IB-STORAGE-GOLD is Gold's BackupUsage product (the cross-reference in ConnectWise).
    const storage = retired.filter((l) => l['Metric'] === 'BackupUsage');
    assert.ok(storage.length > 0, `the IB-STORAGE-GOLD (BackupUsage) additions are retired: ${JSON.stringify(retired)}`);
    // The same companies get level 1's storage product instead (created or adopted).
    const first = storage[0];
    const company = page.getByRole('table', { name: `Additions for ${first.company}`, exact: true });
    const replacement = (await tableRows(company)).filter((l) => l['Metric'] === 'BackupUsage' && l['Level'] === '1');
    assert.ok(replacement.length > 0, `${first.company} bills storage at level 1 instead: ${JSON.stringify(await tableRows(company))}`);

    const retireRow = company.getByRole('row').filter({ has: page.getByText('Retire', { exact: true }) }).first();
    await retireRow.scrollIntoViewIfNeeded();
    await shot(page, '19-push-retire');
    // Not pushed: the run of scenario 6 stays the tenant's last.
  }),
);

test(
  '8c. import the demo export: columns mapped, the dry run by outcome, imported, then the push',
  { timeout: 90_000 },
  scenario(env, 'import', async (page) => {
    await navigate(page, 'Import', 'Import usage');
    await selectOptionMatching(page.getByLabel('Service', { exact: true }), SERVICE);
    await page.getByLabel('Usage export (CSV)', { exact: true }).setInputFiles(new URL('../../demo/usage-import.csv', import.meta.url).pathname);
    const sample = await visible(page.getByRole('table', { name: 'First rows of the file' }));
    await visible(sample.getByText('acme-dental', { exact: true }));
    // Guessed from the headers: the account, its name, the plan, the date, two metrics.
    assert.equal(await page.getByLabel('Account', { exact: true }).inputValue(), 'Account');
    assert.equal(await page.getByLabel('Display name', { exact: true }).inputValue(), 'Account name');
    assert.equal(await page.getByLabel('Measured at', { exact: true }).inputValue(), 'Report date');
    // The rest chosen by hand.
    await page.getByLabel(/^Backup storage/).selectOption('Storage used (GB)');
    await page.getByLabel(/^Hyper-V host licensing/).selectOption('Hyper-V hosts');
    await page.getByLabel(/^VMware host licensing/).selectOption('VMware hosts');
    await shot(page, '20-import-mapping');

    await page.getByRole('button', { name: 'Dry run', exact: true }).click();
    const summary = await visible(page.getByText(/^Accounts: 2 new, 10 changed, 0 unchanged$/));
    assert.ok(summary);
    // Every value of the 12 rows (5 metrics) is new, or changed where the demo's weekly
    // samples happen to fall on the file's date.
    const usage = await (await visible(page.getByText(/^Usage values: \d+ new, \d+ changed, 0 unchanged$/))).innerText();
    const [, fresh, changed] = /(\d+) new, (\d+) changed/.exec(usage) ?? [];
    assert.equal(Number(fresh) + Number(changed), 60, usage);
    const rows = await tableRows(await visible(page.getByRole('table', { name: 'New rows' })));
    assert.ok(rows.some((r) => /kestrel-security/.test(r['Account'])), JSON.stringify(rows));
    assert.ok(rows.some((r) => /IB-100 → IB-250/.test(r['Product and plan'])), 'acme-dental moves plan');
    await shot(page, '21-import-dry-run');

    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await visible(page.getByText(/^Imported 12 rows\./));
    await page.getByRole('link', { name: 'Open the Push preview', exact: true }).click();
    await page.waitForURL('**/push');
  }),
);

test(
  '9. sign out: back on /login, and the app asks to sign in again',
  { timeout: 60_000 },
  scenario(env, 'sign-out', async (page) => {
    await page.getByRole('banner').getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL('**/login');
    await visible(page.getByRole('button', { name: 'Sign in', exact: true }));
    await page.goto('/billing');
    await page.waitForURL('**/login');
    await visible(page.getByLabel('Password', { exact: true }));
  }),
);
