import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { formatMoney as m, formatMoneyChange as c } from '../ui/format';
import { MoneySummary, type Money } from './MoneySummary';

const company = (id: string, name: string | null, before: number, after: number) => ({
  companyId: id,
  companyName: name,
  monthly: { before, after, change: after - before },
});

const MONEY: Money = {
  total: { before: 120, after: 100.5, change: -19.5 },
  // The API's order: largest change first.
  byCompany: [company('3', 'Cedar Dental', 50, 20), company('1', 'Acme', 70, 80.5), company('9', null, 0, 0.01)],
  unpricedLines: 0,
};

describe('a run’s money', () => {
  it('says the monthly change, a smaller total with a minus', () => {
    render(<MoneySummary money={MONEY} companies />);
    expect(screen.getByText(/^Monthly change:/).textContent).toBe(`Monthly change: −${m(19.5)} (from ${m(120)} to ${m(100.5)}).`);
    expect(screen.queryByText(/no price in ConnectWise/)).toBeNull();
  });

  it('lists the companies whose amount changes, in the API’s order, before → after with the change', () => {
    render(<MoneySummary money={MONEY} companies />);
    expect(screen.getByText('3 companies’ monthly amount changes')).toBeTruthy();
    const table = within(screen.getByRole('table', { name: 'Monthly change by company' }));
    const rows = table
      .getAllByRole('row')
      .slice(1)
      .map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent));
    expect(rows).toEqual([
      ['Cedar Dental', m(50), m(20), c(-30)],
      ['Acme', m(70), m(80.5), c(10.5)],
      // A company ConnectWise gave no name for, by its ID.
      ['Company 9', m(0), m(0.01), c(0.01)],
    ]);
    // A few companies are listed open.
    expect(screen.getByText('3 companies’ monthly amount changes').closest('details')?.open).toBe(true);
  });

  it('keeps a long list of companies behind a disclosure, and none when none changes', () => {
    const many = Array.from({ length: 11 }, (_, i) => company(String(i), `Company ${i}`, 0, 11 - i));
    const { unmount } = render(<MoneySummary money={{ ...MONEY, byCompany: many }} companies />);
    expect(screen.getByText('11 companies’ monthly amount changes').closest('details')?.open).toBe(false);
    unmount();

    render(<MoneySummary money={{ ...MONEY, byCompany: [] }} companies />);
    expect(screen.queryByRole('table')).toBeNull();
    expect(screen.queryByText(/monthly amount changes/)).toBeNull();
  });

  it('leaves the companies out on the push page, where each company’s heading has its own', () => {
    render(<MoneySummary money={MONEY} />);
    expect(screen.queryByRole('table')).toBeNull();
  });
});
