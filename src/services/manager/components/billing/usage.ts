/**
 * usage meters an account's billing facts and usage samples over a period and bills them: the
 * usage report and the invoice are computed on request from the stored facts, never stored —
 * the facts are the record, so an invoice read after a failover is the same invoice.
 */
import { HostfleetError } from '../../../../core/errors.js';
import {
  gbHoursFromMbMinutes,
  invoiceAllotment,
  invoiceSla,
  meterAllocations,
  meterMetrics,
  meterOffsite,
  monthPeriod,
  periodDays,
  ramMbMinutes,
  toPlainDecimal,
  totalOffsiteMinutes,
  usageReport,
  type BillingPeriod,
  type Invoice,
  type LevelCeilings,
  type OffsiteMinutes,
  type OffsiteStretch,
  type AllotmentOffsite,
} from '../../../../core/billing/index.js';
import type { Role } from '../../../../core/model/names.js';
import * as bdb from '../../../../drivers/store/billing.js';
import { getGroup } from '../../../../drivers/store/groups.js';
import { listOffsiteUse } from '../../../../drivers/store/offsite.js';
import type { Sql } from '../../../../drivers/store/index.js';
import type { ManagerContext } from '../../context.js';
import { accountPlan, catalogueOf, loadPlans } from './plans.js';
import type { Plan } from './plans.js';

/** Metered is one account's usage over a period as of an instant. */
export interface Metered {
  readonly period: BillingPeriod;
  readonly asOfMs: number;
  /** draft is true while the period is not over at asOfMs (open stretches billed up to asOfMs). */
  readonly draft: boolean;
  readonly usage: ReturnType<typeof meterAllocations>;
  readonly metrics: ReturnType<typeof meterMetrics>['usage'];
  /** offsite is the account's stretches of servers lent by other sites overlapping [period start, asOfMs). */
  readonly offsite: readonly OffsiteStretch[];
}

/**
 * loadOffsite reads an account's recorded use of servers lent by other sites overlapping
 * [fromMs, toMs), with each group's role (the plan's rate is per role). A row whose group is
 * gone cannot be priced; it stops the bill (E_INTERNAL) rather than drop its minutes.
 */
async function loadOffsite(sql: Sql, account: string, fromMs: number, toMs: number): Promise<OffsiteStretch[]> {
  const uses = await listOffsiteUse(sql, account, new Date(fromMs), new Date(toMs));
  const roles = new Map<string, Role>();
  for (const id of new Set(uses.map((u) => u.groupId))) {
    const g = await getGroup(sql, id);
    if (g === null)
      throw new HostfleetError(
        'E_INTERNAL',
        `account ${account} used servers lent by other sites in group ${id}, which no longer exists; its role (and so its rate) is unknown`,
        { details: { account, group: id } },
      );
    roles.set(id, g.role);
  }
  return uses.map((u) => ({
    account: u.accountId,
    role: roles.get(u.groupId) as Role,
    lender: u.lender,
    startMs: u.startedAt.getTime(),
    endMs: u.endedAt === null ? null : u.endedAt.getTime(),
  }));
}

/** offsiteMinutesOf is the metered account's minutes of lent servers, up to the instant it was metered to. */
export function offsiteMinutesOf(account: string, m: Metered): OffsiteMinutes[] {
  return meterOffsite(m.offsite, account, { startMs: m.period.startMs, endMs: m.asOfMs });
}

/**
 * meterAccount meters an account's facts and samples over a period as they stand at asOfMs
 * (the period's end when asOfMs is later). Facts are synced from the allocation history
 * first, so a stretch closed a moment ago is already billed to its minute. Servers lent by
 * other sites are read from their own record (offsite_use), never from the allocations: the
 * two never overlap, so no minute is counted twice.
 */
export async function meterAccount(
  ctx: Pick<ManagerContext, 'store' | 'cfg'>,
  account: string,
  period: BillingPeriod,
  asOfMs: number,
): Promise<Metered> {
  await bdb.syncAllocationFacts(ctx.store, { ramMb: ctx.cfg.billing.serverRamMb });
  const until = Math.min(asOfMs, period.endMs);
  const facts = bdb.factsAsOf(
    await bdb.loadAllocationFacts(ctx.store, { account, startMs: period.startMs, endMs: period.endMs }),
    until,
  );
  const usage = meterAllocations(facts, { startMs: period.startMs, endMs: period.endMs });
  const samples = (await bdb.loadSamples(ctx.store, { account, startMs: period.startMs, endMs: until })).filter(
    (s) => s.at < until,
  );
  const { usage: metrics } = meterMetrics(samples, { startMs: period.startMs, endMs: until }, periodDays(period));
  const offsite = await loadOffsite(ctx.store, account, period.startMs, until);
  return { period, asOfMs: until, draft: until < period.endMs, usage, metrics, offsite };
}

