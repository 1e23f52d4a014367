// Pure display helpers for billing data (unit-tested in format.test.ts).
import type { BillingMapping, BillingState, UsageValue } from './types';

export const ALL_PLANS_LABEL = '(All plans)';

/** "Unique ID/Plan" column: "(All plans)" or "<uniqueId> — <name>". */
export function planLabel(mapping: Pick<BillingMapping, 'allPlans' | 'plan'>): string {
  if (mapping.allPlans) return ALL_PLANS_LABEL;
  if (!mapping.plan) return '—'; // should not happen: plan is only null for all-plans rows
  return `${mapping.plan.uniqueId} — ${mapping.plan.name}`;
}

export function usageValueLabel(value: UsageValue): string {
  switch (value) {
    case 'TOTAL_USAGE':
      return 'Update total usage';
    case 'ADDITIONAL_USAGE':
      return 'Update additional usage';
    default:
      return String(value); // a value added to the schema after this was written
  }
}

export function billingStateLabel(state: BillingState): string {
  switch (state) {
    case 'NOT_SET_UP':
      return 'Not set up';
    case 'PARTIALLY_SET_UP':
      return 'Partially set up';
    case 'SET_UP':
      return 'Set up';
    case 'MANAGED_EXTERNALLY':
      return 'Managed externally';
    default:
      return String(state);
  }
}

export type BadgeTone = 'ok' | 'warn' | 'neutral' | 'info';

/** Colour of the billing-state badge (the label carries the meaning, not the colour). */
export function billingStateTone(state: BillingState): BadgeTone {
  switch (state) {
    case 'SET_UP':
      return 'ok';
    case 'PARTIALLY_SET_UP':
      return 'warn';
    case 'MANAGED_EXTERNALLY':
      return 'info';
    default:
      return 'neutral';
  }
}
