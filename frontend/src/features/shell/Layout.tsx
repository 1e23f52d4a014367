import type { ReactNode } from 'react';
import { Link, usePath } from '../../router';
import type { Me } from '../../session/Session';
import { useSession } from '../../session/Session';

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
  return (
    <div className="app">
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
            {me.tenant} · <span className="role">{me.role}</span>
          </span>
          <button type="button" className="button button--secondary button--small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main className="app-main">{children}</main>
    </div>
  );
}
