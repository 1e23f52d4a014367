import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { PreviewCompaniesQuery, PreviewCompanyLinesQuery, PreviewPushQuery } from '../../gql/graphql';
import { formatMoney, formatMoneyChange } from '../../ui/format';
import { SessionProvider } from '../../session/Session';
import { fakeServer } from '../../testing/fakeServer';
import { PushPage } from './PushPage';

type Line = PreviewCompanyLinesQuery['previewPush']['lines']['nodes'][number];
type Money = PreviewPushQuery['previewPush']['money'];
type Company = PreviewCompaniesQuery['previewPush']['companies']['nodes'][number];
type Summary = PreviewPushQuery['previewPush']['summary'];

const COMPUTED_AT = '2026-11-27T10:00:00Z';

const line = (overrides: Partial<Line>): Line => ({
  accounts: ['acme'],
  subscription: 'Intronis Backup Plan / IB-500',
  companyId: '1',
  companyName: 'Acme',
  metric: 'BackupUsage',
  level: 'Gold',
  agreementName: 'Acme — Managed Backup',
  parentAgreementName: null,
  productIdentifier: 'IB-STORAGE-GOLD',
  currentQuantity: 10,
  newQuantity: 10,
  action: 'UNCHANGED',
  reason: null,
  detail: '',
  lastWrittenQuantity: 10,
  drifted: false,
  effectiveDate: null,
  unitPrice: 0.12,
  monthlyBefore: 1.2,
  monthlyAfter: 1.2,
  monthlyChange: 0,
  ...overrides,
});

/** Nothing changes a month (and nothing lacks a price). */
const NO_MONEY: Money = { total: { before: 1.2, after: 1.2, change: 0 }, byCompany: [], unpricedLines: 0 };

const SUMMARY: Summary = {
  lines: 5,
  update: 1,
  create: 1,
  unchanged: 0,
  retire: 2,
  skip: 1,
  drifted: 2,
  skippedByReason: [{ reason: 'DRIFTED', count: 1 }],
};

const preview = (summary: Summary, money: Money = NO_MONEY, changing = 1): PreviewPushQuery => ({
  previewPush: { computedAt: COMPUTED_AT, summary, money, changing: { totalCount: changing } },
});

const company = (overrides: Partial<Company>): Company => ({
  companyId: '1',
  companyName: 'Acme',
  summary: { lines: 5, update: 1, create: 1, unchanged: 0, retire: 2, skip: 1 },
  monthly: { before: 1.2, after: 1.2, change: 0 },
  ...overrides,
});

const companies = (nodes: Company[], hasNextPage = false): PreviewCompaniesQuery => ({
  previewPush: { companies: { totalCount: nodes.length, pageInfo: { hasNextPage, endCursor: hasNextPage ? 'next' : null }, nodes } },
});

const lines = (nodes: Line[]): PreviewCompanyLinesQuery => ({
  previewPush: { computedAt: COMPUTED_AT, lines: { totalCount: nodes.length, pageInfo: { hasNextPage: false, endCursor: null }, nodes } },
});

const ACME_LINES: Line[] = [
  line({ action: 'UPDATE', currentQuantity: 55, lastWrittenQuantity: 40, newQuantity: 42, drifted: true }),
  line({ action: 'CREATE', level: '1', productIdentifier: 'IB-STORAGE-L1', currentQuantity: null, newQuantity: 42, lastWrittenQuantity: null }),
  line({
    action: 'RETIRE',
    accounts: [],
    level: null,
    productIdentifier: null,
    currentQuantity: 40,
    newQuantity: 0,
    detail: 'no mapping wants addition 7 (BackupUsage) any more: set it from 40 to 0',
  }),
  line({ action: 'RETIRE', accounts: [], level: null, productIdentifier: null, metric: 'LocalBackup', currentQuantity: 3, newQuantity: 0 }),
  line({ action: 'SKIP', reason: 'DRIFTED', metric: 'ImageLicensing', currentQuantity: 9, lastWrittenQuantity: 4, newQuantity: 5, drifted: true }),
];

const me = (role: string) => () => ({ me: { subject: 'ann@example.com', role, tenant: 'demo', user: null } });

function renderPage() {
  return render(
    <SessionProvider>
      <PushPage />
    </SessionProvider>,
  );
}

