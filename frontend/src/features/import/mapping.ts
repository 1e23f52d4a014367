// Choosing a column mapping: the saved one where its columns are still in the file, else a
// guess from the header (a column named like a metric, "account", "plan", "date"…).
import type { ImportMappingInput } from '../../gql/graphql';

export interface MetricChoice {
  name: string;
  crossReferenceType: string;
}

/** What the form edits: one column (or '') per role and per metric. */
export interface MappingForm {
  account: string;
  displayName: string;
  product: string;
  plan: string;
  measuredAt: string;
  /** One date for the whole file (YYYY-MM-DD) when there is no measured-at column. */
  date: string;
  decimalComma: boolean;
  /** crossReferenceType → column */
  metrics: Record<string, string>;
}

export interface SavedMapping {
  account: string;
  displayName?: string | null;
  product?: string | null;
  plan?: string | null;
  measuredAt?: string | null;
  date?: string | null;
  decimalComma: boolean;
  metrics: { column: string; crossReferenceType: string }[];
}

const fold = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, '');

function guess(columns: string[], words: string[]): string {
  const folded = words.map(fold);
  return columns.find((c) => folded.includes(fold(c))) ?? columns.find((c) => folded.some((w) => fold(c).includes(w))) ?? '';
}

/** The saved mapping, kept where its columns exist in this file; the rest guessed. */
export function initialMapping(columns: string[], metrics: MetricChoice[], saved?: SavedMapping | null): MappingForm {
  const keep = (column: string | null | undefined) => (column && columns.includes(column) ? column : '');
  const form: MappingForm = {
    account: keep(saved?.account) || guess(columns, ['account', 'customer', 'username', 'account id']),
    displayName: keep(saved?.displayName) || guess(columns, ['display name', 'account name', 'company', 'company name']),
    product: keep(saved?.product) || guess(columns, ['product', 'product/service', 'service']),
    plan: keep(saved?.plan) || guess(columns, ['plan', 'unique id', 'uniqueid']),
    measuredAt: keep(saved?.measuredAt) || guess(columns, ['date', 'measured at', 'report date', 'measured']),
    date: saved?.date ?? '',
    decimalComma: saved?.decimalComma ?? false,
    metrics: {},
  };
  for (const metric of metrics) {
    const savedColumn = saved?.metrics.find((m) => m.crossReferenceType === metric.crossReferenceType)?.column;
    form.metrics[metric.crossReferenceType] = keep(savedColumn) || guess(columns, [metric.crossReferenceType, metric.name]);
  }
  // A column serves one role: a display-name guess that took the account's column is dropped.
  if (form.displayName === form.account) form.displayName = '';
  return form;
}

/** The API's input for a form; what is left blank is left out. */
export function toInput(form: MappingForm): ImportMappingInput {
  const optional = (column: string) => (column ? column : null);
  return {
    account: form.account,
    displayName: optional(form.displayName),
    product: optional(form.product),
    plan: optional(form.plan),
    measuredAt: form.date ? null : optional(form.measuredAt),
    date: form.date ? form.date : null,
    decimalComma: form.decimalComma,
    metrics: Object.entries(form.metrics)
      .filter(([, column]) => column)
      .map(([crossReferenceType, column]) => ({ column, crossReferenceType })),
  };
}
