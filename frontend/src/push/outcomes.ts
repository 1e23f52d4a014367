// What became of a line in a run, in the words of the History page; also the Account page's.
import type { LineOutcome } from '../gql/graphql';

/** The Outcome filter's choices, in the words of the History page. */
export const OUTCOMES: { value: LineOutcome | ''; label: string }[] = [
  { value: '', label: 'All' },
  { value: 'DONE', label: 'Written' },
  { value: 'UNCHANGED', label: 'Unchanged' },
  { value: 'SKIPPED', label: 'Skipped' },
  { value: 'FAILED', label: 'Failed' },
  { value: 'CANCELLED', label: 'Cancelled' },
  { value: 'PLANNED', label: 'Planned (dry run)' },
  { value: 'PENDING', label: 'Pending' },
];

export const OUTCOME_LABEL = Object.fromEntries(OUTCOMES.map((o) => [o.value, o.label])) as Record<LineOutcome, string>;
