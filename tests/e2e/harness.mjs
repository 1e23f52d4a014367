// The harness the scenarios share: one headless Chromium (Debian's, driven by
// playwright-core), one browser context at 1280×900, screenshots into the artifacts
// folder, explicit waits on UI state, and a capture of the page when a scenario fails.
//
// The server is started by `.ci/e2e`, which passes its address in BASE_URL.

import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
/** axe-core's browser bundle, injected into the page under test. */
const AXE = require.resolve('axe-core/axe.min.js');

export const BASE_URL = (process.env.BASE_URL ?? '').replace(/\/+$/, '');
export const ARTIFACTS = resolve(process.env.E2E_ARTIFACTS ?? resolve(here, '../../.ci/artifacts/e2e'));
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const VIEWPORT = { width: 1280, height: 900 };

/** How long one UI state may take to appear. Generous for a loaded 2-core CI machine. */
export const WAIT_MS = Number(process.env.E2E_WAIT_MS ?? 15_000);

if (!BASE_URL) {
  throw new Error('BASE_URL is not set: run these tests through .ci/e2e, which starts the server');
}
mkdirSync(ARTIFACTS, { recursive: true });

/**
 * Starts Chromium and opens the one context and page every scenario uses, so the
 * session cookie set at sign-in carries on from scenario to scenario.
 */
export async function openBrowser() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Containers often have a tiny /dev/shm; CI runs as root, where the sandbox is refused.
    args: ['--disable-dev-shm-usage', '--no-sandbox'],
  });
  const context = await browser.newContext({
    baseURL: BASE_URL,
    viewport: VIEWPORT,
    locale: 'en-GB',
    timezoneId: 'UTC',
    reducedMotion: 'reduce',
  });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  const pageErrors = [];
  const log = resolve(ARTIFACTS, 'browser-console.log');
  writeFileSync(log, '');
  page.on('console', (m) => appendFileSync(log, `[${m.type()}] ${m.text()}\n`));
  page.on('pageerror', (e) => {
    pageErrors.push(e);
    appendFileSync(log, `[pageerror] ${e.stack ?? e}\n`);
  });
  return { browser, context, page, pageErrors };
}

/** A 1280×900 screenshot of what the page shows now, as `<ARTIFACTS>/<name>.png`. */
export async function shot(page, name) {
  const path = resolve(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false, animations: 'disabled' });
  return path;
}

/**
 * Runs axe-core (every rule it runs by default: WCAG 2.x A/AA and best practices) on the
 * page as it is now and fails on any violation, listing each rule's id, impact, help and
 * the elements it found. `what` names the page or dialog state in the failure. axe is
 * injected once per document (a full page load drops it).
 */
export async function accessible(page, what) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const { passed, violations } = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return {
      passed: result.passes.length,
      violations: result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((n) => n.target.join(' ')),
      })),
    };
  });
  console.log(`axe on ${what}: ${passed} rules passed, ${violations.length} violated`);
  if (violations.length > 0) {
    const listed = violations.map((v) => `  ${v.id} (${v.impact}): ${v.help}\n    ${v.targets.join('\n    ')}`).join('\n');
    throw new Error(`axe found ${violations.length} accessibility violation(s) on ${what}:\n${listed}`);
  }
}

/** Waits until the locator's element is visible, and returns the locator. */
export async function visible(locator, timeout = WAIT_MS) {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}

/** Waits until the locator's element is gone (detached or hidden). */
export async function gone(locator, timeout = WAIT_MS) {
  await locator.waitFor({ state: 'hidden', timeout });
}

/**
 * Waits until `check()` returns a truthy value (and returns it), re-checking as the page
 * changes. For UI states that `waitFor` cannot express (an attribute reaching a value, a
 * row's cells). Fails with `what` and the last value seen.
 */
