// Why a line is skipped, and what the MSP does about it (README, "Pushing usage").
import type { SkipReason } from '../gql/graphql';

export const SKIP_REASON: Record<SkipReason, { label: string; fix: string }> = {
  NOT_LINKED: {
    label: 'Account not linked to a ConnectWise company',
    fix: 'Link the account: give its company the account name as Company ID or echo_username (or set the account’s link identifier), then sync companies in Settings.',
  },
  AMBIGUOUS_COMPANY: {
    label: 'Several ConnectWise companies claim the account',
    fix: 'Keep the account name on one company only, then sync companies in Settings.',
  },
  NO_MAPPING: {
    label: 'No billing mapping for the product and plan',
    fix: 'Add a billing mapping for the product (and plan, or (All plans)) in Billing Setup.',
  },
  MANAGED_EXTERNALLY: {
    label: 'Billed by ECHOplatform',
    fix: 'The mapping is managed in the legacy platform; an admin can take it over to bill it here.',
  },
  NO_CROSS_REFERENCE: {
    label: 'No cross-reference for the level and metric',
    fix: 'Add the cross-reference (type, level) to the Managed Devices Integration in ConnectWise and sync levels, or map to a level that has one.',
  },
  NO_AGREEMENT: {
    label: 'No billable agreement of the cross-referenced type',
    fix: 'Give the company an Active, not cancelled agreement of that type in ConnectWise, with no end date or one in the future (expired, cancelled and ended agreements never receive additions).',
  },
  AMBIGUOUS_AGREEMENT: {
    label: 'Two or more billable agreements of the type',
    fix: 'Cancel all but one of the company’s agreements of that type in ConnectWise.',
  },
  NO_USAGE: {
    label: 'No usage recorded for the metric',
    fix: 'Record usage for the metric; the next push sends it.',
  },
  INVALID_QUANTITY: {
    label: 'The usage does not add up to a quantity',
    fix: 'Check the usage recorded for these accounts: nothing is sent for this line until it adds up to a finite number of at least 0.',
  },
  ADDITION_NOT_ADOPTABLE: {
    label: 'An addition billbridge may not change already bills the product',
    fix: 'In ConnectWise, make that addition Billable (billbridge then keeps its quantity up to date) or remove it — or fix the addition record the reason quotes as unreadable; billbridge never adds a second line beside one that bills.',
  },
  DRIFTED: {
    label: 'Changed in ConnectWise by hand',
    fix: 'Someone changed the quantity in ConnectWise since billbridge last wrote it, and Settings ▸ Push settings keeps a person’s edits (“Keep the person’s quantity”). Keep theirs (nothing to do), or choose “Overwrite it” there: the next push writes billbridge’s quantity.',
  },
};
