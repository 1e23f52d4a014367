// A push preview, grouped by ConnectWise company: each addition's quantity before and
// after (or the day it starts or is cancelled from) and what it bills a month, additions
// a person edited since billbridge wrote them, and each skipped line with its reason and
// the fix.
import { useId } from 'react';
import type { PushMoneyFieldsFragment } from '../../gql/graphql';
import {
  ACTION,
  ActionDetail,
  LineAccounts,
  LineMonthly,
  LineQuantity,
  MetricName,
  MonthlyAmounts,
  SkipExplanation,
  type LineView,
  type Monthly,
} from '../../push/lines';
import { Badge } from '../../ui/Badge';
import { Table } from '../../ui/Table';

/** A line of the preview (the `PushLineFields` fragment, as the cells read it). */
export type PreviewLine = LineView;

/** A company's monthly amount (the API's `CompanyMoney`, as `PushMoneyFields` selects it). */
type CompanyMonthly = PushMoneyFieldsFragment['byCompany'][number];

const NO_COMPANY = 'No ConnectWise company';

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
