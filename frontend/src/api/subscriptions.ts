// graphql-ws over /graphql/ws. The browser sends the session cookie with the upgrade
// request, which is how the server authenticates the socket: no token in the payload.
import { createClient, type Client } from 'graphql-ws';
import type { TypedDocumentString } from '../gql/graphql';
import { ApiError } from './client';

let client: Client | undefined;

function socket(): Client {
  if (!client) {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    client = createClient({ url: `${scheme}://${window.location.host}/graphql/ws`, lazy: true });
  }
  return client;
}

/** Closes the socket, e.g. after sign-out, so the next one carries the new cookie. */
export function closeSubscriptions(): void {
  client?.dispose();
  client = undefined;
}

export interface Sink<TResult> {
  next: (data: TResult) => void;
  error: (error: ApiError) => void;
  complete: () => void;
}

/** Starts a subscription; the returned function stops it. */
export function subscribe<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables, sink: Sink<TResult>): () => void {
  return socket().subscribe<TResult>(
    { query: document.toString(), variables: variables as Record<string, unknown> },
    {
      next: (message) => {
        if (message.errors?.length) {
          sink.error(new ApiError(message.errors.map((e) => e.message).join('\n')));
        } else if (message.data) {
          sink.next(message.data);
        }
      },
      error: (err) => {
        const message = Array.isArray(err) ? err.map((e: { message: string }) => e.message).join('\n') : 'The live connection to the server was lost.';
        sink.error(new ApiError(message, 'SUBSCRIPTION'));
      },
      complete: sink.complete,
    },
  );
}
