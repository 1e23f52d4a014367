// A running push, live: the progress bar follows `pushRunProgress` over graphql-ws
// and stays, at its end, above the run's summary once the last message says the run has ended.
import { useEffect, useEffectEvent, useState } from 'react';
import { subscribe } from '../../api/subscriptions';
import { graphql } from '../../gql';
import type { PushRunProgressSubscription } from '../../gql/graphql';
import { Link } from '../../router';
import { ErrorAlert } from '../../ui/Feedback';
import { PUSH_STATUS_LABEL } from '../../ui/labels';
import type { ApiError } from '../../api/client';

const PushRunProgressDocument = graphql(`
  subscription PushRunProgress($runId: ID!) {
    pushRunProgress(runId: $runId) {
      runId
      status
      total
      done
      unchanged
      skipped
      failed
      pending
      finished
    }
  }
`);

export type Progress = PushRunProgressSubscription['pushRunProgress'];

export function PushProgress({ runId, onFinished }: { runId: string; onFinished?: (progress: Progress) => void }) {
  const [progress, setProgress] = useState<Progress>();
  const [error, setError] = useState<ApiError>();
  // The latest callback, called when the run ends: a new one must not re-subscribe (and replay the run).
  const finished = useEffectEvent((last: Progress) => onFinished?.(last));

  useEffect(
    () =>
      subscribe(
        PushRunProgressDocument,
        { runId },
        {
          next: ({ pushRunProgress }) => {
            setProgress(pushRunProgress);
            if (pushRunProgress.finished) finished(pushRunProgress);
          },
          error: setError,
          complete: () => undefined,
        },
      ),
    [runId],
  );

  const total = progress?.total ?? 0;
  const processed = progress ? total - progress.pending : 0;
  return (
    <div className="push-progress">
      {/* The bar stays at its end once the run is over, above the summary. */}
      <div
        className="progress"
        role="progressbar"
        aria-label="Push progress"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={processed}
        aria-valuetext={progress ? `${processed} of ${total} lines` : 'Starting'}
      >
        <div className="progress-fill" style={{ width: total > 0 ? `${(processed / total) * 100}%` : '0%' }} />
      </div>
      {progress?.finished ? (
        <div className="summary" role="status">
          <p>
            <strong>{PUSH_STATUS_LABEL[progress.status]}</strong>: {progress.done} written, {progress.unchanged} unchanged, {progress.skipped} skipped,{' '}
            {progress.failed} failed of {total} lines.
          </p>
          <Link to={`/history/${runId}`}>View run</Link>
        </div>
      ) : (
        <p className="muted" aria-hidden="true">
          {progress ? `${processed} of ${total} lines · ${progress.failed} failed` : 'Starting…'}
        </p>
      )}
      {error && <ErrorAlert error={error} title="Lost the live progress." />}
    </div>
  );
}
