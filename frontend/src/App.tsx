import { useEffect } from 'react';
import { AccountPage } from './features/accounts/AccountPage';
import { AccountsPage } from './features/accounts/AccountsPage';
import { LoginPage } from './features/auth/LoginPage';
import { BillingPage } from './features/billing/BillingPage';
import { SetupPage } from './features/billing/SetupPage';
import { RunPage } from './features/history/RunPage';
import { RunsPage } from './features/history/RunsPage';
import { ImportPage } from './features/import/ImportPage';
import { PushPage } from './features/push/PushPage';
import { SettingsPage } from './features/settings/SettingsPage';
import { Layout } from './features/shell/Layout';
import { match, navigate, usePath } from './router';
import { useSession } from './session/Session';
import { ErrorAlert, Loading } from './ui/Feedback';
import { PageTitle } from './ui/PageTitle';

function page(path: string) {
  let params: Record<string, string> | null;
  if (path === '/billing') return <BillingPage />;
  if ((params = match('/billing/:serviceId', path))) return <SetupPage key={params.serviceId} serviceId={params.serviceId} />;
  if (path === '/push') return <PushPage />;
  if (path === '/history') return <RunsPage />;
  if ((params = match('/history/:id', path))) return <RunPage key={params.id} id={params.id} />;
  if (path === '/accounts') return <AccountsPage />;
  if ((params = match('/accounts/:id', path))) return <AccountPage key={params.id} id={params.id} />;
  if (path === '/import') return <ImportPage />;
  if (path === '/settings') return <SettingsPage />;
  return (
    <>
      <PageTitle>Page not found</PageTitle>
      <p>Nothing lives at {path}. Use the navigation above.</p>
    </>
  );
}

export function App() {
  const { state, refresh } = useSession();
  const path = usePath();

  // Where to be for the session's state: /login when signed out, away from it when in.
  useEffect(() => {
    if (state.status === 'signedOut' && path !== '/login') navigate('/login', { replace: true });
    if (state.status === 'signedIn' && (path === '/login' || path === '/')) navigate('/billing', { replace: true });
  }, [state.status, path]);

  if (state.status === 'loading') return <Loading what="billbridge" />;
  if (state.status === 'error') return <ErrorAlert error={state.error} retry={() => void refresh()} title="Could not reach billbridge." />;
  if (state.status === 'signedOut') return path === '/login' ? <LoginPage /> : null;
  return <Layout me={state.me}>{page(path)}</Layout>;
}
