// The billing words the seeds use, for values the API sends as enums.
import type { BillingSetupQuery, BillingState, UsageValue } from '../../gql/graphql';
import type { Tone } from '../../ui/Badge';
import { BILLING_STATE_LABEL, USAGE_VALUE_LABEL } from '../../ui/labels';

export const ALL_PLANS = '(All plans)';

/** A mapping's plan as the Unique ID/Plan column names it. */
export function planLabel(mapping: Pick<BillingSetupQuery['service']['mappings'][number], 'allPlans' | 'plan'>): string {
  return mapping.allPlans || !mapping.plan ? ALL_PLANS : mapping.plan.uniqueId;
}

export const USAGE_VALUE: Record<UsageValue, string> = USAGE_VALUE_LABEL;

const BILLING_STATE_TONE: Record<BillingState, Tone> = {
  NOT_SET_UP: 'neutral',
  PARTIALLY_SET_UP: 'warn',
  SET_UP: 'ok',
  MANAGED_EXTERNALLY: 'info',
  NEEDS_ATTENTION: 'bad',
};

export const BILLING_STATE = Object.fromEntries(
  (Object.keys(BILLING_STATE_TONE) as BillingState[]).map((state) => [state, { label: BILLING_STATE_LABEL[state], tone: BILLING_STATE_TONE[state] }]),
) as Record<BillingState, { label: string; tone: Tone }>;

export const READ_ONLY_EXPLANATION = 'Set up for billing in ECHOplatform: shown here, but changed there and not pushed by billbridge.';
