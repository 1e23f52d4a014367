import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { PreviewPushQuery } from '../../gql/graphql';
import { formatMoney, formatMoneyChange } from '../../ui/format';
import { SessionProvider } from '../../session/Session';
import { fakeServer } from '../../testing/fakeServer';
import { PushPage } from './PushPage';

type Line = PreviewPushQuery['previewPush']['lines'][number];
type Money = PreviewPushQuery['previewPush']['money'];

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

const PREVIEW: PreviewPushQuery = {
  previewPush: {
    summary: {
      lines: 5,
      update: 1,
      create: 1,
      unchanged: 0,
      retire: 2,
      skip: 1,
      drifted: 2,
      skippedByReason: [{ reason: 'DRIFTED', count: 1 }],
    },
    money: NO_MONEY,
    lines: [
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
    ],
  },
};

describe('Push page', () => {
  it('sums the preview up, retires and edits in ConnectWise included', async () => {
    fakeServer({
      Me: () => ({ me: { subject: 'ann@example.com', role: 'EDITOR', tenant: 'demo', user: null } }),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => PREVIEW,
    });
    render(
      <SessionProvider>
        <PushPage />
      </SessionProvider>,
    );
    // The sentence the end-to-end tests read, word for word.
    const summary = await screen.findByText(/^\d+ lines: \d+ to update, \d+ to create, \d+ to retire, \d+ unchanged, \d+ skipped\.$/);
    expect(summary.textContent).toBe('5 lines: 1 to update, 1 to create, 2 to retire, 0 unchanged, 1 skipped.');
    expect(screen.getByText(/^2 additions were edited in ConnectWise since billbridge last wrote them/)).toBeTruthy();
    expect(screen.getByText('1 skipped: Changed in ConnectWise by hand')).toBeTruthy();

    const acme = within(screen.getByRole('table', { name: 'Additions for Acme' }));
    expect(acme.getAllByText('Retire')).toHaveLength(2);
    expect(acme.getByText('40 → 0')).toBeTruthy();
    expect(acme.getByText('3 → 0')).toBeTruthy();
    expect(acme.getAllByText('Edited in ConnectWise')).toHaveLength(2);
  });

  it('does not mention edits in ConnectWise when there are none', async () => {
    fakeServer({
      Me: () => ({ me: { subject: 'ann@example.com', role: 'VIEWER', tenant: 'demo', user: null } }),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => ({
        previewPush: {
          summary: { lines: 1, update: 0, create: 0, unchanged: 1, retire: 0, skip: 0, drifted: 0, skippedByReason: [] },
          money: NO_MONEY,
          lines: [line({})],
        },
      }),
    });
    render(
      <SessionProvider>
        <PushPage />
      </SessionProvider>,
    );
    expect((await screen.findByText(/^\d+ lines:/)).textContent).toBe('1 lines: 0 to update, 0 to create, 0 to retire, 1 unchanged, 0 skipped.');
    expect(screen.queryByText(/edited in ConnectWise/)).toBeNull();
  });

  it('sums up the money before the lines: the monthly change overall, per company, and the lines without a price', async () => {
    const m = formatMoney;
    const c = formatMoneyChange;
    fakeServer({
      Me: () => ({ me: { subject: 'ann@example.com', role: 'VIEWER', tenant: 'demo', user: null } }),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => ({
        previewPush: {
          summary: { lines: 4, update: 1, create: 2, unchanged: 0, retire: 1, skip: 0, drifted: 0, skippedByReason: [] },
          money: {
            total: { before: 1000, after: 1512.4, change: 512.4 },
            // Largest change first, as the API orders them.
            byCompany: [
              { companyId: '2', companyName: 'Birch Bakery', monthly: { before: 0, after: 527.4, change: 527.4 } },
              { companyId: '1', companyName: 'Acme', monthly: { before: 1000, after: 985, change: -15 } },
            ],
            unpricedLines: 2,
          },
          lines: [
            line({ action: 'RETIRE', currentQuantity: 125, newQuantity: 0, unitPrice: 0.12, monthlyBefore: 15, monthlyAfter: 0, monthlyChange: -15 }),
            line({ action: 'UNCHANGED', accounts: ['acme-2'], unitPrice: 10, monthlyBefore: 985, monthlyAfter: 985, monthlyChange: 0 }),
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
          ],
        },
      }),
    });
    render(
      <SessionProvider>
        <PushPage />
      </SessionProvider>,
    );
    // The sentence the end-to-end tests read.
    const total = await screen.findByText(/^Monthly change: /);
    expect(total.textContent).toBe(`Monthly change: ${c(512.4)} (from ${m(1000)} to ${m(1512.4)}).`);
    expect(c(512.4).startsWith('+')).toBe(true);
    expect(screen.getByText('2 lines have no price in ConnectWise: they are not in these amounts.')).toBeTruthy();
    // It comes before the lines.
    const birchTable = screen.getByRole('table', { name: 'Additions for Birch Bakery' });
    expect(total.compareDocumentPosition(birchTable) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();

    // Each company's change by its heading, a smaller amount with a minus.
    const acme = within(screen.getByRole('region', { name: 'Acme' }));
    expect(acme.getByText(/^Monthly:/).textContent).toBe(`Monthly: ${m(1000)} → ${m(985)} (−${m(15)})`);
    const birch = within(screen.getByRole('region', { name: 'Birch Bakery' }));
    expect(birch.getByText(/^Monthly:/).textContent).toBe(`Monthly: ${m(0)} → ${m(527.4)} (${c(527.4)})`);

    // Each line's own amount; the line without a price has none.
    const rows = within(birchTable).getAllByRole('row').slice(1);
    expect(within(rows[0]).getByText(`${m(0)} → ${m(527.4)}`)).toBeTruthy();
    expect(within(rows[0]).getByText('Intronis Backup Plan / IB-500')).toBeTruthy();
    expect(rows[1].querySelectorAll('td')[5].textContent).toBe('—');
  });

  it('says one line has no price, and nothing of prices when every line has one', async () => {
    fakeServer({
      Me: () => ({ me: { subject: 'ann@example.com', role: 'VIEWER', tenant: 'demo', user: null } }),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => ({
        previewPush: {
          summary: { lines: 1, update: 0, create: 0, unchanged: 1, retire: 0, skip: 0, drifted: 0, skippedByReason: [] },
          money: { ...NO_MONEY, unpricedLines: 1 },
          lines: [line({})],
        },
      }),
    });
    const { unmount } = render(
      <SessionProvider>
        <PushPage />
      </SessionProvider>,
    );
    expect((await screen.findByText(/^Monthly change: /)).textContent).toBe(
      `Monthly change: ${formatMoneyChange(0)} (from ${formatMoney(1.2)} to ${formatMoney(1.2)}).`,
    );
    expect(screen.getByText('1 line has no price in ConnectWise: it is not in these amounts.')).toBeTruthy();
    // No company changes: no company shows an amount.
    expect(screen.queryByText(/^Monthly:/)).toBeNull();
    unmount();

    fakeServer({
      Me: () => ({ me: { subject: 'ann@example.com', role: 'VIEWER', tenant: 'demo', user: null } }),
      PushServices: () => ({ services: [] }),
      PreviewPush: () => ({
        previewPush: {
          summary: { lines: 1, update: 0, create: 0, unchanged: 1, retire: 0, skip: 0, drifted: 0, skippedByReason: [] },
          money: NO_MONEY,
          lines: [line({})],
        },
      }),
    });
    render(
      <SessionProvider>
        <PushPage />
      </SessionProvider>,
    );
    await screen.findByText(/^Monthly change: /);
    expect(screen.queryByText(/no price in ConnectWise/)).toBeNull();
  });
});
