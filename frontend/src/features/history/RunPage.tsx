import { useEffect, useState } from 'react';
import { useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import type { LineOutcome } from '../../gql/graphql';
import { ACTION, ActionDetail, LineAccounts, LineMonthly, LineQuantity, MetricName, SkipExplanation } from '../../push/lines';
import { MoneySummary } from '../../push/MoneySummary';
import { OUTCOME_LABEL, OUTCOMES } from '../../push/outcomes';
import { STATUS_TONE } from '../../push/status';
import { Link } from '../../router';
import { Badge } from '../../ui/Badge';
import { Empty, Loaded } from '../../ui/Feedback';
import { Field } from '../../ui/Field';
import { formatDateTime, formatDuration } from '../../ui/format';
import { PUSH_ACTION_LABEL, PUSH_STATUS_LABEL, PUSH_TRIGGER_LABEL } from '../../ui/labels';
import { PageTitle } from '../../ui/PageTitle';
import { Pager, useCursorPages } from '../../ui/Pager';
import { Table } from '../../ui/Table';

const PushRunLines = graphql(`
  query PushRunLines($id: ID!, $outcome: LineOutcome, $after: String) {
    pushRun(id: $id) {
      id
      status
      trigger
      triggeredBy
      dryRun
      startedAt
      finishedAt
      durationMs
      message
      service {
        name
      }
      counts {
        total
        done
        retired
        unchanged
        skipped
        failed
        pending
      }
      money {
        ...PushMoneyFields
      }
      lines(first: 100, after: $after, outcome: $outcome) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        nodes {
          ...PushLineFields
          ...PushLineOutcomeFields
        }
      }
    }
  }
`);

export function RunPage({ id }: { id: string }) {
  const [outcome, setOutcome] = useState<LineOutcome | ''>('');
  const pages = useCursorPages();
  const query = useQuery(PushRunLines, { id, outcome: outcome || null, after: pages.after });
  // A run still going is read again every few seconds, so its lines fill in.
  const running = query.data?.pushRun.status === 'RUNNING';
  const { refetch } = query;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(refetch, 3000);
    return () => clearInterval(timer);
  }, [running, refetch]);

  return (
    <>
      <p className="breadcrumb">
        <Link to="/history">History</Link> ›
      </p>
      <PageTitle>{`Run ${id}`}</PageTitle>
      <Loaded query={query} what="the run">
        {({ pushRun: run }) => (
          <>
            <dl className="facts">
              <div>
                <dt>Status</dt>
                <dd>
                  <Badge tone={STATUS_TONE[run.status]}>{PUSH_STATUS_LABEL[run.status]}</Badge>
                  {run.dryRun && ' (dry run)'}
                </dd>
              </div>
              <div>
                <dt>Trigger</dt>
                <dd>
                  {PUSH_TRIGGER_LABEL[run.trigger]}
                  <div className="muted">{run.triggeredBy}</div>
                </dd>
              </div>
              <div>
                <dt>Service</dt>
                <dd>{run.service?.name ?? 'All services'}</dd>
              </div>
              <div>
                <dt>Started</dt>
                <dd>{formatDateTime(run.startedAt)}</dd>
              </div>
              <div>
                <dt>Duration</dt>
                <dd>{formatDuration(run.durationMs)}</dd>
              </div>
              <div>
                <dt>Lines</dt>
                <dd>
                  {run.counts.total}: {run.counts.done} written{run.counts.retired > 0 && ` (${run.counts.retired} retired)`}, {run.counts.unchanged} unchanged,{' '}
                  {run.counts.skipped} skipped, {run.counts.failed} failed
                  {run.counts.pending > 0 && `, ${run.counts.pending} pending`}
                </dd>
              </div>
            </dl>
            {run.message && <p className="alert alert--info">{run.message}</p>}
            {run.counts.total > 0 && <MoneySummary money={run.money} companies />}
            <Field label="Outcome">
              {(p) => (
                <select
                  {...p}
                  value={outcome}
                  onChange={(e) => {
                    setOutcome(e.target.value as LineOutcome | '');
                    pages.reset();
                  }}
                >
                  {OUTCOMES.map((o) => (
                    <option key={o.value} value={o.value}>
                      {o.label}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {run.lines.nodes.length === 0 ? (
              <Empty>No lines{outcome ? ` with the outcome ${OUTCOME_LABEL[outcome]}` : ''}.</Empty>
            ) : (
              <>
                <Table label="Run lines">
                  <thead>
                    <tr>
                      <th scope="col">#</th>
                      <th scope="col">Company</th>
                      <th scope="col">Accounts</th>
                      <th scope="col">Metric / level</th>
                      <th scope="col">Agreement / product</th>
                      <th scope="col">Quantity</th>
                      <th scope="col">Monthly</th>
                      <th scope="col">Outcome</th>
                    </tr>
                  </thead>
                  <tbody>
                    {run.lines.nodes.map((line) => (
                      <tr key={line.seq ?? line.detail}>
                        <td>{line.seq == null ? '—' : line.seq + 1}</td>
                        <td>{line.companyName ?? '—'}</td>
                        <td>
                          <LineAccounts line={line} />
                        </td>
                        <td>
                          {line.metric ? <MetricName name={line.metric} /> : '—'}
                          {line.level && (
                            <div>
                              <code>{line.level}</code>
                            </div>
                          )}
                        </td>
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
                          {line.reason && <SkipExplanation reason={line.reason} detail={line.detail} />}
                          {line.error && (
                            <p className="error-text">
                              ConnectWise: <span>{line.error}</span>
                            </p>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </Table>
                <Pager
                  page={pages.page}
                  hasNext={run.lines.pageInfo.hasNextPage}
                  onNext={() => run.lines.pageInfo.endCursor && pages.next(run.lines.pageInfo.endCursor)}
                  onPrevious={pages.previous}
                  summary={`${run.lines.totalCount} lines`}
                />
              </>
            )}
          </>
        )}
      </Loaded>
    </>
  );
}
