import { describe, expect, it } from 'vitest';
import { loginProblem } from './LoginPage';

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
