import { useCallback, useState } from 'react';
import { forgetToken, loadToken, saveToken } from './api';
import { TokenGate } from './features/auth/TokenGate';
import { ServicesPage } from './features/billing/ServicesPage';

export function App() {
  const [token, setToken] = useState<string | null>(loadToken);
  // Why the user is back at the token form, if it wasn't their choice.
  const [notice, setNotice] = useState<string | null>(null);

  const handleToken = (value: string) => {
    saveToken(value);
    setNotice(null);
    setToken(value);
  };

  const handleForget = () => {
    forgetToken();
    setNotice(null);
    setToken(null);
  };

  // Stable identity so ServicesPage's effects don't re-run on every render.
  const handleUnauthenticated = useCallback(() => {
    forgetToken();
    setNotice('Your token was rejected or has expired. Paste a new one to continue.');
    setToken(null);
  }, []);

  return (
    <div className="app">
      <header className="app-header">
        <h1>billbridge — Billing</h1>
        {token && (
          <button type="button" className="button button--secondary" onClick={handleForget}>
            Forget token
          </button>
        )}
      </header>
      <main className="app-main">
        {token ? (
          <ServicesPage token={token} onUnauthenticated={handleUnauthenticated} />
        ) : (
          <TokenGate notice={notice} onSubmit={handleToken} />
        )}
      </main>
    </div>
  );
}
