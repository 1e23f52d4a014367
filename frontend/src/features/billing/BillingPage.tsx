import { useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import { SKIP_REASON } from '../../push/skipReasons';
import { STATUS_TONE } from '../../push/status';
import { Link } from '../../router';
import { Badge } from '../../ui/Badge';
import { Empty, Loaded } from '../../ui/Feedback';
import { formatDateTime } from '../../ui/format';
import { PUSH_STATUS_LABEL } from '../../ui/labels';
import { PageTitle } from '../../ui/PageTitle';
import { Table } from '../../ui/Table';
import { BILLING_STATE, READ_ONLY_EXPLANATION } from './labels';

const BillingServices = graphql(`
  query BillingServices {
    services {
      id
      name
      description
      readOnly
      lastRun {
        id
        status
        startedAt
        counts {
          done
          failed
        }
      }
      billingStatus {
        state
        mappedProducts
        products
        coveredSubscriptions
        subscriptions
        skippedSubscriptions
        mainSkipReason
      }
    }
  }
`);

export function BillingPage() {
  const query = useQuery(BillingServices);
  return (
    <>
      <PageTitle>Billing</PageTitle>
      <p className="lede">Select a service to set up how its usage is billed in ConnectWise.</p>
      <Loaded query={query} what="services">
        {({ services }) =>
          services.length === 0 ? (
            <Empty>No services yet. They appear here once the vendor's services are loaded.</Empty>
          ) : (
            <Table label="Services">
              <thead>
                <tr>
                  <th scope="col">Service</th>
                  <th scope="col">Billing status</th>
                  <th scope="col">Mapped products</th>
                  <th scope="col">Accounts covered</th>
                  <th scope="col">Last push</th>
                </tr>
              </thead>
              <tbody>
                {services.map((service) => {
                  const status = service.billingStatus;
                  const state = BILLING_STATE[status.state];
                  return (
                    <tr key={service.id}>
                      <td>
                        <Link to={`/billing/${service.id}`}>{service.name}</Link>
                        {service.description && <div className="muted">{service.description}</div>}
                      </td>
                      <td>
                        <Badge tone={state.tone}>{state.label}</Badge>
                        {status.skippedSubscriptions > 0 && status.mainSkipReason && status.state !== 'MANAGED_EXTERNALLY' && (
                          <div className="muted">
                            {status.skippedSubscriptions} subscription{status.skippedSubscriptions === 1 ? '' : 's'} would be skipped, mostly:{' '}
                            {SKIP_REASON[status.mainSkipReason].label.toLowerCase()}
                          </div>
                        )}
                        {service.readOnly && (
                          <div className="read-only">
                            <Badge tone="info">Read-only</Badge> <span className="muted">{READ_ONLY_EXPLANATION}</span>
                          </div>
                        )}
                      </td>
                      <td>
                        {status.mappedProducts} of {status.products}
                      </td>
                      <td>
                        {status.coveredSubscriptions} of {status.subscriptions}
                        <div className="muted">subscriptions</div>
                      </td>
                      <td>
                        {service.lastRun ? (
                          <>
                            <Link to={`/history/${service.lastRun.id}`}>{formatDateTime(service.lastRun.startedAt)}</Link>{' '}
                            <Badge tone={STATUS_TONE[service.lastRun.status]}>{PUSH_STATUS_LABEL[service.lastRun.status]}</Badge>
                            <div className="muted">
                              {service.lastRun.counts.done} written, {service.lastRun.counts.failed} failed
                            </div>
                          </>
                        ) : (
                          <span className="muted">Never pushed</span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </Table>
          )
        }
      </Loaded>
    </>
  );
}
