// Confirm, then run a destructive mutation on one item (delete, revoke, deactivate, take
// over, disconnect): which item the dialog asks about, a fresh error each time it opens,
// and on success the dialog closes before `onDone` runs. A failure keeps the dialog open
// with the mutation's error (ConfirmDialog shows it).
import { useState } from 'react';
import type { MutationState } from '../api/hooks';

export interface ConfirmDelete<T> {
  /** The item the dialog asks about; null while it is closed. */
  target: T | null;
  /** Opens the dialog for `item`, clearing the last attempt's error. */
  ask: (item: T) => void;
  /** Spread on `ConfirmDialog`. */
  dialog: {
    error: MutationState<unknown, unknown>['error'];
    pending: boolean;
    onClose: () => void;
    onConfirm: () => Promise<void>;
  };
}

export function useConfirmDelete<T, TResult, TVariables>(
  mutation: MutationState<TResult, TVariables>,
  { variables, onDone }: { variables: (item: T) => TVariables; onDone?: (item: T, result: TResult) => void },
): ConfirmDelete<T> {
  const [target, setTarget] = useState<T | null>(null);
  return {
    target,
    ask: (item) => {
      mutation.reset();
      setTarget(item);
    },
    dialog: {
      error: mutation.error,
      pending: mutation.pending,
      onClose: () => setTarget(null),
      onConfirm: async () => {
        if (target === null) return;
        const result = await mutation.run(variables(target));
        if (result) {
          setTarget(null);
          onDone?.(target, result);
        }
      },
    },
  };
}
