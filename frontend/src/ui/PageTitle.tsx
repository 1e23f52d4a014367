import { useEffect } from 'react';

/** The page's h1, also shown in the browser tab. */
export function PageTitle({ children }: { children: string }) {
  useEffect(() => {
    document.title = `${children} — billbridge`;
  }, [children]);
  return <h1>{children}</h1>;
}