export async function until(what, check, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  let lastError;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const seen = lastError ? `; last error: ${lastError.message}` : `; last value: ${JSON.stringify(last)}`;
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${seen}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Selects the option of a `<select>` whose visible text matches `pattern` (a RegExp, or a
 * string the text must equal once trimmed). Returns the chosen option's text.
 */
export async function selectOptionMatching(select, pattern) {
  await visible(select);
  const matches = (text) =>
    pattern instanceof RegExp ? pattern.test(text) : text.trim() === pattern;
  const options = await until(`an option matching ${pattern} in ${select}`, async () => {
    if (!(await select.isEnabled())) return null;
    const all = await select.locator('option').evaluateAll((os) =>
      os.map((o) => ({ value: o.value, text: (o.textContent ?? '').trim(), disabled: o.disabled })),
    );
    return all.some((o) => !o.disabled && matches(o.text)) ? all : null;
  });
  const chosen = options.find((o) => !o.disabled && matches(o.text));
  await select.selectOption(chosen.value);
  return chosen.text;
}

/**
 * The cells of a table row keyed by the table's column headers, e.g.
 * `{ Product: 'Intronis Backup Plan', Level: 'Silver', … }`.
 */
export async function rowByHeaders(table, row) {
  const headers = (await table.getByRole('columnheader').allInnerTexts()).map((h) => h.trim());
  const cells = (await row.locator(':scope > th, :scope > td').allInnerTexts()).map((c) => c.trim());
  return Object.fromEntries(headers.map((h, i) => [h, cells[i]]));
}

/**
 * Every body row of a table as an object keyed by the column headers (read in one go,
 * so a 100-row table costs one round trip).
 */
export async function tableRows(table) {
  const headers = (await table.getByRole('columnheader').allInnerTexts()).map((h) => h.trim());
  const rows = await table.locator(':scope > tbody > tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll(':scope > th, :scope > td')].map((c) => c.innerText.trim())),
  );
  return rows.map((cells) => Object.fromEntries(headers.map((h, i) => [h, cells[i]])));
}

/** GraphQL over HTTP from the test itself (not the browser), with a bearer token. */
export async function graphqlWithToken(token, query, variables) {
  const response = await fetch(`${BASE_URL}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    // a 401 may come without a JSON body
  }
  return { status: response.status, body };
}

/**
 * Runs one scenario. On failure it saves `FAILED-<slug>.png` and the page's text next to
 * the screenshots, prints where they are, and brings the page back to a clean state (so
 * the next scenario starts from /billing rather than from a half-open dialog). It also
 * fails a scenario during which the page threw an uncaught error.
 *
 * A scenario marked `{ gate: true }` (signing in) is one the others cannot do without:
 * when it fails, they are skipped rather than each failing on a timeout.
 */
export function scenario(env, slug, body, { gate = false } = {}) {
  return async (t) => {
    if (env.blocked) {
      t.skip(`not run: ${env.blocked}`);
      return;
    }
    const { page, pageErrors } = env;
    const errorsBefore = pageErrors.length;
    try {
      await body(page);
      const thrown = pageErrors.slice(errorsBefore);
      if (thrown.length > 0) {
        throw new Error(`the page threw: ${thrown.map((e) => e.message).join('; ')}`);
      }
    } catch (err) {
      const png = await shot(page, `FAILED-${slug}`).catch((e) => `(no screenshot: ${e.message})`);
      let text = '';
      try {
        text = await page.locator('body').innerText({ timeout: 2_000 });
      } catch {
        // the page may be gone
      }
      const txt = resolve(ARTIFACTS, `FAILED-${slug}.txt`);
      writeFileSync(txt, `url: ${page.url()}\nerror: ${err.stack ?? err}\n\n${text}\n`);
      console.error(`\n✗ ${slug} failed at ${page.url()}\n  screenshot: ${png}\n  page text:  ${txt}\n`);
      if (gate) env.blocked = `${slug} failed`;
      await page.goto('/billing').catch(() => {});
      throw err;
    }
  };
}

/** The company a Push page group's button names: its text is a caret, the name, the counts. */
export function companyName(buttonText) {
  return buttonText
    .replace(/^[▸▾]\s*/, '')
    .split(/\s+\d+ lines?:/)[0]
    .trim();
}
