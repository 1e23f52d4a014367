import type { LinkState } from '../../gql/graphql';
import type { Tone } from '../../ui/Badge';
import { LINK_STATE_LABEL } from '../../ui/labels';

export const LINK_STATE: Record<LinkState, { label: string; tone: Tone }> = {
  LINKED: { label: LINK_STATE_LABEL.LINKED, tone: 'ok' },
  NOT_FOUND: { label: LINK_STATE_LABEL.NOT_FOUND, tone: 'bad' },
  AMBIGUOUS: { label: LINK_STATE_LABEL.AMBIGUOUS, tone: 'warn' },
};
