import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SessionProvider } from '../../session/Session';
import { LoginPage, loginProblem } from './LoginPage';

/** The server: /auth/login answers `login`; `me` answers only once signed in. */
function serve(login: Response) {
  let signedIn = false;
  const fetch = vi.fn(async (url: string, _init?: RequestInit) => {
    if (url === '/auth/login') {
      signedIn = login.ok;
      return login;
    }
    return signedIn
      ? new Response(JSON.stringify({ data: { me: { subject: 'ann@example.com', role: 'ADMIN', tenant: 'demo', user: null } } }))
      : new Response('', { status: 401 });
  });
  vi.stubGlobal('fetch', fetch);
  return fetch;
}

async function signIn() {
  render(
    <SessionProvider>
      <LoginPage />
    </SessionProvider>,
  );
  const user = userEvent.setup();
  await user.type(screen.getByLabelText('Tenant'), 'demo');
  await user.type(screen.getByLabelText('Email'), 'ann@example.com');
  await user.type(screen.getByLabelText('Password'), 'correct horse battery');
  await user.click(screen.getByRole('button', { name: 'Sign in' }));
}

describe('sign-in answers', () => {
  it('accepts 200 and 204', async () => {
    expect(await loginProblem(new Response('{}', { status: 200 }))).toBeNull();
    expect(await loginProblem(new Response(null, { status: 204 }))).toBeNull();
  });

  it('tells how long to wait after too many failures', async () => {
    const throttled = (seconds: string) => new Response('{}', { status: 429, headers: { 'Retry-After': seconds } });
    expect(await loginProblem(throttled('42'))).toBe('Too many failed sign-ins. Try again in 42 seconds.');
    expect(await loginProblem(throttled('600'))).toBe('Too many failed sign-ins. Try again in 10 minutes.');
  });

  it('does not say which credential was wrong', async () => {
    expect(await loginProblem(new Response('{}', { status: 401 }))).toBe('The tenant, email or password is wrong.');
  });
});

describe('sign-in page', () => {
  it('posts the credentials as JSON and goes to /billing', async () => {
    window.history.replaceState(null, '', '/login');
    const fetch = serve(new Response(null, { status: 204 }));
    await signIn();
    await vi.waitFor(() => expect(window.location.pathname).toBe('/billing'));
    const [url, init] = fetch.mock.calls.find(([url]) => url === '/auth/login')!;
    expect(url).toBe('/auth/login');
    expect(init).toMatchObject({ method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' } });
    expect(JSON.parse(String(init!.body))).toEqual({ tenant: 'demo', email: 'ann@example.com', password: 'correct horse battery' });
  });

  it('shows the wait when sign-in is throttled', async () => {
    window.history.replaceState(null, '', '/login');
    serve(new Response('{}', { status: 429, headers: { 'Retry-After': '30' } }));
    await signIn();
    expect((await screen.findByRole('alert')).textContent).toBe('Too many failed sign-ins. Try again in 30 seconds.');
    expect(window.location.pathname).toBe('/login');
  });
});
