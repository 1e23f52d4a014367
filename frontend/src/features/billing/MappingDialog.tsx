// "Add Billing Mapping": the seeds' cascade, each choice enabled once the one before
// it has a value: Type → Product/Services → Unique ID/Plan → Level → Usage Value.
// Editing a mapping reuses it with the type and product fixed.
import { useId, useState } from 'react';
import { useMutation } from '../../api/hooks';
import { graphql } from '../../gql';
import type { AddBillingMappingInput, MappingDialogTypeFragment, UsageValue } from '../../gql/graphql';
import { Dialog } from '../../ui/Dialog';
import { Warnings } from '../../ui/Feedback';
import { Field } from '../../ui/Field';
import { sortNaturally } from '../../ui/naturalCompare';
import { coverageWarning, uncoveredTypes, type LevelCoverage } from './coverage';
import { ALL_PLANS } from './labels';
import { workedExample } from './usageValue';
import { MAX_LENGTH } from '../../api/limits';

const AddBillingMapping = graphql(`
  mutation AddBillingMapping($input: AddBillingMappingInput!) {
    addBillingMapping(input: $input) {
      mapping {
        id
      }
      warnings
    }
  }
`);

const UpdateBillingMapping = graphql(`
  mutation UpdateBillingMapping($id: ID!, $input: UpdateBillingMappingInput!) {
    updateBillingMapping(id: $id, input: $input) {
      mapping {
        id
      }
      warnings
    }
  }
`);

/** The mapping being edited, as the cascade's choices. */
export interface Editing {
  id: string;
  typeId: string;
  productId: string;
  /** null for (All plans). */
  planId: string | null;
  level: string;
  usageValue: UsageValue;
}

/** A service the cascade offers as a Type, with its products and plans; the Billing Setup query spreads it. */
export const MappingDialogType = graphql(`
  fragment MappingDialogType on Service {
    id
    name
    products {
      id
      name
      plans {
        id
        uniqueId
        name
        baseSizeGb
        blockSizeGb
      }
      metrics {
        crossReferenceType
        unit
      }
      mappings {
        id
        allPlans
        plan {
          id
        }
        level {
          name
        }
      }
    }
  }
`);

export type TypeChoice = MappingDialogTypeFragment;

interface Props {
  types: TypeChoice[];
  /** The levels, for the Level field's suggestions and the cross-reference warnings. */
  levels: LevelCoverage[];
  editing?: Editing;
  onClose: () => void;
  onSaved: (warnings: string[]) => void;
}

const ALL = 'all';

/** How the plan list marks a plan that another mapping of the product already covers. */
const MAPPED = ' (already mapped)';

const USAGE_CHOICES: { value: UsageValue; label: string; explanation: string }[] = [
  {
    value: 'TOTAL_USAGE',
    label: 'Total usage',
    explanation: 'Sends the total amount of data (in GB) that each account is using to ConnectWise. Best when billing a flat rate per GB.',
  },
  {
    value: 'ADDITIONAL_USAGE',
    label: 'Additional usage',
    explanation: 'Sends only the usage over the base plan size for each account. Best when billing a base rate for a block of storage and the overage per GB.',
  },
];

