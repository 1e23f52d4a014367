// Every enum value the app receives, in the words people read on screen: one record per
// GraphQL enum the app's operations select, so no page shows `USER` or `SUCCEEDED`. A page that needs a colour or an
// explanation beside the word (badges, skip reasons, settings choices) keeps that next to
// it and takes the word from here. `labels.test.ts` fails when the schema grows a value
// with no label here.
import type {
  BillingState,
  ImportDelimiter,
  ImportOutcome,
  ImportProblemKind,
  LevelSource,
  LineOutcome,
  LinkState,
  LinkVia,
  MetricUnit,
  OnManualEdit,
  PushAction,
  PushStatus,
  PushTrigger,
  RetireMode,
  Role,
  SkipReason,
  UsageValue,
} from '../gql/graphql';

export const BILLING_STATE_LABEL: Record<BillingState, string> = {
  NOT_SET_UP: 'Not set up',
  PARTIALLY_SET_UP: 'Partially set up',
  SET_UP: 'Set up',
  MANAGED_EXTERNALLY: 'Managed externally',
  NEEDS_ATTENTION: 'Needs attention',
};

export const LEVEL_SOURCE_LABEL: Record<LevelSource, string> = {
  MANUAL: 'Typed in',
  CONNECTWISE: 'ConnectWise',
};

/** What became of a line in a run (History, an account's last push). */
export const LINE_OUTCOME_LABEL: Record<LineOutcome, string> = {
  DONE: 'Written',
  UNCHANGED: 'Unchanged',
  SKIPPED: 'Skipped',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
  PLANNED: 'Planned (dry run)',
  PENDING: 'Pending',
};

export const LINK_STATE_LABEL: Record<LinkState, string> = {
  LINKED: 'Linked',
  NOT_FOUND: 'Not linked',
  AMBIGUOUS: 'Ambiguous',
};

export const LINK_VIA_LABEL: Record<LinkVia, string> = {
  COMPANY_ID: 'Company ID',
  ECHO_USERNAME: 'echo_username',
};

export const METRIC_UNIT_LABEL: Record<MetricUnit, string> = {
  GB: 'GB',
  COUNT: 'Count',
};

export const ON_MANUAL_EDIT_LABEL: Record<OnManualEdit, string> = {
  OVERWRITE: 'Overwrite it',
  SKIP: 'Keep the person’s quantity',
};

/** What a push does to an addition. */
export const PUSH_ACTION_LABEL: Record<PushAction, string> = {
  UPDATE: 'Update',
  CREATE: 'Create',
  UNCHANGED: 'Unchanged',
  RETIRE: 'Retire',
  SKIP: 'Skip',
};

export const PUSH_STATUS_LABEL: Record<PushStatus, string> = {
  RUNNING: 'Running',
  SUCCEEDED: 'Succeeded',
  PARTIAL: 'Partly done',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
};

/** Who started a run; reads before "by <who>" on a run's page. */
export const PUSH_TRIGGER_LABEL: Record<PushTrigger, string> = {
  USER: 'By a person',
  SCHEDULE: 'On schedule',
  CLI: 'From the command line',
};

export const RETIRE_MODE_LABEL: Record<RetireMode, string> = {
  ZERO: 'Set it to 0',
  CANCEL: 'Cancel it from next month',
};

export const ROLE_LABEL: Record<Role, string> = {
  VIEWER: 'Viewer',
  EDITOR: 'Editor',
  ADMIN: 'Admin',
};

export const SKIP_REASON_LABEL: Record<SkipReason, string> = {
  NOT_LINKED: 'Account not linked to a ConnectWise company',
  AMBIGUOUS_COMPANY: 'Several ConnectWise companies claim the account',
  NO_MAPPING: 'No billing mapping for the product and plan',
  MANAGED_EXTERNALLY: 'Billed by ECHOplatform',
  NO_CROSS_REFERENCE: 'No cross-reference for the level and metric',
  NO_AGREEMENT: 'No billable agreement of the cross-referenced type',
  AMBIGUOUS_AGREEMENT: 'Two or more billable agreements of the type',
  NO_USAGE: 'No usage recorded for the metric',
  INVALID_QUANTITY: 'The usage does not add up to a quantity',
  ADDITION_NOT_ADOPTABLE: 'An addition billbridge may not change already bills the product',
  DRIFTED: 'Changed in ConnectWise by hand',
};

/** The seeds' words for a mapping's usage value. */
export const USAGE_VALUE_LABEL: Record<UsageValue, string> = {
  TOTAL_USAGE: 'Update total usage',
  ADDITIONAL_USAGE: 'Update additional usage',
};

export const IMPORT_DELIMITER_LABEL: Record<ImportDelimiter, string> = {
  COMMA: 'Comma',
  SEMICOLON: 'Semicolon',
  TAB: 'Tab',
};

export const IMPORT_OUTCOME_LABEL: Record<ImportOutcome, string> = {
  NEW: 'New',
  CHANGED: 'Changed',
  UNCHANGED: 'Unchanged',
};

export const IMPORT_PROBLEM_LABEL: Record<ImportProblemKind, string> = {
  UNREADABLE: 'File cannot be read',
  MISSING_COLUMN: 'Column missing',
  UNKNOWN_METRIC: 'Unknown metric',
  MISSING_VALUE: 'Empty cell',
  BAD_NAME: 'Name not allowed',
  UNKNOWN_PRODUCT: 'Unknown product',
  UNKNOWN_PLAN: 'Unknown plan',
  WRONG_PRODUCT: 'Metric of another product',
  NOT_A_NUMBER: 'Not a number',
  NEGATIVE: 'Negative value',
  FRACTION: 'Count with a fraction',
  TOO_LARGE: 'Value too large',
  BAD_DATE: 'Date not understood',
  FUTURE_DATE: 'Date in the future',
  DUPLICATE: 'Duplicate row',
  CONFLICTING_PLAN: 'Conflicting plan',
};

/** Each record by the name of its GraphQL enum (for the test that checks them against the schema). */
export const LABELS_BY_ENUM: Record<string, Record<string, string>> = {
  BillingState: BILLING_STATE_LABEL,
  ImportDelimiter: IMPORT_DELIMITER_LABEL,
  ImportOutcome: IMPORT_OUTCOME_LABEL,
  ImportProblemKind: IMPORT_PROBLEM_LABEL,
  LevelSource: LEVEL_SOURCE_LABEL,
  LineOutcome: LINE_OUTCOME_LABEL,
  LinkState: LINK_STATE_LABEL,
  LinkVia: LINK_VIA_LABEL,
  MetricUnit: METRIC_UNIT_LABEL,
  OnManualEdit: ON_MANUAL_EDIT_LABEL,
  PushAction: PUSH_ACTION_LABEL,
  PushStatus: PUSH_STATUS_LABEL,
  PushTrigger: PUSH_TRIGGER_LABEL,
  RetireMode: RETIRE_MODE_LABEL,
  Role: ROLE_LABEL,
  SkipReason: SKIP_REASON_LABEL,
  UsageValue: USAGE_VALUE_LABEL,
};
