// The billing words the seeds use, for values the API sends as enums.
import type { BillingSetupQuery, BillingState, UsageValue } from '../../gql/graphql';
import type { Tone } from '../../ui/Badge';

export const ALL_PLANS = '(All plans)';

/** A mapping's plan as the Unique ID/Plan column names it. */
export function planLabel(mapping: Pick<BillingSetupQuery['service']['mappings'][number], 'allPlans' | 'plan'>): string {
  return mapping.allPlans || !mapping.plan ? ALL_PLANS : mapping.plan.uniqueId;
}

export const USAGE_VALUE: Record<UsageValue, string> = {
  TOTAL_USAGE: 'Update total usage',
  ADDITIONAL_USAGE: 'Update additional usage',
};

export const BILLING_STATE: Record<BillingState, { label: string; tone: Tone }> = {
  NOT_SET_UP: { label: 'Not set up', tone: 'neutral' },
  PARTIALLY_SET_UP: { label: 'Partially set up', tone: 'warn' },
  SET_UP: { label: 'Set up', tone: 'ok' },
  MANAGED_EXTERNALLY: { label: 'Managed externally', tone: 'info' },
  NEEDS_ATTENTION: { label: 'Needs attention', tone: 'bad' },
};

export const READ_ONLY_EXPLANATION = 'Set up for billing in ECHOplatform: shown here, but changed there and not pushed by billbridge.';
