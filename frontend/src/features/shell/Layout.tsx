import { useEffect, useRef, type MouseEvent, type ReactNode } from 'react';
import { Link, usePath } from '../../router';
import type { Me } from '../../session/Session';
import { useSession } from '../../session/Session';
import { ROLE_LABEL } from '../../ui/labels';
import { focusPageTitle } from '../../ui/PageTitle';

const SECTIONS = [
  { to: '/billing', label: 'Billing' },
  { to: '/push', label: 'Push' },
  { to: '/history', label: 'History' },
  { to: '/accounts', label: 'Accounts' },
  { to: '/import', label: 'Import' },
  { to: '/settings', label: 'Settings' },
];

export function Layout({ me, children }: { me: Me; children: ReactNode }) {
  const { signOut } = useSession();
  const path = usePath();
  const main = useRef<HTMLElement>(null);
  const shown = useRef(path);
  // A route change moves focus to the new page's heading; the first load leaves it alone.
  useEffect(() => {
    if (shown.current === path) return;
    shown.current = path;
    focusPageTitle(main.current);
  }, [path]);
  const skip = (event: MouseEvent<HTMLAnchorElement>) => {
    // Focus, not only scroll: the next Tab then starts inside the page.
    event.preventDefault();
    main.current?.focus();
  };
  return (
    <div className="app">
      <a className="skip-link" href="#content" onClick={skip}>
        Skip to content
      </a>
      <header className="app-header">
        <span className="brand">billbridge</span>
        <nav aria-label="Main">
          <ul>
            {SECTIONS.map(({ to, label }) => (
              <li key={to}>
                <Link to={to} aria-current={path === to || path.startsWith(`${to}/`) ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span className="who-name">{me.user?.displayName ?? me.subject}</span>
          <span className="who-meta">
            {me.tenant} · <span className="role">{ROLE_LABEL[me.role]}</span>
          </span>
          <button type="button" className="button button--secondary button--small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="content" className="app-main" ref={main} tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
