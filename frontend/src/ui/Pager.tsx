import { useCallback, useState } from 'react';

/**
 * Relay-style paging forwards and back: remembers the `after` cursor of each page seen,
 * since the API pages only forwards.
 */
export function useCursorPages() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const next = useCallback((endCursor: string) => setCursors((c) => [...c, endCursor]), []);
  const previous = useCallback(() => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)), []);
  // Keeps the same array when already on the first page, so a reset renders nothing new.
  const reset = useCallback(() => setCursors((c) => (c.length === 1 ? c : [null])), []);
  return { after: cursors[cursors.length - 1], page: cursors.length, next, previous, reset };
}

interface Props {
  page: number;
  hasNext: boolean;
  onNext: () => void;
  onPrevious: () => void;
  summary?: string;
}

export function Pager({ page, hasNext, onNext, onPrevious, summary }: Props) {
  return (
    <div className="pager">
      <button type="button" className="button button--secondary" onClick={onPrevious} disabled={page <= 1}>
        Previous page
      </button>
      <span aria-live="polite">
        Page {page}
        {summary ? ` · ${summary}` : ''}
      </span>
      <button type="button" className="button button--secondary" onClick={onNext} disabled={!hasNext}>
        Next page
      </button>
    </div>
  );
}
