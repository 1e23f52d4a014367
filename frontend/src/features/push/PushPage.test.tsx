import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { PreviewPushQuery } from '../../gql/graphql';
import { SessionProvider } from '../../session/Session';
import { fakeServer } from '../../testing/fakeServer';
import { PushPage } from './PushPage';

type Line = PreviewPushQuery['previewPush']['lines'][number];

const line = (overrides: Partial<Line>): Line => ({
  accounts: ['acme'],
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
  ...overrides,
});

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
    lines: [
      line({ action: 'UPDATE', currentQuantity: 55, lastWrittenQuantity: 40, newQuantity: 42, drifted: true }),
      line({ action: 'CREATE', level: '1', productIdentifier: 'IB-STORAGE-L1', currentQuantity: null, newQuantity: 42, lastWrittenQuantity: null }),
      line({ action: 'RETIRE', accounts: [], level: null, productIdentifier: null, currentQuantity: 40, newQuantity: 0, detail: 'no mapping wants addition 7 (BackupUsage) any more: set it from 40 to 0' }),
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
});
