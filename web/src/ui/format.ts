/**
 * format turns the API's exact decimals into what a person reads: money with its currency and
 * its minor digits, quantities rounded for the eye with their units. The API sends decimals as
 * text (docs/BILLING.md), so these work on strings and never round money through a float.
 */

/** groupDigits puts thousands separators into the whole part of a plain decimal: "1234.5" → "1,234.5". */
export function groupDigits(dec: string): string {
  const neg = dec.startsWith('-');
  const [whole = '0', frac] = (neg ? dec.slice(1) : dec).split('.');
  return `${neg ? '-' : ''}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac !== undefined ? `.${frac}` : ''}`;
}

/** MoneyText is an amount as the API sends it: the decimal text already has its currency's minor digits. */
export interface MoneyText {
  readonly amount: string;
  readonly currency: string;
}

/** formatMoney writes an amount as the invoice does, locale-free: "USD 1,234.56", "JPY 1,200". */
export function formatMoney(m: MoneyText): string {
  return `${m.currency} ${groupDigits(m.amount)}`;
}

/**
 * formatRate writes a price per unit with at least two decimals ("0.1" → "USD 0.10") and every
 * further digit the plan gives ("0.125" stays "USD 0.125"): a rate is never rounded away.
 */
export function formatRate(rate: string | number, currency: string): string {
  const s = String(rate);
  const [whole = '0', frac = ''] = s.split('.');
  return `${currency} ${groupDigits(`${whole}.${frac.padEnd(2, '0')}`)}`;
}

/** formatQuantity rounds a quantity for display to at most `places` decimals, without trailing zeros: "686.2500" → "686.25". */
export function formatQuantity(q: string | number, places = 2): string {
  const n = typeof q === 'number' ? q : Number(q);
  if (!Number.isFinite(n)) return String(q);
  const fixed = n.toFixed(places);
  const trimmed = fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
  return groupDigits(trimmed === '-0' ? '0' : trimmed);
}

/** UNIT_PLURALS are the billing units that take a plural; GB, MB and the like do not. */
const UNIT_PLURALS: Readonly<Record<string, string>> = {
  'server-hour': 'server-hours',
  'GB-hour': 'GB-hours',
  'MB-hour': 'MB-hours',
  request: 'requests',
  connection: 'connections',
  transaction: 'transactions',
  server: 'servers',
  day: 'days',
  month: 'months',
  period: 'periods',
  fee: 'fees',
};

/** unitFor names a unit for a quantity: singular for exactly 1, else its plural ("1 server-hour", "0.5 server-hours"). */
export function unitFor(unit: string, q: string | number): string {
  return Number(q) === 1 ? unit : (UNIT_PLURALS[unit] ?? unit);
}

/** withUnit is a rounded quantity and its unit: "686.25 server-hours". */
export function withUnit(q: string | number, unit: string, places = 2): string {
  return `${formatQuantity(q, places)} ${unitFor(unit, q)}`;
}
