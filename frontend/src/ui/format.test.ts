import { describe, expect, it } from 'vitest';
import { formatMoney, formatMoneyChange } from './format';

// A fixed locale, so the tests read the same on any machine (the app uses the browser's).
const EN = 'en-US';

describe('monthly amounts', () => {
  it('show 2 decimals, grouped, with no currency', () => {
    expect(formatMoney(12.4, EN)).toBe('12.40');
    expect(formatMoney(3, EN)).toBe('3.00');
    expect(formatMoney(0, EN)).toBe('0.00');
    expect(formatMoney(38434.37999999999, EN)).toBe('38,434.38');
    expect(formatMoney(0.1 + 0.2, EN)).toBe('0.30');
    expect(formatMoney(null)).toBe('—');
    expect(formatMoney(undefined)).toBe('—');
  });

  it('never sign an amount but a negative one, and then with a true minus', () => {
    expect(formatMoney(-3, EN)).toBe('−3.00');
    // Negative zero, and what rounds to it, is plain 0.00.
    expect(formatMoney(-0, EN)).toBe('0.00');
    expect(formatMoney(-0.004, EN)).toBe('0.00');
  });

  it('follow the locale’s separators', () => {
    expect(formatMoney(1234.5, 'de-DE')).toBe('1.234,50');
    expect(formatMoneyChange(-1234.5, 'de-DE')).toBe('−1.234,50');
  });
});

describe('changes in a monthly amount', () => {
  it('are signed: + for more, − (not a hyphen) for less', () => {
    expect(formatMoneyChange(12.4, EN)).toBe('+12.40');
    expect(formatMoneyChange(-3, EN)).toBe('−3.00');
    expect(formatMoneyChange(-3, EN)).not.toContain('-');
    expect(formatMoneyChange(38433.89999999999, EN)).toBe('+38,433.90');
    expect(formatMoneyChange(null)).toBe('—');
  });

  it('read 0.00, with no sign, when nothing changes: zero, negative zero, or less than half a cent', () => {
    expect(formatMoneyChange(0, EN)).toBe('0.00');
    expect(formatMoneyChange(-0, EN)).toBe('0.00');
    expect(formatMoneyChange(0.004, EN)).toBe('0.00');
    expect(formatMoneyChange(-0.004, EN)).toBe('0.00');
    // A float sum that is 0 in cents.
    expect(formatMoneyChange(0.1 + 0.2 - 0.3, EN)).toBe('0.00');
  });

  it('round half a cent away from zero, as written in decimal', () => {
    expect(formatMoneyChange(0.005, EN)).toBe('+0.01');
    expect(formatMoneyChange(-0.005, EN)).toBe('−0.01');
    // 1.005 is 1.00499999… in binary; it still reads, and rounds, as 1.005.
    expect(formatMoneyChange(1.005, EN)).toBe('+1.01');
    expect(formatMoneyChange(2.675, EN)).toBe('+2.68');
    expect(formatMoneyChange(0.6, EN)).toBe('+0.60');
    expect(formatMoneyChange(-0.125, EN)).toBe('−0.13');
  });
});
