// What a plan or a run means a month, in the agreements' currency (billbridge does not
// know which, so amounts are plain): the total change, the lines left out for want of a
// price, and, when asked, the companies whose amount changes.
import { formatMoney, formatMoneyChange } from '../ui/format';
import { Table } from '../ui/Table';
import type { PushMoneyFieldsFragment } from '../gql/graphql';

/** The API's `PushMoney` (fragment `PushMoneyFields`); `byCompany` comes largest change first. */
export type Money = PushMoneyFieldsFragment;

/** Companies listed open; more are behind a disclosure. */
const OPEN_UP_TO = 10;

export function MoneySummary({ money, companies = false }: { money: Money; companies?: boolean }) {
  const { total, byCompany, unpricedLines } = money;
  return (
    <div className="money">
      <p className="money-total">
        Monthly change: {formatMoneyChange(total.change)} (from {formatMoney(total.before)} to {formatMoney(total.after)}).
      </p>
      {unpricedLines > 0 && (
        <p className="muted">
          {unpricedLines === 1 ? '1 line has' : `${unpricedLines} lines have`} no price in ConnectWise: {unpricedLines === 1 ? 'it is' : 'they are'} not in
          these amounts.
        </p>
      )}
      {companies && byCompany.length > 0 && (
        <details className="money-companies" open={byCompany.length <= OPEN_UP_TO}>
          <summary>{byCompany.length === 1 ? '1 company’s' : `${byCompany.length} companies’`} monthly amount changes</summary>
          <Table label="Monthly change by company">
            <thead>
              <tr>
                <th scope="col">Company</th>
                <th scope="col" className="num">
                  Before
                </th>
                <th scope="col" className="num">
                  After
                </th>
                <th scope="col" className="num">
                  Change
                </th>
              </tr>
            </thead>
            <tbody>
              {byCompany.map((c) => (
                <tr key={c.companyId ?? c.companyName ?? ''}>
                  <td>{c.companyName ?? (c.companyId ? `Company ${c.companyId}` : '—')}</td>
                  <td className="num">{formatMoney(c.monthly.before)}</td>
                  <td className="num">{formatMoney(c.monthly.after)}</td>
                  <td className="num">{formatMoneyChange(c.monthly.change)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        </details>
      )}
    </div>
  );
}
