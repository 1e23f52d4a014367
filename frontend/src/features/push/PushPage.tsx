// The Push page at MSP scale: the plan's summary first (counts per action and reason, the
// monthly change), then its companies, a page at a time and collapsed, each with its totals;
// a company's lines load when it is opened. Filters narrow the companies and their lines on
// the server ("changes only" by default). The plan is computed once and reused for a minute
// while paging (`computedAt`); Refresh reads ConnectWise anew. Push now asks first, naming
// what it will write.
import { useState } from 'react';
import { request } from '../../api/client';
import { useMutation, useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import type { PushAction, SkipReason } from '../../gql/graphql';
import { useCan } from '../../session/Session';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorAlert, Loaded, Loading } from '../../ui/Feedback';
import { Field } from '../../ui/Field';
import { PageTitle } from '../../ui/PageTitle';
import { formatDateTime, formatMoneyChange } from '../../ui/format';
import { MoneySummary } from '../../push/MoneySummary';
import { SKIP_REASON } from '../../push/skipReasons';
import { CompanyList, type LineFilter } from './CompanyList';
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
      computedAt
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
      changing: companies(changesOnly: true, first: 1) {
        totalCount
      }
    }
  }
`);

const RefreshPreview = graphql(`
  query RefreshPreview($serviceId: ID) {
    previewPush(serviceId: $serviceId, refresh: true) {
      computedAt
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

/** What the "Show" filter offers: changes only, everything, or one action. */
type Show = 'CHANGES' | 'ALL' | PushAction;

const SHOW: { value: Show; label: string }[] = [
  { value: 'CHANGES', label: 'Changes only' },
  { value: 'ALL', label: 'All lines' },
  { value: 'UPDATE', label: 'Updates' },
  { value: 'CREATE', label: 'New additions' },
  { value: 'RETIRE', label: 'Retirements' },
  { value: 'UNCHANGED', label: 'Unchanged' },
  { value: 'SKIP', label: 'Skipped' },
];

function lineFilter(show: Show, reason: SkipReason | ''): LineFilter {
  return {
    action: show === 'CHANGES' || show === 'ALL' ? null : show,
    reason: reason || null,
    changesOnly: show === 'CHANGES',
  };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function PushPage() {
  const canPush = useCan('EDITOR');
  const [serviceId, setServiceId] = useState('');
  const [show, setShow] = useState<Show>('CHANGES');
  const [reason, setReason] = useState<SkipReason | ''>('');
  // Bumped by a refresh: the open companies read their lines again.
  const [version, setVersion] = useState(0);
  const [refreshing, setRefreshing] = useState(false);
  const [refreshError, setRefreshError] = useState<Error>();
  const services = useQuery(PushServices);
  const preview = useQuery(PreviewPush, { serviceId: serviceId || null });
  const push = useMutation(PushUsage);
  const cancel = useMutation(CancelPushRun);
  const [run, setRun] = useState<{ id: string; running: boolean } | null>(null);
  const [confirming, setConfirming] = useState(false);

  const refresh = async () => {
    setRefreshing(true);
    setRefreshError(undefined);
    try {
      await request(RefreshPreview, { serviceId: serviceId || null });
      preview.refetch();
      setVersion((v) => v + 1);
    } catch (error) {
      setRefreshError(error instanceof Error ? error : new Error(String(error)));
    } finally {
      setRefreshing(false);
    }
  };

  const start = async () => {
    const result = await push.run({ serviceId: serviceId || null });
    if (result) {
      setConfirming(false);
      setRun({ id: result.pushUsage.id, running: true });
    }
  };

  const showReason = (r: SkipReason) => {
    setShow('SKIP');
    setReason(r);
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
        <button type="button" className="button button--secondary" onClick={() => void refresh()} disabled={refreshing || preview.loading}>
          Refresh preview
        </button>
        {canPush && (
          <button type="button" className="button" onClick={() => setConfirming(true)} disabled={push.pending || run?.running || !preview.data}>
            Push now
          </button>
        )}
        {canPush && run?.running && (
          <button type="button" className="button button--danger" onClick={() => void cancel.run({ id: run.id })} disabled={cancel.pending}>
            Cancel push
          </button>
        )}
      </div>
      {refreshError && <ErrorAlert error={refreshError} title="The preview could not be read again." />}
      {cancel.error && <ErrorAlert error={cancel.error} />}
      {confirming && preview.data && (
        <ConfirmDialog
          title="Push to ConnectWise?"
          confirmLabel={`Push ${plural(changes(preview.data.previewPush.summary), 'change', 'changes')}`}
          onConfirm={start}
          onClose={() => {
            setConfirming(false);
            push.reset();
          }}
          error={push.error}
          pending={push.pending}
        >
          <PushConsequences preview={preview.data.previewPush} />
        </ConfirmDialog>
      )}
      {run && (
        <PushProgress
          key={run.id}
          runId={run.id}
          onFinished={() => {
            setRun({ id: run.id, running: false });
            // What the run replaced is no longer news.
            push.reset();
            cancel.reset();
            void refresh();
          }}
        />
      )}
      <section className="section" aria-busy={preview.loading || refreshing}>
        <h2>Preview</h2>
        {(preview.loading || refreshing) && preview.data && <Loading what="a fresh preview" />}
        <Loaded query={preview} what="the preview">
          {({ previewPush: { computedAt, summary, money } }) => (
            <>
              <p>
                {summary.lines} lines: {summary.update} to update, {summary.create} to create, {summary.retire} to retire, {summary.unchanged} unchanged,{' '}
                {summary.skip} skipped.
              </p>
              <p className="muted">
                Read from ConnectWise at {formatDateTime(computedAt)}; pages of this preview reuse it for a minute. Refresh to read again.
              </p>
              {summary.lines > 0 && <MoneySummary money={money} />}
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
                      {r.count} skipped: {SKIP_REASON[r.reason].label}{' '}
                      <button type="button" className="button button--small button--secondary" onClick={() => showReason(r.reason)}>
                        Show them
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </>
          )}
        </Loaded>
      </section>
      {/* Once the plan is read: asked at the same time, the companies would compute it again. */}
      {preview.data && !preview.loading && (
        <section className="section" aria-labelledby="push-companies">
          <h2 id="push-companies">Companies</h2>
          <div className="toolbar">
            <Field label="Show">
              {(p) => (
                <select
                  {...p}
                  value={show}
                  onChange={(e) => {
                    const next = e.target.value as Show;
                    setShow(next);
                    if (next !== 'SKIP' && next !== 'ALL') setReason('');
                  }}
                >
                  {SHOW.map((s) => (
                    <option key={s.value} value={s.value}>
                      {s.label}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Skip reason">
              {(p) => (
                <select
                  {...p}
                  value={reason}
                  onChange={(e) => {
                    const next = e.target.value as SkipReason | '';
                    setReason(next);
                    if (next) setShow('SKIP');
                  }}
                >
                  <option value="">Any reason</option>
                  {preview.data?.previewPush.summary.skippedByReason.map((r) => (
                    <option key={r.reason} value={r.reason}>
                      {SKIP_REASON[r.reason].label} ({r.count})
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
          <CompanyList
            key={`${serviceId}:${version}`}
            serviceId={serviceId || null}
            filter={lineFilter(show, reason)}
            computedAt={preview.data.previewPush.computedAt}
          />
        </section>
      )}
    </>
  );
}

type Summary = { update: number; create: number; retire: number; unchanged: number; skip: number };

/** Lines a push writes. */
function changes(s: Summary): number {
  return s.update + s.create + s.retire;
}

/** What Push now will write, in words, for the confirmation. */
function PushConsequences({ preview }: { preview: { summary: Summary; money: { total: { change: number } }; changing: { totalCount: number } } }) {
  const { summary, money, changing } = preview;
  const n = changes(summary);
  // Only what happens: "3 additions updated, 207 created", no "0 retired".
  const writes = [
    [summary.update, 'addition updated', 'additions updated'],
    [summary.create, 'addition created', 'additions created'],
    [summary.retire, 'addition retired', 'additions retired'],
  ] as const;
  const rest = [
    [summary.skip, 'line skipped', 'lines skipped'],
    [summary.unchanged, 'line already right', 'lines already right'],
  ] as const;
  const say = (parts: readonly (readonly [number, string, string])[]) =>
    parts
      .filter(([count]) => count > 0)
      .map(([count, one, many]) => plural(count, one, many))
      .join(', ');
  return (
    <>
      {n === 0 ? (
        <p>The preview has nothing to write: every line is unchanged or skipped. The push records a run all the same.</p>
      ) : (
        <p>
          This writes {plural(n, 'change', 'changes')} to ConnectWise for {plural(changing.totalCount, 'company', 'companies')}: {say(writes)}. Monthly change:{' '}
          {formatMoneyChange(money.total.change)}.
        </p>
      )}
      <p>{say(rest) ? `Besides: ${say(rest)}. ` : ''}The push reads ConnectWise again and writes what it finds then.</p>
    </>
  );
}
