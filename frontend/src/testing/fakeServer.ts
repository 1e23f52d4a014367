// A stand-in for /graphql in component tests: `fetch` answers each operation by name
// from the handlers given, and every request is recorded for assertions.
import { vi } from 'vitest';

export interface Call {
  operation: string;
  variables: Record<string, unknown>;
  headers: Record<string, string>;
}

type Handler = (variables: Record<string, unknown>) => unknown;

/** An answer with GraphQL errors instead of data. */
export function graphQLErrors(...errors: { message: string; extensions?: Record<string, unknown> }[]) {
  return { errors };
}

export function fakeServer(handlers: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      const body = JSON.parse(String(init.body)) as { query: string; variables: Record<string, unknown> };
      const operation = /(?:query|mutation)\s+(\w+)/.exec(body.query)?.[1] ?? '?';
      calls.push({ operation, variables: body.variables, headers: init.headers as Record<string, string> });
      const handler = handlers[operation];
      const answer = handler ? handler(body.variables) : graphQLErrors({ message: `no handler for ${operation}` });
      const payload = answer && typeof answer === 'object' && 'errors' in answer ? answer : { data: answer };
      return new Response(JSON.stringify(payload), { status: 200, headers: { 'Content-Type': 'application/json' } });
    }),
  );
  return calls;
}
