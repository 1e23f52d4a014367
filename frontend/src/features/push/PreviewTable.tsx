// A push preview, grouped by ConnectWise company: each addition's quantity before and
// after (or the day it starts or is cancelled from), additions a person edited since
// billbridge wrote them, and each skipped line with its reason and the fix.
import type { PushAction, SkipReason } from '../../gql/graphql';
import { Badge, type Tone } from '../../ui/Badge';
import { formatBillingDate, formatNumber } from '../../ui/format';
import { Table } from '../../ui/Table';
import { SKIP_REASON } from './skipReasons';

export interface PreviewLine {
  accounts: string[];
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
}

/** What the Quantity column needs of a line, in a preview or a run. */
export type QuantityLine = Pick<
  PreviewLine,
  'action' | 'currentQuantity' | 'newQuantity' | 'lastWrittenQuantity' | 'drifted' | 'effectiveDate'
>;

const NO_COMPANY = 'No ConnectWise company';

export const ACTION: Record<PushAction, { label: string; tone: Tone }> = {
  UPDATE: { label: 'Update', tone: 'info' },
  CREATE: { label: 'Create', tone: 'ok' },
  UNCHANGED: { label: 'Unchanged', tone: 'neutral' },
  RETIRE: { label: 'Retire', tone: 'warn' },
  SKIP: { label: 'Skip', tone: 'warn' },
};

/** Lines by company name, companies in alphabetical order and lines without one last. */
function groupByCompany<T extends Pick<PreviewLine, 'companyName' | 'companyId'>>(lines: T[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const line of lines) {
    const company = line.companyName ?? (line.companyId ? `Company ${line.companyId}` : NO_COMPANY);
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
        billbridge last wrote {formatNumber(line.lastWrittenQuantity)}, ConnectWise {preview ? 'has' : 'had'}{' '}
        {formatNumber(line.currentQuantity)}, {push}.
      </div>
    </div>
  );
}

/** Why a retire or a dated new addition happens (the server's words), under its action. */
export function ActionDetail({ line }: { line: Pick<PreviewLine, 'action' | 'effectiveDate' | 'detail'> }) {
  const explained = line.action === 'RETIRE' || (line.action === 'CREATE' && line.effectiveDate);
  return explained && line.detail ? <div className="muted">{line.detail}</div> : null;
}

export function PreviewTable({ lines }: { lines: PreviewLine[] }) {
  return (
    <>
      {groupByCompany(lines).map(([company, group]) => (
        <section key={company} className="company">
          <h3>{company}</h3>
          <Table label={`Additions for ${company}`}>
            <thead>
              <tr>
                <th scope="col">Accounts</th>
                <th scope="col">Metric</th>
                <th scope="col">Level</th>
                <th scope="col">Agreement / product</th>
                <th scope="col">Quantity</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {group.map((line, i) => (
                <tr key={i} className={line.action === 'SKIP' ? 'skipped' : line.drifted ? 'drifted' : undefined}>
                  <td>{line.accounts.length > 0 ? line.accounts.join(', ') : '—'}</td>
                  <td>{line.metric ?? '—'}</td>
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
                    <Badge tone={ACTION[line.action].tone}>{ACTION[line.action].label}</Badge>
                    <ActionDetail line={line} />
                    {line.reason && <SkipExplanation reason={line.reason} detail={line.detail} />}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        </section>
      ))}
    </>
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