/** computeInvoice bills an account for a period as of an instant, under its current plan. */
export async function computeInvoice(
  ctx: Pick<ManagerContext, 'store' | 'cfg'>,
  account: string,
  periodLabel: string,
  asOfMs: number,
  nowMs: number,
): Promise<{ readonly invoice: Invoice; readonly draft: boolean; readonly asOfMs: number }> {
  const plans = await loadPlans(ctx.store);
  const plan = await accountPlan(ctx.store, account, plans);
  const m = await meterAccount(ctx, account, monthPeriod(periodLabel), asOfMs);
  if (plan.kind === 'sla')
    return {
      invoice: invoiceSla(plan, account, m.period, m.usage, m.metrics, {
        issuedAtMs: nowMs,
        offsite: offsiteMinutesOf(account, m),
      }).invoice,
      draft: m.draft,
      asOfMs: m.asOfMs,
    };
  const days = periodDays(m.period);
  const payments = await bdb.listPayments(
    ctx.store,
    account,
    (days[0] as { date: string }).date,
    (days[days.length - 1] as { date: string }).date,
  );
  // The period is replayed from the plan its first day was processed on: an upgrade at a
  // cut-off changed the account's assignment, and the core replays the upgrade itself.
  const firstDay = (await bdb.listAllotmentDays(ctx.store, account, m.period.label))[0];
  const opening = plans.get(firstDay?.planId ?? plan.id);
  const start = opening?.kind === 'allotment' ? opening : plan;
  return {
    invoice: invoiceAllotment(start, account, m.period, m.usage, m.metrics, {
      issuedAtMs: nowMs,
      catalogue: catalogueOf(plans),
      payments,
      offsite: allotmentOffsite(ctx, m),
    }).invoice,
    draft: m.draft,
    asOfMs: m.asOfMs,
  };
}

/** allotmentOffsite is what an allotment plan counts of lent servers: their stretches, at the RAM local stretches are recorded with. */
export function allotmentOffsite(ctx: Pick<ManagerContext, 'cfg'>, m: Metered): AllotmentOffsite {
  return { stretches: m.offsite, ramMb: ctx.cfg.billing.serverRamMb, asOfMs: m.asOfMs };
}

/** usageJSON renders an account's metered usage for the API and `hostfleet usage`. */
export function usageJSON(account: string, m: Metered, plan: Plan | null): Record<string, unknown> {
  const levelsFor = (_a: string, role: Role): LevelCeilings | undefined =>
    plan?.kind === 'sla' ? plan.servers[role] : undefined;
  const rows = usageReport(m.usage, levelsFor).filter((r) => r.account === account);
  const offsite = offsiteMinutesOf(account, m);
  return {
    kind: 'hostfleet.usage/v1',
    account,
    period: m.period.label,
    asOf: new Date(m.asOfMs).toISOString(),
    draft: m.draft,
    plan: plan === null ? null : { kind: plan.kind, id: plan.id, name: plan.name },
    roles: rows.map((r) => ({
      role: r.role,
      serverMinutes: r.serverMinutes,
      serverHours: toPlainDecimal({ n: BigInt(r.serverMinutes), d: 60n }, 4),
      ramGbHours: toPlainDecimal(r.ramGbHours, 4),
      levels:
        r.levels === null
          ? null
          : {
              committed: r.levels.committed,
              burst: r.levels.burst,
              extended: r.levels.extended,
              overCeiling: r.levels.overCeiling,
              minutesAboveCommitted: r.levels.minutesAboveCommitted,
              peakServers: r.levels.peakServers,
            },
    })),
    ramGbHours: toPlainDecimal(
      gbHoursFromMbMinutes(
        m.usage.roles.filter((r) => r.account === account).reduce((s, r) => s + ramMbMinutes(r.segments), 0n),
      ),
      4,
    ),
    metrics: m.metrics
      .filter((x) => x.account === account)
      .map((x) => ({ metric: x.metric, kind: x.kind, total: x.total.toString(), peak: x.peak })),
    // Servers lent by other sites: always the extended level, never in `roles` above.
    offsite: {
      serverMinutes: totalOffsiteMinutes(offsite),
      byLender: offsite.map((o) => ({
        role: o.role,
        lender: o.lender,
        serverMinutes: o.minutes,
        serverHours: toPlainDecimal({ n: BigInt(o.minutes), d: 60n }, 4),
      })),
    },
  };
}
