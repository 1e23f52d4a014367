import type { LinkState } from '../../gql/graphql';
import type { Tone } from '../../ui/Badge';

export const LINK_STATE: Record<LinkState, { label: string; tone: Tone }> = {
  LINKED: { label: 'Linked', tone: 'ok' },
  NOT_FOUND: { label: 'Not linked', tone: 'bad' },
  AMBIGUOUS: { label: 'Ambiguous', tone: 'warn' },
};
