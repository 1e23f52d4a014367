// How pushes treat the additions billbridge owns: one no mapping wants any more (retire
// mode), and one a person changed in ConnectWise since billbridge wrote it. Everyone
// reads them; editors and admins change them (the server enforces the same).
import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import type { OnManualEdit, PushSettingsQuery, RetireMode } from '../../gql/graphql';
import { useCan } from '../../session/Session';
import { ErrorAlert, Loaded } from '../../ui/Feedback';
import { formatDateTime } from '../../ui/format';
import { ON_MANUAL_EDIT_LABEL, RETIRE_MODE_LABEL } from '../../ui/labels';

const PushSettings = graphql(`
  query PushSettings {
    pushSettings {
      retireMode
      onManualEdit
      updatedBy
      updatedAt
    }
  }
`);

const UpdatePushSettings = graphql(`
  mutation UpdatePushSettings($input: PushSettingsInput!) {
    updatePushSettings(input: $input) {
      retireMode
      onManualEdit
      updatedBy
      updatedAt
    }
  }
`);

type Settings = PushSettingsQuery['pushSettings'];

interface Choice<T> {
  value: T;
  label: string;
  explanation: string;
}

export const RETIRE_MODES: Choice<RetireMode>[] = [
  {
    value: 'ZERO',
    label: RETIRE_MODE_LABEL.ZERO,
    explanation: 'The addition stays on the agreement with quantity 0, billing nothing.',
  },
  {
    value: 'CANCEL',
    label: RETIRE_MODE_LABEL.CANCEL,
    explanation: 'The addition is cancelled from the first of next month, so it still bills the current month.',
  },
];

export const ON_MANUAL_EDIT: Choice<OnManualEdit>[] = [
  {
    value: 'OVERWRITE',
    label: ON_MANUAL_EDIT_LABEL.OVERWRITE,
    explanation: 'billbridge writes its quantity over the person’s; the preview marks the line “Edited in ConnectWise”.',
  },
  {
    value: 'SKIP',
    label: ON_MANUAL_EDIT_LABEL.SKIP,
    explanation: 'The person’s quantity stays; the line is skipped as “Changed in ConnectWise by hand”.',
  },
];

export function PushSettingsSection() {
  const query = useQuery(PushSettings);
  const canEdit = useCan('EDITOR');
  return (
    <section className="section">
      <h2>Push settings</h2>
      <p>What a push does with the ConnectWise additions billbridge wrote, once no mapping wants them or once a person has changed them.</p>
      <Loaded query={query} what="the push settings">
        {({ pushSettings: settings }) => (
          <PushSettingsForm key={settings.updatedAt ?? 'default'} settings={settings} canEdit={canEdit} onSaved={query.refetch} />
        )}
      </Loaded>
    </section>
  );
}

function PushSettingsForm({ settings, canEdit, onSaved }: { settings: Settings; canEdit: boolean; onSaved: () => void }) {
  const [retireMode, setRetireMode] = useState(settings.retireMode);
  const [onManualEdit, setOnManualEdit] = useState(settings.onManualEdit);
  const save = useMutation(UpdatePushSettings);
  const changed = retireMode !== settings.retireMode || onManualEdit !== settings.onManualEdit;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await save.run({ input: { retireMode, onManualEdit } })) onSaved();
  };

  return (
    <form onSubmit={submit}>
      <Choices
        legend="When no mapping wants an addition billbridge wrote"
        choices={RETIRE_MODES}
        value={retireMode}
        onChange={setRetireMode}
        disabled={!canEdit}
      />
      <Choices
        legend="When a person changed an addition in ConnectWise"
        choices={ON_MANUAL_EDIT}
        value={onManualEdit}
        onChange={setOnManualEdit}
        disabled={!canEdit}
      />
      <p className="muted">
        {settings.updatedAt
          ? `Last changed by ${settings.updatedBy ?? 'someone'} on ${formatDateTime(settings.updatedAt)}.`
          : 'Never changed: these are the defaults.'}
        {!canEdit && ' Editors and admins can change them.'}
      </p>
      {save.error && <ErrorAlert error={save.error} title="Not saved." />}
      {canEdit && (
        <div className="actions">
          <button type="submit" className="button" disabled={save.pending || !changed}>
            Save push settings
          </button>
        </div>
      )}
    </form>
  );
}

function Choices<T extends string>({
  legend,
  choices,
  value,
  onChange,
  disabled,
}: {
  legend: string;
  choices: Choice<T>[];
  value: T;
  onChange: (value: T) => void;
  disabled: boolean;
}) {
  const ids = useId();
  return (
    <fieldset className="radio-group" role="radiogroup" aria-labelledby={`${ids}-legend`} disabled={disabled}>
      <legend id={`${ids}-legend`}>{legend}</legend>
      {choices.map((choice) => (
        <div className="radio" key={choice.value}>
          <input
            type="radio"
            id={`${ids}-${choice.value}`}
            name={`${ids}-choice`}
            value={choice.value}
            checked={value === choice.value}
            disabled={disabled}
            onChange={() => onChange(choice.value)}
            aria-describedby={`${ids}-${choice.value}-explained`}
          />
          <label htmlFor={`${ids}-${choice.value}`}>{choice.label}</label>
          <p id={`${ids}-${choice.value}-explained`} className="hint">
            {choice.explanation}
          </p>
        </div>
      ))}
    </fieldset>
  );
}