export function MappingDialog({ types, levels, editing, onClose, onSaved }: Props) {
  const [typeId, setTypeId] = useState(editing?.typeId ?? '');
  const [productId, setProductId] = useState(editing?.productId ?? '');
  const [planId, setPlanId] = useState(editing?.planId ?? ALL);
  const [level, setLevel] = useState(editing?.level ?? '');
  const [usage, setUsage] = useState<UsageValue | ''>(editing?.usageValue ?? '');
  const add = useMutation(AddBillingMapping);
  const update = useMutation(UpdateBillingMapping);
  const save = editing ? update : add;
  const ids = useId();

  const type = types.find((t) => t.id === typeId);
  const product = type?.products.find((p) => p.id === productId);
  const plan = product?.plans.find((p) => p.id === planId) ?? null;
  const ready = Boolean(product && level !== '' && usage);

  // A refused level carries the server's near match: offered as a button in the alert.
  const levelError = save.error?.field?.endsWith('level') ? save.error : undefined;

  // Another mapping of the product for a plan: marked in the list, and warned about.
  const others = product?.mappings.filter((m) => m.id !== editing?.id) ?? [];
  const mappedTo = (choice: string) => others.find((m) => (choice === ALL ? m.allPlans : m.plan?.id === choice));
  const taken = mappedTo(planId);
  const levelChosen = levels.find((l) => l.name === level);
  const warnings = product
    ? [
        ...(taken
          ? [`${plan?.uniqueId ?? ALL_PLANS} already has a billing mapping (level “${taken.level.name}”): Confirm will be refused; edit that mapping instead.`]
          : []),
        ...coverageWarning(
          level,
          uncoveredTypes(
            levelChosen,
            product.metrics.map((m) => m.crossReferenceType),
            levels,
          ),
        ),
        ...(product.metrics.length === 0 ? [`${product.name} reports no metrics, so this mapping has nothing to push.`] : []),
        ...(usage === 'ADDITIONAL_USAGE' && product.metrics.length > 0 && !product.metrics.some((m) => m.unit === 'GB')
          ? [`${product.name} reports no GB metric: additional usage only changes GB quantities, counts are sent as counted.`]
          : []),
      ]
    : [];

  const confirm = async () => {
    if (!product || !usage || save.pending) return;
    const plan = planId === ALL ? { allPlans: true } : { planId };
    if (editing) {
      const result = await update.run({ id: editing.id, input: { ...plan, level, usageValue: usage } });
      if (result) onSaved(result.updateBillingMapping.warnings);
      return;
    }
    const input: AddBillingMappingInput = { productId: product.id, ...plan, level, usageValue: usage };
    const result = await add.run({ input });
    if (result) onSaved(result.addBillingMapping.warnings);
  };

  return (
    <Dialog
      title={editing ? 'Edit Billing Mapping' : 'Add Billing Mapping'}
      onClose={onClose}
      error={save.error}
      errorTitle="Not saved."
      errorAction={
        levelError?.suggestion && (
          <button
            type="button"
            className="button button--small button--secondary"
            onClick={() => {
              setLevel(levelError.suggestion ?? '');
              save.reset();
            }}
          >
            Use “{levelError.suggestion}”
          </button>
        )
      }
      notes={<Warnings title="Before you confirm:" warnings={warnings} />}
      footer={
        <>
          {/* aria-disabled while saving: a disabled Confirm would drop focus out of the dialog. */}
          <button type="button" className="button" disabled={!ready} aria-disabled={save.pending || undefined} onClick={confirm}>
            Confirm
          </button>
          <button type="button" className="button button--secondary" onClick={onClose}>
            Cancel
          </button>
        </>
      }
    >
      <div className="cascade">
        <Field label="Type">
          {(p) => (
            <select
              {...p}
              value={typeId}
              disabled={Boolean(editing)}
              onChange={(e) => {
                setTypeId(e.target.value);
                setProductId('');
                setPlanId(ALL);
              }}
            >
              <option value="">Select…</option>
              {types.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Product/Services">
          {(p) => (
            <select
              {...p}
              value={productId}
              disabled={!type || Boolean(editing)}
              onChange={(e) => {
                setProductId(e.target.value);
                setPlanId(ALL);
              }}
            >
              <option value="">Select…</option>
              {type?.products.map((product) => (
                <option key={product.id} value={product.id}>
                  {product.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Unique ID/Plan" hint={planId === ALL && product ? 'Every account of the product is billed at the same rate.' : undefined}>
          {(p) => (
            <select {...p} value={planId} disabled={!product} onChange={(e) => setPlanId(e.target.value)}>
              <option value={ALL}>
                {ALL_PLANS}
                {mappedTo(ALL) && MAPPED}
              </option>
              {sortNaturally(product?.plans ?? [], (plan) => plan.uniqueId).map((plan) => (
                <option key={plan.id} value={plan.id}>
                  {plan.uniqueId === plan.name ? plan.uniqueId : `${plan.uniqueId} — ${plan.name}`}
                  {mappedTo(plan.id) && MAPPED}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Level" hint="Must match a level of the Managed Devices Integration cross-references in ConnectWise, exactly (case-sensitive).">
          {(p) => (
            <>
              <input
                {...p}
                aria-invalid={levelError ? true : undefined}
                value={level}
                disabled={!product}
                list={`${ids}-levels`}
                maxLength={MAX_LENGTH.name}
                autoComplete="off"
                spellCheck={false}
                onChange={(e) => setLevel(e.target.value)}
              />
              <datalist id={`${ids}-levels`}>
                {levels.map(({ name }) => (
                  <option key={name} value={name} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <fieldset className="radio-group" role="radiogroup" aria-labelledby={`${ids}-usage`} disabled={level === ''}>
          <legend id={`${ids}-usage`}>Usage Value</legend>
          {USAGE_CHOICES.map((choice) => (
            <div className="radio" key={choice.value}>
              <input
                type="radio"
                id={`${ids}-${choice.value}`}
                name={`${ids}-usage-value`}
                value={choice.value}
                checked={usage === choice.value}
                disabled={level === ''}
                onChange={() => setUsage(choice.value)}
                aria-describedby={`${ids}-${choice.value}-explained`}
              />
              <label htmlFor={`${ids}-${choice.value}`}>{choice.label}</label>
              <p id={`${ids}-${choice.value}-explained`} className="hint">
                {choice.explanation} {product && workedExample(choice.value, plan)}
              </p>
            </div>
          ))}
          <p className="hint">Count metrics (licences, seats) always send the count.</p>
          <p className="hint" id={`${ids}-rounding`}>
            Rounding: each account's usage is counted exactly (over its own plan's base size, in whole blocks of its own plan), the accounts of one ConnectWise
            company are added up, and the sum is rounded up to whole GB once — two accounts using 100.2 and 10.2 GB bill 111 GB, not 101 + 11.
          </p>
        </fieldset>
      </div>
    </Dialog>
  );
}
