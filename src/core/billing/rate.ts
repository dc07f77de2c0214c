/**
 * rate prices one account's metered usage for one period under its SLA plan (seed 001,
 * Figure 12; seed 000, claim 10: servers reallocated to an account beyond its commitment are
 * billed at a higher rate). The formulas, per role r with committed c_r, burst ceiling b_r and
 * committed rate p_r per server-hour, over the period's minutes m with n_r(m) servers:
 *
 *   committed = (reserved ? c_r × |period| : Σ_m min(n_r(m), c_r)) / 60 × p_r
 *   burst     = Σ_m min(max(n_r(m) − c_r, 0), b_r − c_r) / 60 × p_r × burstMultiple
 *   extended  = Σ_m max(n_r(m) − b_r, 0) / 60 × p_r × extendedMultiple
 *
 * plus the one-time burst fee if any resource entered burst in the period and the one-time
 * extended fee if any entered extended. Servers lent by other sites (offsite.ts) are all
 * extended: Σ off-site minutes / 60 × p_r × extendedMultiple on a line of their own, and
 * using any enters the extended level (its fee is still charged once per period). Network (GB transferred in the period) is split into
 * the same three tiers by its running total; storage (GB held) like servers, minute by minute.
 */
import { HostfleetError } from '../errors.js';
import type { Role } from '../model/names.js';
import type { Level } from './events.js';
import { type InvoiceLine, feeLine, makeLine } from './line.js';
import { type LevelMinutes, levelMinutes } from './levels.js';
import type { AllocationUsage } from './meter.js';
import type { MetricUsage } from './metric-meter.js';
import { type OffsiteMinutes, rateOffsite, totalOffsiteMinutes } from './offsite.js';
import { MB_PER_GB } from './ram-hours.js';
import { type BillingPeriod, MINUTE_MS, periodMinutes } from './period.js';
import { type QuantityCommitment, type SlaPlan, levelRate } from './plan.js';
import { type Ratio, ZERO, add, cmp, isZero, max, min, mul, ratio, sub } from './ratio.js';

/** BYTES_PER_GB is 2^30, matching MB_PER_GB = 1024 for memory. */
export const BYTES_PER_GB = 1n << 30n;

/** RoleRating is one role's level minutes and the server-minutes charged at committed. */
export interface RoleRating {
  readonly role: Role;
  readonly minutes: LevelMinutes;
  /** committedCharged is server-minutes charged at committed (c × period when reserved). */
  readonly committedCharged: number;
}

/** QuantityRating is the tier split of network (GB) or storage (GB-hours). */
export interface QuantityRating {
  readonly committedCharged: Ratio;
  readonly burst: Ratio;
  readonly extended: Ratio;
  readonly used: Ratio;
}

/** SlaRating is everything rateSla found: the lines and the figures behind them. */
export interface SlaRating {
  readonly account: string;
  readonly lines: readonly InvoiceLine[];
  readonly roles: readonly RoleRating[];
  readonly network: QuantityRating | null;
  readonly storage: QuantityRating | null;
  readonly enteredBurst: boolean;
  readonly enteredExtended: boolean;
  /** overCeilingServerMinutes counts server-minutes above the extended ceiling (billed as extended). */
  readonly overCeilingServerMinutes: number;
  /** offsite is the server-minutes of servers lent by other sites, by role and lender (all billed as extended). */
  readonly offsite: readonly OffsiteMinutes[];
}

const LEVEL_WORD: Readonly<Record<Level, string>> = { committed: 'committed', burst: 'burst', extended: 'extended' };

function hours(minutes: number | bigint): Ratio {
  return ratio(BigInt(minutes), 60n);
}

function tiers(used: Ratio, q: QuantityCommitment): { committed: Ratio; burst: Ratio; extended: Ratio } {
  const burstTop = max(q.burst, q.committed);
  return {
    committed: min(used, q.committed),
    burst: min(max(sub(used, q.committed), ZERO), sub(burstTop, q.committed)),
    extended: max(sub(used, burstTop), ZERO),
  };
}

/**
 * rateSla prices one account's usage in one period. Allocation usage must have been metered
 * over exactly this period; metrics are the account's metered metrics (network uses
 * 'transfer-bytes', storage uses 'storage-mb'); offsite is the account's minutes of servers
 * lent by other sites in the same period (meterOffsite). A role the account used, here or
 * off-site, but the plan does not cover is a configuration error (E_CONFIG), never a silently
 * dropped minute.
 */
