import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import type { PushScheduleQuery } from '../../gql/graphql';
import { useCan } from '../../session/Session';
import { ErrorAlert, Loaded } from '../../ui/Feedback';
import { Field } from '../../ui/Field';
import { formatDateTime } from '../../ui/format';
import { MAX_LENGTH } from '../../api/limits';

const PushSchedule = graphql(`
  query PushSchedule {
    pushSchedule {
      enabled
      timeOfDay
      timeZone
      cron
      nextRunAt
      lastSlotAt
      updatedBy
      updatedAt
    }
  }
`);

const UpdatePushSchedule = graphql(`
  mutation UpdatePushSchedule($input: PushScheduleInput!) {
    updatePushSchedule(input: $input) {
      enabled
    }
  }
`);

type Schedule = PushScheduleQuery['pushSchedule'];

export function ScheduleSection() {
  const query = useQuery(PushSchedule);
  const isAdmin = useCan('ADMIN');
  return (
    <section className="section">
      <h2>Push schedule</h2>
      <Loaded query={query} what="the schedule">
        {({ pushSchedule: schedule }) => (
          <>
            <p>
              {schedule.enabled
                ? `Pushes ${schedule.cron ? `on “${schedule.cron}”` : `daily at ${schedule.timeOfDay}`} (${schedule.timeZone}). Next: ${formatDateTime(schedule.nextRunAt)}.`
                : 'Off: usage is pushed only when someone pushes.'}{' '}
              {schedule.lastSlotAt && `Last scheduled push: ${formatDateTime(schedule.lastSlotAt)}.`}
            </p>
            {isAdmin && <ScheduleForm key={schedule.updatedAt ?? 'new'} schedule={schedule} onSaved={query.refetch} />}
          </>
        )}
      </Loaded>
    </section>
  );
}

function ScheduleForm({ schedule, onSaved }: { schedule: Schedule; onSaved: () => void }) {
  const [enabled, setEnabled] = useState(schedule.enabled);
  const [timeOfDay, setTimeOfDay] = useState(schedule.timeOfDay);
  const [timeZone, setTimeZone] = useState(schedule.timeZone);
  const [cron, setCron] = useState(schedule.cron ?? '');
  const save = useMutation(UpdatePushSchedule);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await save.run({ input: { enabled, timeOfDay, timeZone, cron: cron.trim() || null } })) onSaved();
  };

  return (
    <form className="form-grid" onSubmit={submit}>
      <div className="checkbox">
        <input id="schedule-enabled" type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        <label htmlFor="schedule-enabled">Push on a schedule</label>
      </div>
      <Field label="Time of day">{(p) => <input {...p} type="time" value={timeOfDay} onChange={(e) => setTimeOfDay(e.target.value)} />}</Field>
      <Field label="Time zone" hint="An IANA name, e.g. Europe/Paris.">
        {(p) => <input {...p} value={timeZone} onChange={(e) => setTimeZone(e.target.value)} maxLength={MAX_LENGTH.setting} />}
      </Field>
      <Field label="Cron expression" hint="Optional; five fields, used instead of the time of day.">
        {(p) => <input {...p} value={cron} onChange={(e) => setCron(e.target.value)} spellCheck={false} maxLength={MAX_LENGTH.setting} />}
      </Field>
      {save.error && <ErrorAlert error={save.error} title="Not saved." />}
      <div className="actions">
        <button type="submit" className="button" disabled={save.pending}>
          Save schedule
        </button>
      </div>
    </form>
  );
}
