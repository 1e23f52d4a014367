import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { ApiError } from '../api/client';
import { ErrorAlert } from './Feedback';

interface Props {
  title: string;
  onClose: () => void;
  role?: 'dialog' | 'alertdialog';
  /** The dialog's buttons: a footer that never scrolls away (the body scrolls instead). */
  footer: ReactNode;
  /** Makes body and footer one form, so Enter submits and the footer's submit button works. */
  onSubmit?: (event: FormEvent) => void;
  /** The server's refusal: shown above the footer in an alert that takes focus. */
  error?: ApiError | Error | null;
  /** Leads the error's message ("Not saved."). */
  errorTitle?: string;
  /** What the user can do about the error, inside its alert (a suggestion's button). */
  errorAction?: ReactNode;
  /** What to know before pressing the footer's buttons (amber warnings): pinned above it. */
  notes?: ReactNode;
  children: ReactNode;
}

const FOCUSABLE = 'button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), a[href], [tabindex]:not([tabindex="-1"])';

/** The open dialogs, innermost last: only it answers Escape and Tab. */
const open: symbol[] = [];

/**
 * A modal that keeps the user in place:
 * - focus moves in on open, and back to the opener on close (the page's heading if the
 *   opener is gone);
 * - Escape closes and Tab stays inside, listened for on the document, so both keep working
 *   even when focus was lost (a focused button that became disabled drops it to the body);
 * - the title and footer stay put and only the body scrolls, so Confirm/Cancel are always
 *   visible;
 * - a server error is announced (`role="alert"`) above the footer and takes focus; notes
 *   (warnings) sit there too, so neither is scrolled out of sight.
 * (Not <dialog>.showModal(), which the component tests' DOM does not implement.)
 */
export function Dialog({ title, onClose, role = 'dialog', footer, onSubmit, error, errorTitle, errorAction, notes, children }: Props) {
  const titleId = useId();
  const box = useRef<HTMLDivElement>(null);
  const alert = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  useEffect(() => {
    close.current = onClose;
  }, [onClose]);

  useEffect(() => {
    const me = Symbol(title);
    open.push(me);
    const opener = document.activeElement as HTMLElement | null;
    box.current?.querySelector<HTMLElement>(FOCUSABLE)?.focus();

    const onKeyDown = (event: KeyboardEvent) => {
      if (open[open.length - 1] !== me || !box.current) return;
      if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        close.current();
        return;
      }
      if (event.key !== 'Tab') return;
      const items = [...box.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
      if (items.length === 0) return;
      const first = items[0];
      const last = items[items.length - 1];
      const inside = box.current.contains(document.activeElement);
      if (!inside || (event.shiftKey && document.activeElement === first)) {
        event.preventDefault();
        (event.shiftKey ? last : first).focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    };
    document.addEventListener('keydown', onKeyDown);
    return () => {
      document.removeEventListener('keydown', onKeyDown);
      open.splice(open.indexOf(me), 1);
      const back = opener?.isConnected ? opener : document.querySelector<HTMLElement>('h1');
      back?.focus();
    };
    // Runs once: the title may change while open, the dialog stays the same.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Each new refusal takes focus, so it is read out and Escape/Tab act from inside.
  useEffect(() => {
    if (error) alert.current?.focus();
  }, [error]);

  const content = (
    <>
      <div className="dialog-body">{children}</div>
      {(error || notes) && (
        <div className="dialog-alert">
          {notes}
          {error && (
            <ErrorAlert error={error} title={errorTitle} focusRef={alert}>
              {errorAction}
            </ErrorAlert>
          )}
        </div>
      )}
      <div className="dialog-footer actions">{footer}</div>
    </>
  );
  return (
    <div className="backdrop">
      <div ref={box} className="dialog" role={role} aria-modal="true" aria-labelledby={titleId}>
        <h2 id={titleId} className="dialog-title">
          {title}
        </h2>
        {onSubmit ? (
          <form className="dialog-frame" onSubmit={onSubmit}>
            {content}
          </form>
        ) : (
          <div className="dialog-frame">{content}</div>
        )}
      </div>
    </div>
  );
}

interface ConfirmProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  error?: ApiError;
  pending?: boolean;
}

/** "Are you sure?" for destructive actions; stays open and shows the error if it fails. */
export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onClose, error, pending }: ConfirmProps) {
  const [busy, setBusy] = useState(false);
  const waiting = busy || Boolean(pending);
  const confirm = async () => {
    if (waiting) return;
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={title}
      role="alertdialog"
      onClose={onClose}
      error={error}
      errorTitle="Not done."
      footer={
        <>
          {/* aria-disabled, not disabled, while waiting: a disabled button would drop focus to the page. */}
          <button type="button" className="button button--danger" onClick={confirm} aria-disabled={waiting || undefined}>
            {confirmLabel}
          </button>
          <button type="button" className="button button--secondary" onClick={onClose}>
            Cancel
          </button>
        </>
      }
    >
      {children}
    </Dialog>
  );
}
