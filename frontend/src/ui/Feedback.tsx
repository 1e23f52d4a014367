import type { ReactNode, Ref } from 'react';
import type { ApiError } from '../api/client';
import type { QueryState } from '../api/hooks';

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/**
 * A failure, announced (`role="alert"`). With `focusRef` it can take focus (`tabIndex=-1`):
 * a dialog moves focus onto the server's refusal so the user hears it and stays inside.
 */
export function ErrorAlert({
  error,
  retry,
  title,
  focusRef,
  children,
}: {
  error: ApiError | Error;
  retry?: () => void;
  title?: string;
  focusRef?: Ref<HTMLDivElement>;
  /** What the user can do about it, after the message (a suggestion's button). */
  children?: ReactNode;
}) {
  return (
    <div className="alert alert--error" role="alert" ref={focusRef} tabIndex={focusRef ? -1 : undefined}>
      {title && <strong>{title} </strong>}
      <span className="pre-line">{error.message}</span>
      {children}
      {retry && (
        <button type="button" className="button button--small button--secondary" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Things a person should know that did not stop anything (amber, never inside a success box). */
export function Warnings({ title, warnings, announce }: { title?: string; warnings: string[]; announce?: boolean }) {
  if (warnings.length === 0) return null;
  return (
    <div className="alert alert--warn" role={announce ? 'status' : undefined}>
      {title && <strong>{title}</strong>}
      <ul>
        {warnings.map((w) => (
          <li key={w}>{w}</li>
        ))}
      </ul>
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/**
 * The loading and error states of a query, and its data once there. Data already
 * shown stays while a refetch runs, so tables do not flicker.
 */
export function Loaded<T>({ query, what, children }: { query: QueryState<T>; what: string; children: (data: T) => ReactNode }) {
  if (query.error) return <ErrorAlert error={query.error} retry={query.refetch} title={`Could not load ${what}.`} />;
  if (query.data === undefined) return <Loading what={what} />;
  return <>{children(query.data)}</>;
}
