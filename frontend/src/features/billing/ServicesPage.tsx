import { useCallback, useEffect, useId, useState } from 'react';
import { graphql, UnauthenticatedError } from '../../api';
import { billingStateLabel, billingStateTone, planLabel, usageValueLabel } from './format';
import type { BillingState, Service, ServicesQuery } from './types';

const SERVICES_QUERY = /* GraphQL */ `
  query Services {
    services {
      id name description readOnly
      billingStatus { state mappedProducts products coveredSubscriptions subscriptions }
      mappings { id allPlans usageValue managedExternally
        product { id name }
        plan { id uniqueId name baseSizeGb }
        level { id name } }
    }
  }
`;

type LoadState =
  | { status: 'loading' }
  | { status: 'error'; message: string; code?: string }
  | { status: 'ready'; services: Service[] };

interface Props {
  token: string;
  /** Called when the server rejects the token (HTTP 401 or UNAUTHENTICATED). */
  onUnauthenticated: () => void;
}

export function ServicesPage({ token, onUnauthenticated }: Props) {
  const [state, setState] = useState<LoadState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0); // bumped by "Try again"
  const [selectedId, selectService] = useHashServiceId();

  useEffect(() => {
    const controller = new AbortController();
    graphql<ServicesQuery>(token, SERVICES_QUERY, undefined, controller.signal)
      .then((data) => setState({ status: 'ready', services: data.services }))
      .catch((err: unknown) => {
        if (controller.signal.aborted) return; // unmounted or superseded
        if (err instanceof UnauthenticatedError) {
          onUnauthenticated();
          return;
        }
        const message = err instanceof Error ? err.message : String(err);
        const code = (err as { code?: string }).code;
        setState({ status: 'error', message, code });
      });
    return () => controller.abort();
  }, [token, attempt, onUnauthenticated]);

  const retry = () => {
    setState({ status: 'loading' });
    setAttempt((n) => n + 1);
  };

  if (state.status === 'loading') {
    return (
      <p className="panel status" role="status">
        Loading services…
      </p>
    );
  }

  if (state.status === 'error') {
    return (
      <div className="panel alert alert--error" role="alert">
        <p>
          <strong>Could not load services.</strong> {state.message}
        </p>
        {state.code === 'FORBIDDEN' && (
          <p>Your token's role is not allowed to view billing. Try a token with another role.</p>
        )}
        <button type="button" className="button" onClick={retry}>
          Try again
        </button>
      </div>
    );
  }

  const { services } = state;
  if (services.length === 0) {
    return <p className="panel empty">No services yet.</p>;
  }

  // Fall back to the first service when the hash names none (or an unknown one).
  const selected = services.find((s) => s.id === selectedId) ?? services[0];

  return (
    <div className="services-layout">
      <nav className="panel service-nav" aria-label="Services">
        <h2 className="panel-title">Services</h2>
        <ul className="service-list">
          {services.map((service) => (
            <li key={service.id}>
              <button
                type="button"
                className="service-item"
                aria-current={service.id === selected.id ? 'true' : undefined}
                onClick={() => selectService(service.id)}
              >
                <span className="service-item__name">{service.name}</span>
                <span className="badges">
                  <StateBadge state={service.billingStatus.state} />
                  {service.readOnly && <ReadOnlyBadge />}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <ServiceDetail key={selected.id} service={selected} />
    </div>
  );
}

function ServiceDetail({ service }: { service: Service }) {
  const titleId = useId();
  const captionId = useId();
  const { billingStatus: status, mappings } = service;

  return (
    <section className="panel service-detail" aria-labelledby={titleId}>
      <header className="service-detail__header">
        <h2 id={titleId}>{service.name}</h2>
        <span className="badges">
          <StateBadge state={status.state} />
          {service.readOnly && <ReadOnlyBadge />}
        </span>
      </header>
      {service.description && <p className="description">{service.description}</p>}
      <dl className="stats">
        <div>
          <dt>Products mapped</dt>
          <dd>
            {status.mappedProducts} of {status.products}
          </dd>
        </div>
        <div>
          <dt>Subscriptions covered</dt>
          <dd>
            {status.coveredSubscriptions} of {status.subscriptions}
          </dd>
        </div>
      </dl>

      <h3 id={captionId}>Billing mappings</h3>
      {mappings.length === 0 ? (
        <p className="empty">No billing mappings yet</p>
      ) : (
        // The wrapper scrolls sideways on narrow screens; focusable so keyboard
        // users can scroll it too.
        <div className="table-scroll" role="region" aria-labelledby={captionId} tabIndex={0}>
          <table className="mappings">
            <thead>
              <tr>
                <th scope="col">Product/Service</th>
                <th scope="col">Unique ID/Plan</th>
                <th scope="col">Level</th>
                <th scope="col">Usage Value</th>
              </tr>
            </thead>
            <tbody>
              {mappings.map((m) => (
                <tr key={m.id} className={m.managedExternally ? 'is-readonly' : undefined}>
                  <td>
                    {m.product.name}
                    {m.managedExternally && (
                      <span className="badge badge--muted" title="Managed in ECHOplatform">
                        read-only
                      </span>
                    )}
                  </td>
                  <td className={m.allPlans ? 'all-plans' : undefined}>{planLabel(m)}</td>
                  <td>{m.level.name}</td>
                  <td>{usageValueLabel(m.usageValue)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function StateBadge({ state }: { state: BillingState }) {
  return (
    <span className={`badge badge--${billingStateTone(state)}`}>{billingStateLabel(state)}</span>
  );
}

function ReadOnlyBadge() {
  return <span className="badge badge--info">Read-only — managed in ECHOplatform</span>;
}

/**
 * The selected service lives in the URL hash (`#service=<id>`), so it survives
 * a reload and the browser's back button moves between services.
 */
function useHashServiceId(): [string | null, (id: string) => void] {
  const [id, setId] = useState(readHashServiceId);

  useEffect(() => {
    const onHashChange = () => setId(readHashServiceId());
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);

  const select = useCallback((next: string) => {
    window.location.hash = new URLSearchParams({ service: next }).toString();
    setId(next);
  }, []);

  return [id, select];
}

function readHashServiceId(): string | null {
  return new URLSearchParams(window.location.hash.slice(1)).get('service');
}
