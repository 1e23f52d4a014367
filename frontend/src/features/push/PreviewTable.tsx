// A push preview, grouped by ConnectWise company: each addition's quantity before and
// after (or the day it starts or is cancelled from) and what it bills a month, additions
// a person edited since billbridge wrote them, and each skipped line with its reason and
// the fix.
import { Fragment, useId } from 'react';
import type { PushAction, SkipReason } from '../../gql/graphql';
import { Badge, type Tone } from '../../ui/Badge';
import { formatBillingDate, formatMoney, formatMoneyChange, formatNumber } from '../../ui/format';
import { Table } from '../../ui/Table';
import { SKIP_REASON } from './skipReasons';

export interface PreviewLine {
  accounts: string[];
  /** The subscriptions the line serves, `product / plan`, comma-separated. */
  subscription?: string | null;
  companyId?: string | null;
  companyName?: string | null;
  metric?: string | null;
  level?: string | null;
  agreementName?: string | null;
  parentAgreementName?: string | null;
  productIdentifier?: string | null;
  currentQuantity?: number | null;
  newQuantity?: number | null;
  action: PushAction;
  reason?: SkipReason | null;
  detail: string;
  lastWrittenQuantity?: number | null;
  drifted?: boolean;
  effectiveDate?: string | null;
  /** What one unit bills a month; null (and so the amounts) when ConnectWise gave no price. */
  unitPrice?: number | null;
  monthlyBefore?: number | null;
  monthlyAfter?: number | null;
  monthlyChange?: number | null;
}

/** A monthly amount before and after a plan or a run (the API's `MonthlyAmount`). */
export interface Monthly {
  before: number;
  after: number;
  change: number;
}

/** A company's monthly amount (the API's `CompanyMoney`). */
export interface CompanyMonthly {
  companyId?: string | null;
  companyName?: string | null;
  monthly: Monthly;
}

/** What the Monthly column needs of a line, in a preview or a run. */
export type MonthlyLine = Pick<PreviewLine, 'action' | 'drifted' | 'unitPrice' | 'monthlyBefore' | 'monthlyAfter' | 'monthlyChange'>;

/** What the Quantity column needs of a line, in a preview or a run. */
export type QuantityLine = Pick<PreviewLine, 'action' | 'currentQuantity' | 'newQuantity' | 'lastWrittenQuantity' | 'drifted' | 'effectiveDate'>;

const NO_COMPANY = 'No ConnectWise company';

export const ACTION: Record<PushAction, { label: string; tone: Tone }> = {
  UPDATE: { label: 'Update', tone: 'info' },
  CREATE: { label: 'Create', tone: 'ok' },
  UNCHANGED: { label: 'Unchanged', tone: 'neutral' },
  RETIRE: { label: 'Retire', tone: 'warn' },
  SKIP: { label: 'Skip', tone: 'warn' },
};

/** How a company is named: by its name, else its ID. */
function companyLabel({ companyName, companyId }: Pick<PreviewLine, 'companyName' | 'companyId'>): string {
  return companyName ?? (companyId ? `Company ${companyId}` : NO_COMPANY);
}

/** Lines by company name, companies in alphabetical order and lines without one last. */
function groupByCompany<T extends Pick<PreviewLine, 'companyName' | 'companyId'>>(lines: T[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const line of lines) {
    const company = companyLabel(line);
    groups.set(company, [...(groups.get(company) ?? []), line]);
  }
  return [...groups.entries()].sort(([a], [b]) => (a === NO_COMPANY ? 1 : b === NO_COMPANY ? -1 : a.localeCompare(b)));
}

export function Change({ before, after }: { before?: number | null; after?: number | null }) {
  return (
    <span className="change">
      {before == null ? 'none' : formatNumber(before)} → {after == null ? 'none' : formatNumber(after)}
    </span>
  );
}

/** A monthly amount before → after, and the change when there is one: `2.40 → 3.00 (+0.60)`. */
export function MonthlyAmounts({ before, after, change }: { before: number; after: number; change?: number | null }) {
  const delta = formatMoneyChange(change ?? after - before);
  return (
    <>
      <span className="change">
        {formatMoney(before)} → {formatMoney(after)}
      </span>
      {delta !== formatMoneyChange(0) && (
        <>
          {' '}
          <span className="money-change">({delta})</span>
        </>
      )}
    </>
  );
}

/**
 * What a line bills a month before → after, with the change and the unit price; `—` when
 * ConnectWise gave no price, and for a skipped line (it bills nothing, or, edited by a
 * person, goes on billing what it did).
 */
export function LineMonthly({ line }: { line: MonthlyLine }) {
  const { unitPrice, monthlyBefore, monthlyAfter, monthlyChange } = line;
  if (unitPrice == null || monthlyBefore == null || monthlyAfter == null || (line.action === 'SKIP' && !line.drifted)) return <>—</>;
  return (
    <>
      <MonthlyAmounts before={monthlyBefore} after={monthlyAfter} change={monthlyChange} />
      <div className="muted">unit price {formatMoney(unitPrice)}</div>
    </>
  );
}

/**
 * A metric's name (`VMwareHostLicensing`) with places to break between its words, so a
 * narrow column wraps it rather than growing; it reads the same.
 */
export function MetricName({ name }: { name: string }) {
  const words = name.split(/(?<=[a-z])(?=[A-Z])/);
  return (
    <>
      {words.map((word, i) => (
        <Fragment key={i}>
          {i > 0 && <wbr />}
          {word}
        </Fragment>
      ))}
    </>
  );
}

