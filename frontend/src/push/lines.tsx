// A push line's cells, the same on every page that shows lines (the Push preview, a run's
// lines, an account's last push): its accounts, metric, quantity before → after, what it
// bills a month, its action and why a line is skipped. Lines are the API's `PushLine` as
// the `PushLineFields` fragment (src/api/fragments.ts) selects it; each cell takes only
// the fields it reads.
import { Fragment } from 'react';
import type { MonthlyAmountFieldsFragment, PushAction, PushLineFieldsFragment, SkipReason } from '../gql/graphql';
import { Badge, type Tone } from '../ui/Badge';
import { formatBillingDate, formatMoney, formatMoneyChange, formatNumber } from '../ui/format';
import { PUSH_ACTION_LABEL } from '../ui/labels';
import { SKIP_REASON } from './skipReasons';

/** A line of a plan or a run, as the `PushLineFields` fragment selects it. */
export type PushLine = PushLineFieldsFragment;

/**
 * A line as the cells read it: the fragment's fields, all but the three every line has
 * optional, a missing one read as null (`drifted` as false). So a cell takes a line from any
 * query that selects what it shows, or a test's partial line.
 */
export type LineView = Pick<PushLine, 'accounts' | 'action' | 'detail'> & Partial<PushLine>;

/** A monthly amount before and after a plan or a run (the API's `MonthlyAmount`). */
export type Monthly = MonthlyAmountFieldsFragment;

/** What the Monthly column needs of a line, in a preview or a run. */
export type MonthlyLine = Pick<LineView, 'action' | 'drifted' | 'unitPrice' | 'monthlyBefore' | 'monthlyAfter' | 'monthlyChange'>;

/** What the Quantity column needs of a line, in a preview or a run. */
export type QuantityLine = Pick<LineView, 'action' | 'currentQuantity' | 'newQuantity' | 'lastWrittenQuantity' | 'drifted' | 'effectiveDate'>;

export const ACTION: Record<PushAction, { label: string; tone: Tone }> = {
  UPDATE: { label: PUSH_ACTION_LABEL.UPDATE, tone: 'info' },
  CREATE: { label: PUSH_ACTION_LABEL.CREATE, tone: 'ok' },
  UNCHANGED: { label: PUSH_ACTION_LABEL.UNCHANGED, tone: 'neutral' },
  RETIRE: { label: PUSH_ACTION_LABEL.RETIRE, tone: 'warn' },
  SKIP: { label: PUSH_ACTION_LABEL.SKIP, tone: 'warn' },
};

export function Change({ before, after }: { before?: number | null; after?: number | null }) {
  return (
    <span className="change">
      {before == null ? 'none' : formatNumber(before)} → {after == null ? 'none' : formatNumber(after)}
    </span>
  );
}

/** A monthly amount before → after, and the change when there is one: `2.40 → 3.00 (+0.60)`. */
export function MonthlyAmounts({ before, after, change }: { before: number; after: number; change?: number | null }) {
  const delta = formatMoneyChange(change ?? after - before);
  return (
    <>
      <span className="change">
        {formatMoney(before)} → {formatMoney(after)}
      </span>
      {delta !== formatMoneyChange(0) && (
        <>
          {' '}
          <span className="money-change">({delta})</span>
        </>
      )}
    </>
  );
}

/**
 * What a line bills a month before → after, with the change and the unit price; `—` when
 * ConnectWise gave no price, and for a skipped line (it bills nothing, or, edited by a
 * person, goes on billing what it did).
 */
export function LineMonthly({ line }: { line: MonthlyLine }) {
  const { unitPrice, monthlyBefore, monthlyAfter, monthlyChange } = line;
  if (unitPrice == null || monthlyBefore == null || monthlyAfter == null || (line.action === 'SKIP' && !line.drifted)) return <>—</>;
  return (
    <>
      <MonthlyAmounts before={monthlyBefore} after={monthlyAfter} change={monthlyChange} />
      <div className="muted">unit price {formatMoney(unitPrice)}</div>
    </>
  );
}

