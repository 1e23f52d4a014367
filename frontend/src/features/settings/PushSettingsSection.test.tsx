import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { PushSettingsInput, PushSettingsQuery, Role } from '../../gql/graphql';
import { SessionProvider, useSession } from '../../session/Session';
import { fakeServer } from '../../testing/fakeServer';
import { PushSettingsSection } from './PushSettingsSection';

const RETIRE = 'When no mapping wants an addition billbridge wrote';
const MANUAL = 'When a person changed an addition in ConnectWise';

function serve(role: Role, initial: PushSettingsQuery['pushSettings'] = { retireMode: 'ZERO', onManualEdit: 'OVERWRITE', updatedBy: null, updatedAt: null }) {
  let settings = initial;
  const calls = fakeServer({
    Me: () => ({ me: { subject: 'ann@example.com', role, tenant: 'demo', user: null } }),
    PushSettings: () => ({ pushSettings: settings }),
    UpdatePushSettings: ({ input }) => {
      settings = { ...(input as PushSettingsInput), updatedBy: 'ann@example.com', updatedAt: '2026-11-27T09:30:00Z' };
      return { updatePushSettings: settings };
    },
  });
  return calls;
}

/** Shows the role once the session has loaded, so tests can wait for it. */
function SignedInAs() {
  const { state } = useSession();
  return state.status === 'signedIn' ? <p>Signed in as {state.me.role}</p> : null;
}

async function renderSection(role: Role) {
  render(
    <SessionProvider>
      <SignedInAs />
      <PushSettingsSection />
    </SessionProvider>,
  );
  await screen.findByText(`Signed in as ${role}`);
  return {
    retire: within(await screen.findByRole('radiogroup', { name: RETIRE })),
    manual: within(screen.getByRole('radiogroup', { name: MANUAL })),
  };
}

const checked = (group: ReturnType<typeof within>) =>
  group
    .getAllByRole('radio')
    .filter((r: HTMLElement) => (r as HTMLInputElement).checked)
    .map((r: HTMLElement) => r.getAttribute('value'));

describe('Push settings', () => {
  it('explains every choice in one line', async () => {
    serve('EDITOR');
    const { retire, manual } = await renderSection('EDITOR');
    expect(retire.getByRole('radio', { name: 'Set it to 0' }).getAttribute('aria-describedby')).toBeTruthy();
    expect(retire.getByRole('radio', { name: 'Set it to 0' })).toHaveProperty('checked', true);
    expect(retire.getByText(/stays on the agreement with quantity 0, billing nothing/)).toBeTruthy();
    expect(retire.getByText(/cancelled from the first of next month, so it still bills the current month/)).toBeTruthy();
    expect(manual.getByText(/billbridge writes its quantity .*the preview marks the line “Edited in ConnectWise”/)).toBeTruthy();
    expect(manual.getByText(/The person’s quantity stays; the line is skipped/)).toBeTruthy();
    expect(screen.getByText(/Never changed: these are the defaults\./)).toBeTruthy();
  });

  it('saves what an editor chose, and shows who changed it', async () => {
    const calls = serve('EDITOR');
    const { retire, manual } = await renderSection('EDITOR');
    const save = screen.getByRole('button', { name: 'Save push settings' });
    // Nothing to save until something changes.
    expect(save).toHaveProperty('disabled', true);

    const user = userEvent.setup();
    await user.click(retire.getByRole('radio', { name: 'Cancel it from next month' }));
    await user.click(manual.getByRole('radio', { name: 'Keep the person’s quantity' }));
    expect(save).toHaveProperty('disabled', false);
    await user.click(save);

    expect(calls.filter((c) => c.operation === 'UpdatePushSettings').map((c) => c.variables)).toEqual([
      { input: { retireMode: 'CANCEL', onManualEdit: 'SKIP' } },
    ]);
    // Read again once saved: the new choices, and who made them.
    await screen.findByText(/Last changed by ann@example\.com/);
    const after = {
      retire: within(screen.getByRole('radiogroup', { name: RETIRE })),
      manual: within(screen.getByRole('radiogroup', { name: MANUAL })),
    };
    expect(checked(after.retire)).toEqual(['CANCEL']);
    expect(checked(after.manual)).toEqual(['SKIP']);
  });

  it('shows a viewer the settings read-only', async () => {
    const calls = serve('VIEWER', { retireMode: 'CANCEL', onManualEdit: 'SKIP', updatedBy: 'bob@example.com', updatedAt: '2026-11-01T08:00:00Z' });
    const { retire, manual } = await renderSection('VIEWER');
    expect(checked(retire)).toEqual(['CANCEL']);
    expect(checked(manual)).toEqual(['SKIP']);
    for (const radio of [...retire.getAllByRole('radio'), ...manual.getAllByRole('radio')]) expect(radio).toHaveProperty('disabled', true);
    expect(screen.queryByRole('button', { name: 'Save push settings' })).toBeNull();
    expect(screen.getByText(/Last changed by bob@example\.com.*Editors and admins can change them\./)).toBeTruthy();
    expect(calls.some((c) => c.operation === 'UpdatePushSettings')).toBe(false);
  });
});
