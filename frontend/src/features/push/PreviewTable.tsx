// A push preview's lines, one table (a company's, on the Push page): each addition's
// quantity before and after (or the day it starts or is cancelled from) and what it bills a
// month, additions a person edited since billbridge wrote them, and each skipped line with
// its reason and the fix.
import { ACTION, ActionDetail, LineAccounts, LineMonthly, LineQuantity, MetricName, SkipExplanation, type LineView } from '../../push/lines';
import { Badge } from '../../ui/Badge';
import { Table } from '../../ui/Table';

/** A line of the preview (the `PushLineFields` fragment, as the cells read it). */
export type PreviewLine = LineView;

export function PreviewTable({ lines, label }: { lines: PreviewLine[]; label: string }) {
  return (
    <Table label={label}>
      <thead>
        <tr>
          <th scope="col">Accounts</th>
          <th scope="col">Metric</th>
          <th scope="col">Level</th>
          <th scope="col">Agreement / product</th>
          <th scope="col">Quantity</th>
          <th scope="col">Monthly</th>
          <th scope="col">Action</th>
        </tr>
      </thead>
      <tbody>
        {lines.map((line, i) => (
          <tr key={i} className={line.action === 'SKIP' ? 'skipped' : line.drifted ? 'drifted' : undefined}>
            <td>
              <LineAccounts line={line} />
            </td>
            <td>{line.metric ? <MetricName name={line.metric} /> : '—'}</td>
            <td>{line.level ? <code>{line.level}</code> : '—'}</td>
            <td>
              {line.agreementName ?? '—'}
              {line.parentAgreementName && <div className="muted">bills through {line.parentAgreementName}</div>}
              {line.productIdentifier && <div className="muted">{line.productIdentifier}</div>}
            </td>
            <td>
              <LineQuantity line={line} />
            </td>
            <td>
              <LineMonthly line={line} />
            </td>
            <td>
              <Badge tone={ACTION[line.action].tone}>{ACTION[line.action].label}</Badge>
              <ActionDetail line={line} />
              {line.reason && <SkipExplanation reason={line.reason} detail={line.detail} />}
            </td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
