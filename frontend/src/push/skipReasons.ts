// Why a line is skipped, and what the MSP does about it (README, "Pushing usage").
import type { SkipReason } from '../gql/graphql';
import { SKIP_REASON_LABEL } from '../ui/labels';

export const SKIP_REASON: Record<SkipReason, { label: string; fix: string }> = {
  NOT_LINKED: {
    label: SKIP_REASON_LABEL.NOT_LINKED,
    fix: 'Link the account: give its company the account name as Company ID or echo_username (or set the account’s link identifier), then sync companies in Settings.',
  },
  AMBIGUOUS_COMPANY: {
    label: SKIP_REASON_LABEL.AMBIGUOUS_COMPANY,
    fix: 'Keep the account name on one company only, then sync companies in Settings.',
  },
  NO_MAPPING: {
    label: SKIP_REASON_LABEL.NO_MAPPING,
    fix: 'Add a billing mapping for the product (and plan, or (All plans)) in Billing Setup.',
  },
  MANAGED_EXTERNALLY: {
    label: SKIP_REASON_LABEL.MANAGED_EXTERNALLY,
    fix: 'The mapping is managed in the legacy platform; an admin can take it over to bill it here.',
  },
  NO_CROSS_REFERENCE: {
    label: SKIP_REASON_LABEL.NO_CROSS_REFERENCE,
    fix: 'Add the cross-reference (type, level) to the Managed Devices Integration in ConnectWise and sync levels, or map to a level that has one.',
  },
  NO_AGREEMENT: {
    label: SKIP_REASON_LABEL.NO_AGREEMENT,
    fix: 'Give the company an Active, not cancelled agreement of that type in ConnectWise, with no end date or one in the future (expired, cancelled and ended agreements never receive additions).',
  },
  AMBIGUOUS_AGREEMENT: {
    label: SKIP_REASON_LABEL.AMBIGUOUS_AGREEMENT,
    fix: 'Cancel all but one of the company’s agreements of that type in ConnectWise.',
  },
  NO_USAGE: {
    label: SKIP_REASON_LABEL.NO_USAGE,
    fix: 'Record usage for the metric; the next push sends it.',
  },
  INVALID_QUANTITY: {
    label: SKIP_REASON_LABEL.INVALID_QUANTITY,
    fix: 'Check the usage recorded for these accounts: nothing is sent for this line until it adds up to a finite number of at least 0.',
  },
  ADDITION_NOT_ADOPTABLE: {
    label: SKIP_REASON_LABEL.ADDITION_NOT_ADOPTABLE,
    fix: 'In ConnectWise, make that addition Billable (billbridge then keeps its quantity up to date) or remove it — or fix the addition record the reason quotes as unreadable; billbridge never adds a second line beside one that bills.',
  },
  DRIFTED: {
    label: SKIP_REASON_LABEL.DRIFTED,
    fix: 'Someone changed the quantity in ConnectWise since billbridge last wrote it, and Settings ▸ Push settings keeps a person’s edits (“Keep the person’s quantity”). Keep theirs (nothing to do), or choose “Overwrite it” there: the next push writes billbridge’s quantity.',
  },
};
