// A push preview, grouped by ConnectWise company: each addition's quantity before and
// after, and each skipped line with its reason and the fix.
import type { PushAction, SkipReason } from '../../gql/graphql';
import { Badge, type Tone } from '../../ui/Badge';
import { formatNumber } from '../../ui/format';
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
}

const NO_COMPANY = 'No ConnectWise company';

const ACTION: Record<PushAction, { label: string; tone: Tone }> = {
  UPDATE: { label: 'Update', tone: 'info' },
  CREATE: { label: 'Create', tone: 'ok' },
  UNCHANGED: { label: 'Unchanged', tone: 'neutral' },
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
                <tr key={i} className={line.action === 'SKIP' ? 'skipped' : undefined}>
                  <td>{line.accounts.join(', ')}</td>
                  <td>{line.metric ?? '—'}</td>
                  <td>{line.level ? <code>{line.level}</code> : '—'}</td>
                  <td>
                    {line.agreementName ?? '—'}
                    {line.parentAgreementName && <div className="muted">bills through {line.parentAgreementName}</div>}
                    {line.productIdentifier && <div className="muted">{line.productIdentifier}</div>}
                  </td>
                  <td>{line.action === 'SKIP' ? '—' : <Change before={line.currentQuantity} after={line.newQuantity} />}</td>
                  <td>
                    <Badge tone={ACTION[line.action].tone}>{ACTION[line.action].label}</Badge>
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