/**
 * A metric's name (`VMwareHostLicensing`) with places to break between its words, so a
 * narrow column wraps it rather than growing; it reads the same.
 */
export function MetricName({ name }: { name: string }) {
  const words = name.split(/(?<=[a-z])(?=[A-Z])/);
  return (
    <>
      {words.map((word, i) => (
        <Fragment key={i}>
          {i > 0 && <wbr />}
          {word}
        </Fragment>
      ))}
    </>
  );
}

/** The accounts a line adds up, and the subscriptions it serves under them. */
export function LineAccounts({ line }: { line: Pick<LineView, 'accounts' | 'subscription'> }) {
  return (
    <>
      {line.accounts.length > 0 ? line.accounts.join(', ') : '—'}
      {line.subscription && <div className="muted">{line.subscription}</div>}
    </>
  );
}

/**
 * A line's quantities: before → after; a retire cancelled from a date says so; a new
 * addition that starts later says when; an addition a person edited since billbridge
 * wrote it is marked, with the three quantities. A skipped line changes nothing: `—`.
 * `when` words it for a preview (what the push will do) or a run (what it was to do).
 */
export function LineQuantity({ line, when = 'preview' }: { line: QuantityLine; when?: 'preview' | 'run' }) {
  const cancelFrom = line.action === 'RETIRE' && line.effectiveDate ? formatBillingDate(line.effectiveDate) : null;
  return (
    <>
      {line.action === 'SKIP' ? (
        !line.drifted && '—'
      ) : cancelFrom ? (
        <>
          <span>
            cancel from <span className="change">{cancelFrom}</span>
          </span>
          <div className="muted">bills {formatNumber(line.currentQuantity)} until then</div>
        </>
      ) : (
        <Change before={line.currentQuantity} after={line.newQuantity} />
      )}
      {line.action === 'CREATE' && line.effectiveDate && <div className="muted">starts {formatBillingDate(line.effectiveDate)}</div>}
      {line.drifted && <Drift line={line} when={when} />}
    </>
  );
}

/** billbridge's last write, the person's quantity, and what the push does about it. */
function Drift({ line, when }: { line: QuantityLine; when: 'preview' | 'run' }) {
  const preview = when === 'preview';
  const cancelFrom = line.action === 'RETIRE' && line.effectiveDate ? formatBillingDate(line.effectiveDate) : null;
  const push =
    line.action === 'SKIP'
      ? preview
        ? 'push leaves it'
        : 'the push left it'
      : cancelFrom
        ? `${preview ? 'push cancels' : 'the push was to cancel'} it from ${cancelFrom}`
        : `${preview ? 'push writes' : 'the push was to write'} ${formatNumber(line.newQuantity)}`;
  return (
    <div className="drift">
      <Badge tone="warn" title="A person changed this addition in ConnectWise since billbridge last wrote it">
        Edited in ConnectWise
      </Badge>
      <div className="muted">
        billbridge last wrote {formatNumber(line.lastWrittenQuantity)}, ConnectWise {preview ? 'has' : 'had'} {formatNumber(line.currentQuantity)}, {push}.
      </div>
    </div>
  );
}

/** Why a retire or a dated new addition happens (the server's words), under its action. */
export function ActionDetail({ line }: { line: Pick<LineView, 'action' | 'effectiveDate' | 'detail'> }) {
  const explained = line.action === 'RETIRE' || (line.action === 'CREATE' && line.effectiveDate);
  return explained && line.detail ? <div className="muted">{line.detail}</div> : null;
}

export function SkipExplanation({ reason, detail }: { reason: SkipReason; detail?: string }) {
  const { label, fix } = SKIP_REASON[reason];
  return (
    <div className="skip">
      <p>
        <strong>{label}.</strong> {detail}
      </p>
      <p className="fix">How to fix: {fix}</p>
    </div>
  );
}
