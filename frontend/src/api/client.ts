// The one way the app talks to /graphql: a same-origin POST carrying the session
// cookie and the CSRF header the server requires of cookie-authenticated requests.
import type { TypedDocumentString } from '../gql/graphql';

export interface GraphQLErrorShape {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; field?: string; suggestion?: string; [key: string]: unknown };
}

/** A failed request: network, HTTP or the server's GraphQL errors. */
export class ApiError extends Error {
  readonly code: string | undefined;
  readonly errors: GraphQLErrorShape[];

  constructor(message: string, code?: string, errors: GraphQLErrorShape[] = []) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.errors = errors;
  }

  /** The input field the server blamed (`level`, `input.level`, …). */
  get field(): string | undefined {
    return this.errors[0]?.extensions?.field;
  }

  /** The server's "did you mean" for a value it refused. */
  get suggestion(): string | undefined {
    const value = this.errors[0]?.extensions?.suggestion;
    return typeof value === 'string' ? value : undefined;
  }
}

type Listener = () => void;
const signedOutListeners = new Set<Listener>();

/** Called whenever the server says the session is gone (401 or UNAUTHENTICATED). */
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

function signedOut(): ApiError {
  signedOutListeners.forEach((listener) => listener());
  return new ApiError('Your session has ended. Sign in again.', 'UNAUTHENTICATED');
}

export const JSON_HEADERS = {
  'Content-Type': 'application/json',
  // The server refuses cookie-authenticated GraphQL without it: a cross-site form
  // cannot set custom headers, so this is the CSRF defence.
  'X-Billbridge-Csrf': '1',
};

export async function request<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables?: TVariables,
  signal?: AbortSignal,
): Promise<TResult> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: JSON_HEADERS,
      body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError('Could not reach the billbridge server.', 'NETWORK');
  }
  if (response.status === 401) throw signedOut();

  let body: { data?: TResult | null; errors?: GraphQLErrorShape[] };
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`Unexpected answer from the server (HTTP ${response.status}).`, 'HTTP');
  }
  const errors = body.errors ?? [];
  if (errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) throw signedOut();
  if (errors.length > 0) {
    // The server's messages name the field and what it accepts: show them as they are.
    throw new ApiError(errors.map((e) => e.message).join('\n'), errors[0].extensions?.code, errors);
  }
  if (!response.ok || body.data == null) {
    throw new ApiError(`Unexpected answer from the server (HTTP ${response.status}).`, 'HTTP');
  }
  return body.data;
}
