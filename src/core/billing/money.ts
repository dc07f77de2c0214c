/**
 * money holds amounts as integer minor units (cents) of one ISO 4217 currency.
 *
 * Rounding is stated once, here: an exact amount (quantity × rate, both exact ratios) is
 * rounded to the minor unit exactly once per invoice line, half away from zero ("half-up",
 * commercial rounding). Why not banker's rounding: its advantage — no drift when very many
 * rounded values are summed — does not apply when each line is rounded once and lines are
 * few, while half-up is what a customer reproduces with a calculator or a spreadsheet's
 * ROUND() when checking the bill, and what most tax authorities prescribe for invoices.
 * Totals are sums of already-rounded lines, so an invoice always adds up on paper.
 */
import { invalid } from '../errors.js';
import { type Ratio, mul, ratio, roundHalfUp } from './ratio.js';

/**
 * CURRENCIES lists the accepted ISO 4217 codes with their minor-unit exponent (2 for cents,
 * 0 for yen, 3 for fils). Adding a currency is one line here.
 */
export const CURRENCIES = {
  USD: 2,
  EUR: 2,
  GBP: 2,
  CHF: 2,
  CAD: 2,
  AUD: 2,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  PLN: 2,
  CZK: 2,
  INR: 2,
  BRL: 2,
  JPY: 0,
  KRW: 0,
  KWD: 3,
  BHD: 3,
} as const;

/** CURRENCY_CODES lists the keys of CURRENCIES. */
export const CURRENCY_CODES = Object.keys(CURRENCIES) as Currency[];

/** Currency is one accepted ISO 4217 code. */
export type Currency = keyof typeof CURRENCIES;

/** Money is an exact amount: integer minor units of one currency. */
export interface Money {
  readonly amountMinor: bigint;
  readonly currency: Currency;
}

/** isCurrency tells whether a value is one of CURRENCY_CODES. */
export function isCurrency(v: unknown): v is Currency {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(CURRENCIES, v);
}

/** checkCurrency returns a problem for field unless value is an accepted currency code. */
export function checkCurrency(field: string, value: unknown): { field: string; problem: string } | null {
  return isCurrency(value) ? null : { field, problem: `must be one of ${CURRENCY_CODES.join(', ')}` };
}

/** money builds an amount from minor units given as bigint or safe integer number. */
export function money(amountMinor: bigint | number, currency: Currency): Money {
  if (typeof amountMinor === 'number' && !Number.isSafeInteger(amountMinor)) {
    throw invalid([{ field: 'amountMinor', problem: `must be a whole number of minor units, got ${amountMinor}` }]);
  }
  if (!isCurrency(currency))
    throw invalid([{ field: 'currency', problem: `must be one of ${CURRENCY_CODES.join(', ')}` }]);
  return { amountMinor: BigInt(amountMinor), currency };
}

/** zeroMoney is 0 in currency. */
export function zeroMoney(currency: Currency): Money {
  return { amountMinor: 0n, currency };
}

/** minorPerMajor returns 10^exponent of the currency (100 for USD, 1 for JPY). */
export function minorPerMajor(currency: Currency): bigint {
  return 10n ** BigInt(CURRENCIES[currency]);
}

function sameCurrency(a: Money, b: Money): void {
  // Mixing currencies is a programming error: plans and invoices are single-currency.
  if (a.currency !== b.currency) throw new RangeError(`currency mismatch: ${a.currency} vs ${b.currency}`);
}

/** addMoney returns a + b (same currency). */
export function addMoney(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return { amountMinor: a.amountMinor + b.amountMinor, currency: a.currency };
}

/** sumMoney adds amounts of one currency; the empty sum is zero in `currency`. */
export function sumMoney(currency: Currency, items: readonly Money[]): Money {
  let total = zeroMoney(currency);
  for (const m of items) total = addMoney(total, m);
  return total;
}

/**
 * moneyFromMajor rounds an exact amount in major units (e.g. 60 GB·h × 1.00 USD) to the
 * minor unit — the single rounding step of a line (half-up, see the file comment).
 */
export function moneyFromMajor(major: Ratio, currency: Currency): Money {
  return { amountMinor: roundHalfUp(mul(major, ratio(minorPerMajor(currency)))), currency };
}

/** amountDecimal renders the amount in major units with the currency's decimals: "1234.56". */
export function amountDecimal(m: Money): string {
  const exp = CURRENCIES[m.currency];
  const neg = m.amountMinor < 0n;
  const digits = (neg ? -m.amountMinor : m.amountMinor).toString().padStart(exp + 1, '0');
  const whole = digits.slice(0, digits.length - exp);
  const frac = exp > 0 ? `.${digits.slice(digits.length - exp)}` : '';
  return `${neg ? '-' : ''}${whole}${frac}`;
}

/**
 * formatMoney renders an amount for people: "USD 1,234.56", "JPY 1,200", "USD -3.00".
 * Locale-free on purpose (ICU data differs between builds; invoices must render the same
 * everywhere), with the ISO code rather than a symbol that several currencies share.
 */
export function formatMoney(m: Money): string {
  const dec = amountDecimal(m);
  const neg = dec.startsWith('-');
  const [whole = '0', frac] = (neg ? dec.slice(1) : dec).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${m.currency} ${neg ? '-' : ''}${grouped}${frac !== undefined ? `.${frac}` : ''}`;
}

/** MoneyJSON is how an amount crosses the API: minor units as a number plus the decimal text. */
export interface MoneyJSON {
  readonly amountMinor: number;
  readonly currency: Currency;
  readonly amount: string;
}

/** moneyToJSON converts an amount for JSON (bigint does not serialise); amounts stay exact. */
export function moneyToJSON(m: Money): MoneyJSON {
  const n = Number(m.amountMinor);
  if (!Number.isSafeInteger(n))
    throw new RangeError(`amount ${m.amountMinor} ${m.currency} exceeds the JSON-safe range`);
  return { amountMinor: n, currency: m.currency, amount: amountDecimal(m) };
}
