/**
 * ram-hours reads memory over time out of metered usage, exactly (seed 003's GB RAM-hours).
 */
import type { AllocationUsage, UsageSegment } from './meter.js';
import { type BillingDay, MINUTE_MS } from './period.js';
import { type Ratio, ratio } from './ratio.js';

/** MB_PER_GB is 1024: seed 003 counts 512 MB as half a gigabyte (2 GB × 360 h + 512 MB × 360 h = 900 GB RAM-hours). */
export const MB_PER_GB = 1024;

/** ramMbMinutes sums memory × minutes of segments within [fromMs, toMs) (exact, bigint). */
export function ramMbMinutes(segments: readonly UsageSegment[], fromMs = -Infinity, toMs = Infinity): bigint {
  let sum = 0n;
  for (const s of segments) {
    const a = Math.max(s.fromMs, fromMs);
    const b = Math.min(s.toMs, toMs);
    if (a < b) sum += BigInt(s.ramMb) * BigInt((b - a) / MINUTE_MS);
  }
  return sum;
}

/** gbHoursFromMbMinutes converts MB-minutes to exact GB RAM-hours. */
export function gbHoursFromMbMinutes(mbMinutes: bigint): Ratio {
  return ratio(mbMinutes, BigInt(MB_PER_GB * 60));
}

/** accountRamGbHoursByDay returns an account's RAM-hours (GB·h, exact) per billing day, all roles together. */
export function accountRamGbHoursByDay(
  usage: AllocationUsage,
  account: string,
  days: readonly BillingDay[],
): { readonly date: string; readonly gbHours: Ratio }[] {
  const mine = usage.roles.filter((r) => r.account === account);
  return days.map((d) => {
    let mbMin = 0n;
    for (const r of mine) mbMin += ramMbMinutes(r.segments, d.startMs, d.endMs);
    return { date: d.date, gbHours: gbHoursFromMbMinutes(mbMin) };
  });
}
