// Who is signed in, for the whole app: the `me` query at start, sign-in and sign-out
// through /auth, and a jump to /login whenever the server says the session is gone.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { ApiError, JSON_HEADERS, onSignedOut, request } from '../api/client';
import { closeSubscriptions } from '../api/subscriptions';
import { graphql } from '../gql';
import type { MeQuery, Role } from '../gql/graphql';
import { navigate } from '../router';

const MeDocument = graphql(`
  query Me {
    me {
      subject
      role
      tenant
      user {
        id
        displayName
        email
      }
    }
  }
`);

export type Me = MeQuery['me'];

type State = { status: 'loading' } | { status: 'signedOut' } | { status: 'signedIn'; me: Me } | { status: 'error'; error: ApiError };

interface Session {
  state: State;
  /** Reads `me` again (after sign-in). */
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

/** Who is signed in, as `me` answers. */
async function readSession(): Promise<State> {
  try {
    const data = await request(MeDocument);
    return { status: 'signedIn', me: data.me };
  } catch (err) {
    const error = err instanceof ApiError ? err : new ApiError(String(err));
    return error.code === 'UNAUTHENTICATED' ? { status: 'signedOut' } : { status: 'error', error };
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: 'loading' });

  const refresh = useCallback(async () => setState(await readSession()), []);

  useEffect(() => {
    void readSession().then(setState);
    return onSignedOut(() => {
      closeSubscriptions();
      setState({ status: 'signedOut' });
      if (window.location.pathname !== '/login') navigate('/login');
    });
  }, []);

  const signOut = useCallback(async () => {
    await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin', headers: JSON_HEADERS }).catch(() => undefined);
    closeSubscriptions();
    setState({ status: 'signedOut' });
    navigate('/login');
  }, []);

  return <SessionContext.Provider value={{ state, refresh, signOut }}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

const RANK: Record<Role, number> = { VIEWER: 0, EDITOR: 1, ADMIN: 2 };

/** Whether the signed-in role may do what `needed` may (roles are ordered). */
export function useCan(needed: Role): boolean {
  const { state } = useSession();
  return state.status === 'signedIn' && RANK[state.me.role] >= RANK[needed];
}
