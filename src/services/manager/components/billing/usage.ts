/**
 * usage meters an account's billing facts and usage samples over a period and bills them: the
 * usage report and the invoice are computed on request from the stored facts, never stored —
 * the facts are the record, so an invoice read after a failover is the same invoice.
 */
import {
  gbHoursFromMbMinutes,
  invoiceAllotment,
  invoiceSla,
  meterAllocations,
  meterMetrics,
  monthPeriod,
  periodDays,
  ramMbMinutes,
  toPlainDecimal,
  usageReport,
  type BillingPeriod,
  type Invoice,
  type LevelCeilings,
} from '../../../../core/billing/index.js';
import type { Role } from '../../../../core/model/names.js';
import * as bdb from '../../../../drivers/store/billing.js';
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
}

/**
 * meterAccount meters an account's facts and samples over a period as they stand at asOfMs
 * (the period's end when asOfMs is later). Facts are synced from the allocation history
 * first, so a stretch closed a moment ago is already billed to its minute.
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
  return { period, asOfMs: until, draft: until < period.endMs, usage, metrics };
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
      invoice: invoiceSla(plan, account, m.period, m.usage, m.metrics, { issuedAtMs: nowMs }).invoice,
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
    }).invoice,
    draft: m.draft,
    asOfMs: m.asOfMs,
  };
}

/** usageJSON renders an account's metered usage for the API and `hostfleet usage`. */
export function usageJSON(account: string, m: Metered, plan: Plan | null): Record<string, unknown> {
  const levelsFor = (_a: string, role: Role): LevelCeilings | undefined =>
    plan?.kind === 'sla' ? plan.servers[role] : undefined;
  const rows = usageReport(m.usage, levelsFor).filter((r) => r.account === account);
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
  };
}
