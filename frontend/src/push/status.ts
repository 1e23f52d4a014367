// The colour of a push run's status, wherever a run is shown (Billing, History, a run).
import type { PushStatus } from '../gql/graphql';
import type { Tone } from '../ui/Badge';

export const STATUS_TONE: Record<PushStatus, Tone> = {
  RUNNING: 'info',
  SUCCEEDED: 'ok',
  PARTIAL: 'warn',
  FAILED: 'bad',
  CANCELLED: 'neutral',
};
