import type { ReactNode } from 'react';
import type { ApiError } from '../api/client';
import type { QueryState } from '../api/hooks';

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function ErrorAlert({ error, retry, title }: { error: ApiError | Error; retry?: () => void; title?: string }) {
  return (
    <div className="alert alert--error" role="alert">
      {title && <strong>{title} </strong>}
      <span className="pre-line">{error.message}</span>
      {retry && (
        <button type="button" className="button button--small button--secondary" onClick={retry}>
          Try again
        </button>
      )}
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