/** The accounts a line adds up, and the subscriptions it serves under them. */
export function LineAccounts({ line }: { line: Pick<PreviewLine, 'accounts' | 'subscription'> }) {
  return (
    <>
      {line.accounts.length > 0 ? line.accounts.join(', ') : '—'}
      {line.subscription && <div className="muted">{line.subscription}</div>}
    </>
  );
}

/**
 * A line's quantities: before → after; a retire cancelled from a date says so; a new
 * addition that starts later says when; an addition a person edited since billbridge
 * wrote it is marked, with the three quantities. A skipped line changes nothing: `—`.
 * `when` words it for a preview (what the push will do) or a run (what it was to do).
 */
export function LineQuantity({ line, when = 'preview' }: { line: QuantityLine; when?: 'preview' | 'run' }) {
  const cancelFrom = line.action === 'RETIRE' && line.effectiveDate ? formatBillingDate(line.effectiveDate) : null;
  return (
    <>
      {line.action === 'SKIP' ? (
        !line.drifted && '—'
      ) : cancelFrom ? (
        <>
          <span>
            cancel from <span className="change">{cancelFrom}</span>
          </span>
          <div className="muted">bills {formatNumber(line.currentQuantity)} until then</div>
        </>
      ) : (
        <Change before={line.currentQuantity} after={line.newQuantity} />
      )}
      {line.action === 'CREATE' && line.effectiveDate && <div className="muted">starts {formatBillingDate(line.effectiveDate)}</div>}
      {line.drifted && <Drift line={line} when={when} />}
    </>
  );
}

/** billbridge's last write, the person's quantity, and what the push does about it. */
function Drift({ line, when }: { line: QuantityLine; when: 'preview' | 'run' }) {
  const preview = when === 'preview';
  const cancelFrom = line.action === 'RETIRE' && line.effectiveDate ? formatBillingDate(line.effectiveDate) : null;
  const push =
    line.action === 'SKIP'
      ? preview
        ? 'push leaves it'
        : 'the push left it'
      : cancelFrom
        ? `${preview ? 'push cancels' : 'the push was to cancel'} it from ${cancelFrom}`
        : `${preview ? 'push writes' : 'the push was to write'} ${formatNumber(line.newQuantity)}`;
  return (
    <div className="drift">
      <Badge tone="warn" title="A person changed this addition in ConnectWise since billbridge last wrote it">
        Edited in ConnectWise
      </Badge>
      <div className="muted">
        billbridge last wrote {formatNumber(line.lastWrittenQuantity)}, ConnectWise {preview ? 'has' : 'had'} {formatNumber(line.currentQuantity)}, {push}.
      </div>
    </div>
  );
}

/** Why a retire or a dated new addition happens (the server's words), under its action. */
export function ActionDetail({ line }: { line: Pick<PreviewLine, 'action' | 'effectiveDate' | 'detail'> }) {
  const explained = line.action === 'RETIRE' || (line.action === 'CREATE' && line.effectiveDate);
  return explained && line.detail ? <div className="muted">{line.detail}</div> : null;
}

/**
 * The lines by company; `companies` (the preview's `money.byCompany`) puts a company's
 * monthly change by its heading.
 */
export function PreviewTable({ lines, companies = [] }: { lines: PreviewLine[]; companies?: CompanyMonthly[] }) {
  const monthly = (company: string, group: PreviewLine[]) =>
    companies.find((c) => (c.companyId != null && c.companyId === group[0].companyId) || companyLabel(c) === company)?.monthly;
  return (
    <>
      {groupByCompany(lines).map(([company, group]) => (
        <CompanySection key={company} company={company} lines={group} monthly={monthly(company, group)} />
      ))}
    </>
  );
}

function CompanySection({ company, lines, monthly }: { company: string; lines: PreviewLine[]; monthly?: Monthly }) {
  const headingId = useId();
  return (
    <section className="company" aria-labelledby={headingId}>
      <div className="company-head">
        <h3 id={headingId}>{company}</h3>
        {monthly && (
          <p className="company-money">
            Monthly: <MonthlyAmounts {...monthly} />
          </p>
        )}
      </div>
      <Table label={`Additions for ${company}`}>
        <thead>
          <tr>
            <th scope="col">Accounts</th>
            <th scope="col">Metric</th>
            <th scope="col">Level</th>
            <th scope="col">Agreement / product</th>
            <th scope="col">Quantity</th>
            <th scope="col">Monthly</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {lines.map((line, i) => (
            <tr key={i} className={line.action === 'SKIP' ? 'skipped' : line.drifted ? 'drifted' : undefined}>
              <td>
                <LineAccounts line={line} />
              </td>
              <td>{line.metric ? <MetricName name={line.metric} /> : '—'}</td>
              <td>{line.level ? <code>{line.level}</code> : '—'}</td>
              <td>
                {line.agreementName ?? '—'}
                {line.parentAgreementName && <div className="muted">bills through {line.parentAgreementName}</div>}
                {line.productIdentifier && <div className="muted">{line.productIdentifier}</div>}
              </td>
              <td>
                <LineQuantity line={line} />
              </td>
              <td>
                <LineMonthly line={line} />
              </td>
              <td>
                <Badge tone={ACTION[line.action].tone}>{ACTION[line.action].label}</Badge>
                <ActionDetail line={line} />
                {line.reason && <SkipExplanation reason={line.reason} detail={line.detail} />}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
    </section>
  );
}

export function SkipExplanation({ reason, detail }: { reason: SkipReason; detail?: string }) {
  const { label, fix } = SKIP_REASON[reason];
  return (
    <div className="skip">
      <p>
        <strong>{label}.</strong> {detail}
      </p>
      <p className="fix">How to fix: {fix}</p>
    </div>
  );
}
