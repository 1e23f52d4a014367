// The quantity a GB metric sends under each usage value, as the server computes it
// (README, "Billing rules"), so the cascade can show a worked example before saving.
import type { MappingDialogTypeFragment, UsageValue } from '../../gql/graphql';

/** The sizes of a plan (as the cascade's choices carry it) that decide what it sends. */
export type PlanSize = Pick<MappingDialogTypeFragment['products'][number]['plans'][number], 'uniqueId' | 'baseSizeGb' | 'blockSizeGb'>;

/** GB sent for `usedGb`: a started GB is billed, additional usage in whole blocks. */
export function sentGb(usage: UsageValue, usedGb: number, plan: Omit<PlanSize, 'uniqueId'>): number {
  const used = Math.round(usedGb * 1000) / 1000;
  if (usage === 'TOTAL_USAGE') return Math.ceil(used);
  const over = Math.max(0, used - plan.baseSizeGb);
  if (plan.blockSizeGb && plan.blockSizeGb > 0) return Math.ceil(over / plan.blockSizeGb) * plan.blockSizeGb;
  return Math.ceil(over);
}

/** One sentence showing what an account on `plan` would send; the seed's 20 GB plan for (All plans). */
export function workedExample(usage: UsageValue, plan: PlanSize | null): string {
  const size = plan ?? { uniqueId: 'a 20 GB plan', baseSizeGb: 20, blockSizeGb: null };
  const name = plan ? `${plan.uniqueId} (${size.baseSizeGb} GB base${size.blockSizeGb ? `, ${size.blockSizeGb} GB blocks` : ''})` : size.uniqueId;
  // A quarter over the base, or 25 GB when the plan has none.
  const used = size.baseSizeGb > 0 ? size.baseSizeGb * 1.25 : 25;
  const sent = sentGb(usage, used, size);
  const prefix = plan ? '' : 'Each account is measured against its own plan. ';
  return `${prefix}For example, an account on ${name} using ${used} GB sends ${sent} GB to ConnectWise.`;
}
