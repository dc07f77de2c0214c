/**
 * offsite meters and rates the servers other sites lent to an account's groups (issue 16,
 * several sites; seed 001's extended level, "capacity served with servers from other sites").
 * A lent server is never in this site's allocation history, so its minutes are never in the
 * local level split: they come only from the stretches recorded by the home site, and they are
 * always the extended level — billed at the role's committed rate × extendedMultiple.
 *
 * Minutes follow the local minute rule (meter.ts): a server-minute [t, t + 60 s) is counted
 * when the lent server serves the group at its first instant t, so a stretch is counted from
 * the first minute boundary at or after its start to the first at or after its end.
 */
import { HostfleetError } from '../errors.js';
import type { Role } from '../model/names.js';
import { type InvoiceLine, makeLine } from './line.js';
import type { UsageWindow } from './meter.js';
import { type BillingDay, MINUTE_MS, minuteCeil } from './period.js';
import { type SlaPlan, levelRate } from './plan.js';
import { ratio } from './ratio.js';

/** OffsiteStretch is one lent server serving one of an account's groups, from startMs to endMs (null: still serving). */
export interface OffsiteStretch {
  readonly account: string;
  readonly role: Role;
  /** lender is the site that lent the server. */
  readonly lender: string;
  readonly startMs: number;
  readonly endMs: number | null;
}

/** OffsiteMinutes are an account's server-minutes of servers one lender lent it in one role. */
export interface OffsiteMinutes {
  readonly role: Role;
  readonly lender: string;
  readonly minutes: number;
}

/** stretchMinutes counts a stretch's whole minutes within [fromMs, toMs) by the minute rule (an open stretch runs to toMs). */
function stretchMinutes(s: OffsiteStretch, fromMs: number, toMs: number): number {
  const a = minuteCeil(Math.max(s.startMs, fromMs));
  const b = minuteCeil(Math.min(s.endMs ?? toMs, toMs));
  return b > a ? (b - a) / MINUTE_MS : 0;
}

/**
 * meterOffsite sums an account's off-site server-minutes within a window by role and lender
 * (sorted; pairs with no minute are left out). Stretches of other accounts are ignored, so a
 * caller that loaded too much can never bill one account for another's loans.
 */
export function meterOffsite(
  stretches: readonly OffsiteStretch[],
  account: string,
  window: UsageWindow,
): OffsiteMinutes[] {
  const sums = new Map<string, OffsiteMinutes>();
  for (const s of stretches) {
    if (s.account !== account) continue;
    const n = stretchMinutes(s, window.startMs, window.endMs);
    if (n === 0) continue;
    const key = `${s.role}\u0000${s.lender}`;
    sums.set(key, { role: s.role, lender: s.lender, minutes: (sums.get(key)?.minutes ?? 0) + n });
  }
  return [...sums.values()].sort((x, y) =>
    x.role === y.role ? (x.lender < y.lender ? -1 : 1) : x.role < y.role ? -1 : 1,
  );
}

/** offsiteMinutesByDay counts an account's off-site server-minutes (all roles and lenders) per billing day. */
export function offsiteMinutesByDay(
  stretches: readonly OffsiteStretch[],
  account: string,
  days: readonly BillingDay[],
): number[] {
  return days.map((d) =>
    stretches.reduce((sum, s) => sum + (s.account === account ? stretchMinutes(s, d.startMs, d.endMs) : 0), 0),
  );
}

/** totalOffsiteMinutes sums off-site minutes over roles and lenders. */
export function totalOffsiteMinutes(minutes: readonly OffsiteMinutes[]): number {
  return minutes.reduce((s, m) => s + m.minutes, 0);
}

/** describeLenders names the lenders of a role's minutes: "east", or "east (90), west (30)" when several. */
function describeLenders(ms: readonly OffsiteMinutes[]): string {
  return ms.length === 1 ? (ms[0] as OffsiteMinutes).lender : ms.map((m) => `${m.lender} (${m.minutes})`).join(', ');
}

/**
 * rateOffsite prices an account's off-site minutes under its SLA plan: one extended-level line
 * per role, quantity in server-hours (minutes / 60, exact), rate = the role's committed rate ×
 * extendedMultiple, amount rounded once like every line. A role the plan does not cover is a
 * configuration error (E_CONFIG), as for local minutes — never a silently dropped minute.
 * The one-time extended entry fee is not here: rateSla charges it once for the period,
 * whether extended was entered locally, off-site or both.
 */
export function rateOffsite(plan: SlaPlan, account: string, minutes: readonly OffsiteMinutes[]): InvoiceLine[] {
  const byRole = new Map<Role, OffsiteMinutes[]>();
  for (const m of minutes) {
    if (m.minutes === 0) continue;
    byRole.set(m.role, [...(byRole.get(m.role) ?? []), m]);
  }
  const lines: InvoiceLine[] = [];
  for (const [role, ms] of [...byRole].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const sc = plan.servers[role];
    if (sc === undefined) {
      throw new HostfleetError(
        'E_CONFIG',
        `account ${account} used ${role} servers lent by ${describeLenders(ms)} but plan ${plan.id} has no commitment for role ${role}; add servers.${role} to the plan`,
        { details: { account, plan: plan.id, role } },
      );
    }
    const total = totalOffsiteMinutes(ms);
    lines.push(
      makeLine(plan.currency, {
        kind: 'usage',
        description: `Off-site ${role} servers (extended level): ${total} server-minutes from ${describeLenders(ms)}`,
        resource: role,
        level: 'extended',
        quantity: ratio(BigInt(total), 60n),
        unit: 'server-hour',
        rate: levelRate(plan, sc.rate, 'extended'),
      }),
    );
  }
  return lines;
}
