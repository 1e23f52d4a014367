import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { niceCeiling, plot, UsageChart } from './UsageChart';

describe('usage chart', () => {
  it('rounds the axis up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.7, 3, 130, 480, 501].map(niceCeiling)).toEqual([1, 1, 5, 200, 500, 1000]);
  });

  it('plots oldest to newest, left to right, higher usage higher up', () => {
    const points = plot([
      { quantity: 30, measuredAt: '2026-03-15T00:00:00Z' },
      { quantity: 10, measuredAt: '2026-03-01T00:00:00Z' },
      { quantity: 20, measuredAt: '2026-03-08T00:00:00Z' },
    ]);
    expect(points.map((p) => p.sample.quantity)).toEqual([10, 20, 30]);
    expect(points[0].x).toBeLessThan(points[1].x);
    expect(points[1].x).toBeLessThan(points[2].x);
    // SVG y grows downwards.
    expect(points[0].y).toBeGreaterThan(points[1].y);
    expect(points[1].y).toBeGreaterThan(points[2].y);
  });

  it('describes itself for screen readers', () => {
    render(
      <UsageChart
        title="BackupUsage"
        unit="GB"
        samples={[
          { quantity: 12.5, measuredAt: '2026-03-01T12:00:00Z' },
          { quantity: 40, measuredAt: '2026-03-08T12:00:00Z' },
        ]}
      />,
    );
    const chart = screen.getByRole('img');
    expect(chart.getAttribute('aria-label')).toMatch(/^BackupUsage: 2 samples from .+; latest 40 GB\.$/);
    expect(chart.querySelectorAll('circle')).toHaveLength(2);
  });
});
