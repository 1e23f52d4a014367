import { useState } from 'react';
import { useMutation, useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import type { BillingSetupQuery } from '../../gql/graphql';
import { Link } from '../../router';
import { useCan } from '../../session/Session';
import { Badge } from '../../ui/Badge';
import { ConfirmDialog } from '../../ui/Dialog';
import { Empty, ErrorAlert, Loaded, Warnings } from '../../ui/Feedback';
import { naturalCompare } from '../../ui/naturalCompare';
import { PageTitle } from '../../ui/PageTitle';
import { Table } from '../../ui/Table';
import { useConfirmDelete } from '../../ui/useConfirmDelete';
import { ALL_PLANS, BILLING_STATE, planLabel, READ_ONLY_EXPLANATION, USAGE_VALUE } from './labels';
import { coverageWarning, uncoveredTypes } from './coverage';
import { LevelsSection } from './LevelsSection';
import { MappingDialog } from './MappingDialog';
import { PlansSection } from './PlansSection';

const BillingSetup = graphql(`
  query BillingSetup($id: ID!) {
    service(id: $id) {
      id
      name
      readOnly
      billingStatus {
        state
      }
      products {
        ...PlansSectionProduct
      }
      mappings {
        id
        allPlans
        usageValue
        managedExternally
        product {
          id
          name
          metrics {
            crossReferenceType
          }
        }
        plan {
          id
          uniqueId
        }
        level {
          id
          name
        }
      }
    }
    services {
      readOnly
      ...MappingDialogType
    }
    levels {
      ...LevelsSectionLevel
    }
  }
`);

const TakeOverBillingMapping = graphql(`
  mutation TakeOverBillingMapping($id: ID!) {
    takeOverBillingMapping(id: $id) {
      id
    }
  }
`);

const DeleteBillingMapping = graphql(`
  mutation DeleteBillingMapping($id: ID!) {
    deleteBillingMapping(id: $id)
  }
`);

type Setup = BillingSetupQuery;
type Mapping = Setup['service']['mappings'][number];

/** What may bill less than expected (see `coverage.ts`); nothing for read-only mappings. */
function mappingWarnings(mapping: Mapping, levels: Setup['levels']): string[] {
  if (mapping.managedExternally) return [];
  const level = levels.find((l) => l.id === mapping.level.id);
  const types = mapping.product.metrics.map((m) => m.crossReferenceType);
  return coverageWarning(mapping.level.name, uncoveredTypes(level, types, levels));
}

/** Mappings by product, then (All plans) first and plans in natural order (IB-100 before IB-1TB). */
function inOrder(mappings: Mapping[]): Mapping[] {
  return [...mappings].sort(
    (a, b) =>
      naturalCompare(a.product.name, b.product.name) ||
      Number(b.allPlans) - Number(a.allPlans) ||
      naturalCompare(a.plan?.uniqueId ?? '', b.plan?.uniqueId ?? ''),
  );
}

export function SetupPage({ serviceId }: { serviceId: string }) {
  const query = useQuery(BillingSetup, { id: serviceId });
  const canEdit = useCan('EDITOR');
  const isAdmin = useCan('ADMIN');
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<Mapping | null>(null);
  const [notice, setNotice] = useState<{ text: string; warnings: string[] } | null>(null);
  const takingOver = useConfirmDelete(useMutation(TakeOverBillingMapping), {
    variables: (mapping: Mapping) => ({ id: mapping.id }),
    onDone: (mapping) => {
      setNotice({ text: `billbridge now bills ${mapping.product.name} / ${planLabel(mapping)}.`, warnings: [] });
      query.refetch();
    },
  });
  const deleting = useConfirmDelete(useMutation(DeleteBillingMapping), {
    variables: (mapping: Mapping) => ({ id: mapping.id }),
    onDone: (mapping) => {
      setNotice({ text: `Deleted the mapping for ${mapping.product.name} / ${planLabel(mapping)}.`, warnings: [] });
      query.refetch();
    },
  });

  const title = query.data ? `Billing Setup — ${query.data.service.name}` : 'Billing Setup';
  return (
    <>
      <p className="breadcrumb">
        <Link to="/billing">Billing</Link> ›
      </p>
      <PageTitle>{title}</PageTitle>
      <Loaded query={query} what="the billing setup">
        {(setup) => {
          const { service, levels } = setup;
          const editable = canEdit && !service.readOnly;
          // Mappings managed in ECHOplatform change only by an admin taking them over.
          const actions = editable || (isAdmin && service.mappings.some((m) => m.managedExternally));
          return (
            <>
              <div className="toolbar">
                <Badge tone={BILLING_STATE[service.billingStatus.state].tone}>{BILLING_STATE[service.billingStatus.state].label}</Badge>
                {editable && (
                  <button type="button" className="button" onClick={() => setAdding(true)}>
                    Add Billing Mapping
                  </button>
                )}
              </div>
              {service.readOnly && (
                <p className="alert alert--info">
                  <Badge tone="info">Read-only</Badge> {READ_ONLY_EXPLANATION}
                </p>
              )}
              {notice && (
                <>
                  <p className="alert alert--ok" role="status">
                    {notice.text}
                  </p>
                  <Warnings title="Saved, but:" warnings={notice.warnings} announce />
                </>
              )}
              {service.mappings.length === 0 ? (
                <Empty>No billing mappings yet.{editable && ' Add one to bill this service’s usage in ConnectWise.'}</Empty>
              ) : (
                <Table label="Billing mappings">
                  <thead>
                    <tr>
                      <th scope="col">Product</th>
                      <th scope="col">Unique ID/Plan</th>
                      <th scope="col">Level</th>
                      <th scope="col">Usage Value</th>
                      <th scope="col">Warnings</th>
                      {actions && (
                        <th scope="col">
                          <span className="visually-hidden">Actions</span>
                        </th>
                      )}
                    </tr>
                  </thead>
                  <tbody>
                    {inOrder(service.mappings).map((mapping) => {
                      const warnings = mappingWarnings(mapping, levels);
                      return (
                        <tr key={mapping.id}>
                          <td>
                            {mapping.product.name}
                            {mapping.managedExternally && (
                              <>
                                {' '}
                                <Badge tone="info" title={READ_ONLY_EXPLANATION}>
                                  Read-only
                                </Badge>
                              </>
                            )}
                          </td>
                          <td className={mapping.allPlans ? 'all-plans' : undefined}>{planLabel(mapping)}</td>
                          <td>
                            <code>{mapping.level.name}</code>
                          </td>
                          <td>{USAGE_VALUE[mapping.usageValue]}</td>
                          <td>
                            {warnings.length === 0 ? (
                              <span className="muted">None</span>
                            ) : (
                              warnings.map((w) => (
                                <p key={w} className="warning">
                                  {w}
                                </p>
                              ))
                            )}
                          </td>
                          {actions && (
                            <td>
                              {mapping.managedExternally && isAdmin && (
                                <button type="button" className="button button--small button--secondary" onClick={() => takingOver.ask(mapping)}>
                                  Take over {mapping.product.name} / {planLabel(mapping)}
                                </button>
                              )}
                              {!mapping.managedExternally && editable && (
                                <span className="row-actions">
                                  <button
                                    type="button"
                                    className="button button--small button--secondary"
                                    aria-label={`Edit mapping for ${mapping.product.name} / ${planLabel(mapping)}`}
                                    onClick={() => setEditing(mapping)}
                                  >
                                    Edit
                                  </button>
                                  <button
                                    type="button"
                                    className="icon-button"
                                    aria-label={`Delete mapping for ${mapping.product.name} / ${planLabel(mapping)}`}
                                    title="Delete"
                                    onClick={() => deleting.ask(mapping)}
                                  >
                                    <TrashIcon />
                                  </button>
                                </span>
                              )}
                            </td>
                          )}
                        </tr>
                      );
                    })}
                  </tbody>
                </Table>
              )}
              {query.error && <ErrorAlert error={query.error} />}
              <PlansSection products={service.products} canEdit={editable} onChanged={query.refetch} />
              <LevelsSection levels={levels} canEdit={canEdit} onChanged={query.refetch} />
              {(adding || editing) && (
                <MappingDialog
                  types={setup.services.filter((s) => !s.readOnly)}
                  levels={levels}
                  editing={
                    editing
                      ? {
                          id: editing.id,
                          typeId: service.id,
                          productId: editing.product.id,
                          planId: editing.allPlans ? null : (editing.plan?.id ?? null),
                          level: editing.level.name,
                          usageValue: editing.usageValue,
                        }
                      : undefined
                  }
                  onClose={() => {
                    setAdding(false);
                    setEditing(null);
                  }}
                  onSaved={(warnings) => {
                    setAdding(false);
                    setEditing(null);
                    setNotice({ text: 'Billing mapping saved.', warnings });
                    query.refetch();
                  }}
                />
              )}
              {takingOver.target && (
                <ConfirmDialog title="Take over from ECHOplatform" confirmLabel="Take over" {...takingOver.dialog}>
                  <p>
                    Bill <strong>{takingOver.target.product.name}</strong> / <strong>{planLabel(takingOver.target)}</strong> from billbridge? It can then be
                    edited here and is pushed by billbridge: stop billing it in ECHOplatform, or accounts are billed twice.
                  </p>
                </ConfirmDialog>
              )}
              {deleting.target && (
                <ConfirmDialog title="Delete billing mapping" confirmLabel="Delete" {...deleting.dialog}>
                  <p>
                    Delete the mapping of <strong>{deleting.target.product.name}</strong> /{' '}
                    <strong>{deleting.target.allPlans ? ALL_PLANS : deleting.target.plan?.uniqueId}</strong> to level <code>{deleting.target.level.name}</code>?
                    Its accounts will no longer be pushed at this level.
                  </p>
                </ConfirmDialog>
              )}
            </>
          );
        }}
      </Loaded>
    </>
  );
}

function TrashIcon() {
  return (
    <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path fill="currentColor" d="M9 3h6l1 2h4v2H4V5h4l1-2zm-3 6h12l-1 12H7L6 9zm4 2v8h2v-8h-2zm4 0v8h2v-8h-2z" />
    </svg>
  );
}
