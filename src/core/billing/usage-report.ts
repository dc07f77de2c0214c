/**
 * usage-report summarises metered usage per account and role: server-minutes, RAM-hours and,
 * when the SLA is known, the level split.
 */
import type { Role } from '../model/names.js';
import { type LevelCeilings, type LevelMinutes, levelMinutes } from './levels.js';
import type { AllocationUsage } from './meter.js';
import { MINUTE_MS } from './period.js';
import { gbHoursFromMbMinutes, ramMbMinutes } from './ram-hours.js';
import type { Ratio } from './ratio.js';

/** UsageRow is one line of a usage report: an account's role over the window. */
export interface UsageRow {
  readonly account: string;
  readonly role: Role;
  readonly serverMinutes: number;
  readonly ramGbHours: Ratio;
  /** levels is the level split when the account's SLA for the role is known, else null. */
  readonly levels: LevelMinutes | null;
}

/**
 * usageReport summarises metered usage per account and role — what `hostfleet usage` shows.
 * levelsFor returns the SLA levels of an account's role, or undefined when it has none.
 */
export function usageReport(
  usage: AllocationUsage,
  levelsFor: (account: string, role: Role) => LevelCeilings | undefined = () => undefined,
): UsageRow[] {
  return usage.roles.map((r) => {
    const c = levelsFor(r.account, r.role);
    return {
      account: r.account,
      role: r.role,
      serverMinutes: r.segments.reduce((s, g) => s + g.servers * ((g.toMs - g.fromMs) / MINUTE_MS), 0),
      ramGbHours: gbHoursFromMbMinutes(ramMbMinutes(r.segments)),
      levels: c === undefined ? null : levelMinutes(r.segments, c),
    };
  });
}
