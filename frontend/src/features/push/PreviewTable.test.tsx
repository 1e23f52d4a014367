import { cleanup, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { formatBillingDate, formatMoney, formatMoneyChange } from '../../ui/format';
import { LineMonthly, LineQuantity } from '../../push/lines';
import { companyLabel } from './CompanyList';
import { PreviewTable, type PreviewLine } from './PreviewTable';

/** One table per company, as the Push page shows an open company's lines. */
function renderByCompany(lines: PreviewLine[]) {
  const companies = [...new Set(lines.map(companyLabel))];
  render(
    <>
      {companies.map((c) => (
        <PreviewTable key={c} lines={lines.filter((l) => companyLabel(l) === c)} label={`Additions for ${c}`} />
      ))}
    </>,
  );
}

const line = (overrides: Partial<PreviewLine>): PreviewLine => ({
  accounts: ['acme'],
  companyId: '1',
  companyName: 'Acme',
  metric: 'BackupUsage',
  level: '1',
  agreementName: 'Managed Backup',
  productIdentifier: 'BACKUP-GB',
  currentQuantity: 10,
  newQuantity: 10,
  action: 'UNCHANGED',
  reason: null,
  detail: '',
  ...overrides,
});

const LINES: PreviewLine[] = [
  line({ companyName: 'Zenith Media', companyId: '7', accounts: ['zenith'], currentQuantity: 25, newQuantity: 30, action: 'UPDATE' }),
  line({
    companyName: 'Alpine Logistics',
    companyId: '3',
    accounts: ['alpine-logistics'],
    currentQuantity: null,
    newQuantity: 12,
    action: 'CREATE',
    metric: 'LocalBackup',
  }),
  line({
    companyName: null,
    companyId: null,
    accounts: ['quartz-labs'],
    agreementName: null,
    productIdentifier: null,
    currentQuantity: null,
    newQuantity: null,
    action: 'SKIP',
    reason: 'NOT_LINKED',
    detail: 'no company has quartz-labs as Company ID or echo_username',
  }),
  line({ companyName: 'Alpine Logistics', companyId: '3', accounts: ['alpine-logistics', 'alpine-2'], currentQuantity: 40, newQuantity: 40 }),
];

describe('push preview', () => {
  it('shows every addition before → after', () => {
    renderByCompany(LINES);
    const zenith = within(screen.getByRole('table', { name: 'Additions for Zenith Media' }));
    expect(zenith.getByText('25 → 30')).toBeTruthy();
    expect(zenith.getByText('Update')).toBeTruthy();

    const alpine = within(screen.getByRole('table', { name: 'Additions for Alpine Logistics' }));
    expect(alpine.getByText('none → 12')).toBeTruthy();
    expect(alpine.getByText('40 → 40')).toBeTruthy();
  });

  it('explains a skipped line with its reason and how to fix it', () => {
    renderByCompany(LINES);
    const skipped = within(screen.getByRole('table', { name: 'Additions for No ConnectWise company' }));
    const row = within(skipped.getByText('quartz-labs').closest('tr')!);
    expect(row.getByText('Skip')).toBeTruthy();
    expect(row.getByText('Account not linked to a ConnectWise company.')).toBeTruthy();
    expect(row.getByText(/no company has quartz-labs as Company ID/)).toBeTruthy();
    expect(row.getByText(/How to fix: Link the account/)).toBeTruthy();
    // A skipped line changes nothing, so it shows no quantities.
    expect(row.queryByText(/→/)).toBeNull();
  });

  it('names the parent a child agreement bills through', () => {
    renderByCompany([line({ agreementName: 'Acme — Backup (site 2)', parentAgreementName: 'Acme — Master', action: 'CREATE', currentQuantity: null })]);
    const acme = within(screen.getByRole('table', { name: 'Additions for Acme' }));
    expect(acme.getByText('bills through Acme — Master')).toBeTruthy();
  });

  it('explains an addition billbridge may not take over', () => {
    const detail = 'addition 41 is DoNotBill: someone chose not to bill it this way';
    renderByCompany([line({ action: 'SKIP', reason: 'ADDITION_NOT_ADOPTABLE', detail, newQuantity: null })]);
    const acme = within(screen.getByRole('table', { name: 'Additions for Acme' }));
    expect(acme.getByText(/addition 41 is DoNotBill/)).toBeTruthy();
    expect(acme.getByText(/How to fix: In ConnectWise, make that addition Billable/)).toBeTruthy();
  });

  it('retires an addition no mapping wants any more: before → 0', () => {
    const detail = 'no mapping wants addition 57 (BackupUsage) any more: set it from 140 to 0';
    renderByCompany([
      line({
        accounts: [],
        level: null,
        productIdentifier: null,
        currentQuantity: 140,
        newQuantity: 0,
        lastWrittenQuantity: 140,
        action: 'RETIRE',
        detail,
      }),
    ]);
    const row = within(within(screen.getByRole('table', { name: 'Additions for Acme' })).getAllByRole('row')[1]);
    expect(row.getByText('Retire')).toBeTruthy();
    expect(row.getByText('140 → 0')).toBeTruthy();
    // The server's reason, and no account (none wants it) shown as such.
    expect(row.getByText(detail)).toBeTruthy();
    expect(row.getAllByRole('cell')[0].textContent).toBe('—');
    expect(row.queryByText('Edited in ConnectWise')).toBeNull();
  });

  it('shows the day a retire in CANCEL mode cancels the addition from', () => {
    const effectiveDate = '2026-12-01T00:00:00Z';
    renderByCompany([line({ accounts: [], currentQuantity: 140, newQuantity: 0, lastWrittenQuantity: 140, action: 'RETIRE', effectiveDate })]);
    const row = within(within(screen.getByRole('table', { name: 'Additions for Acme' })).getAllByRole('row')[1]);
    expect(row.getByText('Retire')).toBeTruthy();
    expect(row.getByText(formatBillingDate(effectiveDate)).parentElement?.textContent).toBe(`cancel from ${formatBillingDate(effectiveDate)}`);
    expect(row.getByText('bills 140 until then')).toBeTruthy();
    // It is cancelled, not set to 0.
    expect(row.queryByText(/→/)).toBeNull();
  });

  it('reads a cancellation date as the calendar day ConnectWise means, whatever the time zone', () => {
    // The whole UTC day is one day (local time would straddle two anywhere but UTC).
    const day = formatBillingDate('2026-12-01T00:00:00Z');
    expect(formatBillingDate('2026-12-01T23:59:59Z')).toBe(day);
    expect(formatBillingDate('2026-11-30T23:59:59Z')).not.toBe(day);
    expect(day).toContain('2026');
    expect(formatBillingDate(null)).toBe('—');
  });

  it('marks an addition a person edited, with billbridge’s, ConnectWise’s and the new quantity', () => {
    renderByCompany([
      line({ currentQuantity: 55, lastWrittenQuantity: 40, newQuantity: 42, drifted: true, action: 'UPDATE' }),
      line({ companyName: 'Zenith Media', currentQuantity: 10, lastWrittenQuantity: 10, newQuantity: 12, drifted: false, action: 'UPDATE' }),
    ]);
    const acme = within(screen.getByRole('table', { name: 'Additions for Acme' }));
    expect(acme.getByText('55 → 42')).toBeTruthy();
    expect(acme.getByText('Edited in ConnectWise')).toBeTruthy();
    expect(acme.getByText('billbridge last wrote 40, ConnectWise has 55, push writes 42.')).toBeTruthy();
    // A line nobody edited is not marked.
    const zenith = within(screen.getByRole('table', { name: 'Additions for Zenith Media' }));
    expect(zenith.queryByText('Edited in ConnectWise')).toBeNull();
  });

  it('explains a drifted line the tenant chose to leave (SKIP): no change, the reason and the setting', () => {
    const detail = 'addition 57 was changed in ConnectWise from 40 (written by billbridge) to 55; not overwritten with 42 (onManualEdit: SKIP)';
    renderByCompany([line({ currentQuantity: 55, lastWrittenQuantity: 40, newQuantity: 42, drifted: true, action: 'SKIP', reason: 'DRIFTED', detail })]);
    const row = within(within(screen.getByRole('table', { name: 'Additions for Acme' })).getAllByRole('row')[1]);
    expect(row.getByText('Skip')).toBeTruthy();
    expect(row.getByText('Edited in ConnectWise')).toBeTruthy();
    expect(row.getByText('billbridge last wrote 40, ConnectWise has 55, push leaves it.')).toBeTruthy();
    expect(row.getByText('Changed in ConnectWise by hand.')).toBeTruthy();
    expect(row.getByText(/How to fix: .*Settings ▸ Push settings.*“Overwrite it”/)).toBeTruthy();
    expect(row.queryByText(/→/)).toBeNull();
  });

  it('says when a new addition that follows a cancelled one starts', () => {
    const effectiveDate = '2026-10-01T00:00:00Z';
    const detail = 'add 30 × IB-STORAGE-L1 from 2026-10-01, when addition 88 (cancelled from then) stops billing';
    renderByCompany([line({ currentQuantity: null, newQuantity: 30, action: 'CREATE', effectiveDate, detail })]);
    const row = within(within(screen.getByRole('table', { name: 'Additions for Acme' })).getAllByRole('row')[1]);
    expect(row.getByText('Create')).toBeTruthy();
    expect(row.getByText('none → 30')).toBeTruthy();
    expect(row.getByText(`starts ${formatBillingDate(effectiveDate)}`)).toBeTruthy();
    expect(row.getByText(detail)).toBeTruthy();
  });

  it('shows no start for a new addition that starts now', () => {
    renderByCompany([line({ currentQuantity: null, newQuantity: 30, action: 'CREATE', detail: 'add 30 × BACKUP-GB to the agreement' })]);
    const row = within(within(screen.getByRole('table', { name: 'Additions for Acme' })).getAllByRole('row')[1]);
    expect(row.queryByText(/^starts /)).toBeNull();
    expect(row.queryByText('add 30 × BACKUP-GB to the agreement')).toBeNull();
  });

  it('words a run’s drifted line as what the push was to do', () => {
    render(<LineQuantity line={{ action: 'UPDATE', currentQuantity: 55, lastWrittenQuantity: 40, newQuantity: 42, drifted: true }} when="run" />);
    expect(screen.getByText('billbridge last wrote 40, ConnectWise had 55, the push was to write 42.')).toBeTruthy();
  });

  it('names the subscriptions a line serves under its accounts', () => {
    renderByCompany([line({ accounts: ['acme', 'acme-2'], subscription: 'Intronis Backup Plan / IB-500, Intronis Backup Plan / IB-1TB' })]);
    const row = within(within(screen.getByRole('table', { name: 'Additions for Acme' })).getAllByRole('row')[1]);
    const accounts = row.getAllByRole('cell')[0];
    expect(within(accounts).getByText('acme, acme-2')).toBeTruthy();
    expect(within(accounts).getByText('Intronis Backup Plan / IB-500, Intronis Backup Plan / IB-1TB').className).toBe('muted');
  });
});

// Amounts as the app formats them in the test's locale ("2.40", or "2,40").
const m = formatMoney;
const c = formatMoneyChange;

/** The Monthly cell of the only line of a one-line table. */
function monthlyCell(l: PreviewLine) {
  renderByCompany([l]);
  const table = within(screen.getByRole('table', { name: `Additions for ${l.companyName}` }));
  const headers = table.getAllByRole('columnheader').map((h) => h.textContent);
  return table.getAllByRole('row')[1].querySelectorAll('td')[headers.indexOf('Monthly')];
}

describe('a metric’s name', () => {
  it('may break between its words in a narrow column, and reads the same', () => {
    renderByCompany([line({ metric: 'VMwareHostLicensing' })]);
    const cell = screen.getByText('VMwareHostLicensing');
    expect(cell.tagName).toBe('TD');
    expect(cell.querySelectorAll('wbr')).toHaveLength(2);
  });
});

describe('a line’s monthly amount', () => {
  const priced = { unitPrice: 0.12, monthlyBefore: 2.4, monthlyAfter: 3, monthlyChange: 0.6 };

  it('reads before → after with the change, and the unit price', () => {
    const cell = monthlyCell(line({ action: 'UPDATE', currentQuantity: 20, newQuantity: 25, ...priced }));
    expect(cell.textContent).toBe(`${m(2.4)} → ${m(3)} (${c(0.6)})unit price ${m(0.12)}`);
    expect(within(cell).getByText(`${m(2.4)} → ${m(3)}`)).toBeTruthy();
    expect(within(cell).getByText(`(${c(0.6)})`)).toBeTruthy();
  });

  it('signs a smaller amount with a minus, and says nothing of a change that rounds to 0', () => {
    const retire = monthlyCell(
      line({ action: 'RETIRE', currentQuantity: 25, newQuantity: 0, unitPrice: 0.12, monthlyBefore: 3, monthlyAfter: 0, monthlyChange: -3 }),
    );
    expect(within(retire).getByText(`${m(3)} → ${m(0)}`)).toBeTruthy();
    expect(within(retire).getByText(`(−${m(3)})`)).toBeTruthy();
    cleanup();
    const unchanged = monthlyCell(line({ action: 'UNCHANGED', unitPrice: 0.12, monthlyBefore: 1.2, monthlyAfter: 1.2, monthlyChange: -0 }));
    expect(unchanged.textContent).toBe(`${m(1.2)} → ${m(1.2)}unit price ${m(0.12)}`);
  });

  it('is — when ConnectWise gave no price', () => {
    const cell = monthlyCell(
      line({ action: 'CREATE', currentQuantity: null, newQuantity: 30, unitPrice: null, monthlyBefore: null, monthlyAfter: null, monthlyChange: null }),
    );
    expect(cell.textContent).toBe('—');
  });

  it('is — for a skipped line, which bills nothing; a drifted one it leaves goes on billing the same', () => {
    render(<LineMonthly line={{ action: 'SKIP', drifted: false, unitPrice: 2, monthlyBefore: 0, monthlyAfter: 0, monthlyChange: 0 }} />);
    expect(document.body.textContent).toBe('—');
    cleanup();
    render(<LineMonthly line={{ action: 'SKIP', drifted: true, unitPrice: 2, monthlyBefore: 18, monthlyAfter: 18, monthlyChange: 0 }} />);
    expect(document.body.textContent).toBe(`${m(18)} → ${m(18)}unit price ${m(2)}`);
  });
});
