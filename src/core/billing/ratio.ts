/**
 * ratio is billing's exact arithmetic: rationals of bigints. Quantities (server-minutes turned
 * into hours, megabyte-minutes turned into GB RAM-hours) and rates (decimal strings such as
 * "0.0125") are multiplied exactly here and rounded exactly once, in money.ts, to the minor
 * unit. Floating point never touches an amount: 0.1 + 0.2 must not be on anyone's invoice.
 */
import type { FieldProblem } from '../errors.js';

/** Ratio is an exact rational n/d with d > 0 and gcd(|n|, d) = 1. */
export interface Ratio {
  readonly n: bigint;
  readonly d: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** ratio builds n/d in lowest terms; d must not be zero (a bug, not an input error). */
export function ratio(n: bigint | number, d: bigint | number = 1n): Ratio {
  let nn = BigInt(n);
  let dd = BigInt(d);
  if (dd === 0n) throw new RangeError('ratio: zero denominator');
  if (dd < 0n) {
    nn = -nn;
    dd = -dd;
  }
  const g = gcd(nn, dd);
  return g > 1n ? { n: nn / g, d: dd / g } : { n: nn, d: dd };
}

/** ZERO is 0/1. */
export const ZERO: Ratio = { n: 0n, d: 1n };

/** add returns a + b. */
export function add(a: Ratio, b: Ratio): Ratio {
  return ratio(a.n * b.d + b.n * a.d, a.d * b.d);
}

/** sub returns a − b. */
export function sub(a: Ratio, b: Ratio): Ratio {
  return ratio(a.n * b.d - b.n * a.d, a.d * b.d);
}

/** mul returns a × b. */
export function mul(a: Ratio, b: Ratio): Ratio {
  return ratio(a.n * b.n, a.d * b.d);
}

/** div returns a ÷ b; b must not be zero. */
export function div(a: Ratio, b: Ratio): Ratio {
  return ratio(a.n * b.d, a.d * b.n);
}

/** cmp returns -1, 0 or 1 as a is less than, equal to or greater than b. */
export function cmp(a: Ratio, b: Ratio): -1 | 0 | 1 {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** max returns the larger of a and b. */
export function max(a: Ratio, b: Ratio): Ratio {
  return cmp(a, b) >= 0 ? a : b;
}

/** min returns the smaller of a and b. */
export function min(a: Ratio, b: Ratio): Ratio {
  return cmp(a, b) <= 0 ? a : b;
}

/** isZero tells whether r is 0. */
export function isZero(r: Ratio): boolean {
  return r.n === 0n;
}

/**
 * roundHalfUp rounds r to the nearest integer, halves away from zero (2.5 → 3, −2.5 → −3).
 * This is the one rounding rule of billing; money.ts explains the choice.
 */
export function roundHalfUp(r: Ratio): bigint {
  const neg = r.n < 0n;
  const a = neg ? -r.n : r.n;
  const q = a / r.d;
  const rem = a % r.d;
  const up = rem * 2n >= r.d ? q + 1n : q;
  return neg ? -up : up;
}

/** ceilRatio returns the smallest integer ≥ r. */
export function ceilRatio(r: Ratio): bigint {
  const q = r.n / r.d;
  return r.n > 0n && r.n % r.d !== 0n ? q + 1n : q;
}

/**
 * toDecimal renders r with exactly `places` decimals, rounded half-up, without exponent:
 * toDecimal(ratio(1, 3), 4) = "0.3333". For display only; amounts are rounded in money.ts.
 */
export function toDecimal(r: Ratio, places: number): string {
  const scale = 10n ** BigInt(places);
  const v = roundHalfUp(mul(r, ratio(scale)));
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(places + 1, '0');
  const whole = digits.slice(0, digits.length - places);
  const frac = places > 0 ? `.${digits.slice(digits.length - places)}` : '';
  return `${neg ? '-' : ''}${whole}${frac}`;
}

/**
 * toPlainDecimal renders r exactly when its decimal expansion ends within maxPlaces digits
 * ("2160", "0.5", "99.99"), trimming trailing zeros; otherwise rounds to maxPlaces.
 */
export function toPlainDecimal(r: Ratio, maxPlaces = 6): string {
  const s = toDecimal(r, maxPlaces);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** DECIMAL_RE is the grammar of decimal inputs: optional minus, digits, optional fraction. */
export const DECIMAL_RE = /^-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,12})?$/;

/**
 * parseDecimal reads a decimal written as a string ("99.99") or a number (2, 1.5) into an
 * exact ratio, or returns the field problem. Numbers are read through their shortest
 * round-trip text, so 0.1 means one tenth, not the binary double nearest to it.
 */
export function parseDecimal(
  field: string,
  value: unknown,
  opts: { min?: Ratio; minExclusive?: boolean } = {},
): Ratio | FieldProblem {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string' || !DECIMAL_RE.test(text)) {
    return { field, problem: 'must be a decimal number such as "99.99" or 2 (no exponent, at most 12 decimals)' };
  }
  const [whole = '0', frac = ''] = text.replace('-', '').split('.');
  const mag = ratio(BigInt(whole + frac), 10n ** BigInt(frac.length));
  const r = text.startsWith('-') ? ratio(-mag.n, mag.d) : mag;
  if (opts.min !== undefined) {
    const c = cmp(r, opts.min);
    if (c < 0 || (opts.minExclusive === true && c === 0)) {
      return {
        field,
        problem: `must be ${opts.minExclusive === true ? 'greater than' : 'at least'} ${toPlainDecimal(opts.min)}, got ${text}`,
      };
    }
  }
  return r;
}

/** isRatio tells a parsed ratio from a field problem. */
export function isRatio(x: Ratio | FieldProblem): x is Ratio {
  return typeof (x as Ratio).n === 'bigint';
}
