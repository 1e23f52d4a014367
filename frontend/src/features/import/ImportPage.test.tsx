import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { PreviewImportQuery } from '../../gql/graphql';
import { fakeServer } from '../../testing/fakeServer';
import { ImportPage } from './ImportPage';
import { initialMapping, toInput } from './mapping';

const METRICS = [
  { name: 'Backup storage', crossReferenceType: 'BackupUsage' },
  { name: 'Local backup', crossReferenceType: 'LocalBackup' },
];

describe('import mapping', () => {
  it('keeps the saved columns the file still has and guesses the rest', () => {
    const columns = ['Customer', 'Company', 'Plan', 'Storage (GB)', 'LocalBackup', 'Report date'];
    const form = initialMapping(columns, METRICS, {
      account: 'Customer',
      displayName: 'Gone',
      decimalComma: true,
      metrics: [{ column: 'Storage (GB)', crossReferenceType: 'BackupUsage' }],
    });
    expect(form).toMatchObject({ account: 'Customer', displayName: 'Company', plan: 'Plan', measuredAt: 'Report date', decimalComma: true });
    expect(form.metrics).toEqual({ BackupUsage: 'Storage (GB)', LocalBackup: 'LocalBackup' });
  });

  it('leaves blanks out, and a date for the whole file replaces the column', () => {
    const form = initialMapping(['Account', 'Storage'], METRICS, null);
    form.metrics.BackupUsage = 'Storage';
    form.date = '2026-11-01';
    expect(toInput(form)).toEqual({
      account: 'Account',
      displayName: null,
      product: null,
      plan: null,
      measuredAt: null,
      date: '2026-11-01',
      decimalComma: false,
      metrics: [{ column: 'Storage', crossReferenceType: 'BackupUsage' }],
    });
  });
});

const CSV = 'Customer;Company;Plan;Storage (GB);Report date\nacme;"Acme, Inc.";IB-100;12,5;2026-11-01\n';

type Report = PreviewImportQuery['previewImport'];

function report(problems: Report['problems']): Report {
  return {
    fileName: 'october.csv',
    bytes: CSV.length,
    rows: 1,
    problemCount: problems.length,
    problems,
    accounts: { new: 1, changed: 0, unchanged: 0 },
    subscriptions: { new: 1, changed: 0, unchanged: 0 },
    usage: { new: 1, changed: 0, unchanged: 0 },
    lines: problems.length
      ? []
      : [
          {
            row: 2,
            account: 'acme',
            accountOutcome: 'NEW',
            product: 'Intronis Backup Plan',
            plan: 'IB-100',
            previousPlan: null,
            subscription: 'NEW',
            measuredAt: '2026-11-01T00:00:00Z',
            values: [{ crossReferenceType: 'BackupUsage', unit: 'GB', quantity: 12.5, previous: null, outcome: 'NEW' }],
          },
        ],
    committed: false,
  };
}

function serve(problems: Report['problems']) {
  return fakeServer({
    ImportServices: () => ({
      services: [{ id: '1', name: 'Intronis Backup', products: [{ id: '10', metrics: [{ id: '5', unit: 'GB', ...METRICS[0] }] }] }],
    }),
    ImportSample: () => ({
      importSample: {
        delimiter: 'SEMICOLON',
        columns: ['Customer', 'Company', 'Plan', 'Storage (GB)', 'Report date'],
        rows: [['acme', 'Acme, Inc.', 'IB-100', '12,5', '2026-11-01']],
      },
    }),
    SavedImportMapping: () => ({
      importMapping: {
        account: 'Customer',
        displayName: 'Company',
        product: null,
        plan: 'Plan',
        measuredAt: 'Report date',
        date: null,
        decimalComma: true,
        metrics: [{ column: 'Storage (GB)', crossReferenceType: 'BackupUsage' }],
      },
    }),
    PreviewImport: () => ({ previewImport: report(problems) }),
    CommitImport: () => ({ commitImport: { ...report(problems), lines: [], committed: true } }),
  });
}

async function upload() {
  render(<ImportPage />);
  const user = userEvent.setup();
  await user.selectOptions(await screen.findByLabelText('Service'), '1');
  await user.upload(screen.getByLabelText('Usage export (CSV)'), new File([CSV], 'october.csv', { type: 'text/csv' }));
  await screen.findByRole('table', { name: 'First rows of the file' });
  return user;
}

describe('Import page', () => {
  it('previews the first rows with the saved mapping, dry-runs, imports and links to the push', async () => {
    const calls = serve([]);
    const user = await upload();
    expect(within(screen.getByRole('table', { name: 'First rows of the file' })).getByText('Acme, Inc.')).toBeTruthy();
    expect((screen.getByLabelText('Account') as HTMLSelectElement).value).toBe('Customer');
    expect((screen.getByLabelText(/Backup storage/) as HTMLSelectElement).value).toBe('Storage (GB)');
    expect(screen.getByLabelText(/decimal comma/)).toHaveProperty('checked', true);

    await user.click(screen.getByRole('button', { name: 'Dry run' }));
    expect(await screen.findByText(/Usage values/)).toBeTruthy();
    expect(within(screen.getByRole('table', { name: 'New rows' })).getByText('acme')).toBeTruthy();
    const mapping = {
      account: 'Customer',
      displayName: 'Company',
      product: null,
      plan: 'Plan',
      measuredAt: 'Report date',
      date: null,
      decimalComma: true,
      metrics: [{ column: 'Storage (GB)', crossReferenceType: 'BackupUsage' }],
    };
    expect(calls.find((c) => c.operation === 'PreviewImport')?.variables).toEqual({ serviceId: '1', csv: CSV, fileName: 'october.csv', mapping });

    await user.click(screen.getByRole('button', { name: 'Import' }));
    expect(await screen.findByText(/Imported 1 rows\./)).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Open the Push preview' }).getAttribute('href')).toBe('/push');
    expect(calls.filter((c) => c.operation === 'CommitImport').map((c) => c.variables)).toEqual([
      { serviceId: '1', csv: CSV, fileName: 'october.csv', mapping },
    ]);
  });

  it('lists every problem with its row and column, and offers no import', async () => {
    const calls = serve([{ row: 2, column: 'Plan', kind: 'UNKNOWN_PLAN', message: 'unknown plan "IB-9" for "Intronis Backup Plan"' }]);
    const user = await upload();
    await user.click(screen.getByRole('button', { name: 'Dry run' }));
    const problems = within(await screen.findByRole('table', { name: 'Problems' }));
    expect(problems.getByText('Plan')).toBeTruthy();
    expect(problems.getByText(/unknown plan "IB-9"/)).toBeTruthy();
    expect(screen.getByText(/1 problem: fix the file/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Import' })).toBeNull();
    expect(calls.some((c) => c.operation === 'CommitImport')).toBe(false);
  });
});
