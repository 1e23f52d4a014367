import { useState } from 'react';
import { useMutation, useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import { useCan } from '../../session/Session';
import { Empty, ErrorAlert, Loaded, Loading } from '../../ui/Feedback';
import { Field } from '../../ui/Field';
import { PageTitle } from '../../ui/PageTitle';
import { MoneySummary } from '../../push/MoneySummary';
import { SKIP_REASON } from '../../push/skipReasons';
import { PreviewTable } from './PreviewTable';
import { PushProgress } from './PushProgress';

const PushServices = graphql(`
  query PushServices {
    services {
      id
      name
      readOnly
    }
  }
`);

const PreviewPush = graphql(`
  query PreviewPush($serviceId: ID) {
    previewPush(serviceId: $serviceId) {
      summary {
        lines
        update
        create
        unchanged
        retire
        skip
        drifted
        skippedByReason {
          reason
          count
        }
      }
      money {
        ...PushMoneyFields
      }
      lines {
        ...PushLineFields
      }
    }
  }
`);

const PushUsage = graphql(`
  mutation PushUsage($serviceId: ID) {
    pushUsage(serviceId: $serviceId) {
      id
      status
    }
  }
`);

const CancelPushRun = graphql(`
  mutation CancelPushRun($id: ID!) {
    cancelPushRun(id: $id) {
      id
      status
    }
  }
`);

export function PushPage() {
  const canPush = useCan('EDITOR');
  const [serviceId, setServiceId] = useState('');
  const services = useQuery(PushServices);
  const preview = useQuery(PreviewPush, { serviceId: serviceId || null });
  const push = useMutation(PushUsage);
  const cancel = useMutation(CancelPushRun);
  const [run, setRun] = useState<{ id: string; running: boolean } | null>(null);

  const start = async () => {
    const result = await push.run({ serviceId: serviceId || null });
    if (result) setRun({ id: result.pushUsage.id, running: true });
  };

  return (
    <>
      <PageTitle>Push</PageTitle>
      <p className="lede">What a push would write to ConnectWise now. Nothing is written until you push.</p>
      <div className="toolbar">
        <Field label="Service">
          {(p) => (
            <select {...p} value={serviceId} onChange={(e) => setServiceId(e.target.value)}>
              <option value="">All services</option>
              {services.data?.services.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                  {s.readOnly ? ' (read-only)' : ''}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="button" className="button button--secondary" onClick={preview.refetch} disabled={preview.loading}>
          Refresh preview
        </button>
        {canPush && (
          <button type="button" className="button" onClick={start} disabled={push.pending || run?.running}>
            Push now
          </button>
        )}
        {canPush && run?.running && (
          <button type="button" className="button button--danger" onClick={() => void cancel.run({ id: run.id })} disabled={cancel.pending}>
            Cancel push
          </button>
        )}
      </div>
      {push.error && <ErrorAlert error={push.error} title="The push did not start." />}
      {cancel.error && <ErrorAlert error={cancel.error} />}
      {run && (
        <PushProgress
          key={run.id}
          runId={run.id}
          onFinished={() => {
            setRun({ id: run.id, running: false });
            preview.refetch();
          }}
        />
      )}
      <section className="section" aria-busy={preview.loading}>
        <h2>Preview</h2>
        {preview.loading && preview.data && <Loading what="a fresh preview" />}
        <Loaded query={preview} what="the preview">
          {({ previewPush: { summary, money, lines } }) => (
            <>
              <p>
                {summary.lines} lines: {summary.update} to update, {summary.create} to create, {summary.retire} to retire, {summary.unchanged} unchanged,{' '}
                {summary.skip} skipped.
              </p>
              {lines.length > 0 && <MoneySummary money={money} />}
              {summary.drifted > 0 && (
                <p>
                  {summary.drifted === 1 ? '1 addition was' : `${summary.drifted} additions were`} edited in ConnectWise since billbridge last wrote{' '}
                  {summary.drifted === 1 ? 'it' : 'them'}: marked “Edited in ConnectWise” below (Settings ▸ Push settings says whether a push overwrites them).
                </p>
              )}
              {summary.skippedByReason.length > 0 && (
                <ul className="plain">
                  {summary.skippedByReason.map((r) => (
                    <li key={r.reason}>
                      {r.count} skipped: {SKIP_REASON[r.reason].label}
                    </li>
                  ))}
                </ul>
              )}
              {lines.length === 0 ? (
                <Empty>Nothing to push: no account has a mapped subscription.</Empty>
              ) : (
                <PreviewTable lines={lines} companies={money.byCompany} />
              )}
            </>
          )}
        </Loaded>
      </section>
    </>
  );
}
