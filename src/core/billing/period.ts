/**
 * period holds billing time: instants are epoch milliseconds (UTC) passed in by the caller,
 * billing periods are calendar months 'YYYY-MM' in UTC by default (Figure 12 of seed 001:
 * "the period for a service level agreement … would be a monthly basis"), and the metering
 * grain is the minute, as half-open intervals [t, t + 60 s). Date.UTC is arithmetic on
 * numbers, not a clock, so this file stays pure.
 */
import { invalid } from '../errors.js';

/** MINUTE_MS is one metering minute. */
export const MINUTE_MS = 60_000;
/** HOUR_MS is one hour. */
export const HOUR_MS = 3_600_000;
/** DAY_MS is one UTC day (UTC has no daylight saving; leap seconds are not in epoch time). */
export const DAY_MS = 86_400_000;

/** PERIOD_RE is the grammar of a monthly period label. */
export const PERIOD_RE = /^([0-9]{4})-(0[1-9]|1[0-2])$/;

/** BillingPeriod is a half-open interval [startMs, endMs) with its label. */
export interface BillingPeriod {
  readonly label: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** BillingDay is one UTC day of a period, the interval of daily overage billing (seed 003). */
export interface BillingDay {
  readonly date: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** monthPeriod returns the UTC calendar month named 'YYYY-MM', or throws E_VALIDATION. */
export function monthPeriod(label: string, field = 'period'): BillingPeriod {
  const m = PERIOD_RE.exec(label);
  if (m === null)
    throw invalid([
      { field, problem: `must be a month written YYYY-MM, such as 2024-06; got ${JSON.stringify(label)}` },
    ]);
  const year = Number(m[1]);
  const month = Number(m[2]) - 1;
  return { label, startMs: Date.UTC(year, month, 1), endMs: Date.UTC(year, month + 1, 1) };
}

/** monthOf returns the label of the UTC month containing instant ms. */
export function monthOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear().toString().padStart(4, '0')}-${(d.getUTCMonth() + 1).toString().padStart(2, '0')}`;
}

/** nextMonth returns the label of the month after `label` ('2024-12' → '2025-01'). */
export function nextMonth(label: string): string {
  return monthOf(monthPeriod(label).endMs);
}

/**
 * customPeriod builds a period with explicit bounds; both must fall on minute boundaries so
 * that every metered minute lies wholly inside or wholly outside it.
 */
export function customPeriod(label: string, startMs: number, endMs: number): BillingPeriod {
  const problems = [];
  if (!Number.isSafeInteger(startMs) || startMs % MINUTE_MS !== 0)
    problems.push({ field: 'period.startMs', problem: 'must be an epoch millisecond on a minute boundary' });
  if (!Number.isSafeInteger(endMs) || endMs % MINUTE_MS !== 0 || endMs <= startMs)
    problems.push({
      field: 'period.endMs',
      problem: 'must be an epoch millisecond on a minute boundary after startMs',
    });
  if (problems.length > 0) throw invalid(problems);
  return { label, startMs, endMs };
}

/** periodMinutes returns the number of metering minutes in a period (43,200 in a 30-day month). */
export function periodMinutes(p: BillingPeriod): number {
  return (p.endMs - p.startMs) / MINUTE_MS;
}

/** periodHours returns the number of hours in a period (720 in a 30-day month, seed 003's figure). */
export function periodHours(p: BillingPeriod): number {
  return (p.endMs - p.startMs) / HOUR_MS;
}

/** isoDate renders the UTC date of ms as YYYY-MM-DD. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** periodDays splits a period into its UTC days (the last may be partial for custom periods). */
export function periodDays(p: BillingPeriod): BillingDay[] {
  const out: BillingDay[] = [];
  let start = p.startMs;
  // Bounded: one iteration per day of the period.
  while (start < p.endMs) {
    const end = Math.min(p.endMs, Math.floor(start / DAY_MS) * DAY_MS + DAY_MS);
    out.push({ date: isoDate(start), startMs: start, endMs: end });
    start = end;
  }
  return out;
}

/** minuteCeil returns the first minute boundary at or after ms. */
export function minuteCeil(ms: number): number {
  return Math.ceil(ms / MINUTE_MS) * MINUTE_MS;
}
