// A small SVG line chart of one metric's usage over time: drawn by hand, since a
// charting library would outweigh the rest of the app.
import type { AccountDetailQuery } from '../../gql/graphql';
import { formatDate, formatNumber } from '../../ui/format';

/** One point: an account's usage sample (the API's `UsageSample`) as the Account page reads it. */
export type Sample = Pick<AccountDetailQuery['account']['usageHistory'][number], 'quantity' | 'measuredAt'>;

const WIDTH = 360;
const HEIGHT = 160;
const PAD = { top: 10, right: 12, bottom: 24, left: 44 };

/** A round top for the y axis (1, 2 or 5 times a power of ten) above `max`. */
export function niceCeiling(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return ([1, 2, 5, 10].find((step) => step * power >= max) ?? 10) * power;
}

/** Samples (any order) as points of the plot area, oldest first. */
export function plot(samples: Sample[]): { x: number; y: number; sample: Sample }[] {
  const sorted = [...samples].sort((a, b) => Date.parse(a.measuredAt) - Date.parse(b.measuredAt));
  if (sorted.length === 0) return [];
  const first = Date.parse(sorted[0].measuredAt);
  const span = Date.parse(sorted[sorted.length - 1].measuredAt) - first || 1;
  const top = niceCeiling(Math.max(...sorted.map((s) => s.quantity)));
  const width = WIDTH - PAD.left - PAD.right;
  const height = HEIGHT - PAD.top - PAD.bottom;
  return sorted.map((sample) => ({
    x: PAD.left + (sorted.length === 1 ? width / 2 : ((Date.parse(sample.measuredAt) - first) / span) * width),
    y: PAD.top + height - (sample.quantity / top) * height,
    sample,
  }));
}

export function UsageChart({ title, unit, samples }: { title: string; unit: string; samples: Sample[] }) {
  const points = plot(samples);
  if (points.length === 0) return null;
  const top = niceCeiling(Math.max(...samples.map((s) => s.quantity)));
  const first = points[0].sample;
  const last = points[points.length - 1].sample;
  const suffix = unit ? ` ${unit}` : '';
  const label = `${title}: ${points.length} samples from ${formatDate(first.measuredAt)} to ${formatDate(last.measuredAt)}; latest ${formatNumber(last.quantity)}${suffix}.`;
  const bottom = HEIGHT - PAD.bottom;

  return (
    <svg className="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label}>
      {[0, 0.5, 1].map((f) => {
        const y = PAD.top + (bottom - PAD.top) * (1 - f);
        return (
          <g key={f}>
            <line className="axis" x1={PAD.left} x2={WIDTH - PAD.right} y1={y} y2={y} />
            <text x={PAD.left - 6} y={y + 4} textAnchor="end">
              {formatNumber(top * f)}
            </text>
          </g>
        );
      })}
      <text x={PAD.left} y={HEIGHT - 8}>
        {formatDate(first.measuredAt)}
      </text>
      <text x={WIDTH - PAD.right} y={HEIGHT - 8} textAnchor="end">
        {formatDate(last.measuredAt)}
      </text>
      <polyline className="line" points={points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')} />
      {points.map((p) => (
        <circle key={p.sample.measuredAt} className="dot" cx={p.x} cy={p.y} r={3}>
          <title>{`${formatDate(p.sample.measuredAt)}: ${formatNumber(p.sample.quantity)}${suffix}`}</title>
        </circle>
      ))}
    </svg>
  );
}
