import { describe, expect, it, vi } from 'vitest';
import { graphql } from '../gql';
import { fakeServer, graphQLErrors } from '../testing/fakeServer';
import { ApiError, onSignedOut, request } from './client';

const Me = graphql(`
  query ClientTestMe {
    me {
      subject
    }
  }
`);

describe('request', () => {
  it('throws the server’s message with its code, field and suggestion', async () => {
    fakeServer({
      ClientTestMe: () => graphQLErrors({ message: 'level: did you mean "Gold"?', extensions: { code: 'BAD_USER_INPUT', field: 'level', suggestion: 'Gold' } }),
    });
    const error = await request(Me).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ message: 'level: did you mean "Gold"?', code: 'BAD_USER_INPUT', field: 'level', suggestion: 'Gold' });
  });

  it('announces a lost session on UNAUTHENTICATED', async () => {
    fakeServer({ ClientTestMe: () => graphQLErrors({ message: 'sign in', extensions: { code: 'UNAUTHENTICATED' } }) });
    const listener = vi.fn();
    const stop = onSignedOut(listener);
    await expect(request(Me)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    stop();
    expect(listener).toHaveBeenCalledOnce();
  });

  it('announces a lost session on HTTP 401', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response('', { status: 401 })),
    );
    const listener = vi.fn();
    const stop = onSignedOut(listener);
    await expect(request(Me)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    stop();
    expect(listener).toHaveBeenCalledOnce();
  });

  it('posts JSON with the CSRF header, same-origin', async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ data: { me: { subject: 'a' } } })));
    vi.stubGlobal('fetch', fetch);
    await request(Me);
    expect(fetch).toHaveBeenCalledWith(
      '/graphql',
      expect.objectContaining({
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-Billbridge-Csrf': '1' },
      }),
    );
  });
});
