import { describe, expect, it } from 'vitest';
import { billingStateLabel, billingStateTone, planLabel, usageValueLabel } from './format';
import type { BillingState, UsageValue } from './types';

describe('billing formatting', () => {
  it('labels the plan column, with "(All plans)" for all-plans mappings', () => {
    expect(planLabel({ allPlans: true, plan: null })).toBe('(All plans)');
    expect(
      planLabel({
        allPlans: false,
        plan: { id: '7', uniqueId: 'web-basic', name: 'Web Basic', baseSizeGb: 10 },
      }),
    ).toBe('web-basic — Web Basic');
    // allPlans wins even if the server were to send a plan along.
    expect(
      planLabel({ allPlans: true, plan: { id: '7', uniqueId: 'x', name: 'X', baseSizeGb: 1 } }),
    ).toBe('(All plans)');
    expect(planLabel({ allPlans: false, plan: null })).toBe('—');
  });

  it('labels usage values as the action they trigger', () => {
    expect(usageValueLabel('TOTAL_USAGE')).toBe('Update total usage');
    expect(usageValueLabel('ADDITIONAL_USAGE')).toBe('Update additional usage');
    expect(usageValueLabel('SOMETHING_NEW' as UsageValue)).toBe('SOMETHING_NEW');
  });

  it('gives every billing state a readable label and a tone', () => {
    const states: BillingState[] = ['NOT_SET_UP', 'PARTIALLY_SET_UP', 'SET_UP', 'MANAGED_EXTERNALLY'];
    expect(states.map(billingStateLabel)).toEqual([
      'Not set up',
      'Partially set up',
      'Set up',
      'Managed externally',
    ]);
    expect(states.map(billingStateTone)).toEqual(['neutral', 'warn', 'ok', 'info']);
  });
});
