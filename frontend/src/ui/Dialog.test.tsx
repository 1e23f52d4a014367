import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import { ConfirmDialog, Dialog } from './Dialog';

/** A page with an opener; the dialog's Save fails once with `refusal`, then closes. */
function Page({ refusal, onClose }: { refusal: ApiError; onClose: () => void }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => {
    onClose();
    setOpen(false);
  };
  return (
    <>
      <h1 tabIndex={-1}>Billing Setup</h1>
      <button type="button" onClick={() => setOpen(true)}>
        Open
      </button>
      {open && (
        <Dialog
          title="Add"
          onClose={close}
          error={error}
          errorTitle="Not saved."
          errorAction={<button type="button">Use “Gold”</button>}
          footer={
            <>
              <button
                type="button"
                disabled={busy}
                onClick={() => {
                  // Like a Confirm disabled while its request runs: focus falls to the body.
                  setBusy(true);
                  setError(refusal);
                }}
              >
                Save
              </button>
              <button type="button" onClick={close}>
                Cancel
              </button>
            </>
          }
        >
          <label>
            Level <input />
          </label>
        </Dialog>
      )}
    </>
  );
}

const refusal = () => new ApiError('level "gold" has no cross-reference; did you mean "Gold"?', 'BAD_USER_INPUT');

describe('Dialog', () => {
  it('moves focus in on open, keeps the footer outside the scrolling body, and returns focus on close', async () => {
    const user = userEvent.setup();
    render(<Page refusal={refusal()} onClose={vi.fn()} />);
    const opener = screen.getByRole('button', { name: 'Open' });
    await user.click(opener);
    const dialog = screen.getByRole('dialog', { name: 'Add' });
    expect(document.activeElement).toBe(within(dialog).getByRole('textbox'));
    const body = dialog.querySelector('.dialog-body');
    const footer = dialog.querySelector('.dialog-footer');
    expect(footer).not.toBeNull();
    expect(body?.contains(footer)).toBe(false);
    expect(within(footer as HTMLElement).getByRole('button', { name: 'Save' })).toBeTruthy();

    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(opener);
  });

  it('puts a server error in an alert that takes focus, and Escape still closes', async () => {
    const user = userEvent.setup();
    const onClose = vi.fn();
    render(<Page refusal={refusal()} onClose={onClose} />);
    const opener = screen.getByRole('button', { name: 'Open' });
    await user.click(opener);
    const dialog = screen.getByRole('dialog', { name: 'Add' });
    await user.click(within(dialog).getByRole('button', { name: 'Save' }));

    const alert = within(dialog).getByRole('alert');
    expect(document.activeElement).toBe(alert);
    expect(alert.textContent).toBe('Not saved. level "gold" has no cross-reference; did you mean "Gold"?Use “Gold”');
    // Announced above the footer, outside the scrolling body.
    expect(dialog.querySelector('.dialog-body')?.contains(alert)).toBe(false);

    // Tab goes on inside the dialog: the alert's button first.
    await user.tab();
    expect(document.activeElement).toBe(within(alert).getByRole('button', { name: 'Use “Gold”' }));

    await user.keyboard('{Escape}');
    expect(onClose).toHaveBeenCalledOnce();
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(opener);
  });

  it('answers Escape and Tab even when focus fell out of it to the page', async () => {
    const user = userEvent.setup();
    const onClose = vi.fn();
    render(<Page refusal={refusal()} onClose={onClose} />);
    await user.click(screen.getByRole('button', { name: 'Open' }));
    (document.activeElement as HTMLElement).blur();
    expect(document.activeElement).toBe(document.body);

    await user.tab();
    expect(screen.getByRole('dialog').contains(document.activeElement)).toBe(true);
    (document.activeElement as HTMLElement).blur();
    await user.keyboard('{Escape}');
    expect(onClose).toHaveBeenCalledOnce();
  });

  it('closes only the innermost of two open dialogs on Escape', async () => {
    const user = userEvent.setup();
    const outer = vi.fn();
    const inner = vi.fn();
    render(
      <>
        <Dialog title="Outer" onClose={outer} footer={<button type="button">Outer OK</button>}>
          <p>outer</p>
        </Dialog>
        <Dialog title="Inner" onClose={inner} footer={<button type="button">Inner OK</button>}>
          <p>inner</p>
        </Dialog>
      </>,
    );
    await user.keyboard('{Escape}');
    expect(inner).toHaveBeenCalledOnce();
    expect(outer).not.toHaveBeenCalled();
  });
});

describe('ConfirmDialog', () => {
  it('shows a refusal in a focused alert and keeps Confirm focusable while it waits', async () => {
    const user = userEvent.setup();
    let finish: () => void = () => {};
    const onConfirm = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    const { rerender } = render(
      <ConfirmDialog title="Delete level Gold" confirmLabel="Delete" onConfirm={onConfirm} onClose={vi.fn()}>
        <p>Delete it?</p>
      </ConfirmDialog>,
    );
    const dialog = screen.getByRole('alertdialog', { name: 'Delete level Gold' });
    const confirm = within(dialog).getByRole('button', { name: 'Delete' });
    await user.click(confirm);
    expect(confirm.getAttribute('aria-disabled')).toBe('true');
    expect(document.activeElement).toBe(confirm);
    // A second click while waiting does nothing.
    await user.click(confirm);
    expect(onConfirm).toHaveBeenCalledOnce();
    finish();

    rerender(
      <ConfirmDialog
        title="Delete level Gold"
        confirmLabel="Delete"
        onConfirm={onConfirm}
        onClose={vi.fn()}
        error={new ApiError('level "Gold" is used by 2 billing mapping(s)', 'CONFLICT')}
      >
        <p>Delete it?</p>
      </ConfirmDialog>,
    );
    const alert = within(dialog).getByRole('alert');
    expect(document.activeElement).toBe(alert);
    expect(alert.textContent).toContain('is used by 2 billing mapping(s)');
  });
});
