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
  accessible,
  ARTIFACTS,
  BASE_URL,
  companyName,
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

/** Opens every collapsed company of the Push page's list; returns their line tables. */
async function openCompanies(page) {
  const list = page.getByRole('region', { name: 'Companies', exact: true });
  const collapsed = list.getByRole('button', { expanded: false });
  await visible(collapsed.first());
  // Each click expands one, so the first collapsed one is always the next.
  while ((await collapsed.count()) > 0) await collapsed.first().click();
  const count = await list.getByRole('button', { expanded: true }).count();
  await until(`${count} companies' lines to load`, async () => (await page.getByRole('table', { name: /^Additions for / }).count()) === count);
  return page.getByRole('table', { name: /^Additions for / }).all();
}

/**
 * A page or dialog state worth keeping: axe-core finds no accessibility violation in it,
 * then a screenshot of it. Every state the scenarios stop at goes through here.
 */
async function look(page, name) {
  await accessible(page, name);
  await shot(page, name);
}

const heading = (page, name) => page.getByRole('heading', { level: 1, name, exact: true });
const mainNav = (page) => page.getByRole('navigation', { name: 'Main' });

/** Whether `locator`'s element has focus. */
const focused = (locator) => locator.evaluate((el) => el === document.activeElement);

/**
 * Goes to a page through the Main navigation and waits for its h1, which takes focus when
 * the route changed (a link to the page already shown changes nothing).
 */
async function navigate(page, link, title = link) {
  const from = new URL(page.url()).pathname;
  const to = mainNav(page).getByRole('link', { name: link, exact: true });
  const moves = (await to.getAttribute('href')) !== from;
  await to.click();
  const h1 = await visible(heading(page, title));
  if (moves) await until(`focus to move to the heading “${title}”`, () => focused(h1));
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
  const plans = (await uniqueId.locator('option').allInnerTexts()).map((p) => p.trim());
  assert.equal(plans[0], '(All plans) (already mapped)', 'the first Unique ID/Plan option is (All plans), which the demo maps');
  // Plans in natural order, by size: 1 TB after 500 GB.
  const ids = plans.slice(1).map((p) => p.split(' ')[0]);
  assert.deepEqual(ids, ['IB-100', 'IB-250', 'IB-500', 'IB-1TB', 'IB-PAYG'], `plans in natural order: ${plans}`);
  assert.ok(plans.some((p) => /^IB-500\b.*\(already mapped\)$/.test(p)), `IB-500 is marked as mapped: ${plans}`);
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
    await look(page, '01-login');

    await page.getByLabel('Password', { exact: true }).fill('not-the-demo-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = await visible(page.getByRole('alert'));
    assert.match(await alert.innerText(), /wrong|invalid|incorrect/i, 'the alert says the credentials are wrong');
    assert.equal(new URL(page.url()).pathname, '/login', 'a refused sign-in stays on /login');
    await look(page, '02-login-refused');

    await page.getByLabel('Password', { exact: true }).fill(DEMO.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/billing');
    await visible(heading(page, 'Billing'));
    const banner = page.getByRole('banner');
    await until('the banner to name the tenant and the role', async () => {
      const text = await banner.innerText();
      return text.includes('demo') && text.includes('Admin');
    });
    await visible(mainNav(page));
    // A first load leaves focus alone; the first Tab reaches "Skip to content", which
    // moves focus into the page.
    await page.reload();
    const h1 = await visible(heading(page, 'Billing'));
    assert.equal(await focused(h1), false, 'the first load does not move focus to the heading');
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content', exact: true });
    assert.ok(await focused(skip), 'Skip to content is the first focusable element');
    await page.keyboard.press('Enter');
    await until('focus to be in the main region', () => page.getByRole('main').evaluate((el) => el.contains(document.activeElement)));
    // The services table, with the read-only service marked.
    await visible(page.getByRole('link', { name: SERVICE, exact: true }));
    const contentShield = page.getByRole('row').filter({ hasText: 'Content Shield' });
    await visible(contentShield.getByText('Read-only', { exact: true }));
    await look(page, '03-billing');
  }, { gate: true }),
);

