// How numbers and dates read everywhere in the app.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
// ConnectWise's dates are calendar days sent as UTC midnight: read them in UTC, or west of
// Greenwich "1 Dec" would show as 30 Nov.
const billingDay = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

export function formatDateTime(value: string | null | undefined): string {
  return value ? dateTime.format(new Date(value)) : '—';
}

export function formatDate(value: string | null | undefined): string {
  return value ? dateOnly.format(new Date(value)) : '—';
}

/** A day ConnectWise bills from (an addition's start or cancellation), as that calendar day. */
export function formatBillingDate(value: string | null | undefined): string {
  return value ? billingDay.format(new Date(value)) : '—';
}

export function formatNumber(value: number | null | undefined): string {
  return value == null ? '—' : number.format(value);
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms == null) return '—';
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  return seconds < 60 ? `${seconds.toFixed(1)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

// Monthly amounts are in the agreements' currency, which billbridge does not know: plain
// amounts with 2 decimals, no currency sign. Formats by locale, made once each.
const moneyFormats = new Map<string, Intl.NumberFormat>();

function moneyParts(value: number, locale: string | undefined): Intl.NumberFormatPart[] {
  const key = locale ?? '';
  let format = moneyFormats.get(key);
  if (!format) {
    // `exceptZero`: an amount that rounds to 0.00 (-0, -0.004) has no sign at all.
    format = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: 'exceptZero' });
    moneyFormats.set(key, format);
  }
  // A true minus sign (−), as wide as the plus: columns of changes line up.
  return format.formatToParts(value).map((part) => (part.type === 'minusSign' ? { ...part, value: '−' } : part));
}

/** A monthly amount: `1,234.50`, `−3.00` (2 decimals, no currency); `—` when unknown. */
export function formatMoney(value: number | null | undefined, locale?: string): string {
  if (value == null) return '—';
  return moneyParts(value, locale)
    .filter((part) => part.type !== 'plusSign')
    .map((part) => part.value)
    .join('');
}

/** A change in a monthly amount, always signed: `+12.40`, `−3.00`; `0.00` when it rounds to nothing. */
export function formatMoneyChange(value: number | null | undefined, locale?: string): string {
  if (value == null) return '—';
  return moneyParts(value, locale)
    .map((part) => part.value)
    .join('');
}
