// The products' "Unique ID/Plan" choices: listed, added and deleted here.
import { useState, type FormEvent } from 'react';
import { useMutation } from '../../api/hooks';
import { graphql } from '../../gql';
import type { PlansSectionProductFragment } from '../../gql/graphql';
import { ConfirmDialog, Dialog } from '../../ui/Dialog';
import { Empty } from '../../ui/Feedback';
import { Field } from '../../ui/Field';
import { formatNumber } from '../../ui/format';
import { sortNaturally } from '../../ui/naturalCompare';
import { Table } from '../../ui/Table';
import { useConfirmDelete } from '../../ui/useConfirmDelete';
import { MAX_LENGTH } from '../../api/limits';

const CreatePlan = graphql(`
  mutation CreatePlan($input: CreatePlanInput!) {
    createPlan(input: $input) {
      id
    }
  }
`);

const DeletePlan = graphql(`
  mutation DeletePlan($id: ID!) {
    deletePlan(id: $id)
  }
`);

/** What the section shows of a product; the Billing Setup query spreads it. */
export const PlansSectionProduct = graphql(`
  fragment PlansSectionProduct on Product {
    id
    name
    plans {
      id
      uniqueId
      name
      baseSizeGb
      price
      blockSizeGb
    }
  }
`);

type Product = PlansSectionProductFragment;
type Plan = Product['plans'][number];

export function PlansSection({ products, canEdit, onChanged }: { products: Product[]; canEdit: boolean; onChanged: () => void }) {
  const [adding, setAdding] = useState<Product | null>(null);
  const deleting = useConfirmDelete(useMutation(DeletePlan), { variables: (plan: Plan) => ({ id: plan.id }), onDone: onChanged });

  return (
    <section className="section">
      <h2>Plans</h2>
      {products.length === 0 && <Empty>This service has no products yet.</Empty>}
      {products.map((product) => (
        <div key={product.id} className="subsection">
          <div className="toolbar">
            <h3>{product.name}</h3>
            {canEdit && (
              <button type="button" className="button button--secondary button--small" onClick={() => setAdding(product)}>
                Add plan to {product.name}
              </button>
            )}
          </div>
          {product.plans.length === 0 ? (
            <Empty>No plans: map it with {'(All plans)'}, or add a plan.</Empty>
          ) : (
            <Table label={`Plans of ${product.name}`}>
              <thead>
                <tr>
                  <th scope="col">Unique ID</th>
                  <th scope="col">Name</th>
                  <th scope="col">Base size</th>
                  <th scope="col">Block size</th>
                  <th scope="col">Price</th>
                  {canEdit && (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {sortNaturally(product.plans, (plan) => plan.uniqueId).map((plan) => (
                  <tr key={plan.id}>
                    <td>
                      <code>{plan.uniqueId}</code>
                    </td>
                    <td>{plan.name}</td>
                    <td>{formatNumber(plan.baseSizeGb)} GB</td>
                    <td>{plan.blockSizeGb ? `${formatNumber(plan.blockSizeGb)} GB` : '—'}</td>
                    <td>{formatNumber(plan.price)}</td>
                    {canEdit && (
                      <td>
                        <button type="button" className="button button--small button--secondary" onClick={() => deleting.ask(plan)}>
                          Delete plan {plan.uniqueId}
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
        </div>
      ))}
      {adding && (
        <PlanDialog
          product={adding}
          onClose={() => setAdding(null)}
          onSaved={() => {
            setAdding(null);
            onChanged();
          }}
        />
      )}
      {deleting.target && (
        <ConfirmDialog title={`Delete plan ${deleting.target.uniqueId}`} confirmLabel="Delete" {...deleting.dialog}>
          <p>Delete the plan {deleting.target.uniqueId}? It is refused while a mapping or a subscription uses it.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function PlanDialog({ product, onClose, onSaved }: { product: Product; onClose: () => void; onSaved: () => void }) {
  const [uniqueId, setUniqueId] = useState('');
  const [name, setName] = useState('');
  const [base, setBase] = useState('');
  const [block, setBlock] = useState('');
  const [price, setPrice] = useState('');
  const create = useMutation(CreatePlan);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (create.pending) return;
    const input = {
      productId: product.id,
      uniqueId,
      baseSizeGb: Number(base),
      ...(name ? { name } : {}),
      ...(block ? { blockSizeGb: Number(block) } : {}),
      ...(price ? { price: Number(price) } : {}),
    };
    if (await create.run({ input })) onSaved();
  };

  return (
    <Dialog
      title={`Add a plan to ${product.name}`}
      onClose={onClose}
      onSubmit={submit}
      error={create.error}
      errorTitle="Not saved."
      footer={
        <>
          <button type="submit" className="button" aria-disabled={create.pending || undefined}>
            Add plan
          </button>
          <button type="button" className="button button--secondary" onClick={onClose}>
            Cancel
          </button>
        </>
      }
    >
      <Field label="Unique ID" hint="The vendor's ID of the plan.">
        {(p) => <input {...p} value={uniqueId} onChange={(e) => setUniqueId(e.target.value)} required maxLength={MAX_LENGTH.name} />}
      </Field>
      <Field label="Name" hint="Leave empty to use the unique ID.">
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} maxLength={MAX_LENGTH.name} />}
      </Field>
      <Field label="Base size (GB)" hint="Included storage; additional usage is what exceeds it.">
        {(p) => <input {...p} type="number" min="0" step="any" value={base} onChange={(e) => setBase(e.target.value)} required />}
      </Field>
      <Field label="Block size (GB)" hint="Optional: bill additional usage in whole blocks.">
        {(p) => <input {...p} type="number" min="0" step="any" value={block} onChange={(e) => setBlock(e.target.value)} />}
      </Field>
      <Field label="Price">{(p) => <input {...p} type="number" min="0" step="any" value={price} onChange={(e) => setPrice(e.target.value)} />}</Field>
    </Dialog>
  );
}
