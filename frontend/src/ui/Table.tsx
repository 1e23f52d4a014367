import type { ReactNode } from 'react';

/**
 * A table that scrolls sideways on narrow screens rather than squeezing its columns;
 * focusable so keyboard users can scroll it too.
 */
export function Table({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" role="region" aria-label={`${label} (scrollable)`} tabIndex={0}>
      <table aria-label={label}>{children}</table>
    </div>
  );
}
