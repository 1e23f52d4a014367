import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { PreviewTable, type PreviewLine } from './PreviewTable';

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
  line({ companyName: 'Alpine Logistics', companyId: '3', accounts: ['alpine-logistics'], currentQuantity: null, newQuantity: 12, action: 'CREATE', metric: 'LocalBackup' }),
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
  it('groups lines by company, alphabetically, lines without a company last', () => {
    render(<PreviewTable lines={LINES} />);
    const headings = screen.getAllByRole('heading').map((h) => h.textContent);
    expect(headings).toEqual(['Alpine Logistics', 'Zenith Media', 'No ConnectWise company']);

    const alpine = within(screen.getByRole('table', { name: 'Additions for Alpine Logistics' }));
    expect(alpine.getAllByRole('row')).toHaveLength(3); // header + two lines
    expect(alpine.getByText('alpine-logistics, alpine-2')).toBeTruthy();
  });

  it('shows every addition before → after', () => {
    render(<PreviewTable lines={LINES} />);
    const zenith = within(screen.getByRole('table', { name: 'Additions for Zenith Media' }));
    expect(zenith.getByText('25 → 30')).toBeTruthy();
    expect(zenith.getByText('Update')).toBeTruthy();

    const alpine = within(screen.getByRole('table', { name: 'Additions for Alpine Logistics' }));
    expect(alpine.getByText('none → 12')).toBeTruthy();
    expect(alpine.getByText('40 → 40')).toBeTruthy();
  });

  it('explains a skipped line with its reason and how to fix it', () => {
    render(<PreviewTable lines={LINES} />);
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
    render(<PreviewTable lines={[line({ agreementName: 'Acme — Backup (site 2)', parentAgreementName: 'Acme — Master', action: 'CREATE', currentQuantity: null })]} />);
    const acme = within(screen.getByRole('table', { name: 'Additions for Acme' }));
    expect(acme.getByText('bills through Acme — Master')).toBeTruthy();
  });

  it('explains an addition billbridge may not take over', () => {
    const detail = 'addition 41 is DoNotBill: someone chose not to bill it this way';
    render(<PreviewTable lines={[line({ action: 'SKIP', reason: 'ADDITION_NOT_ADOPTABLE', detail, newQuantity: null })]} />);
    const acme = within(screen.getByRole('table', { name: 'Additions for Acme' }));
    expect(acme.getByText(/addition 41 is DoNotBill/)).toBeTruthy();
    expect(acme.getByText(/How to fix: In ConnectWise, make that addition Billable/)).toBeTruthy();
  });
});
