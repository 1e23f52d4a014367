// Who changed what, newest first (admins only, like the query).
import { useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import { Empty, Loaded } from '../../ui/Feedback';
import { formatDateTime } from '../../ui/format';
import { Pager, useCursorPages } from '../../ui/Pager';
import { Table } from '../../ui/Table';

const AuditEvents = graphql(`
  query AuditEvents($after: String) {
    auditEvents(first: 25, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        at
        actor
        action
        entity
        entityId
        summary
      }
    }
  }
`);

export function AuditSection() {
  const pages = useCursorPages();
  const query = useQuery(AuditEvents, { after: pages.after });
  return (
    <section className="section">
      <h2>Audit log</h2>
      <Loaded query={query} what="the audit log">
        {({ auditEvents }) =>
          auditEvents.nodes.length === 0 ? (
            <Empty>No changes recorded yet.</Empty>
          ) : (
            <>
              <Table label="Audit log">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Action</th>
                    <th scope="col">What changed</th>
                  </tr>
                </thead>
                <tbody>
                  {auditEvents.nodes.map((event) => (
                    <tr key={event.id}>
                      <td>{formatDateTime(event.at)}</td>
                      <td>{event.actor}</td>
                      <td>
                        <code>{event.action}</code>
                        <div className="muted">
                          {event.entity}
                          {event.entityId && ` ${event.entityId}`}
                        </div>
                      </td>
                      <td>{event.summary}</td>
                    </tr>
                  ))}
                </tbody>
              </Table>
              <Pager
                page={pages.page}
                hasNext={auditEvents.pageInfo.hasNextPage}
                onNext={() => auditEvents.pageInfo.endCursor && pages.next(auditEvents.pageInfo.endCursor)}
                onPrevious={pages.previous}
                summary={`${auditEvents.totalCount} changes`}
              />
            </>
          )
        }
      </Loaded>
    </section>
  );
}
