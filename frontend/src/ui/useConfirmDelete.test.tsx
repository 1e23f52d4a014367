import { act, renderHook } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { MutationState } from '../api/hooks';
import { useConfirmDelete } from './useConfirmDelete';

/** A mutation whose `run` answers `answer` (undefined: it failed and stored its error). */
function mutation(answer: { deleted: boolean } | undefined): MutationState<{ deleted: boolean }, { id: string }> {
  return { run: vi.fn(async () => answer), pending: false, error: undefined, data: undefined, reset: vi.fn() };
}

describe('confirm, then delete', () => {
  it('asks about an item with a fresh error, deletes it by its variables, closes, then reports', async () => {
    const remove = mutation({ deleted: true });
    const onDone = vi.fn();
    const { result } = renderHook(() => useConfirmDelete(remove, { variables: (item: { id: string }) => ({ id: item.id }), onDone }));
    expect(result.current.target).toBeNull();

    act(() => result.current.ask({ id: '7' }));
    expect(remove.reset).toHaveBeenCalledOnce();
    expect(result.current.target).toEqual({ id: '7' });

    await act(() => result.current.dialog.onConfirm());
    expect(remove.run).toHaveBeenCalledWith({ id: '7' });
    expect(result.current.target).toBeNull();
    expect(onDone).toHaveBeenCalledWith({ id: '7' }, { deleted: true });
  });

  it('stays open when the mutation fails, and closes on Cancel without running it', async () => {
    const remove = mutation(undefined);
    const onDone = vi.fn();
    const { result } = renderHook(() => useConfirmDelete(remove, { variables: (item: { id: string }) => ({ id: item.id }), onDone }));
    act(() => result.current.ask({ id: '7' }));

    await act(() => result.current.dialog.onConfirm());
    expect(result.current.target).toEqual({ id: '7' });
    expect(onDone).not.toHaveBeenCalled();

    act(() => result.current.dialog.onClose());
    expect(result.current.target).toBeNull();
    expect(remove.run).toHaveBeenCalledOnce();
  });
});
