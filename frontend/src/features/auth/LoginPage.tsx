import { useState, type FormEvent } from 'react';
import { JSON_HEADERS } from '../../api/client';
import { navigate } from '../../router';
import { useSession } from '../../session/Session';
import { Field } from '../../ui/Field';

/** What the server's answer to POST /auth/login means for the person signing in. */
export async function loginProblem(response: Response): Promise<string | null> {
  if (response.ok) return null;
  if (response.status === 429) {
    const wait = Number(response.headers.get('Retry-After'));
    const when = Number.isFinite(wait) && wait > 0 ? `in ${describeWait(wait)}` : 'later';
    return `Too many failed sign-ins. Try again ${when}.`;
  }
  if (response.status === 401) return 'The tenant, email or password is wrong.';
  try {
    const body = (await response.json()) as { errors?: { message: string }[] };
    if (body.errors?.[0]) return body.errors[0].message;
  } catch {
    // Not JSON: fall through to the status.
  }
  return `Sign-in failed (HTTP ${response.status}).`;
}

function describeWait(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

export function LoginPage() {
  const { refresh } = useSession();
  const [tenant, setTenant] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setProblem(null);
    try {
      const response = await fetch('/auth/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: JSON_HEADERS,
        body: JSON.stringify({ tenant: tenant.trim(), email: email.trim(), password }),
      });
      const failure = await loginProblem(response);
      if (failure) {
        setProblem(failure);
        return;
      }
      await refresh();
      navigate('/billing', { replace: true });
    } catch {
      setProblem('Could not reach the billbridge server.');
    } finally {
      setPending(false);
    }
  };

  return (
    <main className="login">
      <form className="panel login-form" onSubmit={submit}>
        <h1>Sign in to billbridge</h1>
        {problem && (
          <p className="alert alert--error" role="alert">
            {problem}
          </p>
        )}
        <Field label="Tenant">
          {(p) => <input {...p} value={tenant} onChange={(e) => setTenant(e.target.value)} autoComplete="organization" required autoFocus />}
        </Field>
        <Field label="Email">
          {(p) => <input {...p} type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="username" required />}
        </Field>
        <Field label="Password">
          {(p) => <input {...p} type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" required />}
        </Field>
        <button type="submit" className="button" disabled={pending}>
          Sign in
        </button>
      </form>
    </main>
  );
}