export function rateSla(
  plan: SlaPlan,
  account: string,
  period: BillingPeriod,
  usage: AllocationUsage,
  metrics: readonly MetricUsage[] = [],
  offsite: readonly OffsiteMinutes[] = [],
): SlaRating {
  if (usage.window.startMs !== period.startMs || usage.window.endMs !== period.endMs) {
    throw new HostfleetError(
      'E_INTERNAL',
      `usage was metered over [${usage.window.startMs}, ${usage.window.endMs}) but the period ${period.label} is [${period.startMs}, ${period.endMs})`,
    );
  }
  const c = plan.currency;
  const lines: InvoiceLine[] = [];
  const roles: RoleRating[] = [];
  let enteredBurst = false;
  let enteredExtended = false;
  let overCeiling = 0;
  const used = new Map(usage.roles.filter((r) => r.account === account).map((r) => [r.role, r.segments]));
  for (const role of used.keys()) {
    if (plan.servers[role] === undefined) {
      throw new HostfleetError(
        'E_CONFIG',
        `account ${account} held ${role} servers in ${period.label} but plan ${plan.id} has no commitment for role ${role}; add servers.${role} to the plan`,
        { details: { account, plan: plan.id, role } },
      );
    }
  }
  const planRoles = Object.keys(plan.servers).sort() as Role[];
  for (const role of planRoles) {
    const sc = plan.servers[role];
    if (sc === undefined) continue;
    const lm = levelMinutes(used.get(role) ?? [], sc);
    const committedCharged = plan.committedBilling === 'reserved' ? sc.committed * periodMinutes(period) : lm.committed;
    roles.push({ role, minutes: lm, committedCharged });
    enteredBurst ||= lm.burst > 0;
    enteredExtended ||= lm.extended > 0;
    overCeiling += lm.overCeiling;
    const amounts: Record<Level, number> = { committed: committedCharged, burst: lm.burst, extended: lm.extended };
    for (const level of ['committed', 'burst', 'extended'] as const) {
      if (amounts[level] === 0) continue;
      const what =
        level === 'committed' && plan.committedBilling === 'reserved' ? `${sc.committed} reserved` : LEVEL_WORD[level];
      lines.push(
        makeLine(c, {
          kind: 'usage',
          description: `${role} servers, ${what} (server-hours)`,
          resource: role,
          level,
          quantity: hours(amounts[level]),
          unit: 'server-hour',
          rate: levelRate(plan, sc.rate, level),
        }),
      );
    }
  }
  // Lent servers are never in the allocation history, so these minutes are not in the split above.
  lines.push(...rateOffsite(plan, account, offsite));
  enteredExtended ||= totalOffsiteMinutes(offsite) > 0;
  let network: QuantityRating | null = null;
  if (plan.network !== null) {
    const bytes = metrics.find((m) => m.account === account && m.metric === 'transfer-bytes')?.total ?? 0n;
    const gb = ratio(bytes, BYTES_PER_GB);
    const t = tiers(gb, plan.network);
    const committedCharged = plan.committedBilling === 'reserved' ? plan.network.committed : t.committed;
    network = { committedCharged, burst: t.burst, extended: t.extended, used: gb };
    enteredBurst ||= !isZero(t.burst);
    enteredExtended ||= !isZero(t.extended);
    lines.push(
      ...quantityLines(
        plan,
        plan.network,
        'network',
        'data transferred (GB)',
        'GB',
        committedCharged,
        t.burst,
        t.extended,
      ),
    );
  }
  let storage: QuantityRating | null = null;
  if (plan.storage !== null) {
    const gauge = metrics.find((m) => m.account === account && m.metric === 'storage-mb');
    let sumC = ZERO;
    let sumB = ZERO;
    let sumE = ZERO;
    let sumUsed = ZERO;
    let storageBurst = false;
    let storageExtended = false;
    for (const s of gauge?.segments ?? []) {
      const gbHeld = ratio(s.value, MB_PER_GB);
      const h = hours((s.toMs - s.fromMs) / MINUTE_MS);
      const t = tiers(gbHeld, plan.storage);
      sumC = add(sumC, mul(t.committed, h));
      sumB = add(sumB, mul(t.burst, h));
      sumE = add(sumE, mul(t.extended, h));
      sumUsed = add(sumUsed, mul(gbHeld, h));
      storageBurst ||= !isZero(t.burst);
      storageExtended ||= !isZero(t.extended);
    }
    const committedCharged =
      plan.committedBilling === 'reserved' ? mul(plan.storage.committed, hours(periodMinutes(period))) : sumC;
    storage = { committedCharged, burst: sumB, extended: sumE, used: sumUsed };
    enteredBurst ||= storageBurst;
    enteredExtended ||= storageExtended;
    lines.push(
      ...quantityLines(plan, plan.storage, 'storage', 'storage (GB-hours)', 'GB-hour', committedCharged, sumB, sumE),
    );
  }
  if (enteredBurst && plan.burstEntryFee.amountMinor !== 0n)
    lines.push(
      feeLine('fee', `one-time fee: entered the burst level in ${period.label}`, plan.burstEntryFee, {
        level: 'burst',
      }),
    );
  if (enteredExtended && plan.extendedEntryFee.amountMinor !== 0n)
    lines.push(
      feeLine('fee', `one-time fee: entered the extended level in ${period.label}`, plan.extendedEntryFee, {
        level: 'extended',
      }),
    );
  return {
    account,
    lines,
    roles,
    network,
    storage,
    enteredBurst,
    enteredExtended,
    overCeilingServerMinutes: overCeiling,
    offsite,
  };
}

function quantityLines(
  plan: SlaPlan,
  q: QuantityCommitment,
  resource: string,
  what: string,
  unit: 'GB' | 'GB-hour',
  committed: Ratio,
  burst: Ratio,
  extended: Ratio,
): InvoiceLine[] {
  const out: InvoiceLine[] = [];
  const amounts: Record<Level, Ratio> = { committed, burst, extended };
  for (const level of ['committed', 'burst', 'extended'] as const) {
    if (cmp(amounts[level], ZERO) === 0) continue;
    out.push(
      makeLine(plan.currency, {
        kind: 'usage',
        description: `${what}, ${LEVEL_WORD[level]}`,
        resource,
        level,
        quantity: amounts[level],
        unit,
        rate: levelRate(plan, q.rate, level),
      }),
    );
  }
  return out;
}
