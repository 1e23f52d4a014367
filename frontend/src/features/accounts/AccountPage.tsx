import { useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import type { AccountDetailQuery } from '../../gql/graphql';
import { ACTION, ActionDetail, LineMonthly, LineQuantity, MetricName, SkipExplanation } from '../../push/lines';
import { OUTCOME_LABEL } from '../../push/outcomes';
import { Link } from '../../router';
import { Badge } from '../../ui/Badge';
import { Empty, Loaded } from '../../ui/Feedback';
import { formatDateTime } from '../../ui/format';
import { PUSH_ACTION_LABEL } from '../../ui/labels';
import { PageTitle } from '../../ui/PageTitle';
import { Table } from '../../ui/Table';
import { LINK_STATE } from './link';
import { UsageChart, type Sample } from './UsageChart';

const AccountDetail = graphql(`
  query AccountDetail($id: ID!) {
    account(id: $id) {
      id
      name
      linkIdentifier
      subscriptions {
        id
        product {
          name
          service {
            id
            name
          }
        }
        plan {
          uniqueId
          baseSizeGb
        }
      }
      link {
        state
        via
        companyIdentifier
        companyName
        reason
        syncedAt
      }
      usageHistory(last: 100) {
        quantity
        measuredAt
        metric {
          id
          name
          crossReferenceType
          unit
        }
      }
      lastPushed {
        ...PushLineFields
        ...PushLineOutcomeFields
      }
    }
  }
`);

interface Series {
  title: string;
  unit: string;
  samples: Sample[];
}

/** The history split per metric, in the order the metrics first appear. */
function seriesByMetric(history: AccountDetailQuery['account']['usageHistory']): Series[] {
  const series = new Map<string, Series>();
  for (const { metric, quantity, measuredAt } of history) {
    const entry = series.get(metric.id) ?? { title: `${metric.name} (${metric.crossReferenceType})`, unit: metric.unit === 'GB' ? 'GB' : '', samples: [] };
    entry.samples.push({ quantity, measuredAt });
    series.set(metric.id, entry);
  }
  return [...series.values()];
}

export function AccountPage({ id }: { id: string }) {
  const query = useQuery(AccountDetail, { id });
  return (
    <>
      <p className="breadcrumb">
        <Link to="/accounts">Accounts</Link> ›
      </p>
      <Loaded query={query} what="the account">
        {({ account }) => (
          <>
            <PageTitle>{account.name}</PageTitle>
            <dl className="facts">
              <div>
                <dt>ConnectWise company</dt>
                <dd>
                  {account.link ? (
                    <>
                      <Badge tone={LINK_STATE[account.link.state].tone}>{LINK_STATE[account.link.state].label}</Badge> {account.link.companyName}
                      {account.link.companyIdentifier && <span className="muted"> ({account.link.companyIdentifier})</span>}
                      <div className="muted">{account.link.reason}</div>
                      <div className="muted">Synced {formatDateTime(account.link.syncedAt)}</div>
                    </>
                  ) : (
                    'Not synced yet'
                  )}
                </dd>
              </div>
              {account.linkIdentifier && (
                <div>
                  <dt>Looked for in ConnectWise as</dt>
                  <dd>
                    <code>{account.linkIdentifier}</code>
                  </dd>
                </div>
              )}
              <div>
                <dt>Subscriptions</dt>
                <dd>
                  <ul className="plain">
                    {account.subscriptions.map((s) => (
                      <li key={s.id}>
                        <Link to={`/billing/${s.product.service.id}`}>{s.product.name}</Link>:{' '}
                        {s.plan ? s.plan.uniqueId + (s.plan.baseSizeGb > 0 ? ` (${s.plan.baseSizeGb} GB)` : '') : 'no plan'}
                      </li>
                    ))}
                  </ul>
                </dd>
              </div>
            </dl>

            <section className="section">
              <h2>Usage over time</h2>
              {account.usageHistory.length === 0 ? (
                <Empty>No usage recorded yet.</Empty>
              ) : (
                <div className="charts">
                  {seriesByMetric(account.usageHistory).map((series) => (
                    <figure key={series.title}>
                      <figcaption>{series.title}</figcaption>
                      <UsageChart {...series} />
                    </figure>
                  ))}
                </div>
              )}
            </section>

            <section className="section">
              <h2>Last pushed</h2>
              {account.lastPushed.length === 0 ? (
                <Empty>No push has had lines for this account yet.</Empty>
              ) : (
                <Table label="Last pushed">
                  <thead>
                    <tr>
                      <th scope="col">Metric / level</th>
                      <th scope="col">Company</th>
                      <th scope="col">Agreement / product</th>
                      <th scope="col">Quantity</th>
                      <th scope="col">Monthly</th>
                      <th scope="col">Outcome</th>
                    </tr>
                  </thead>
                  <tbody>
                    {account.lastPushed.map((line, i) => (
                      <tr key={i}>
                        <td>
                          {line.metric ? <MetricName name={line.metric} /> : '—'}
                          {line.level && (
                            <div>
                              <code>{line.level}</code>
                            </div>
                          )}
                          {line.subscription && <div className="muted">{line.subscription}</div>}
                        </td>
                        <td>{line.companyName ?? '—'}</td>
                        <td>
                          {line.agreementName ?? '—'}
                          {line.productIdentifier && <div className="muted">{line.productIdentifier}</div>}
                        </td>
                        <td>
                          <LineQuantity line={line} when="run" />
                        </td>
                        <td>
                          <LineMonthly line={line} />
                        </td>
                        <td>
                          {line.outcome ? OUTCOME_LABEL[line.outcome] : PUSH_ACTION_LABEL[line.action]}
                          {line.action === 'RETIRE' && (
                            <>
                              {' '}
                              <Badge tone={ACTION.RETIRE.tone}>{ACTION.RETIRE.label}</Badge>
                            </>
                          )}
                          <ActionDetail line={line} />
                          {line.finishedAt && <div className="muted">{formatDateTime(line.finishedAt)}</div>}
                          {line.reason && <SkipExplanation reason={line.reason} detail={line.detail} />}
                          {line.error && <p className="error-text">ConnectWise: {line.error}</p>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </Table>
              )}
            </section>
          </>
        )}
      </Loaded>
    </>
  );
}
