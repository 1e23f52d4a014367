import { useEffect, useState } from 'react';
import { useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import type { LinkState } from '../../gql/graphql';
import { Link } from '../../router';
import { Badge } from '../../ui/Badge';
import { Empty, Loaded } from '../../ui/Feedback';
import { Field } from '../../ui/Field';
import { formatDate, formatNumber } from '../../ui/format';
import { PageTitle } from '../../ui/PageTitle';
import { Pager, useCursorPages } from '../../ui/Pager';
import { Table } from '../../ui/Table';
import { LINK_STATE } from './link';
import { MAX_LENGTH } from '../../api/limits';

const Accounts = graphql(`
  query Accounts($after: String, $search: String, $linkState: LinkState) {
    accounts(first: 25, after: $after, search: $search, linkState: $linkState) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        name
        subscriptions {
          id
          product {
            name
          }
          plan {
            uniqueId
          }
        }
        link {
          state
          companyName
          reason
        }
        latestUsage {
          quantity
          measuredAt
          metric {
            id
            crossReferenceType
            unit
          }
        }
      }
    }
  }
`);

/** The search box's text, settled: one query per pause in typing, not per key. */
function useSettled(value: string, ms = 300): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

export function AccountsPage() {
  const [text, setText] = useState('');
  const [linkState, setLinkState] = useState<LinkState | ''>('');
  const search = useSettled(text.trim());
  const pages = useCursorPages();
  const { reset } = pages;
  useEffect(reset, [search, linkState, reset]);
  const query = useQuery(Accounts, { after: pages.after, search: search || null, linkState: linkState || null });

  return (
    <>
      <PageTitle>Accounts</PageTitle>
      <div className="toolbar">
        <Field label="Search accounts">
          {(p) => (
            <input
              {...p}
              type="search"
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder="Name or link identifier"
              maxLength={MAX_LENGTH.name}
            />
          )}
        </Field>
        <Field label="Link status">
          {(p) => (
            <select {...p} value={linkState} onChange={(e) => setLinkState(e.target.value as LinkState | '')}>
              <option value="">All</option>
              {(Object.keys(LINK_STATE) as LinkState[]).map((state) => (
                <option key={state} value={state}>
                  {LINK_STATE[state].label}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <Loaded query={query} what="accounts">
        {({ accounts }) =>
          accounts.nodes.length === 0 ? (
            <Empty>{search || linkState ? 'No account matches.' : 'No accounts yet.'}</Empty>
          ) : (
            <>
              <Table label="Accounts">
                <thead>
                  <tr>
                    <th scope="col">Account</th>
                    <th scope="col">Plan</th>
                    <th scope="col">ConnectWise link</th>
                    <th scope="col">Latest usage</th>
                  </tr>
                </thead>
                <tbody>
                  {accounts.nodes.map((account) => (
                    <tr key={account.id}>
                      <td>
                        <Link to={`/accounts/${account.id}`}>{account.name}</Link>
                      </td>
                      <td>
                        <ul className="plain">
                          {account.subscriptions.map((s) => (
                            <li key={s.id}>
                              {s.product.name}: {s.plan?.uniqueId ?? 'no plan'}
                            </li>
                          ))}
                        </ul>
                      </td>
                      <td>
                        {account.link ? (
                          <>
                            <Badge tone={LINK_STATE[account.link.state].tone}>{LINK_STATE[account.link.state].label}</Badge>
                            {account.link.companyName && <div>{account.link.companyName}</div>}
                            <div className="muted">{account.link.reason}</div>
                          </>
                        ) : (
                          <span className="muted">Not synced yet</span>
                        )}
                      </td>
                      <td>
                        {account.latestUsage.length === 0 ? (
                          <span className="muted">None recorded</span>
                        ) : (
                          <ul className="plain">
                            {account.latestUsage.map((u) => (
                              <li key={u.metric.id}>
                                {u.metric.crossReferenceType}: {formatNumber(u.quantity)}
                                {u.metric.unit === 'GB' ? ' GB' : ''} <span className="muted">({formatDate(u.measuredAt)})</span>
                              </li>
                            ))}
                          </ul>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </Table>
              <Pager
                page={pages.page}
                hasNext={accounts.pageInfo.hasNextPage}
                onNext={() => accounts.pageInfo.endCursor && pages.next(accounts.pageInfo.endCursor)}
                onPrevious={pages.previous}
                summary={`${accounts.totalCount} accounts`}
              />
            </>
          )
        }
      </Loaded>
    </>
  );
}
