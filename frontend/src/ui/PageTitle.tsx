import { useEffect, useRef } from 'react';

/**
 * Whether the next page heading to appear should take focus: set on navigation
 * (`focusPageTitle`), so a page whose heading waits for its data still gets it.
 */
let focusPending = false;

/**
 * After a route change: moves focus to the page's heading, so a screen reader starts at the
 * new page instead of the link that was followed. Until the heading exists, `fallback` (the
 * main region) holds focus and the heading takes it when it mounts. Never on first load.
 */
export function focusPageTitle(fallback: HTMLElement | null): void {
  const heading = document.querySelector<HTMLElement>('main h1');
  if (heading) {
    focusPending = false;
    heading.focus();
    return;
  }
  focusPending = true;
  fallback?.focus();
}

/** The page's h1, also shown in the browser tab. */
export function PageTitle({ children }: { children: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${children} — billbridge`;
  }, [children]);
  useEffect(() => {
    if (!focusPending) return;
    focusPending = false;
    heading.current?.focus();
  }, []);
  return (
    <h1 ref={heading} tabIndex={-1}>
      {children}
    </h1>
  );
}
