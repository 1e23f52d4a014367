import { useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import { Link } from '../../router';
import { Badge } from '../../ui/Badge';
import { Empty, Loaded } from '../../ui/Feedback';
import { formatDateTime, formatDuration } from '../../ui/format';
import { PUSH_STATUS_LABEL, PUSH_TRIGGER_LABEL } from '../../ui/labels';
import { PageTitle } from '../../ui/PageTitle';
import { Pager, useCursorPages } from '../../ui/Pager';
import { Table } from '../../ui/Table';
import { STATUS_TONE } from '../../push/status';

const PushRuns = graphql(`
  query PushRuns($after: String) {
    pushRuns(first: 20, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        status
        trigger
        triggeredBy
        dryRun
        startedAt
        durationMs
        service {
          name
        }
        counts {
          total
          done
          unchanged
          skipped
          failed
          pending
        }
      }
    }
  }
`);

export function RunsPage() {
  const pages = useCursorPages();
  const query = useQuery(PushRuns, { after: pages.after });
  return (
    <>
      <PageTitle>History</PageTitle>
      <Loaded query={query} what="push runs">
        {({ pushRuns }) =>
          pushRuns.nodes.length === 0 ? (
            <Empty>No pushes yet. Start one on the Push page, or turn on the schedule in Settings.</Empty>
          ) : (
            <>
              <Table label="Push runs">
                <thead>
                  <tr>
                    <th scope="col">Run</th>
                    <th scope="col">Started</th>
                    <th scope="col">Trigger</th>
                    <th scope="col">Service</th>
                    <th scope="col">Status</th>
                    <th scope="col">Written</th>
                    <th scope="col">Unchanged</th>
                    <th scope="col">Skipped</th>
                    <th scope="col">Failed</th>
                    <th scope="col">Duration</th>
                  </tr>
                </thead>
                <tbody>
                  {pushRuns.nodes.map((run) => (
                    <tr key={run.id}>
                      <td>
                        <Link to={`/history/${run.id}`}>Run {run.id}</Link>
                        {run.dryRun && <div className="muted">dry run</div>}
                      </td>
                      <td>{formatDateTime(run.startedAt)}</td>
                      <td>
                        {PUSH_TRIGGER_LABEL[run.trigger]}
                        <div className="muted">{run.triggeredBy}</div>
                      </td>
                      <td>{run.service?.name ?? 'All services'}</td>
                      <td>
                        <Badge tone={STATUS_TONE[run.status]}>{PUSH_STATUS_LABEL[run.status]}</Badge>
                      </td>
                      <td>{run.counts.done}</td>
                      <td>{run.counts.unchanged}</td>
                      <td>{run.counts.skipped}</td>
                      <td>{run.counts.failed}</td>
                      <td>{formatDuration(run.durationMs)}</td>
                    </tr>
                  ))}
                </tbody>
              </Table>
              <Pager
                page={pages.page}
                hasNext={pushRuns.pageInfo.hasNextPage}
                onNext={() => pushRuns.pageInfo.endCursor && pages.next(pushRuns.pageInfo.endCursor)}
                onPrevious={pages.previous}
                summary={`${pushRuns.totalCount} runs`}
              />
            </>
          )
        }
      </Loaded>
    </>
  );
}
