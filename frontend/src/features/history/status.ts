import type { PushStatus } from '../../gql/graphql';
import type { Tone } from '../../ui/Badge';

export const STATUS_TONE: Record<PushStatus, Tone> = {
  RUNNING: 'info',
  SUCCEEDED: 'ok',
  PARTIAL: 'warn',
  FAILED: 'bad',
  CANCELLED: 'neutral',
};
