import { useId, useState, type FormEvent } from 'react';

interface Props {
  /** Shown above the form, e.g. when a previous token was rejected. */
  notice: string | null;
  onSubmit: (token: string) => void;
}

/**
 * Temporary sign-in: the user pastes a bearer JWT issued by the server
 * (`billbridge token --tenant demo --role admin`, or printed by `serve --demo`).
 * Replaced by a real login later.
 */
export function TokenGate({ notice, onSubmit }: Props) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const helpId = useId();
  const errorId = useId();

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    // Accept a pasted "Bearer eyJ…" too, and ignore stray whitespace/newlines.
    const token = value.replace(/^\s*Bearer\s+/i, '').replace(/\s+/g, '');
    if (!token) {
      setError('Paste a token first.');
      return;
    }
    setError(null);
    onSubmit(token);
  };

  return (
    <section className="panel token-gate" aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`}>Sign in with a token</h2>
      {notice && (
        <p className="alert alert--error" role="alert">
          {notice}
        </p>
      )}
      <form onSubmit={handleSubmit} noValidate>
        <label htmlFor={inputId}>Bearer token (JWT)</label>
        <textarea
          id={inputId}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          rows={4}
          spellCheck={false}
          autoComplete="off"
          autoFocus
          aria-describedby={error ? `${helpId} ${errorId}` : helpId}
          aria-invalid={error ? true : undefined}
        />
        <p id={helpId} className="hint">
          Get one with <code>billbridge token --tenant demo --role admin</code>, or copy the one{' '}
          <code>billbridge serve --demo</code> prints at startup. It is kept in this browser's
          local storage until you choose “Forget token”.
        </p>
        {error && (
          <p id={errorId} className="field-error">
            {error}
          </p>
        )}
        <button type="submit" className="button">
          Use token
        </button>
      </form>
    </section>
  );
}
