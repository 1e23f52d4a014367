// The levels mappings may use: typed in here, or synced from ConnectWise's
// cross-references (Settings › Sync levels).
import { useState, type FormEvent } from 'react';
import { useMutation } from '../../api/hooks';
import { graphql } from '../../gql';
import type { LevelsSectionLevelFragment } from '../../gql/graphql';
import { Badge } from '../../ui/Badge';
import { ConfirmDialog, Dialog } from '../../ui/Dialog';
import { Empty } from '../../ui/Feedback';
import { Field } from '../../ui/Field';
import { LEVEL_SOURCE_LABEL } from '../../ui/labels';
import { Table } from '../../ui/Table';
import { useConfirmDelete } from '../../ui/useConfirmDelete';
import { MAX_LENGTH } from '../../api/limits';

const CreateLevel = graphql(`
  mutation CreateLevel($input: CreateLevelInput!) {
    createLevel(input: $input) {
      id
    }
  }
`);

const DeleteLevel = graphql(`
  mutation DeleteLevel($id: ID!) {
    deleteLevel(id: $id)
  }
`);

/** What the section shows of a level; the Billing Setup query spreads it. */
export const LevelsSectionLevel = graphql(`
  fragment LevelsSectionLevel on Level {
    id
    name
    source
    crossReferences {
      vendorType
      agreementTypeName
      productIdentifier
      active
    }
  }
`);

type Level = LevelsSectionLevelFragment;

export function LevelsSection({ levels, canEdit, onChanged }: { levels: Level[]; canEdit: boolean; onChanged: () => void }) {
  const [adding, setAdding] = useState(false);
  const deleting = useConfirmDelete(useMutation(DeleteLevel), { variables: (level: Level) => ({ id: level.id }), onDone: onChanged });

  return (
    <section className="section">
      <div className="toolbar">
        <h2>Levels</h2>
        {canEdit && (
          <button type="button" className="button button--secondary button--small" onClick={() => setAdding(true)}>
            Add level
          </button>
        )}
      </div>
      <p className="hint">Levels are case-sensitive and must match a cross-reference of the Managed Devices Integration in ConnectWise.</p>
      {levels.length === 0 ? (
        <Empty>No levels yet: add one, or sync them from ConnectWise in Settings.</Empty>
      ) : (
        <Table label="Levels">
          <thead>
            <tr>
              <th scope="col">Level</th>
              <th scope="col">Source</th>
              <th scope="col">ConnectWise cross-references</th>
              {canEdit && (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {levels.map((level) => (
              <tr key={level.id}>
                <td>
                  <code>{level.name}</code>
                </td>
                <td>{LEVEL_SOURCE_LABEL[level.source]}</td>
                <td>
                  {level.crossReferences.length === 0 ? (
                    <span className="muted">None</span>
                  ) : (
                    <ul className="plain">
                      {level.crossReferences.map((x) => (
                        <li key={x.vendorType}>
                          {x.vendorType} → {x.agreementTypeName ?? '?'} / {x.productIdentifier ?? '?'} {!x.active && <Badge tone="warn">inactive</Badge>}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                {canEdit && (
                  <td>
                    <button type="button" className="button button--small button--secondary" onClick={() => deleting.ask(level)}>
                      Delete level {level.name}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {adding && (
        <LevelDialog
          onClose={() => setAdding(false)}
          onSaved={() => {
            setAdding(false);
            onChanged();
          }}
        />
      )}
      {deleting.target && (
        <ConfirmDialog title={`Delete level ${deleting.target.name}`} confirmLabel="Delete" {...deleting.dialog}>
          <p>Delete the level “{deleting.target.name}”? It is refused while a mapping uses it.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function LevelDialog({ onClose, onSaved }: { onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState('');
  const create = useMutation(CreateLevel);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (create.pending) return;
    if (await create.run({ input: { name } })) onSaved();
  };
  return (
    <Dialog
      title="Add a level"
      onClose={onClose}
      onSubmit={submit}
      error={create.error}
      errorTitle="Not saved."
      footer={
        <>
          <button type="submit" className="button" aria-disabled={create.pending || undefined}>
            Add level
          </button>
          <button type="button" className="button button--secondary" onClick={onClose}>
            Cancel
          </button>
        </>
      }
    >
      <Field label="Level name" hint="Kept exactly as typed: case matters.">
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} required spellCheck={false} maxLength={MAX_LENGTH.name} />}
      </Field>
    </Dialog>
  );
}