test(
  '2. add a mapping through the whole cascade and see it in the Billing mappings table',
  { timeout: 60_000 },
  scenario(env, 'add-mapping', async (page) => {
    const table = await openBillingSetup(page, SERVICE);
    await look(page, '04-billing-setup');
    await shot(page, 'billing-setup'); // for README
    const row = mappingRow(table, PRODUCT, 'IB-250');
    assert.equal(await row.count(), 0, 'the demo has no IB-250 mapping yet');

    const { dialog, level, usage, confirm } = await startMapping(page, 'IB-250');
    await level.fill('Silver');
    await usage.getByRole('radio', { name: 'Total usage', exact: true }).check();
    // The worked example for the chosen plan is shown with the choices.
    await visible(usage.getByText(/GB/).first());
    await until('Confirm to be enabled', () => confirm.isEnabled());
    // Silver has no cross-reference for some of the product's metrics: said before Confirm.
    const before = await visible(dialog.getByText('Before you confirm:', { exact: true }));
    assert.match(await before.locator('xpath=..').innerText(), /level “Silver”: .*LocalBackup/);
    await look(page, '05-cascade-dialog');
    await confirm.click();
    await gone(dialog);
    // Saved, in green; what it will not push, in amber, apart from it.
    const saved = await visible(page.getByRole('status').filter({ hasText: 'Billing mapping saved.' }));
    assert.doesNotMatch(await saved.innerText(), /cross-reference/, 'the green notice holds no warning');
    await visible(page.getByRole('status').filter({ hasText: /^Saved, but:[\s\S]*Silver/ }));

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

    let { dialog, level, usage, confirm } = await startMapping(page, 'IB-100');
    await level.fill('premium');
    await usage.getByRole('radio', { name: 'Additional usage', exact: true }).check();
    await confirm.click();

    // The server refuses it: the dialog stays open, its alert announces the refusal and
    // takes focus, written for people (no `level: ` field prefix, the suggestion once).
    const alert = await visible(dialog.getByRole('alert'));
    await until('focus to be on the alert, inside the dialog', () =>
      alert.evaluate((el) => el.contains(document.activeElement) && el.closest('[role="dialog"]') !== null),
    );
    const said = await alert.innerText();
    assert.match(said, /^Not saved\.\s+level "premium" has no cross-reference/, `the message: ${said}`);
    assert.doesNotMatch(said, /level: /, `no field prefix: ${said}`);
    assert.equal(said.match(/did you mean/gi)?.length, 1, `one suggestion: ${said}`);
    assert.equal(await level.getAttribute('aria-invalid'), 'true', 'the Level field is marked invalid');
    // Confirm and Cancel are still in view.
    for (const name of ['Confirm', 'Cancel']) {
      const box = await dialog.getByRole('button', { name, exact: true }).boundingBox();
      assert.ok(box && box.y >= 0 && box.y + box.height <= page.viewportSize().height, `${name} is in view: ${JSON.stringify(box)}`);
    }
    await look(page, '06-level-suggestion');

    // Escape still closes it, and focus goes back to the button that opened it.
    await page.keyboard.press('Escape');
    await gone(dialog);
    await until('focus to be back on Add Billing Mapping', () =>
      page.getByRole('button', { name: 'Add Billing Mapping', exact: true }).evaluate((el) => el === document.activeElement),
    );

    // Again, and this time the suggestion is taken.
    ({ dialog, level, usage, confirm } = await startMapping(page, 'IB-100'));
    await level.fill('premium');
    await usage.getByRole('radio', { name: 'Additional usage', exact: true }).check();
    await confirm.click();
    const use = await visible(dialog.getByRole('alert').getByRole('button', { name: 'Use “Premium”', exact: true }));
    await use.click();
    await until('the Level field to read Premium', async () => (await level.inputValue()) === 'Premium');
    await gone(dialog.getByRole('alert'));
    await confirm.click();
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
    await look(page, '07-delete-confirm');
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
  '5. preview the push: the summary first, companies collapsed, filters on the server',
  { timeout: 60_000 },
  scenario(env, 'push-preview', async (page) => {
    await navigate(page, 'Push');
    await visible(page.getByRole('button', { name: 'Refresh preview', exact: true }));
    // The money first: the first push adds to what the demo's companies are billed.
    const money = await visible(page.getByText(/^Monthly change: /));
    const moneyText = await money.innerText();
    const [, sign, change, from, to] = MONEY_SENTENCE.exec(moneyText) ?? [];
    assert.equal(sign, '+', `the preview's monthly change is positive: ${moneyText}`);
    const amount = (a) => Number(a.replaceAll(',', ''));
    assert.ok(amount(change) > 0, moneyText);
    assert.ok(Math.abs(amount(from) + amount(change) - amount(to)) < 0.015, `from + change = to: ${moneyText}`);

    // Then the companies, collapsed, each with its counts and monthly change.
    const list = page.getByRole('region', { name: 'Companies', exact: true });
    const acme = list.getByRole('region', { name: 'Acme Dental', exact: true });
    const acmeButton = acme.getByRole('button', { name: /^Acme Dental\b/ });
    await visible(acmeButton);
    assert.equal(await acmeButton.getAttribute('aria-expanded'), 'false', 'companies come collapsed');
    assert.equal(await page.getByRole('table', { name: /^Additions for / }).count(), 0, 'no line is shown before a company is opened');
    assert.ok(
      await money.evaluate((el, button) => Boolean(el.compareDocumentPosition(button) & Node.DOCUMENT_POSITION_FOLLOWING), await acmeButton.elementHandle()),
      'the money is shown before the companies',
    );
    assert.match(await acmeButton.innerText(), /\d+ lines?: \d+ to create/, 'a company counts its lines');
    const acmeMoney = await visible(acme.getByText(/^Monthly: /));
    assert.match(await acmeMoney.innerText(), new RegExp(String.raw`^Monthly: ${AMOUNT} → ${AMOUNT} \(\+${AMOUNT}\)$`));
    const names = (await list.getByRole('button', { expanded: false }).allInnerTexts()).map(companyName);
    assert.ok(names.length >= 40, `the preview lists its companies (saw ${names.length})`);
    const named = names.filter((c) => c !== 'No ConnectWise company');
    assert.deepEqual(named, [...named].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())), 'companies in alphabetical order');

    // Opened, a company shows its lines: before → after, the subscription, the money.
    await acmeButton.click();
    const acmeLines = await tableRows(await visible(page.getByRole('table', { name: 'Additions for Acme Dental' })));
    assert.ok(acmeLines.length > 0, 'Acme Dental has lines');
    assert.ok(
      acmeLines.every((l) => /→/.test(l['Quantity'])),
      `Acme Dental's lines show before → after: ${JSON.stringify(acmeLines)}`,
    );
    // "Changes only" by default: every line shown writes.
    assert.ok(
      acmeLines.every((l) => /^(Update|Create|Retire)/.test(l['Action'])),
      `only changes: ${JSON.stringify(acmeLines.map((l) => l['Action']))}`,
    );
    assert.ok(
      acmeLines.every((l) => /\n\S/.test(l['Accounts'])) && acmeLines.some((l) => /\nIntronis Backup Plan \/ IB-/.test(l['Accounts'])),
      `Acme Dental's lines name their subscription: ${JSON.stringify(acmeLines.map((l) => l['Accounts']))}`,
    );
    assert.ok(
      acmeLines.some((l) => MONTHLY.test(l['Monthly']) && /\(\+/.test(l['Monthly'])),
      `an Acme Dental line bills more a month: ${JSON.stringify(acmeLines.map((l) => l['Monthly']))}`,
    );
    await look(page, '08-push-preview');

    // A skip reason of the summary, shown: only the company-less lines it skips are listed.
    await page
      .getByRole('listitem')
      .filter({ hasText: 'Several ConnectWise companies claim the account' })
      .getByRole('button', { name: 'Show them', exact: true })
      .click();
    assert.equal(await page.getByLabel('Show', { exact: true }).inputValue(), 'SKIP');
    const none = list.getByRole('button', { name: /^No ConnectWise company\b/ });
    await until('only the company-less group to be listed', async () => (await list.getByRole('button').count()) === 1 && (await none.isVisible()));
    await none.click();
    const rows = await tableRows(await visible(page.getByRole('table', { name: 'Additions for No ConnectWise company' })));
    assert.ok(rows.length > 0 && rows.every((l) => /Several ConnectWise companies claim the account/.test(l['Action'])), JSON.stringify(rows));
    const quartz = rows.find((l) => accountsOf(l['Accounts']) === 'quartz-labs');
    assert.ok(quartz, `quartz-labs is skipped for the two companies claiming it: ${JSON.stringify(rows)}`);
    assert.match(quartz['Action'], /How to fix/);
    await look(page, '08a-push-preview-filtered');
    // Back to the changes for the push.
    await page.getByLabel('Show', { exact: true }).selectOption('CHANGES');
    await page.getByLabel('Skip reason', { exact: true }).selectOption('');
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
    // Push now asks first, naming what it will write.
    await page.getByRole('button', { name: 'Push now', exact: true }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Push to ConnectWise?' });
    await visible(confirm);
    const consequence = await confirm.getByText(/^This writes \d+ changes? to ConnectWise for \d+ compan/).innerText();
    const planned = Number(/^This writes (\d+)/.exec(consequence)[1]);
    assert.ok(planned > 0, consequence);
    await look(page, '08b-push-confirm');
    await confirm.getByRole('button', { name: `Push ${planned} change${planned === 1 ? '' : 's'}`, exact: true }).click();
    await gone(confirm);

    const summary = page.getByRole('status').filter({ hasText: /^(Succeeded|Partly done|Failed|Cancelled):/ });
    await visible(summary, 90_000);

    const link = summary.getByRole('link', { name: 'View run', exact: true });
    const href = await link.getAttribute('href');
    const m = /\/history\/(\d+)$/.exec(href ?? '');
    assert.ok(m, `View run links to /history/:id (got ${href})`);
    runId = m[1];

    const text = await summary.innerText();
    assert.match(text, /^Succeeded:/, `the demo push succeeds: ${text}`);
    assert.doesNotMatch(text, /SUCCEEDED/, 'in people\'s words');
    const counts = /(\d+) written, (\d+) unchanged, (\d+) skipped, (\d+) failed of (\d+) lines/.exec(text);
    assert.ok(counts, `the summary has the counts: ${text}`);
    const [written, unchanged, skipped, failed, total] = counts.slice(1).map(Number);
    assert.equal(written + unchanged + skipped + failed, total, 'the counts add up');
    assert.ok(written > 0 && skipped > 0 && failed === 0, `written ${written}, skipped ${skipped}, failed ${failed}`);
    assert.equal(written, planned, `the push wrote the ${planned} changes the confirmation named`);
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

    await look(page, '09-push-done');

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
    await look(page, '10-history');
    await runLink.click();
    await page.waitForURL(`**/history/${runId}`);
    await visible(heading(page, `Run ${runId}`));
    // The run's money, as the preview showed it.
    assert.match(await (await visible(page.getByText(/^Monthly change: /))).innerText(), MONEY_SENTENCE);
    await look(page, '11-run');

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
    await look(page, '12-run-skipped');

    // Billing shows it as each service's last push, linking back to the run.
    await navigate(page, 'Billing');
    const services = page.getByRole('table', { name: 'Services' });
    const intronis = services.getByRole('row').filter({ has: page.getByRole('link', { name: SERVICE, exact: true }) });
    const last = await rowByHeaders(services, await visible(intronis));
    assert.match(last['Last push'], /Succeeded/);
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
    await look(page, '13-accounts');
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
    await look(page, '14-account');

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
    await look(page, '14b-account-successor');
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
    await look(page, '15-settings');

    const tokens = section(page, 'API tokens');
    const name = `e2e token ${Date.now()}`;
    await tokens.getByLabel('Token name', { exact: true }).fill(name);
    await selectOptionMatching(tokens.getByLabel('Role', { exact: true }), /viewer/i);
    await tokens.getByRole('button', { name: 'Create token', exact: true }).click();
    const field = await visible(page.getByLabel('New API token', { exact: true }));
    const token = await until('the new token to be shown', async () => (await field.inputValue()).trim());
    assert.match(token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/, 'the token is a JWT');
    assert.equal(await field.getAttribute('readonly'), '', 'the token field is read-only');
    await look(page, '16-api-token-created');

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
    await look(page, '17-api-token-revoked');

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
    await look(page, '18-push-settings');

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
    // Only the retirements, every company with one opened.
    await page.getByLabel('Show', { exact: true }).selectOption('RETIRE');
    const tables = await openCompanies(page);
    const retired = [];
    for (const additions of tables) {
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
    // The same companies get level 1's storage product instead (created or adopted): all the
    // changes, the open companies staying open.
    await page.getByLabel('Show', { exact: true }).selectOption('CHANGES');
    const first = storage[0];
    const company = page.getByRole('table', { name: `Additions for ${first.company}`, exact: true });
    const replacement = await until(`${first.company} to list its level 1 storage`, async () => {
      const rows = (await tableRows(company)).filter((l) => l['Metric'] === 'BackupUsage' && l['Level'] === '1');
      return rows.length > 0 ? rows : null;
    });
    assert.ok(replacement.length > 0);

    const retireRow = company.getByRole('row').filter({ has: page.getByText('Retire', { exact: true }) }).first();
    await retireRow.scrollIntoViewIfNeeded();
    await look(page, '19-push-retire');
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
