// What became of a line in a run, in the words of the History page; also the Account page's.
import type { LineOutcome } from '../gql/graphql';
import { LINE_OUTCOME_LABEL } from '../ui/labels';

/** The Outcome filter's choices, in the words of the History page. */
export const OUTCOMES: { value: LineOutcome | ''; label: string }[] = [
  { value: '', label: 'All' },
  ...(Object.keys(LINE_OUTCOME_LABEL) as LineOutcome[]).map((value) => ({ value, label: LINE_OUTCOME_LABEL[value] })),
];

export const OUTCOME_LABEL: Record<LineOutcome, string> = LINE_OUTCOME_LABEL;