describe('Push page', () => {
  it('sums the preview up first, then lists companies collapsed; opening one shows its lines', async () => {
    const calls = fakeServer({
      Me: me('EDITOR'),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => preview(SUMMARY),
      PreviewCompanies: () => companies([company({}), company({ companyId: null, companyName: null, summary: { ...company({}).summary, lines: 1 } })]),
      PreviewCompanyLines: () => lines(ACME_LINES),
    });
    renderPage();
    // The sentence the end-to-end tests read, word for word.
    const summary = await screen.findByText(/^\d+ lines: \d+ to update, \d+ to create, \d+ to retire, \d+ unchanged, \d+ skipped\.$/);
    expect(summary.textContent).toBe('5 lines: 1 to update, 1 to create, 2 to retire, 0 unchanged, 1 skipped.');
    expect(screen.getByText(/^2 additions were edited in ConnectWise since billbridge last wrote them/)).toBeTruthy();
    expect(screen.getByText(/^1 skipped: Changed in ConnectWise by hand/)).toBeTruthy();

    // Companies come collapsed, changes only by default; lines without a company last.
    const acmeButton = await screen.findByRole('button', { name: /^Acme/ });
    expect(acmeButton.getAttribute('aria-expanded')).toBe('false');
    expect(screen.getByRole('button', { name: /^No ConnectWise company/ })).toBeTruthy();
    expect(calls.find((c) => c.operation === 'PreviewCompanies')?.variables).toMatchObject({ changesOnly: true, action: null, reason: null, first: 50 });
    expect(screen.queryByRole('table')).toBeNull();

    await userEvent.click(acmeButton);
    expect(acmeButton.getAttribute('aria-expanded')).toBe('true');
    const acme = within(await screen.findByRole('table', { name: 'Additions for Acme' }));
    expect(calls.find((c) => c.operation === 'PreviewCompanyLines')?.variables).toMatchObject({ companyId: '1', withoutCompany: false, changesOnly: true });
    expect(acme.getAllByText('Retire')).toHaveLength(2);
    expect(acme.getByText('40 → 0')).toBeTruthy();
    expect(acme.getByText('3 → 0')).toBeTruthy();
    expect(acme.getAllByText('Edited in ConnectWise')).toHaveLength(2);
    // The summary comes before the companies.
    expect(summary.compareDocumentPosition(acmeButton) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it('filters on the server: all lines, an action, a skip reason', async () => {
    const calls = fakeServer({
      Me: me('VIEWER'),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => preview(SUMMARY),
      PreviewCompanies: () => companies([company({})]),
    });
    renderPage();
    const show = await screen.findByLabelText('Show');
    const last = () => calls.filter((c) => c.operation === 'PreviewCompanies').at(-1)?.variables;
    await userEvent.selectOptions(show, 'ALL');
    await screen.findByRole('button', { name: /^Acme/ });
    expect(last()).toMatchObject({ changesOnly: false, action: null });
    await userEvent.selectOptions(show, 'RETIRE');
    expect(last()).toMatchObject({ changesOnly: false, action: 'RETIRE' });
    // "Show them" beside a skip reason filters to it.
    await userEvent.click(screen.getByRole('button', { name: 'Show them' }));
    expect(last()).toMatchObject({ changesOnly: false, action: 'SKIP', reason: 'DRIFTED' });
    expect((screen.getByLabelText('Skip reason') as HTMLSelectElement).value).toBe('DRIFTED');
  });

  it('pages through companies 50 at a time', async () => {
    const calls = fakeServer({
      Me: me('VIEWER'),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => preview(SUMMARY),
      PreviewCompanies: (v) => (v.after ? companies([company({ companyId: '9', companyName: 'Zenith' })]) : companies([company({})], true)),
    });
    renderPage();
    await userEvent.click(await screen.findByRole('button', { name: 'Next page' }));
    await screen.findByRole('button', { name: /^Zenith/ });
    expect(calls.filter((c) => c.operation === 'PreviewCompanies').at(-1)?.variables).toMatchObject({ after: 'next' });
  });

  it('asks for another service’s companies only once its plan is read, so the plan is computed once', async () => {
    const calls = fakeServer({
      Me: me('VIEWER'),
      PushServices: () => ({ services: [{ id: '2', name: 'Email Protection', readOnly: false }] }),
      PreviewPush: () => preview(SUMMARY),
      PreviewCompanies: () => companies([company({})]),
    });
    renderPage();
    await screen.findByRole('button', { name: /^Acme/ });
    await userEvent.selectOptions(screen.getByLabelText('Service'), '2');
    await screen.findByRole('button', { name: /^Acme/ });
    const forService = calls.filter((c) => c.variables?.serviceId === '2').map((c) => c.operation);
    expect(forService).toEqual(['PreviewPush', 'PreviewCompanies']);
  });

  it('asks before pushing, naming what will be written, and pushes on confirmation', async () => {
    const money: Money = { total: { before: 10, after: 22.5, change: 12.5 }, byCompany: [], unpricedLines: 0 };
    const calls = fakeServer({
      Me: me('EDITOR'),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => preview(SUMMARY, money, 3),
      PreviewCompanies: () => companies([company({})]),
      PushUsage: () => ({ pushUsage: { id: '7', status: 'RUNNING' } }),
    });
    renderPage();
    await userEvent.click(await screen.findByRole('button', { name: 'Push now' }));
    const dialog = within(screen.getByRole('alertdialog', { name: 'Push to ConnectWise?' }));
    expect(dialog.getByText(/^This writes 4 changes to ConnectWise for 3 companies/).textContent).toBe(
      `This writes 4 changes to ConnectWise for 3 companies: 1 addition updated, 1 addition created, 2 additions retired. Monthly change: ${formatMoneyChange(12.5)}.`,
    );
    expect(dialog.getByText(/^Besides:/).textContent).toBe('Besides: 1 line skipped. The push reads ConnectWise again and writes what it finds then.');
    expect(calls.some((c) => c.operation === 'PushUsage')).toBe(false);
    // Cancel pushes nothing.
    await userEvent.click(dialog.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(calls.some((c) => c.operation === 'PushUsage')).toBe(false);

    await userEvent.click(screen.getByRole('button', { name: 'Push now' }));
    await userEvent.click(screen.getByRole('button', { name: 'Push 4 changes' }));
    expect(calls.filter((c) => c.operation === 'PushUsage')).toHaveLength(1);
    expect(screen.queryByRole('alertdialog')).toBeNull();
  });

  it('keeps a refused push in the dialog with the server’s reason', async () => {
    fakeServer({
      Me: me('EDITOR'),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => preview(SUMMARY),
      PreviewCompanies: () => companies([company({})]),
      PushUsage: () => ({ errors: [{ message: 'a push of this tenant is already running', extensions: { code: 'CONFLICT' } }] }),
    });
    renderPage();
    await userEvent.click(await screen.findByRole('button', { name: 'Push now' }));
    await userEvent.click(screen.getByRole('button', { name: 'Push 4 changes' }));
    const dialog = within(screen.getByRole('alertdialog'));
    expect((await dialog.findByRole('alert')).textContent).toContain('already running');
    // Closed, the error goes with it.
    await userEvent.click(dialog.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByText(/already running/)).toBeNull();
  });

  it('does not mention edits in ConnectWise when there are none', async () => {
    fakeServer({
      Me: me('VIEWER'),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => preview({ lines: 1, update: 0, create: 0, unchanged: 1, retire: 0, skip: 0, drifted: 0, skippedByReason: [] }),
      PreviewCompanies: () => companies([]),
    });
    renderPage();
    expect((await screen.findByText(/^\d+ lines:/)).textContent).toBe('1 lines: 0 to update, 0 to create, 0 to retire, 1 unchanged, 0 skipped.');
    expect(screen.queryByText(/edited in ConnectWise/)).toBeNull();
    expect(await screen.findByText('Nothing to write: no line changes a quantity.')).toBeTruthy();
  });

  it('sums up the money before the companies: overall, by each company, and the lines without a price', async () => {
    const m = formatMoney;
    const c = formatMoneyChange;
    const money: Money = {
      total: { before: 1000, after: 1512.4, change: 512.4 },
      byCompany: [
        { companyId: '2', companyName: 'Birch Bakery', monthly: { before: 0, after: 527.4, change: 527.4 } },
        { companyId: '1', companyName: 'Acme', monthly: { before: 1000, after: 985, change: -15 } },
      ],
      unpricedLines: 2,
    };
    fakeServer({
      Me: me('VIEWER'),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => preview({ lines: 4, update: 1, create: 2, unchanged: 0, retire: 1, skip: 0, drifted: 0, skippedByReason: [] }, money),
      PreviewCompanies: () =>
        companies([
          company({ monthly: { before: 1000, after: 985, change: -15 } }),
          company({ companyId: '2', companyName: 'Birch Bakery', monthly: { before: 0, after: 527.4, change: 527.4 } }),
          company({ companyId: '3', companyName: 'Cedar', monthly: { before: 5, after: 5, change: 0 } }),
        ]),
      PreviewCompanyLines: () =>
        lines([
          line({
            companyId: '2',
            companyName: 'Birch Bakery',
            accounts: ['birch'],
            action: 'CREATE',
            currentQuantity: null,
            newQuantity: 10,
            unitPrice: 52.74,
            monthlyBefore: 0,
            monthlyAfter: 527.4,
            monthlyChange: 527.4,
          }),
          line({
            companyId: '2',
            companyName: 'Birch Bakery',
            accounts: ['birch'],
            metric: 'LocalBackup',
            action: 'UPDATE',
            currentQuantity: 3,
            newQuantity: 5,
            unitPrice: null,
            monthlyBefore: null,
            monthlyAfter: null,
            monthlyChange: null,
          }),
        ]),
    });
    renderPage();
    // The sentence the end-to-end tests read.
    const total = await screen.findByText(/^Monthly change: /);
    expect(total.textContent).toBe(`Monthly change: ${c(512.4)} (from ${m(1000)} to ${m(1512.4)}).`);
    expect(c(512.4).startsWith('+')).toBe(true);
    expect(screen.getByText('2 lines have no price in ConnectWise: they are not in these amounts.')).toBeTruthy();

    // Each company's change by its heading, a smaller amount with a minus; none where nothing changes.
    const acme = within(await screen.findByRole('region', { name: 'Acme' }));
    expect(acme.getByText(/^Monthly:/).textContent).toBe(`Monthly: ${m(1000)} → ${m(985)} (−${m(15)})`);
    const birch = within(screen.getByRole('region', { name: 'Birch Bakery' }));
    expect(birch.getByText(/^Monthly:/).textContent).toBe(`Monthly: ${m(0)} → ${m(527.4)} (${c(527.4)})`);
    expect(within(screen.getByRole('region', { name: 'Cedar' })).queryByText(/^Monthly:/)).toBeNull();

    // Each line's own amount; the line without a price has none.
    await userEvent.click(birch.getByRole('button', { name: /^Birch Bakery/ }));
    const rows = within(await screen.findByRole('table', { name: 'Additions for Birch Bakery' }))
      .getAllByRole('row')
      .slice(1);
    expect(within(rows[0]).getByText(`${m(0)} → ${m(527.4)}`)).toBeTruthy();
    expect(within(rows[0]).getByText('Intronis Backup Plan / IB-500')).toBeTruthy();
    expect(rows[1].querySelectorAll('td')[5].textContent).toBe('—');
  });

  it('says one line has no price, and nothing of prices when every line has one', async () => {
    const unchanged: Summary = { lines: 1, update: 0, create: 0, unchanged: 1, retire: 0, skip: 0, drifted: 0, skippedByReason: [] };
    fakeServer({
      Me: me('VIEWER'),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => preview(unchanged, { ...NO_MONEY, unpricedLines: 1 }),
      PreviewCompanies: () => companies([company({})]),
    });
    const { unmount } = renderPage();
    expect((await screen.findByText(/^Monthly change: /)).textContent).toBe(
      `Monthly change: ${formatMoneyChange(0)} (from ${formatMoney(1.2)} to ${formatMoney(1.2)}).`,
    );
    expect(screen.getByText('1 line has no price in ConnectWise: it is not in these amounts.')).toBeTruthy();
    // No company changes: no company shows an amount.
    await screen.findByRole('region', { name: 'Acme' });
    expect(screen.queryByText(/^Monthly:/)).toBeNull();
    unmount();

    fakeServer({
      Me: me('VIEWER'),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => preview(unchanged),
      PreviewCompanies: () => companies([company({})]),
    });
    renderPage();
    await screen.findByText(/^Monthly change: /);
    expect(screen.queryByText(/no price in ConnectWise/)).toBeNull();
  });
});
