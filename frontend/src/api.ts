// A tiny GraphQL client: one POST to /graphql with the bearer token.

const TOKEN_KEY = 'billbridge.token';

export function loadToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage disabled (e.g. some private modes)
  }
}

export function saveToken(token: string): void {
  localStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  localStorage.removeItem(TOKEN_KEY);
}

export interface GraphQLError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

interface GraphQLResponse<TData> {
  data?: TData | null;
  errors?: GraphQLError[];
}

/** A failed request: transport, HTTP or GraphQL errors. */
export class ApiError extends Error {
  readonly code: string | undefined;
  readonly errors: GraphQLError[];

  constructor(message: string, code?: string, errors: GraphQLError[] = []) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.errors = errors;
  }
}

/** The token is missing, malformed or expired: the user must paste a new one. */
export class UnauthenticatedError extends ApiError {
  constructor(message = 'Your token was rejected or has expired.') {
    super(message, 'UNAUTHENTICATED');
    this.name = 'UnauthenticatedError';
  }
}

export async function graphql<TData, TVariables = Record<string, never>>(
  token: string,
  query: string,
  variables?: TVariables,
  signal?: AbortSignal,
): Promise<TData> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query, variables }),
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err; // let callers ignore their own aborts
    throw new ApiError('Could not reach the billbridge server.', 'NETWORK');
  }

  if (response.status === 401) throw new UnauthenticatedError();

  // GraphQL servers report most errors with HTTP 200 (or 400) and a JSON body,
  // so only give up on the status when the body is not GraphQL JSON.
  let body: GraphQLResponse<TData>;
  try {
    body = (await response.json()) as GraphQLResponse<TData>;
  } catch {
    throw new ApiError(`Unexpected response from server (HTTP ${response.status}).`, 'HTTP');
  }

  const errors = body.errors ?? [];
  if (errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
    throw new UnauthenticatedError();
  }
  if (errors.length > 0) {
    // This first UI treats any error as fatal, even alongside partial data.
    const first = errors[0];
    throw new ApiError(first.message, first.extensions?.code, errors);
  }
  if (!response.ok || body.data == null) {
    throw new ApiError(`Unexpected response from server (HTTP ${response.status}).`, 'HTTP');
  }
  return body.data;
}
