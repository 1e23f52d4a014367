import { act, render, screen } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Sink } from '../../api/subscriptions';
import { subscribe } from '../../api/subscriptions';
import { PushProgress, type Progress } from './PushProgress';

vi.mock('../../api/subscriptions', () => ({ subscribe: vi.fn() }));

let sink: Sink<{ pushRunProgress: Progress }>;
const unsubscribe = vi.fn();

beforeEach(() => {
  vi.mocked(subscribe).mockImplementation((_document, _variables, s) => {
    sink = s as typeof sink;
    return unsubscribe;
  });
});

const event = (overrides: Partial<Progress>): Progress => ({
  runId: '42',
  status: 'RUNNING',
  total: 10,
  done: 0,
  unchanged: 0,
  skipped: 0,
  failed: 0,
  pending: 10,
  finished: false,
  ...overrides,
});

describe('push progress', () => {
  it('follows the subscription and ends with the run’s summary', () => {
    const onFinished = vi.fn();
    const { unmount } = render(<PushProgress runId="42" onFinished={onFinished} />);
    expect(vi.mocked(subscribe).mock.calls[0][1]).toEqual({ runId: '42' });

    act(() => sink.next({ pushRunProgress: event({}) }));
    const bar = screen.getByRole('progressbar', { name: 'Push progress' });
    expect(bar.getAttribute('aria-valuenow')).toBe('0');
    expect(bar.getAttribute('aria-valuemax')).toBe('10');

    act(() => sink.next({ pushRunProgress: event({ done: 3, unchanged: 2, skipped: 1, pending: 4 }) }));
    expect(bar.getAttribute('aria-valuenow')).toBe('6');
    expect(bar.getAttribute('aria-valuetext')).toBe('6 of 10 lines');
    expect(screen.queryByRole('status')).toBeNull();

    act(() =>
      sink.next({
        pushRunProgress: event({ status: 'PARTIAL', done: 6, unchanged: 2, skipped: 1, failed: 1, pending: 0, finished: true }),
      }),
    );
    // The bar ends full, the summary below it.
    expect(bar.getAttribute('aria-valuenow')).toBe('10');
    expect(bar.getAttribute('aria-valuemax')).toBe('10');
    const summary = screen.getByRole('status');
    expect(summary.textContent).toContain('Partly done:');
    expect(summary.textContent).not.toContain('PARTIAL');
    expect(summary.textContent).toContain('6 written, 2 unchanged, 1 skipped, 1 failed of 10 lines');
    expect(screen.getByRole('link', { name: 'View run' }).getAttribute('href')).toBe('/history/42');
    expect(onFinished).toHaveBeenCalledOnce();

    unmount();
    expect(unsubscribe).toHaveBeenCalledOnce();
  });

  it('says so when the live connection fails', () => {
    render(<PushProgress runId="7" />);
    act(() => sink.error(Object.assign(new Error('The live connection to the server was lost.'), { code: 'SUBSCRIPTION', errors: [] }) as never));
    expect(screen.getByRole('alert').textContent).toContain('The live connection to the server was lost.');
  });
});
