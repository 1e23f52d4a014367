import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { BillingSetupQuery, Role } from '../../gql/graphql';
import { SessionProvider, useSession } from '../../session/Session';
import { fakeServer } from '../../testing/fakeServer';
import { SetupPage } from './SetupPage';

const product = { id: '10', name: 'Intronis Backup Plan', metrics: [{ crossReferenceType: 'BackupUsage' }, { crossReferenceType: 'LocalBackup' }] };

const SETUP: BillingSetupQuery = {
  service: {
    id: '1',
    name: 'Intronis Backup',
    readOnly: false,
    billingStatus: { state: 'SET_UP' },
    products: [{ ...product, plans: [{ id: '100', uniqueId: 'IB-100', name: 'Backup 100 GB', baseSizeGb: 100, price: 49, blockSizeGb: null }] }],
    mappings: [
      { id: '1', allPlans: true, usageValue: 'TOTAL_USAGE', managedExternally: false, product, plan: null, level: { id: '1', name: '1' } },
      {
        id: '2',
        allPlans: false,
        usageValue: 'ADDITIONAL_USAGE',
        managedExternally: false,
        product,
        plan: { id: '100', uniqueId: 'IB-100' },
        level: { id: '2', name: 'Silver' },
      },
      {
        id: '3',
        allPlans: false,
        usageValue: 'TOTAL_USAGE',
        managedExternally: true,
        product,
        plan: { id: '101', uniqueId: 'IB-OLD' },
        level: { id: '1', name: '1' },
      },
    ],
  },
  services: [],
  levels: [
    {
      id: '1',
      name: '1',
      source: 'CONNECTWISE',
      crossReferences: ['BackupUsage', 'LocalBackup'].map((vendorType) => ({ vendorType, agreementTypeName: null, productIdentifier: null, active: true })),
    },
    {
      id: '2',
      name: 'Silver',
      source: 'CONNECTWISE',
      crossReferences: [{ vendorType: 'BackupUsage', agreementTypeName: null, productIdentifier: null, active: true }],
    },
  ],
};

function serve(role: Role) {
  return fakeServer({
    Me: () => ({ me: { subject: 'ann@example.com', role, tenant: 'demo', user: null } }),
    BillingSetup: () => SETUP,
    DeleteBillingMapping: ({ id }) => ({ deleteBillingMapping: id }),
    TakeOverBillingMapping: ({ id }) => ({ takeOverBillingMapping: { id } }),
  });
}

/** Shows the role once the session has loaded, so tests can wait for it. */
function SignedInAs() {
  const { state } = useSession();
  return state.status === 'signedIn' ? <p>Signed in as {state.me.role}</p> : null;
}

async function renderPage(role: Role) {
  render(
    <SessionProvider>
      <SignedInAs />
      <SetupPage serviceId="1" />
    </SessionProvider>,
  );
  await screen.findByText(`Signed in as ${role}`);
  return screen.findByRole('table', { name: 'Billing mappings' });
}

describe('Billing Setup', () => {
  it('lists mappings with (All plans) and the levels’ missing cross-references', async () => {
    serve('VIEWER');
    const table = within(await renderPage('VIEWER'));
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Billing Setup — Intronis Backup');
    const rows = table.getAllByRole('row').slice(1);
    expect(rows.map((row) => within(row).getAllByRole('cell')[1].textContent)).toEqual(['(All plans)', 'IB-100', 'IB-OLD']);
    expect(rows[1].textContent).toMatch(/No active ConnectWise cross-reference for level “Silver”: LocalBackup/);
    // The read-only row is billed elsewhere: no warning about our cross-references.
    expect(within(rows[2]).getByText('None')).toBeTruthy();
  });

  it('shows a viewer no way to change anything', async () => {
    serve('VIEWER');
    await renderPage('VIEWER');
    expect(screen.queryByRole('button', { name: 'Add Billing Mapping' })).toBeNull();
    expect(screen.queryByRole('button', { name: /^(Delete|Edit) / })).toBeNull();
  });

  it('lets an editor change every row but the read-only one, and deletes after confirming', async () => {
    const calls = serve('EDITOR');
    await renderPage('EDITOR');
    expect(await screen.findByRole('button', { name: 'Add Billing Mapping' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Delete mapping for Intronis Backup Plan / (All plans)' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Delete mapping for Intronis Backup Plan / IB-OLD' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit mapping for Intronis Backup Plan / IB-OLD' })).toBeNull();

    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Delete mapping for Intronis Backup Plan / IB-100' }));
    const confirm = within(screen.getByRole('alertdialog'));
    expect(calls.some((c) => c.operation === 'DeleteBillingMapping')).toBe(false);
    await user.click(confirm.getByRole('button', { name: 'Delete' }));
    expect(calls.filter((c) => c.operation === 'DeleteBillingMapping').map((c) => c.variables)).toEqual([{ id: '2' }]);
    expect(screen.queryByRole('button', { name: /^Take over/ })).toBeNull();
  });

  it('lets an admin take over the read-only row, after confirming', async () => {
    const calls = serve('ADMIN');
    await renderPage('ADMIN');
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Take over Intronis Backup Plan / IB-OLD' }));
    await user.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Take over' }));
    expect(calls.filter((c) => c.operation === 'TakeOverBillingMapping').map((c) => c.variables)).toEqual([{ id: '3' }]);
    expect(screen.queryByRole('button', { name: 'Delete mapping for Intronis Backup Plan / IB-OLD' })).toBeNull();
  });
});
